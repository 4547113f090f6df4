"""The service layer: one typed function per operation, what the UI, the CLI and the public API all call.

Each operation takes plain inputs (image files or PIL images, texts, a model name) and returns a
dataclass of plain JSON types (`to_json()` is `dataclasses.asdict`), so the HTTP API, the Python
client and MCP see exactly what the UI draws. `model` names a model from `models()`; empty means the
server's default. It is honoured per call: two callers asking for two models each get their own.

What the user must fix raises a `clipdemo.errors.UserError` (a message meant for them); anything
else that escapes is a bug, and callers report it as one.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from clipdemo import gallery as galleries
from clipdemo import limits
from clipdemo.embedding_map import MapData, build_map_data, project_map, records
from clipdemo.encoding import Encoder
from clipdemo.errors import InputError
from clipdemo.images import load_image
from clipdemo.loading import BUNDLED, BUNDLED_MODEL_DIR, KNOWN_MODELS, cached_locally, is_offline
from clipdemo.registry import ModelRegistry, is_private
from clipdemo.search import DEFAULT_K, Hit, search_image, search_text
from clipdemo.similarity import MAX_IMAGES as MATRIX_MAX_IMAGES
from clipdemo.similarity import MAX_TEXTS as MATRIX_MAX_TEXTS
from clipdemo.similarity import similarity_matrix as engine_similarity_matrix
from clipdemo.spatial import spatial_map
from clipdemo.zeroshot import ZeroShotResult
from clipdemo.zeroshot import zero_shot as engine_zero_shot

ImageSource = str | os.PathLike | bytes | Image.Image
LESSONS = ("templates", "temperature", "gap", "heldout", "counting", "leftright", "languages")  # the Lessons tab's

MAX_BATCH_IMAGES = 256  # zero_shot_batch: a CSV's worth of pictures in one call, seconds on a CPU
MAX_EMBED_TEXTS = 2000  # embed: the same bound as the texts of a map
DIGITS = 6  # numbers in JSON: enough for any view, and the payload stays small


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def _rows(a: np.ndarray) -> list[list[float]]:
    return [[_r(v) for v in row] for row in np.asarray(a)]


@dataclass
class Result:
    def to_json(self) -> dict:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------- models


@dataclass
class ModelEntry:
    name: str  # what `model=` takes
    display: str  # a person's name for it
    family: str | None  # clip, siglip, siglip2, chinese_clip (None: not known until loaded)
    scoring: str | None  # softmax (over the labels) or sigmoid (each label on its own)
    availability: str  # local (loads here now), download (on first use), unavailable (offline, not cached)
    loaded: bool  # in memory now


@dataclass
class ModelDetails(Result):
    """One loaded model, as the UI's header and the views describe it."""

    name: str
    family: str
    scoring: str  # softmax | sigmoid
    logit_scale: float  # s = 1/temperature
    logit_bias: float  # SigLIP's b; 0 for CLIP
    parameters: int
    bytes: int  # the weights in memory
    device: str
    dtype: str
    image_size: int  # pixels the model sees (a side)
    source: str  # the folder or hub id it was loaded from
    bundled: bool
    encoding: dict = field(default_factory=dict)  # backend, precision, measured agreement (backends.backend_record)

    def session_info(self) -> dict:
        """What a session file records about the model (clipdemo.exports.session_record's model_info)."""
        return {"family": self.family, "source": self.source, "device": self.device, "dtype": self.dtype,
                "parameters": self.parameters, "scores": self.scoring, "logit_scale": round(self.logit_scale, 4)}


@dataclass
class ModelList(Result):
    default: str
    models: list[ModelEntry]


def availability(name: str) -> str:
    """local: can load here now; download: fetched on first use; unavailable: offline and not cached."""
    if name == BUNDLED or is_private(name) or Path(name).expanduser().is_dir() or cached_locally(name):
        return "local"
    return "unavailable" if is_offline() else "download"


def display_name(name: str, registry: ModelRegistry | None = None) -> str:
    """A person's name for a model: the known name, else the hub id a downloaded folder came from; a session's
    own Learn-tab model by the label it was registered with."""
    from clipdemo.download import source_repo

    if is_private(name):
        return (registry.label(name) if registry is not None else None) or "Learn-tab model"
    if name in KNOWN_MODELS:
        return KNOWN_MODELS[name] if name == BUNDLED else f"{KNOWN_MODELS[name]} · {name}"
    repo = source_repo(name)
    if repo:
        return f"{KNOWN_MODELS.get(repo, repo)} · {Path(name).name} (local folder)"
    return f"{Path(name).name} (local folder)" if Path(name).expanduser().is_dir() else name


def _config_family(name: str) -> str | None:
    """The model_type in a model's config.json, read without loading the model (None when not here)."""
    folder = BUNDLED_MODEL_DIR if name == BUNDLED else Path(name).expanduser()
    config = folder / "config.json" if folder.is_dir() else None
    if config is None and cached_locally(name):
        from huggingface_hub import try_to_load_from_cache

        config = Path(try_to_load_from_cache(name, "config.json"))
    try:
        return json.loads(config.read_text()).get("model_type") if config else None
    except (OSError, ValueError):
        return None


def scoring_of(family: str | None) -> str | None:
    if family is None:
        return None
    return "sigmoid" if family.startswith("siglip") else "softmax"


# ---------------------------------------------------------------- results


@dataclass
class ZeroShot(Result):
    image: str
    labels: list[str]  # best first
    probabilities: list[float]  # softmax over the labels, or one sigmoid per label (SigLIP)
    cosine: list[float]  # raw cosine similarity of the image with each label's (ensembled) prompt
    scoring: str  # softmax | sigmoid
    templates: list[str]
    logit_scale: float  # s = 1 / temperature
    logit_bias: float  # SigLIP's b (0 for CLIP)
    model: str
    notices: list[str] = field(default_factory=list)

    def rows(self) -> list[dict]:
        """One flat record per label, best first (the CSV / JSON table of an export)."""
        return [{"image": self.image, "rank": k, "label": lab, "probability": p, "cosine": c}
                for k, (lab, p, c) in enumerate(zip(self.labels, self.probabilities, self.cosine, strict=True), 1)]


@dataclass
class ZeroShotBatch(Result):
    results: list[ZeroShot]
    skipped: list[str]  # files that are not usable images, and why
    model: str
    labels: list[str]  # as given (parsed), in the caller's order
    templates: list[str]
    notices: list[str] = field(default_factory=list)


@dataclass
class Losses:
    image_to_text: float | None = None  # CLIP: mean -log p(true text | image)
    text_to_image: float | None = None
    mean: float | None = None  # CLIP's training objective
    chance: float | None = None  # log N: the loss of a model that knows nothing
    sigmoid: float | None = None  # SigLIP's loss instead


@dataclass
class Similarity(Result):
    images: list[str]
    texts: list[str]
    cosine: list[list[float]]  # [image][text]
    logit_scale: float
    logit_bias: float
    scoring: str
    paired: bool  # as many texts as images: text i describes image i
    losses: Losses | None  # when paired
    model: str
    notices: list[str] = field(default_factory=list)


@dataclass
class Heatmap(Result):
    method: str
    text: str
    score: float  # cosine of the whole image with the text
    relevance: list[list[float]]  # scaled to [0, 1]; row 0 is the top of what the model saw
    raw: list[list[float]]  # the same before scaling, in the method's own units
    grid_size: list[int]
    patch_grid: list[int]  # the model's patch grid (the map is finer when refined)
    box: list[float]  # the part of the original the model saw: x0, y0, x1, y1 in pixels
    image_size: list[int]
    hottest_point: list[float]  # x, y in original pixels
    model: str


@dataclass
class EmbeddingMap(Result):
    points: list[dict]  # kind (image|text), name, x, y[, z], caption for captioned images
    summary: dict


@dataclass
class SearchResults(Result):
    query: str
    results: list[dict]  # rank, name, score (cosine), caption, index; best first
    model: str
    notices: list[str] = field(default_factory=list)


@dataclass
class Embeddings(Result):
    model: str
    dim: int
    images: list[dict]  # name, vector (unit length)
    texts: list[dict]  # text, vector (unit length)
    skipped: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- inputs


def image_name(source: ImageSource, i: int = 0) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return f"image {i + 1}"


def unique_names(names: list[str]) -> list[str]:
    """Names made distinct for display and tables: a repeat becomes 'name (2)'."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def load_images(sources: Sequence[ImageSource], limit: int) -> tuple[list[Image.Image], list[str], list[str]]:
    """(images, names, problems): unreadable files are skipped with a reason, not fatal; at most `limit`."""
    images, names, problems = [], [], []
    sources = list(sources or [])
    if len(sources) > limit:
        problems.append(f"{len(sources)} images given; only the first {limit} are used")
    for i, src in enumerate(sources[:limit]):
        try:
            images.append(load_image(src, name=image_name(src, i)))
            names.append(image_name(src, i))
        except InputError as e:
            problems.append(str(e))
    return images, unique_names(names), problems


def text_lines(texts: str | Sequence[str] | None) -> list[str]:
    """One text per line (or per list item), blank ones dropped."""
    items = texts.splitlines() if isinstance(texts, str) else list(texts or [])
    return [" ".join(str(t).split()) for t in items if str(t).strip()]


# ---------------------------------------------------------------- the service


class ClipService:
    """The operations, over the models a `ModelRegistry` holds."""

    def __init__(self, registry: ModelRegistry):
        self.registry = registry

    def encoder(self, model: str | None = "") -> Encoder:
        return self.registry.get(model or None)

    def model_name(self, model: str | None = "") -> str:
        return model or self.registry.default

    # ------------------------------------------------------------ models
    def models(self, session: str | None = None) -> ModelList:
        """What is offered, shared by everyone, plus `session`'s own Learn-tab model (nobody else's)."""
        entries = []
        for name in self.registry.choices(session):
            encoder = self.registry.get(name, session) if is_private(name) else self.registry.peek(name)
            family = encoder.loaded.family if encoder is not None else _config_family(name)
            entries.append(ModelEntry(name, display_name(name, self.registry), family, scoring_of(family),
                                      availability(name), encoder is not None))
        return ModelList(self.registry.default, entries)

    def describe(self, model: str | None = "", session: str | None = None) -> ModelDetails:
        """The model (loaded now if it is not yet): family, scoring, logit scale, size, device, dtype, encoding.
        `session`: a session's own Learn-tab model is described only to that session."""
        from clipdemo.backends import backend_record
        from clipdemo.devices import dtype_name

        encoder = self.registry.get(model or None, session)
        lm = encoder.loaded
        n_bytes = sum(p.numel() * p.element_size() for p in lm.model.parameters())
        return ModelDetails(self.model_name(model), lm.family, "sigmoid" if lm.uses_sigmoid else "softmax",
                            _r(lm.logit_scale), _r(lm.logit_bias), lm.n_params, n_bytes, lm.device.type,
                            dtype_name(lm.dtype), lm.image_size, lm.source, lm.is_bundled,
                            backend_record(encoder.backend))

    def display_name(self, name: str) -> str:
        """A person's name for a model (a session's own one by the label it was registered with)."""
        return display_name(name, self.registry)

    def models_in_memory(self, session: str | None = None) -> list[str]:
        """Names of the models in memory that `session` may see (the shared ones and its own)."""
        return self.registry.loaded_names(session)

    @property
    def max_models(self) -> int:
        """Shared models kept in memory at once."""
        return self.registry.max_models

    def session_models(self, session: str | None) -> list[str]:
        """Names of `session`'s own models (a Learn-tab model); nobody else's."""
        return self.registry.private_names(session)

    def drop_session(self, session: str | None) -> None:
        """Free `session`'s own models now (its tab closed, or its training was reset)."""
        self.registry.drop_session(session)

    def add_session_model(self, session: str, folder: str | os.PathLike, label: str) -> str:
        """Load a model folder (a Learn-tab export) as `session`'s own model; its name for `model=`."""
        from clipdemo.loading import load_model

        loaded = load_model(str(folder), self.registry.device, self.registry.dtype)
        return self.registry.add_private(session, loaded, label)

    def add_session_trained(self, session: str, trainer_of, label: str) -> str:
        """Register `session`'s Learn-tab model as its own; `trainer_of(device, dtype)` hands it over (a
        clipdemo.live_training manager's `trained_model`: a saved-and-reloaded folder, or an in-memory copy)."""
        return self.registry.add_private(session, trainer_of(self.registry.device, self.registry.dtype), label)

    # ------------------------------------------------------------ lessons
    def lesson(self, key: str, model: str | None = "", language: str = "en"):
        """Run one of the Lessons tab's experiments (LESSONS: templates, temperature, gap, heldout, counting,
        leftright, languages) on the model: its result dataclass of numbers and pictures, for the view to draw.
        language "zh": labels, templates and captions in Chinese (the "languages" lesson always asks in both)."""
        from clipdemo import lessons  # the experiments are loaded when first asked for (the CLI never is)
        from clipdemo.language_lesson import language_comparison

        runs = {"templates": lessons.template_comparison, "temperature": lessons.temperature_lesson,
                "gap": lessons.modality_gap, "heldout": lessons.compositional, "counting": lessons.counting_probe,
                "leftright": lessons.left_right_probe, "languages": language_comparison}
        if key not in runs:
            raise InputError(f"no lesson named {key!r}; the lessons are {', '.join(LESSONS)}")
        if language not in ("en", "zh"):
            raise InputError(f"language must be en or zh (got {language!r})")
        if key == "languages":
            return runs[key](self.encoder(model))
        return runs[key](self.encoder(model), language=language)

    def out_of_world(self, images: Sequence[ImageSource], model: str | None = "") -> list[float] | None:
        """Per image, how unlike the bundled toy model's training world it is (above ood.THRESHOLD: unlike);
        None where the check does not apply (any other model)."""
        from clipdemo import ood

        return ood.out_of_world(self.encoder(model).loaded, [load_image(i) for i in images])

    def model_view(self, image: ImageSource, model: str | None = "") -> Image.Image:
        """What the model sees: the resized, cropped input."""
        return self.encoder(model).model_view(load_image(image))

    # ------------------------------------------------------------ zero-shot
    def _zero_shot_json(self, result: ZeroShotResult, i: int, name: str, model: str, bias: float,
                        notices: list[str]) -> ZeroShot:
        order = np.argsort(-result.probs[i], kind="stable")
        return ZeroShot(name, [result.labels[j] for j in order], [_r(result.probs[i, j]) for j in order],
                        [_r(result.cosine[i, j]) for j in order], "sigmoid" if result.sigmoid else "softmax",
                        list(result.templates), _r(result.logit_scale), _r(bias), model, notices)

    def zero_shot(self, image: ImageSource, labels: str | Sequence[str], templates: str | Sequence[str] = "single",
                  model: str = "") -> ZeroShot:
        """Which label's prompt lies closest to the image: labels best first, with probabilities and cosines."""
        encoder = self.encoder(model)
        img = load_image(image)
        result = engine_zero_shot(encoder, [img], labels, templates or "single")
        return self._zero_shot_json(result, 0, image_name(image), self.model_name(model),
                                    encoder.loaded.logit_bias, list(result.notices))

    def zero_shot_batch(self, images: Sequence[ImageSource], labels: str | Sequence[str],
                        templates: str | Sequence[str] = "single", model: str = "") -> ZeroShotBatch:
        """Zero-shot for several images at once; unusable files are skipped and named."""
        encoder = self.encoder(model)
        loaded, names, problems = load_images(images, MAX_BATCH_IMAGES)
        if not loaded:
            raise InputError("None of the files is a usable image" + (": " + "; ".join(problems[:3]) if problems
                                                                       else ": add some images."))
        result = engine_zero_shot(encoder, loaded, labels, templates or "single")
        name = self.model_name(model)
        bias = encoder.loaded.logit_bias
        return ZeroShotBatch([self._zero_shot_json(result, i, n, name, bias, []) for i, n in enumerate(names)],
                             problems, name, list(result.labels), list(result.templates), list(result.notices))

    # ------------------------------------------------------------ similarity
    def similarity_matrix(self, images: Sequence[ImageSource], texts: str | Sequence[str], model: str = "",
                          names: Sequence[str] | None = None) -> Similarity:
        """The image x text cosine matrix CLIP trains on; with pairs (text i for image i), the batch's loss.
        `names` name the images (default: their file names)."""
        encoder = self.encoder(model)
        loaded, found, problems = load_images(images, MATRIX_MAX_IMAGES)
        names = unique_names(list(names)[:len(loaded)]) if names is not None else found
        if not loaded:
            raise InputError("Add at least one usable image." + "".join(f" {p}" for p in problems[:3]))
        lines = text_lines(texts)
        notices = list(problems)
        if len(lines) > MATRIX_MAX_TEXTS:
            notices.append(f"{len(lines)} texts given; only the first {MATRIX_MAX_TEXTS} are used")
        notices += limits.clean_texts(lines[:MATRIX_MAX_TEXTS])[1]  # what was cut before tokenising, if anything
        matrix = engine_similarity_matrix(encoder, loaded, lines[:MATRIX_MAX_TEXTS], names)
        losses = None
        if matrix.paired and matrix.sigmoid:
            losses = Losses(sigmoid=_r(matrix.siglip_loss()))
        elif matrix.paired:
            pl = matrix.losses()
            losses = Losses(_r(pl.image_to_text), _r(pl.text_to_image), _r(pl.mean), _r(pl.chance))
        return Similarity(list(matrix.images), list(matrix.texts), _rows(matrix.cosine), _r(matrix.logit_scale),
                          _r(matrix.logit_bias), "sigmoid" if matrix.sigmoid else "softmax", matrix.paired, losses,
                          self.model_name(model), notices)

    def spatial_heatmap(self, image: ImageSource, text: str, method: str = "gradcam", model: str = "") -> Heatmap:
        """Where in the image the text matches: a relevance grid over what the model saw."""
        smap = spatial_map(self.encoder(model), load_image(image), text, method or "gradcam")
        j = smap.as_json(digits=DIGITS)
        return Heatmap(j["method"], j["text"], j["score"], j["relevance"], j["raw"], j["grid_size"], j["patch_grid"],
                       j["box"], j["image_size"], j["hottest_point"], self.model_name(model))

    # ------------------------------------------------------------ map, search, embed
    def _gallery(self, images: Sequence[ImageSource] | None) -> galleries.Gallery:
        """The caller's images (files, zips, a captions CSV), or the toy gallery when none are given."""
        return galleries.user_gallery(images) if images else galleries.toy_gallery()

    def embedding_map(self, images: Sequence[ImageSource] | None, texts: str | Sequence[str] | None = None,
                      method: str = "umap", dims: int = 2, model: str = "", collection: str = "") -> EmbeddingMap:
        """Images and texts in one projected space: one point each, and the modality gap. `collection`: the
        cached map of a launch-time collection instead (clipdemo.collection)."""
        if collection:
            return self._collection_map(collection)
        encoder = self.encoder(model)
        data = build_map_data(encoder, self._gallery(images), text_lines(texts), model_name=self.model_name(model))
        proj = project_map(data, method or "umap", int(dims))
        gap = data.gap()
        summary = {"method": proj.method, "dims": proj.dims, "images": data.n_images, "texts": len(data.texts),
                   "model": self.model_name(model), "modality_gap": gap.as_dict() if gap else None,
                   "notices": data.notices + proj.notices}
        return EmbeddingMap(records(data, proj), summary)

    def map_data(self, gallery: galleries.Gallery, texts: str | Sequence[str] | None = None,
                 labels: str | Sequence[str] | None = None, captions: bool = True, label_points: bool = True,
                 model: str = "", progress=None) -> tuple[MapData, int]:
        """What the map tab draws and keeps for redraws (MapData: arrays and names), and how many pictures were
        newly encoded (the rest came from the model's cache)."""
        encoder = self.encoder(model)
        before = encoder.image_cache.misses
        data = build_map_data(encoder, gallery, texts, labels, captions=captions, label_points=label_points,
                              model_name=self.model_name(model), progress=progress)
        return data, encoder.image_cache.misses - before

    def search_map(self, data: MapData, query: str = "", image: ImageSource | None = None,
                   k: int = DEFAULT_K) -> list[Hit]:
        """A drawn map's nearest pictures to a text (as typed) or to a picture, with the map's own model."""
        encoder = self.encoder(data.model_name)
        args = (data.image_emb, data.gallery.names, data.gallery.captions, int(k))
        if image is not None:
            return search_image(encoder, load_image(image), *args)
        return search_text(encoder, query, *args)

    def search(self, query: str = "", images: Sequence[ImageSource] | None = None, k: int = DEFAULT_K,
               model: str = "", collection: str = "", query_image: ImageSource | None = None) -> SearchResults:
        """Retrieval: the images ranked by cosine with the query, best first. The query is a text, or with
        `query_image` a picture (image -> image; a picture that is in the gallery finds itself first).
        `collection`: exact search over every vector of a launch-time collection instead (clipdemo.collection)."""
        if collection:
            return self._collection_search(query, collection, k, model, query_image)
        encoder = self.encoder(model)
        gal = self._gallery(images)
        emb, k = encoder.encode_images(gal.images), max(1, min(int(k), len(gal)))
        if query_image is not None:
            hits = search_image(encoder, load_image(query_image), emb, gal.names, gal.captions, k=k)
            asked = image_name(query_image, 0)
        else:
            hits = search_text(encoder, query, emb, gal.names, gal.captions, k=k)
            asked = " ".join((query or "").split())
        return SearchResults(asked, [h.as_dict() for h in hits], self.model_name(model), list(gal.notices))

    # collections (python app.py --collection DIR): only folders given at launch, by folder name
    def _collection_map(self, collection: str) -> EmbeddingMap:
        from clipdemo.collection import service as collections

        m = collections.collection_map(collection)
        meta = collections.active().get(collection).metadata
        points = [{"kind": "image", "name": p, "x": _r(x), "y": _r(y), "caption": c} for p, c, x, y in
                  zip(meta["image_path"], meta["caption"], m["x"].tolist(), m["y"].tolist(), strict=True)]
        summary = {"method": "umap", "dims": 2, "images": m["count"], "texts": 0, "model": m["model"],
                   "collection": collection, "projection": m["projection"], "modality_gap": None, "notices": []}
        return EmbeddingMap(points, summary)

    def collection_hits(self, collection: str, query: str = "", image: ImageSource | None = None, k: int = DEFAULT_K,
                        model: str = "", collections=None) -> dict:
        """Exact text -> image or image -> image search over every vector of a launch-time collection: the
        collection service's plain record (hits, count, seconds, notices). `collections`: the app's set."""
        from clipdemo.collection import service as collection_service

        return collection_service.collection_search(collection, self.encoder(model), query=query,
                                                    image=image, k=int(k), collections=collections)

    def _collection_search(self, query: str, collection: str, k: int, model: str,
                           query_image: ImageSource | None = None) -> SearchResults:
        image = load_image(query_image) if query_image is not None else None
        r = self.collection_hits(collection, query, image, k, model)
        results = [{"rank": h["rank"], "name": h["image_path"], "score": h["score"], "caption": h["caption"],
                    "index": h["index"]} for h in r["hits"]]
        asked = image_name(query_image, 0) if query_image is not None else r["query"]
        return SearchResults(asked, results, self.model_name(model), r["notices"])

    def embed(self, images: Sequence[ImageSource] | None = None, texts: str | Sequence[str] | None = None,
              model: str = "") -> Embeddings:
        """L2-normalised embeddings of images and texts in the model's joint space."""
        encoder = self.encoder(model)
        loaded, names, problems = load_images(images or [], galleries.MAX_IMAGES)
        lines = text_lines(texts)
        if len(lines) > MAX_EMBED_TEXTS:
            problems.append(f"{len(lines)} texts given; only the first {MAX_EMBED_TEXTS} are used")
            lines = lines[:MAX_EMBED_TEXTS]
        if not loaded and not lines:
            raise InputError("Give at least one image or one text to embed.")
        img = encoder.encode_images(loaded) if loaded else np.zeros((0, encoder.dim))
        txt = encoder.encode_texts(lines) if lines else np.zeros((0, encoder.dim))
        return Embeddings(self.model_name(model), encoder.dim,
                          [{"name": n, "vector": [_r(v) for v in e]} for n, e in zip(names, img, strict=True)],
                          [{"text": t, "vector": [_r(v) for v in e]} for t, e in zip(lines, txt, strict=True)],
                          problems)
