"""The service layer: one typed function per operation, what the UI, the CLI and the public API all call.

Each operation takes plain inputs (image files or PIL images, texts, a model name) and returns a
dataclass of plain JSON types (`to_json()` is `dataclasses.asdict`), so the HTTP API, the Python
client and MCP see exactly what the UI draws. `model` names a model from `models()`; empty means the
server's default. It is honoured per call: two callers asking for two models each get their own.

Every result that took pictures carries its notices (clipdemo.core.notices: a code, parameters, a severity),
built here once: pictures unlike the bundled toy model's world (one warning per picture), texts cut,
images dropped, the scoring rule. The UI renders them in the visitor's language; the API returns them.

What the user must fix raises a `clipdemo.core.errors.UserError` (a message meant for them); anything
else that escapes is a bug, and callers report it as one.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from clipdemo.core import limits, scoring
from clipdemo.core.encoding import Encoder
from clipdemo.core.errors import InputError
from clipdemo.core.images import load_image
from clipdemo.core.loading import (
    BUNDLED,
    BUNDLED_MODEL_DIR,
    KNOWN_MODELS,
    cached_locally,
    default_model_name,
    is_offline,
)
from clipdemo.core.notices import Notice, free_text, skipped_notice
from clipdemo.core.notices import out_of_world as out_of_world_notices
from clipdemo.core.notices import scoring as scoring_notice
from clipdemo.core.projection import Projection
from clipdemo.core.registry import ModelRegistry, is_private
from clipdemo.core.search import DEFAULT_K, Hit, rank, search_image, search_text
from clipdemo.core.similarity import similarity_matrix as engine_similarity_matrix
from clipdemo.core.spatial import spatial_map
from clipdemo.core.zeroshot import ZeroShotResult
from clipdemo.core.zeroshot import zero_shot as engine_zero_shot
from clipdemo.data import gallery as galleries
from clipdemo.data.embedding_map import MapData, build_map_data, project_map, records
from clipdemo.data.video import sample_frames, search_video
from clipdemo.serve import studies
from clipdemo.teach import ood

if TYPE_CHECKING:  # the trainer is handed in by the app; the service itself never loads it
    from clipdemo.teach.live_training import LiveTrainingManager

ImageSource = str | os.PathLike | bytes | Image.Image
LESSONS = ("templates", "temperature", "gap", "heldout", "counting", "leftright", "languages")  # the Lessons tab's

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
        """What a session file records about the model (clipdemo.serve.exports.session_record's model_info)."""
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
    # needed by this operation only: the service module loads fast for the CLI
    from clipdemo.serve.download import source_repo

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
    return scoring.rule(scoring.family_uses_sigmoid(family))


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
    notices: list[Notice] = field(default_factory=list)

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
    notices: list[Notice] = field(default_factory=list)  # the batch's, and every picture's warnings


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
    notices: list[Notice] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # where each row's picture stood among those given


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
    notices: list[Notice] = field(default_factory=list)


@dataclass
class EmbeddingMap(Result):
    points: list[dict]  # kind (image|text), name, x, y[, z], caption for captioned images
    summary: dict
    notices: list[Notice] = field(default_factory=list)


@dataclass
class SearchResults(Result):
    query: str
    results: list[dict]  # rank, name, score (cosine), caption, index; best first
    model: str
    notices: list[Notice] = field(default_factory=list)


@dataclass
class LearnStatus(Result):
    """A session's Learn-tab training, for API clients (clipdemo.teach.live_training.status_record)."""

    running: bool
    state: str  # none | running | finished | stopped | failed ...
    mode: str | None
    step: int
    steps: int
    batch_size: int | None
    diagonal_hits: int  # pictures of the fixed batch that pick their own caption
    fixed_batch: int
    loss: float | None
    reason: str | None = None
    error: str | None = None
    config: dict | None = None
    diagonal_step: int | None = None
    logit_scale: float | None = None
    temperature: float | None = None  # 1 / logit_scale
    seen_accuracy: float | None = None
    heldout_accuracy: float | None = None
    seconds: float | None = None
    train_seconds: float | None = None
    parameters: int | None = None
    trained_parameters: int | None = None
    curve: dict | None = None  # seconds, step, diagonal_hits


@dataclass
class MapNeighbours:
    """A clicked map point's neighbours: an image's nearest texts, or a text's nearest images."""

    kind: str  # image | text
    index: int  # among the map's images, or among its texts
    texts: list[tuple[str, float]]  # (text, cosine), best first, for an image
    hits: list[Hit]  # for a text


@dataclass
class VideoSearch(Result):
    video: str
    queries: list[str]  # texts as typed, then the picture's name
    times: list[float]  # seconds of each sampled frame
    scores: list[list[float]]  # [query][frame] cosine of the frame with the query
    baseline: list[float]  # per query, the median frame's cosine: what an unrelated frame scores in this video
    best_time: float  # seconds: the first query's best frame
    moments: list[dict]  # query (index), start, end, score (peak cosine), peak_time; best first per query
    duration: float
    fps: float  # frames sampled per second
    model: str
    notices: list[Notice] = field(default_factory=list)
    # the frame at each moment's peak (the UI's thumbnails); not part of the JSON
    moment_frames: list = field(default_factory=list, repr=False)

    def to_json(self) -> dict:
        frames, self.moment_frames = self.moment_frames, []
        try:
            found = dataclasses.asdict(self)
        finally:
            self.moment_frames = frames
        del found["moment_frames"]
        return found


@dataclass
class Embeddings(Result):
    model: str
    dim: int
    images: list[dict]  # name, vector (unit length)
    texts: list[dict]  # text, vector (unit length)
    skipped: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


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


@dataclass
class LoadedImages:
    """The pictures of one request, each decoded once (clipdemo.core.images), and what became of the rest."""

    images: list[Image.Image]
    names: list[str]  # unique, for display and tables
    positions: list[int]  # where each kept picture stood in the caller's list
    problems: list[str]  # the skipped files and why, and a cut (the `skipped` of a result)
    notices: list[Notice]  # the same as notices


def load_images(sources: Sequence[ImageSource], limit: int) -> LoadedImages:
    """Unreadable files are skipped with a reason, not fatal; at most `limit` pictures."""
    out = LoadedImages([], [], [], [], [])
    sources = list(sources or [])
    if len(sources) > limit:
        out.problems.append(f"{len(sources)} images given; only the first {limit} are used")
        out.notices.append(Notice("images_dropped", {"given": len(sources), "limit": limit}, "warning"))
    names = []
    for i, src in enumerate(sources[:limit]):
        try:
            out.images.append(load_image(src, name=image_name(src, i)))
            names.append(image_name(src, i))
            out.positions.append(i)
        except InputError as e:
            out.problems.append(str(e))
            out.notices.append(skipped_notice(e))
    out.names = unique_names(names)
    return out


def text_lines(texts: str | Sequence[str] | None) -> list[str]:
    """One text per line (or per list item), blank ones dropped."""
    items = texts.splitlines() if isinstance(texts, str) else list(texts or [])
    return [" ".join(str(t).split()) for t in items if str(t).strip()]


def text_notices(texts: Sequence[str]) -> list[Notice]:
    """What cleaning would change in these texts before they reach a tokenizer (limits.clean_text)."""
    long = sum(len(str(t)) > limits.MAX_TEXT_CHARS for t in texts)
    odd = sum(limits.clean_text(t) != str(t)[:limits.MAX_TEXT_CHARS].replace("\x00", "") for t in texts)
    out = [Notice("texts_cut", {"n": long, "limit": limits.MAX_TEXT_CHARS}, "warning")] if long else []
    return out + ([Notice("texts_cleaned", {"n": odd}, "warning")] if odd else [])


# ---------------------------------------------------------------- the service


class ClipService:
    """The operations, over the models a `ModelRegistry` holds."""

    def __init__(self, registry: ModelRegistry, training: LiveTrainingManager | None = None):
        self.registry = registry
        self.training = training  # the Learn tab's runs, one per session (None: this server trains nothing)

    # ------------------------------------------------------------ Learn tab training, per session
    def attach_training(self, manager: LiveTrainingManager) -> None:
        self.training = manager

    def _trainer(self) -> LiveTrainingManager:
        if self.training is None:
            raise InputError(code="no_training")
        return self.training

    def learn_start(self, session: str, **knobs) -> LearnStatus:
        """Start (or restart) `session`'s training; every LiveConfig knob is optional (None: its default)."""
        return LearnStatus(**self._trainer().learn_start(session, **knobs))

    def learn_status(self, session: str) -> LearnStatus:
        """`session`'s training now (state "none" before it starts)."""
        return LearnStatus(**self._trainer().learn_status(session))

    @classmethod
    def from_model(cls, model: str = "", device: str = "auto", dtype: str = "auto",
                   backend: str | None = None) -> ClipService:
        """A service on one model, what a library user starts with: 'bundled', a hub id or a model folder (empty:
        OpenAI ViT-B/32 when cached or reachable, else the bundled model). Loaded on first use."""
        return cls(ModelRegistry(model or default_model_name(), device, dtype, max_models=1, backend=backend))

    def encoder(self, model: str | None = "") -> Encoder:
        return self.registry.get(model or None)

    def model_name(self, model: str | None = "") -> str:
        return model or self.registry.default

    def result_model(self, model: str | None = "") -> str:
        """The model as a result names it: a session's own model by its label for people, never by its key
        (results are shared, logged and pasted; the key would let others ask for the model)."""
        name = self.model_name(model)
        return (self.registry.label(name) or "Learn-tab model") if is_private(name) else name

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
        # needed by this operation only: the service module loads fast for the CLI
        from clipdemo.core.backends import backend_record
        from clipdemo.core.devices import dtype_name

        encoder = self.registry.get(model or None, session)
        lm = encoder.loaded
        n_bytes = sum(p.numel() * p.element_size() for p in lm.model.parameters())
        return ModelDetails(self.result_model(model), lm.family, scoring.rule(lm.uses_sigmoid),
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
        # needed by this operation only: the service module loads fast for the CLI
        from clipdemo.core.loading import load_model

        loaded = load_model(str(folder), self.registry.device, self.registry.dtype)
        return self.registry.add_private(session, loaded, label)

    def add_session_trained(self, session: str, trainer_of, label: str) -> str:
        """Register `session`'s Learn-tab model as its own; `trainer_of(device, dtype)` hands it over (a
        clipdemo.teach.live_training manager's `trained_model`: a saved-and-reloaded folder, or an in-memory copy)."""
        return self.registry.add_private(session, trainer_of(self.registry.device, self.registry.dtype), label)

    # ------------------------------------------------------------ lessons
    def lesson(self, key: str, model: str | None = "", language: str = "en"):
        """Run one of the Lessons tab's experiments (LESSONS: templates, temperature, gap, heldout, counting,
        leftright, languages) on the model: its result dataclass of numbers and pictures, for the view to draw.
        language "zh": labels, templates and captions in Chinese (the "languages" lesson always asks in both)."""
        # needed by this operation only: the service module loads fast for the CLI
        from clipdemo.teach import lessons  # the experiments are loaded when first asked for (the CLI never is)
        from clipdemo.teach.language_lesson import language_comparison

        runs = {"templates": lessons.template_comparison, "temperature": lessons.temperature_lesson,
                "gap": lessons.modality_gap, "heldout": lessons.compositional, "counting": lessons.counting_probe,
                "leftright": lessons.left_right_probe, "languages": language_comparison}
        if key not in runs:
            raise InputError(code="no_lesson", key=key, lessons=", ".join(LESSONS))
        if language not in ("en", "zh"):
            raise InputError(code="lesson_language", language=language)
        if key == "languages":
            return runs[key](self.encoder(model))
        return runs[key](self.encoder(model), language=language)

    def out_of_world(self, images: Sequence[ImageSource], model: str | None = "") -> list[float] | None:
        """Per image, how unlike the bundled toy model's training world it is (above ood.THRESHOLD: unlike);
        None where the check does not apply (any other model)."""
        return ood.out_of_world(self.encoder(model).loaded, [load_image(i) for i in images])

    def world_notices(self, encoder: Encoder, images: Sequence[Image.Image], names: Sequence[str]) -> list[Notice]:
        """One warning per picture unlike the world of the model that judged it (the bundled toy model's
        shapes; no other model's world is known): the pictures already decoded, never decoded again."""
        if not images or not ood.applies(encoder.loaded):
            return []
        found = out_of_world_notices(names, ood.out_of_world(encoder.loaded, images), ood.THRESHOLD)
        if len(found) > limits.MAX_NOTICES_PER_KIND:  # a 2000-picture map: the first ones named, then a count
            rest = len(found) - limits.MAX_NOTICES_PER_KIND
            found = found[:limits.MAX_NOTICES_PER_KIND] + [Notice("out_of_world_more", {"n": rest}, "warning")]
        return found

    def picture(self, image: ImageSource) -> Image.Image:
        """A picture as the service decodes it (upright, RGB, at most limits.DECODE_SIDE), for a view to draw on;
        within one request the same picture is decoded and charged once (clipdemo.core.images)."""
        return load_image(image)

    def model_view(self, image: ImageSource, model: str | None = "") -> Image.Image:
        """What the model sees: the resized, cropped input."""
        return self.encoder(model).model_view(load_image(image))

    # ------------------------------------------------------------ zero-shot
    def _zero_shot_json(self, result: ZeroShotResult, i: int, name: str, model: str, bias: float,
                        notices: list[Notice]) -> ZeroShot:
        order = np.argsort(-result.probs[i], kind="stable")
        return ZeroShot(name, [result.labels[j] for j in order], [_r(result.probs[i, j]) for j in order],
                        [_r(result.cosine[i, j]) for j in order], scoring.rule(result.sigmoid),
                        list(result.templates), _r(result.logit_scale), _r(bias), model, notices)

    def zero_shot(self, image: ImageSource, labels: str | Sequence[str], templates: str | Sequence[str] = "single",
                  model: str = "") -> ZeroShot:
        """Which label's prompt lies closest to the image: labels best first, with probabilities and cosines."""
        encoder = self.encoder(model)
        img = load_image(image)
        name = image_name(image)
        result = engine_zero_shot(encoder, [img], labels, templates or "single")
        notices = [*self.world_notices(encoder, [img], [name]), *free_text(result.notices),
                   scoring_notice(result.sigmoid)]
        return self._zero_shot_json(result, 0, name, self.result_model(model), encoder.loaded.logit_bias, notices)

    def zero_shot_batch(self, images: Sequence[ImageSource], labels: str | Sequence[str],
                        templates: str | Sequence[str] = "single", model: str = "",
                        names: Sequence[str] | None = None) -> ZeroShotBatch:
        """Zero-shot for several images at once (at most limits.MAX_BATCH_IMAGES); unusable files are skipped
        and named. `names` name the images (default: their file names)."""
        encoder = self.encoder(model)
        got = load_images(images, limits.MAX_BATCH_IMAGES)
        if not got.images:
            raise InputError(code="no_usable_image", problems="; ".join(got.problems[:3]) or "add some images.",
                             skipped=list(got.problems))
        shown = unique_names([str(names[i]) for i in got.positions]) if names is not None else got.names
        result = engine_zero_shot(encoder, got.images, labels, templates or "single")
        model_name = self.result_model(model)
        bias = encoder.loaded.logit_bias
        world = self.world_notices(encoder, got.images, shown)
        by_name = {n.params["name"]: n for n in world if n.code == "out_of_world"}
        results = [self._zero_shot_json(result, i, n, model_name, bias, [by_name[n]] if n in by_name else [])
                   for i, n in enumerate(shown)]
        notices = [*world, *got.notices, *free_text(result.notices), scoring_notice(result.sigmoid)]
        return ZeroShotBatch(results, got.problems, model_name, list(result.labels), list(result.templates), notices)

    # ------------------------------------------------------------ similarity
    def similarity_matrix(self, images: Sequence[ImageSource], texts: str | Sequence[str], model: str = "",
                          names: Sequence[str] | None = None) -> Similarity:
        """The image x text cosine matrix CLIP trains on; with pairs (text i for image i), the batch's loss.
        `names` name the images (default: their file names)."""
        encoder = self.encoder(model)
        got = load_images(images, limits.MATRIX_MAX_IMAGES)
        names = unique_names([str(names[i]) for i in got.positions]) if names is not None else got.names
        if not got.images:
            raise InputError(code="no_usable_matrix_image", problems=" ".join(got.problems[:3]))
        lines = text_lines(texts)
        notices = [*self.world_notices(encoder, got.images, names), *got.notices]
        if len(lines) > limits.MATRIX_MAX_TEXTS:
            notices.append(Notice("texts_dropped", {"given": len(lines), "limit": limits.MATRIX_MAX_TEXTS}, "warning"))
        notices += text_notices(lines[:limits.MATRIX_MAX_TEXTS])  # what was cut before tokenising, if anything
        matrix = engine_similarity_matrix(encoder, got.images, lines[:limits.MATRIX_MAX_TEXTS], names)
        losses = None
        if matrix.paired and matrix.sigmoid:
            losses = Losses(sigmoid=_r(matrix.siglip_loss()))
        elif matrix.paired:
            pl = matrix.losses()
            losses = Losses(_r(pl.image_to_text), _r(pl.text_to_image), _r(pl.mean), _r(pl.chance))
        notices.append(scoring_notice(matrix.sigmoid))
        return Similarity(list(matrix.images), list(matrix.texts), _rows(matrix.cosine), _r(matrix.logit_scale),
                          _r(matrix.logit_bias), scoring.rule(matrix.sigmoid), matrix.paired, losses,
                          self.result_model(model), notices, list(got.positions))

    def spatial_heatmap(self, image: ImageSource, text: str, method: str = "gradcam", model: str = "") -> Heatmap:
        """Where in the image the text matches: a relevance grid over what the model saw."""
        encoder = self.encoder(model)
        img = load_image(image)
        smap = spatial_map(encoder, img, text, method or "gradcam")
        j = smap.as_json(digits=DIGITS)
        return Heatmap(j["method"], j["text"], j["score"], j["relevance"], j["raw"], j["grid_size"], j["patch_grid"],
                       j["box"], j["image_size"], j["hottest_point"], self.result_model(model),
                       self.world_notices(encoder, [img], [image_name(image)]))

    # ------------------------------------------------------------ map, search, embed
    def _gallery(self, images: Sequence[ImageSource] | None) -> galleries.Gallery:
        """The caller's images (files, zips, a captions CSV), or the toy gallery when none are given."""
        return galleries.user_gallery(images) if images else galleries.toy_gallery()

    def gallery_notices(self, encoder: Encoder, gallery: galleries.Gallery) -> list[Notice]:
        """A gallery's own notices and its pictures unlike the model's world. The generated toy gallery is the
        toy world itself, so it is not checked (its 300 pictures would cost a second of CPU for nothing)."""
        world = [] if gallery.source == "toy" else self.world_notices(encoder, gallery.images, gallery.names)
        return [*world, *free_text(gallery.notices)]

    def embedding_map(self, images: Sequence[ImageSource] | None, texts: str | Sequence[str] | None = None,
                      method: str = "umap", dims: int = 2, model: str = "", collection: str = "") -> EmbeddingMap:
        """Images and texts in one projected space: one point each, and the modality gap. `collection`: the
        cached map of a launch-time collection instead (clipdemo.data.collection)."""
        if collection:
            return self._collection_map(collection)
        encoder = self.encoder(model)
        gallery = self._gallery(images)
        data = build_map_data(encoder, gallery, text_lines(texts), model_name=self.model_name(model))
        proj = project_map(data, method or "umap", int(dims))
        gap = data.gap()
        notices = [*self.gallery_notices(encoder, gallery),
                   *free_text([n for n in data.notices if n not in gallery.notices]), *free_text(proj.notices)]
        summary = {"method": proj.method, "dims": proj.dims, "images": data.n_images, "texts": len(data.texts),
                   "model": self.result_model(model), "modality_gap": gap.as_dict() if gap else None,
                   "notices": [n.message for n in notices]}
        return EmbeddingMap(records(data, proj), summary, notices)

    def map_data(self, gallery: galleries.Gallery, texts: str | Sequence[str] | None = None,
                 labels: str | Sequence[str] | None = None, captions: bool = True, label_points: bool = True,
                 model: str = "", progress=None) -> tuple[MapData, int]:
        """What the map tab draws and keeps for redraws (MapData: arrays and names; its notices include the
        pictures unlike the model's world), and how many pictures were newly encoded (the rest came from the
        model's cache)."""
        encoder = self.encoder(model)
        before = encoder.image_cache.misses
        data = build_map_data(encoder, gallery, texts, labels, captions=captions, label_points=label_points,
                              model_name=self.model_name(model), progress=progress)
        world = [] if gallery.source == "toy" else self.world_notices(encoder, gallery.images, gallery.names)
        data.notices = [*world, *data.notices]
        return data, encoder.image_cache.misses - before

    def map_gallery(self, source: str, files: Sequence[ImageSource] | None = None,
                    language: str = "en") -> galleries.Gallery:
        """The map tab's galleries: "toy" (captions in `language`), "photos" (the bundled ones) or "upload"."""
        if source == "photos":
            return galleries.photo_gallery()
        if source == "upload":
            if not files:
                raise InputError(code="no_gallery_files")
            return galleries.user_gallery(files)
        return galleries.toy_gallery(language=language)

    def project(self, data: MapData, method: str = "umap", dims: int = 2, n_neighbors: int = 15,
                min_dist: float = 0.1) -> Projection:
        """A drawn map's coordinates (recent projections come back from the small cache, no refit)."""
        return project_map(data, method or "umap", int(dims), n_neighbors, min_dist)

    def map_neighbours(self, data: MapData, point: int, k: int = DEFAULT_K) -> MapNeighbours:
        """A clicked point of a drawn map: an image's nearest texts, or a text's nearest images (as hits)."""
        if 0 <= point < data.n_images:
            near = rank(data.image_emb[point], data.text_emb, 3) if len(data.texts) else []
            return MapNeighbours("image", point, [(data.texts[j], s) for j, s in near], [])
        j = point - data.n_images
        if not 0 <= j < len(data.texts):
            raise InputError(code="no_such_point", point=point)
        ranked = rank(data.text_emb[j], data.image_emb, int(k))
        hits = [Hit(r + 1, idx, data.gallery.names[idx], s, data.gallery.captions[idx])
                for r, (idx, s) in enumerate(ranked)]
        return MapNeighbours("text", j, [], hits)

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
        `collection`: exact search over every vector of a launch-time collection instead (clipdemo.data.collection)."""
        if collection:
            return self._collection_search(query, collection, k, model, query_image)
        encoder = self.encoder(model)
        gal = self._gallery(images)
        emb, k = encoder.encode_images(gal.images), max(1, min(int(k), len(gal)))
        notices = self.gallery_notices(encoder, gal)
        if query_image is not None:
            picture = load_image(query_image)
            asked = image_name(query_image, 0)
            hits = search_image(encoder, picture, emb, gal.names, gal.captions, k=k)
            notices = [*self.world_notices(encoder, [picture], [asked]), *notices]
        else:
            hits = search_text(encoder, query, emb, gal.names, gal.captions, k=k)
            asked = " ".join((query or "").split())
        return SearchResults(asked, [h.as_dict() for h in hits], self.result_model(model), notices)

    # collections (python app.py --collection DIR): only folders given at launch, by folder name
    def _collection_map(self, collection: str) -> EmbeddingMap:
        # needed by this operation only: the service module loads fast for the CLI
        from clipdemo.data.collection import service as collections

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
        # needed by this operation only: the service module loads fast for the CLI
        from clipdemo.data.collection import service as collection_service

        return collection_service.collection_search(collection, self.encoder(model), query=query,
                                                    image=image, k=int(k), collections=collections)

    def _collection_search(self, query: str, collection: str, k: int, model: str,
                           query_image: ImageSource | None = None) -> SearchResults:
        image = load_image(query_image) if query_image is not None else None
        r = self.collection_hits(collection, query, image, k, model)
        results = [{"rank": h["rank"], "name": h["image_path"], "score": h["score"], "caption": h["caption"],
                    "index": h["index"]} for h in r["hits"]]
        asked = image_name(query_image, 0) if query_image is not None else r["query"]
        notices = free_text(r["notices"])
        if image is not None:
            notices = [*self.world_notices(self.encoder(model), [image], [asked]), *notices]
        return SearchResults(asked, results, self.result_model(model), notices)

    def embed(self, images: Sequence[ImageSource] | None = None, texts: str | Sequence[str] | None = None,
              model: str = "") -> Embeddings:
        """L2-normalised embeddings of images and texts in the model's joint space."""
        encoder = self.encoder(model)
        got = load_images(images or [], limits.MAX_GALLERY_IMAGES)
        loaded, names, problems, notices = got.images, got.names, got.problems, list(got.notices)
        lines = text_lines(texts)
        if len(lines) > limits.MAX_EMBED_TEXTS:
            problems.append(f"{len(lines)} texts given; only the first {limits.MAX_EMBED_TEXTS} are used")
            notices.append(Notice("texts_dropped", {"given": len(lines), "limit": limits.MAX_EMBED_TEXTS}, "warning"))
            lines = lines[:limits.MAX_EMBED_TEXTS]
        notices = [*self.world_notices(encoder, loaded, names), *notices, *text_notices(lines)]
        if not loaded and not lines:
            raise InputError(code="nothing_to_embed")
        img = encoder.encode_images(loaded) if loaded else np.zeros((0, encoder.dim))
        txt = encoder.encode_texts(lines) if lines else np.zeros((0, encoder.dim))
        return Embeddings(self.result_model(model), encoder.dim,
                          [{"name": n, "vector": [_r(v) for v in e]} for n, e in zip(names, img, strict=True)],
                          [{"text": t, "vector": [_r(v) for v in e]} for t, e in zip(lines, txt, strict=True)],
                          problems, notices)

    # ------------------------------------------------------------ video
    def video_search(self, video: str | os.PathLike, query: str | Sequence[str] = "",
                     query_image: ImageSource | None = None, fps: float = 2.0, model: str = "") -> VideoSearch:
        """Find the moments of a video that match a query: frames sampled `fps` times a second (bounded by
        clipdemo.core.limits), each scored by cosine against each query (one line of `query` each, and/or a picture)."""
        lines = text_lines(query)
        notices = []
        if len(lines) + (query_image is not None) > limits.MAX_VIDEO_QUERIES:
            notices.append(f"{len(lines)} queries given; only the first {limits.MAX_VIDEO_QUERIES} are used")
            lines = lines[:limits.MAX_VIDEO_QUERIES - (query_image is not None)]
        lines, cut = limits.clean_texts(lines)
        if not lines and query_image is None:
            raise InputError("Type what to look for (e.g. 'a red circle'; one query per line), or give a picture.")
        picture = [load_image(query_image, name=image_name(query_image))] if query_image is not None else []
        encoder = self.encoder(model)
        sample = sample_frames(video, fps)
        timeline = search_video(encoder, sample, lines, picture, [image_name(query_image)] if picture else [])
        moments = [{"query": m.query, "start": _r(m.start), "end": _r(m.end), "score": _r(m.score),
                    "peak_time": _r(m.peak_time)} for m in timeline.moments]
        return VideoSearch(Path(video).name, timeline.queries, timeline.times, _rows(timeline.scores),
                           [_r(b) for b in timeline.baseline], timeline.times[timeline.best_frame], moments,
                           _r(sample.duration), _r(sample.fps), self.result_model(model),
                           free_text(notices + cut + sample.notices), [sample.frames[m.peak_frame] for m in timeline.moments])

    # ------------------------------------------------------------ the paper's follow-ups (clipdemo.serve.studies)
    def few_shot(self, images: Sequence[ImageSource] | None = None, labels: str | Sequence[str] = "",
                 shots: str | Sequence[int] = "1,2,4,8,16", seeds: int = 5, templates: str | Sequence[str] = "single",
                 model: str = "") -> studies.FewShot:
        """A logistic-regression probe on k labelled pictures per class against the zero-shot prompts, on
        held-out pictures: accuracy per k (mean and spread over seeds), zero-shot, chance, and the k the
        prompt is worth. No images: the toy world (labels: colours, shapes or both; default the 8 shapes);
        images: a zip with a folder per class, or pictures with a CSV of path,label."""
        return studies.few_shot(self, images, labels, shots, seeds, templates, model)

    def compare_models(self, image: ImageSource, labels: str | Sequence[str], templates: str | Sequence[str] = "single",
                       model_a: str = "", model_b: str = "") -> studies.ModelComparison:
        """One picture and one label set through two models, each scored its own way (softmax or sigmoid)."""
        return studies.compare_models(self, image, labels, templates, model_a, model_b)

    def compare_matrices(self, images: Sequence[ImageSource], texts: str | Sequence[str], model_a: str = "",
                         model_b: str = "", names: Sequence[str] | None = None) -> studies.MatrixComparison:
        """The image x text similarity matrix of two models, and how often their best text per image agrees."""
        return studies.compare_matrices(self, images, texts, model_a, model_b, names)

    def token_attribution(self, image: ImageSource, text: str, model: str = "") -> studies.TokenAttribution:
        """Which words of `text` carry its match with the image: gradient x input per token and word, and the
        cosine drop when each word is left out."""
        return studies.token_attribution(self, image, text, model, image_name(image))
