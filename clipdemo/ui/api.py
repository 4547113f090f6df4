"""The public API: the service layer published with Gradio's own `gr.api`, for HTTP, gradio_client and MCP.

Stable names, named parameters (from these signatures), one JSON result each (from the return type),
descriptions from the docstrings (Gradio hands the `Args:` lines to MCP clients as parameter
descriptions). Every endpoint takes `model` (a name from /models; empty: the server's default), honoured
per call. Images come as uploaded files (gradio_client's `handle_file`, or a path from
/gradio_api/upload wrapped as a FileData object); a bare path or a URL is refused, and the server never
fetches a URL for a client (see clipdemo.ui.no_fetch).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

import gradio as gr
from gradio.data_classes import FileData

from clipdemo.errors import InputError, UserError
from clipdemo.search import DEFAULT_K
from clipdemo.service import ClipService, Result
from clipdemo.ui import gradio_adapter, no_fetch

log = logging.getLogger("clipdemo.api")

ENDPOINTS = ("models", "zero_shot", "zero_shot_batch", "similarity_matrix", "spatial_heatmap", "embedding_map",
             "search", "embed")
NOT_A_FILE = ("pass images as uploaded files: gradio_client.handle_file(path), or a path returned by "
              "/gradio_api/upload as {\"path\": ..., \"meta\": {\"_type\": \"gradio.FileData\"}}; over MCP a "
              "data: URI. Plain paths and URLs are refused.")


def file_path(f) -> str:
    """The server-side path of an uploaded file. Gradio has checked it lies in its upload cache; only
    FileData objects get that check, so anything else (a bare path, a URL) is refused here."""
    if isinstance(f, FileData):
        f = f.model_dump()
    if isinstance(f, str) and f.startswith(no_fetch.REFUSED):
        raise InputError(f"{f[len(no_fetch.REFUSED):]}: {no_fetch.MESSAGE}")
    if isinstance(f, dict) and (f.get("meta") or {}).get("_type") == "gradio.FileData" \
            and isinstance(f.get("path"), str) and "://" not in f["path"]:
        return f["path"]
    raise InputError(f"Not an uploaded file ({str(f)[:80]!r}): {NOT_A_FILE}")


def file_paths(files) -> list[str]:
    if files is None:
        return []
    if not isinstance(files, list):
        files = [files]
    return [file_path(f) for f in files]


def respond(name: str, call: Callable[[], Result]) -> dict:
    """Run one service call: a UserError becomes the message the caller sees; anything else is a bug,
    logged with its traceback and reported as a bug (not as an input problem)."""
    try:
        return call().to_json()
    except UserError as e:
        raise gr.Error(str(e), title="Input problem") from e
    except gr.Error:
        raise
    except Exception as e:
        log.exception("bug in the %s endpoint", name)
        raise gr.Error(f"clipdemo failed on this request ({type(e).__name__}). This is a bug, not a problem "
                       "with your input; it was logged on the server.", title="Internal error") from e


def endpoints(service: ClipService) -> dict[str, Callable]:
    """The public functions, by API name. Their signatures and docstrings are the API's documentation."""

    def models(request: gr.Request = None) -> dict:
        """List the models this server offers, and which is the default (and your own Learn-tab model, if any).

        Returns:
            default: the model used when `model` is empty; models: one entry per model with name (what `model`
            takes), display, family (clip, siglip, chinese_clip; null until known), scoring (softmax over the
            labels, or sigmoid per label), availability (local, download, unavailable) and loaded.
        """
        return respond("models", lambda: service.models(getattr(request, "session_hash", None)))

    def zero_shot(image: FileData, labels: str, templates: str = "single", model: str = "") -> dict:
        """Zero-shot labeling: which label's prompt ("a photo of a {label}.") lies closest to the image.

        Args:
            image: the picture to label (PNG, JPEG, WebP, GIF, BMP, TIFF); over MCP a data: URI, never a URL.
            labels: the candidate labels, separated by commas or new lines, e.g. "cat, dog, car".
            templates: single ("a photo of a {}."), imagenet7 or imagenet80 (OpenAI's ensembles), bare, zh_single
                ("一张{}的照片。"), zh_ensemble (OpenAI's templates in Chinese), or own ones with {}. A named set puts
                each label in its own language's set (Chinese labels in zh_single, English ones in single).
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            labels best first, with probabilities (softmax over the labels; sigmoid per label for SigLIP) and raw
            cosine similarities; scoring, templates used, logit_scale (1/temperature), logit_bias, model, notices.
        """
        return respond("zero_shot", lambda: service.zero_shot(file_path(image), labels, templates, model))

    def zero_shot_batch(images: list[FileData], labels: str, templates: str = "single", model: str = "") -> dict:
        """Zero-shot labeling of several images with the same labels.

        Args:
            images: the pictures to label, at most 256 (over MCP data: URIs); unusable files are skipped and named.
            labels: the candidate labels, separated by commas or new lines.
            templates: single, imagenet7, imagenet80, bare, or your own templates with {} (one per line).
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            results: per image what zero_shot returns; skipped: files that are not usable images and why; model.
        """
        return respond("zero_shot_batch",
                       lambda: service.zero_shot_batch(file_paths(images), labels, templates, model))

    def similarity_matrix(images: list[FileData], texts: str, model: str = "") -> dict:
        """The image x text cosine-similarity matrix CLIP is trained on; with pairs, the batch's contrastive loss.

        Args:
            images: up to 24 pictures, the rows (over MCP data: URIs).
            texts: up to 24 texts, one per line (the columns); text i describing image i makes a paired batch.
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            images, texts, cosine[image][text], logit_scale, logit_bias, scoring, paired, and when paired the
            losses (image_to_text, text_to_image, mean, chance = ln N; sigmoid for SigLIP), model, notices.
        """
        return respond("similarity_matrix", lambda: service.similarity_matrix(file_paths(images), texts, model))

    def spatial_heatmap(image: FileData, text: str, method: str = "gradcam", model: str = "") -> dict:
        """Where in the image a text matches: a relevance grid over the part of the image the model saw.

        Args:
            image: the picture (ViT-based models only; over MCP a data: URI).
            text: what to look for, e.g. "a red circle".
            method: gradcam (gradient x attention), decomposition (per-patch share), surgery (CLIP Surgery) or naive.
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            relevance (rows x cols, 0..1, row 0 at the top), raw, method, text, score (cosine of the whole
            image with the text), grid_size, patch_grid, box (x0, y0, x1, y1 of the region seen), image_size,
            hottest_point (x, y in pixels), model.
        """
        return respond("spatial_heatmap", lambda: service.spatial_heatmap(file_path(image), text, method, model))

    def embedding_map(images: list[FileData] | None = None, texts: str = "", method: str = "umap", dims: int = 2,
                      collection: str = "", model: str = "") -> dict:
        """Images and texts projected into one 2-D or 3-D map of the joint embedding space.

        Args:
            images: pictures, .zip archives of them and a captions .csv (over MCP data: URIs); none: the toy gallery.
            texts: extra texts, one per line (file names or the CSV give the images' captions).
            method: umap, pca or tsne.
            dims: 2 or 3.
            collection: the name of a collection the server was started with (--collection); its cached map
                instead of images and texts (empty: none).
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            points: one per image and text (kind, name, x, y[, z], caption); summary: method used, dims, counts,
            the modality gap (centroid distance, paired and unpaired cosine), model, notices.
        """
        return respond("embedding_map",
                       lambda: service.embedding_map(file_paths(images), texts, method, int(dims), model,
                                                     collection=collection or ""))

    def search(query: str = "", images: list[FileData] | None = None, k: int = DEFAULT_K, collection: str = "",
               query_image: FileData | None = None, model: str = "") -> dict:
        """Search: the images ranked by cosine similarity with a text query (or a query picture), best first.

        Args:
            query: what to look for, e.g. "a red circle" (embedded as typed, no template).
            images: the pictures to search, or .zip archives of them (over MCP data: URIs); none: the toy gallery.
            k: how many results.
            collection: the name of a collection the server was started with (--collection): exact search over
                all its vectors instead of the images (empty: none).
            query_image: a picture to search with instead of the text (image -> image search); a picture that is
                in the gallery or collection finds itself first.
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            query (the text, or the query picture's name); results: rank, name, score (cosine), caption, index
            (position in the images or collection); model, notices.
        """
        return respond("search", lambda: service.search(query, file_paths(images), int(k), model,
                                                       collection=collection or "",
                                                       query_image=file_path(query_image) if query_image else None))

    def embed(images: list[FileData] | None = None, texts: str = "", model: str = "") -> dict:
        """Embeddings: L2-normalised vectors of images and texts in the model's joint space.

        Args:
            images: pictures to embed (over MCP data: URIs).
            texts: texts to embed, one per line.
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            model, dim, images (name, vector), texts (text, vector), skipped. The cosine of an image and a text is
            the dot product of their vectors.
        """
        return respond("embed", lambda: service.embed(file_paths(images), texts, model))

    fns = {f.__name__: f for f in (models, zero_shot, zero_shot_batch, similarity_matrix, spatial_heatmap,
                                   embedding_map, search, embed)}
    assert tuple(fns) == ENDPOINTS  # noqa: S101 - the list above is what README and the tests name
    return fns


# Work that holds the model is shared with the UI's own queue lanes, so API callers and visitors wait in line.
LANES = {"models": ("meta", None), "embedding_map": ("map", 1), "zero_shot_batch": ("encode_many", 1)}


def publish(service: ClipService, concurrency: int = 2) -> None:
    """Register the endpoints in the Blocks being built (call inside `with gr.Blocks()`)."""
    for name, fn in endpoints(service).items():
        lane, limit = LANES.get(name, ("encode", concurrency))
        dep = gr.api(fn, api_name=name, concurrency_id=lane, concurrency_limit=limit)
        params = [p for p in inspect.signature(fn).parameters if p != "request"]  # gr.Request: Gradio's, not an input
        gradio_adapter.name_api_values(dep, params)
