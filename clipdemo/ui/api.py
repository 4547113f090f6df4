"""The public API: the service layer published with Gradio's own `gr.api`, for HTTP, gradio_client and MCP.

Stable names, named parameters (from these signatures), one JSON result each (from the return type),
descriptions from the docstrings (Gradio hands the `Args:` lines to MCP clients as parameter
descriptions). Every endpoint takes `model` (a name from /models; empty: the server's default), honoured
per call. Images come as uploaded files (gradio_client's `handle_file`, or a path from
/gradio_api/upload wrapped as a FileData object); a bare path or a URL is refused, and the server never
fetches a URL for a client (see clipdemo.ui.no_fetch).
"""

import inspect
import logging
from collections.abc import Callable

import gradio as gr
from gradio.data_classes import FileData

from clipdemo.core import limits, params
from clipdemo.core.errors import InputError, UserError
from clipdemo.core.projection import METHODS as MAP_METHODS
from clipdemo.core.search import DEFAULT_K
from clipdemo.core.spatial import METHODS as HEATMAP_METHODS
from clipdemo.serve.service import (
    ClipService,
    EmbeddingMap,
    Embeddings,
    Heatmap,
    LearnStatus,
    ModelList,
    Result,
    SearchResults,
    Similarity,
    VideoSearch,
    ZeroShot,
    ZeroShotBatch,
)
from clipdemo.serve.studies import FewShot, ModelComparison, TokenAttribution
from clipdemo.teach.live_training import CONCEPTS, IMAGE_TOWERS, LANGUAGES, MODES, WORLDS, LiveConfig
from clipdemo.ui import gradio_adapter, no_fetch

log = logging.getLogger("clipdemo.api")

ENDPOINTS = ("models", "zero_shot", "zero_shot_batch", "similarity_matrix", "spatial_heatmap", "embedding_map",
             "search", "embed", "video_search", "few_shot", "compare_models", "token_attribution")
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
    if isinstance(f, str) and f.startswith(no_fetch.REFUSED_DATA):
        raise InputError(f"{f[len(no_fetch.REFUSED_DATA):]}…: {no_fetch.DATA_MESSAGE}")
    if isinstance(f, str) and f.startswith(no_fetch.REFUSED_PATH):
        raise InputError(f"{f[len(no_fetch.REFUSED_PATH):]!r}: {no_fetch.PATH_MESSAGE}")
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


LOGGED_CHARS = 300  # a user error is logged as one line, its message cut to this


def respond(name: str, call: Callable[[], Result]) -> dict:
    """Run one service call: a UserError becomes the message the caller sees, logged as one short line (no
    traceback: the input was wrong, not the code); anything else is a bug, logged with its traceback and
    reported as a bug (not as an input problem)."""
    try:
        return call().to_json()
    except UserError as e:
        message = str(e)
        # a warning so it shows with no logging set up (Python's last-resort handler prints warnings and above)
        log.warning("input problem in %s: %s", name, message[:LOGGED_CHARS].replace("\n", " "))
        raise gr.Error(message, title="Input problem", print_exception=False) from e
    except gr.Error:
        raise
    except Exception as e:
        log.exception("bug in the %s endpoint", name)
        raise gr.Error(f"clipdemo failed on this request ({type(e).__name__}). This is a bug, not a problem "
                       "with your input; it was logged on the server.", title="Internal error") from e


def endpoints(service: ClipService) -> dict[str, Callable]:
    """The public functions, by API name. Their signatures and docstrings are the API's documentation, and
    their return types (the service's result dataclasses) the result's schema: Gradio derives view_api's and
    MCP's description of each result's fields from them. Each returns the result's JSON (`to_json`)."""

    def models(request: gr.Request = None) -> ModelList:
        """List the models this server offers, and which is the default (and your own Learn-tab model, if any).

        Returns:
            default: the model used when `model` is empty; models: one entry per model with name (what `model`
            takes), display, family (clip, siglip, chinese_clip; null until known), scoring (softmax over the
            labels, or sigmoid per label), availability (local, download, unavailable) and loaded.
        """
        return respond("models", lambda: service.models(getattr(request, "session_hash", None)))

    def zero_shot(image: FileData, labels: str, templates: str = "single", model: str = "") -> ZeroShot:
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
        return respond("zero_shot", lambda: service.zero_shot(
            file_path(image), params.text("labels", labels), params.text("templates", templates, "single") or "single",
            params.text("model", model)))

    def zero_shot_batch(images: list[FileData], labels: str, templates: str = "single", model: str = "") -> ZeroShotBatch:
        """Zero-shot labeling of several images with the same labels.

        Args:
            images: the pictures to label, at most 256 (over MCP data: URIs); unusable files are skipped and named.
            labels: the candidate labels, separated by commas or new lines.
            templates: single, imagenet7, imagenet80, bare, or your own templates with {} (one per line).
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            results: per image what zero_shot returns; skipped: files that are not usable images and why; model.
        """
        return respond("zero_shot_batch", lambda: service.zero_shot_batch(
            file_paths(images), params.text("labels", labels),
            params.text("templates", templates, "single") or "single", params.text("model", model)))

    def similarity_matrix(images: list[FileData], texts: str, model: str = "") -> Similarity:
        """The image x text cosine-similarity matrix CLIP is trained on; with pairs, the batch's contrastive loss.

        Args:
            images: up to 24 pictures, the rows (over MCP data: URIs).
            texts: up to 24 texts, one per line (the columns); text i describing image i makes a paired batch.
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            images, texts, cosine[image][text], logit_scale, logit_bias, scoring, paired, and when paired the
            losses (image_to_text, text_to_image, mean, chance = ln N; sigmoid for SigLIP), model, notices.
        """
        return respond("similarity_matrix", lambda: service.similarity_matrix(
            file_paths(images), params.text("texts", texts), params.text("model", model)))

    def spatial_heatmap(image: FileData, text: str, method: str = "gradcam", model: str = "") -> Heatmap:
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
        return respond("spatial_heatmap", lambda: service.spatial_heatmap(
            file_path(image), params.text("text", text), params.choice("method", method, HEATMAP_METHODS, "gradcam"),
            params.text("model", model)))

    def embedding_map(images: list[FileData] | None = None, texts: str = "", method: str = "umap", dims: int = 2,
                      collection: str = "", model: str = "") -> EmbeddingMap:
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
        return respond("embedding_map", lambda: service.embedding_map(
            file_paths(images), params.text("texts", texts), params.choice("method", method, MAP_METHODS, "umap"),
            params.integer("dims", dims, 2, 3, default=2), params.text("model", model),
            collection=params.text("collection", collection)))

    def search(query: str = "", images: list[FileData] | None = None, k: int = DEFAULT_K, collection: str = "",
               query_image: FileData | None = None, model: str = "") -> SearchResults:
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
        return respond("search", lambda: service.search(
            params.text("query", query), file_paths(images), params.integer("k", k, 1, limits.MAX_SEARCH_K, DEFAULT_K),
            params.text("model", model), collection=params.text("collection", collection),
            query_image=file_path(query_image) if query_image else None))

    def embed(images: list[FileData] | None = None, texts: str = "", model: str = "") -> Embeddings:
        """Embeddings: L2-normalised vectors of images and texts in the model's joint space.

        Args:
            images: pictures to embed (over MCP data: URIs).
            texts: texts to embed, one per line.
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            model, dim, images (name, vector), texts (text, vector), skipped. The cosine of an image and a text is
            the dot product of their vectors.
        """
        return respond("embed", lambda: service.embed(file_paths(images), params.text("texts", texts),
                                                     params.text("model", model)))

    def video_search(video: FileData, query: str = "", query_image: FileData | None = None, fps: float = 2.0,
                     model: str = "") -> VideoSearch:
        """Video search: when in a video the frames match a text (or a picture), as a cosine curve per query.

        Args:
            video: the video (MP4, WebM, MOV ...; at most 15 min and 1080p frames); over MCP a data: URI.
            query: what to look for, in any language the model reads, e.g. "a red circle"; one query per line
                gives one curve each.
            query_image: a picture to look for instead of (or besides) the text.
            fps: frames sampled per second (0.05 to 8; lowered so a long video stays within 600 frames).
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            video, queries, times (seconds of the sampled frames), scores[query][frame] (cosine), baseline (per
            query the median frame's cosine, what an unrelated frame scores), best_time (seconds, first query),
            moments (query, start, end, score, peak_time; runs of frames above halfway from the median to the
            best), duration, fps, model, notices.
        """
        return respond("video_search", lambda: service.video_search(
            file_path(video), query, file_path(query_image) if query_image else None, float(fps), model))

    def few_shot(images: list[FileData] | None = None, labels: str = "", shots: str = "1,2,4,8,16", seeds: int = 5,
                 templates: str = "single", model: str = "") -> FewShot:
        """Few-shot probe vs. zero-shot: how many labelled pictures per class the prompt is worth (the CLIP paper's
        linear-probe comparison). A logistic-regression probe on the image embeddings of k pictures per class is
        tested on held-out pictures, for each k and several random splits, beside zero-shot on the same pictures.

        Args:
            images: your labelled pictures: a .zip with one folder per class, or pictures with a .csv of path,label
                (over MCP data: URIs); none: toy-world pictures rendered on demand.
            labels: toy world only: the classes, each a colour, a shape or both (e.g. "circle, square, star" or
                "red, blue"); empty: the eight shapes. With your own pictures the classes are their folders.
            shots: labelled pictures per class to try, e.g. "1,2,4,8,16" (at most 64).
            seeds: random splits to average over (1-10).
            templates: the zero-shot prompts: single, imagenet7, imagenet80, bare, or your own with {}.
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            shots, accuracy (mean over seeds per k), accuracy_std, zero_shot_accuracy, chance (1/classes),
            equivalent_shots (k where the probe reaches zero-shot; null: beyond the largest k), notices, classes,
            per_seed, test_per_class, seeds, templates, source (toy or upload), model.
        """
        return respond("few_shot", lambda: service.few_shot(file_paths(images), labels, shots, int(seeds), templates,
                                                            model))

    def compare_models(image: FileData, labels: str, templates: str = "single", model_a: str = "",
                       model_b: str = "") -> ModelComparison:
        """Two models side by side: the same picture and labels through both, each scored the way it was trained
        (softmax over the labels for CLIP, a sigmoid per label for SigLIP).

        Args:
            image: the picture (over MCP a data: URI).
            labels: the candidate labels, separated by commas or new lines.
            templates: single, imagenet7, imagenet80, bare, or your own templates with {}.
            model_a: a model name from the models endpoint; empty for the server's default.
            model_b: the other model.

        Returns:
            image, labels (in your order), model_a, model_b, scoring_a, scoring_b, probabilities_a/_b and
            cosine_a/_b per label, top_a, top_b, agree (same best label), rank_agreement (Spearman), notices.
        """
        return respond("compare_models",
                       lambda: service.compare_models(file_path(image), labels, templates, model_a, model_b))

    def token_attribution(image: FileData, text: str, model: str = "") -> TokenAttribution:
        """Which words of a text carry its match with a picture.

        Args:
            image: the picture (over MCP a data: URI).
            text: the caption to explain, e.g. "a red circle and a blue square".
            model: a model name from the models endpoint; empty for the server's default.

        Returns:
            tokens and attribution (gradient x input on each token embedding: how much the cosine would drop if
            that token's embedding were zeroed, to first order), words and word_attribution (the same summed per
            word), word_leave_one_out (the cosine minus the cosine of the text without that word), score (cosine
            of the image with the whole text), method, notices.
        """
        return respond("token_attribution", lambda: service.token_attribution(file_path(image), text, model))

    fns = {f.__name__: f for f in (models, zero_shot, zero_shot_batch, similarity_matrix, spatial_heatmap,
                                   embedding_map, search, embed, video_search, few_shot, compare_models,
                                   token_attribution)}
    assert tuple(fns) == ENDPOINTS  # noqa: S101 - the list above is what README and the tests name
    return fns


def publish_learning(service: ClipService) -> None:
    """`learn_start` and `learn_status` for API clients, on the service like every endpoint: JSON in, the typed
    LearnStatus out, for the caller's session. The first five parameters keep the order of the tab's knobs, so
    positional callers keep working."""
    defaults = LiveConfig()

    def session(request) -> str:
        sid = getattr(request, "session_hash", None)
        if not sid:
            raise InputError(code="no_session")
        return sid

    def learn_start(batch_size: int | None = None, lr: float | None = None, width: int | None = None,
                    concepts: str | None = None, steps: int | None = None, mode: str | None = None,
                    layers: int | None = None, seed: int | None = None, language: str | None = None,
                    image_tower: str | None = None, world: str | None = None, hard_batches: float | None = None,
                    request: gr.Request = None) -> LearnStatus:
        knobs = dict(batch_size=batch_size, lr=lr, width=width, concepts=concepts, steps=steps, mode=mode,
                     layers=layers, seed=seed, language=language, image_tower=image_tower, world=world,
                     hard_batches=hard_batches)
        return respond("learn_start", lambda: service.learn_start(session(request), **knobs))

    def learn_status(request: gr.Request = None) -> LearnStatus:
        return respond("learn_status", lambda: service.learn_status(session(request)))

    gr.api(learn_start, api_name="learn_start", concurrency_limit=2, concurrency_id="learn_control",
           api_description="Start (or restart) this session's Learn-tab training; every setting is optional. "
                           f"mode: {' | '.join(MODES)} (default {defaults.mode}: locked image tower, LiT); "
                           f"concepts: {' | '.join(CONCEPTS)}; language (of the captions): {' | '.join(LANGUAGES)} "
                           f"(default {defaults.language}); from scratch: image_tower {' | '.join(IMAGE_TOWERS)}, "
                           f"world {' | '.join(WORLDS)}, hard_batches (share of two-colour batches, 0-1), each "
                           "defaulting to the mode's own. Returns the same JSON as learn_status.")
    gr.api(learn_status, api_name="learn_status", concurrency_limit=8, concurrency_id="learn_poll",
           api_description="This session's training as JSON: mode, state, running, step, steps, batch_size, "
                           "diagonal_hits (pictures of the fixed batch that pick their own caption) out of "
                           "fixed_batch, loss, logit_scale and temperature (= 1 / logit_scale), accuracies, and the "
                           "curve of diagonal hits against seconds since start.")


# Work that holds the model is shared with the UI's own queue lanes, so API callers and visitors wait in line.
LANES = {"models": ("meta", None), "embedding_map": ("map", 1), "zero_shot_batch": ("encode_many", 1),
         "video_search": ("encode_many", 1), "few_shot": ("encode_many", 1)}


def publish(service: ClipService, concurrency: int = 2) -> None:
    """Register the endpoints in the Blocks being built (call inside `with gr.Blocks()`)."""
    for name, fn in endpoints(service).items():
        lane, limit = LANES.get(name, ("encode", concurrency))
        dep = gr.api(fn, api_name=name, concurrency_id=lane, concurrency_limit=limit)
        params = [p for p in inspect.signature(fn).parameters if p != "request"]  # gr.Request: Gradio's, not an input
        gradio_adapter.name_api_values(dep, params)
    if service.training is not None:
        publish_learning(service)
