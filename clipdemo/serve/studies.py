"""The CLIP paper's follow-up questions as service operations: how many labelled pictures a prompt is worth
(few-shot probe vs. zero-shot), two models side by side, and which words of a text carry its match.

`ClipService` publishes these as its methods `few_shot`, `compare_models`, `compare_matrices` and
`token_attribution`; each takes the service (for its models and its other operations) and returns a typed
result whose `to_json()` is what the API sends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from clipdemo.core import limits
from clipdemo.core.attribution import token_attribution as engine_token_attribution
from clipdemo.core.errors import InputError
from clipdemo.core.images import load_image
from clipdemo.core.notices import Notice, free_text
from clipdemo.core.zeroshot import parse_labels
from clipdemo.data import gallery as galleries
from clipdemo.teach import fewshot


class ClipService(Protocol):
    """What these operations use of clipdemo.serve.service.ClipService (which calls in here: no import back)."""

    def encoder(self, model: str | None = ""): ...
    def model_name(self, model: str | None = "") -> str: ...
    def zero_shot(self, image, labels, templates="single", model: str = ""): ...
    def similarity_matrix(self, images, texts, model: str = "", names=None): ...

DIGITS = 6


def _notices(found) -> list[Notice]:
    """Notices once each (the same warning from both models is said once), all as structured Notices."""
    unique = {str(n): n for n in found}
    return free_text(unique.values())


def _r(x: float) -> float:
    return round(float(x), DIGITS)


@dataclass
class StudyResult:
    def to_json(self) -> dict:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------- few-shot vs zero-shot


@dataclass
class FewShot(StudyResult):
    shots: list[int]  # k, labelled pictures per class
    accuracy: list[float]  # probe accuracy on held-out pictures, mean over seeds, per k
    accuracy_std: list[float]  # spread over seeds
    zero_shot_accuracy: float  # the prompts on the same held-out pictures
    chance: float  # 1 / classes
    equivalent_shots: float | None  # k where the probe reaches zero-shot; None: beyond the largest k
    notices: list[Notice] = field(default_factory=list)
    zero_shot_std: float = 0.0
    classes: list[str] = field(default_factory=list)
    per_seed: list[list[float]] = field(default_factory=list)  # [k][seed]
    test_per_class: int = 0
    seeds: int = 0
    templates: list[str] = field(default_factory=list)
    source: str = "toy"  # toy | upload
    model: str = ""

    def rows(self) -> list[dict]:
        """One record per k (an export's table)."""
        return [{"shots": k, "accuracy": a, "accuracy_std": s, "zero_shot_accuracy": self.zero_shot_accuracy,
                 "chance": self.chance} for k, a, s in zip(self.shots, self.accuracy, self.accuracy_std, strict=True)]


def few_shot(service: ClipService, images=None, labels: str | Sequence[str] = "", shots: str | Sequence[int] = "1,2,4,8,16",
             seeds: int = 5, templates: str | Sequence[str] = "single", model: str = "") -> FewShot:
    shot_list = fewshot.parse_shots(shots if shots not in (None, "") else "1,2,4,8,16")
    seeds = int(seeds or 5)
    if not 1 <= seeds <= limits.FEW_SHOT_MAX_SEEDS:
        raise InputError(f"seeds must be between 1 and {limits.FEW_SHOT_MAX_SEEDS} (got {seeds})")
    encoder = service.encoder(model)
    notices: list[str] = []
    if images:
        gal = galleries.user_gallery(images)
        data = fewshot.from_gallery(gal.images, gal.groups, gal.notices)
        if labels and (labels.strip() if isinstance(labels, str) else labels):
            notices.append("labels are ignored with your own pictures: the classes are their folders (or the "
                           "CSV's labels), and each class's name is its prompt")
        test_per_class = None
    else:
        names = parse_labels(labels).labels if labels and (not isinstance(labels, str) or labels.strip()) \
            else list(fewshot.DEFAULT_TOY_LABELS)
        if len(names) < 2:
            raise InputError("few-shot needs at least two labels (classes)")
        if len(names) > limits.FEW_SHOT_MAX_CLASSES:
            raise InputError(f"{len(names)} labels given; few-shot takes at most {limits.FEW_SHOT_MAX_CLASSES}")
        test_per_class = fewshot.TOY_TEST_PER_CLASS
        data = fewshot.toy_set(names, shot_list[-1] + test_per_class, seed=0)
    curve = fewshot.few_shot_curve(encoder, data, shot_list, seeds, templates or "single", test_per_class)
    return FewShot(curve.shots, [_r(a) for a in curve.accuracy], [_r(s) for s in curve.accuracy_std],
                   _r(curve.zero_shot_accuracy), _r(curve.chance),
                   None if curve.equivalent_shots is None else _r(curve.equivalent_shots),
                   _notices(notices + curve.notices), _r(curve.zero_shot_std), curve.classes,
                   [[_r(v) for v in row] for row in curve.per_seed], curve.test_per_class, curve.seeds,
                   curve.templates, data.source, service.model_name(model))


# ---------------------------------------------------------------- two models side by side


@dataclass
class ModelComparison(StudyResult):
    image: str
    labels: list[str]  # in the caller's order
    model_a: str
    model_b: str
    scoring_a: str  # softmax | sigmoid: each model scored the way it was trained
    scoring_b: str
    probabilities_a: list[float]  # per label, in `labels` order
    probabilities_b: list[float]
    cosine_a: list[float]
    cosine_b: list[float]
    top_a: str
    top_b: str
    agree: bool  # the same best label
    rank_agreement: float  # Spearman correlation of the two rankings (1: same order; nan-free: 1.0 for one label)
    notices: list[Notice] = field(default_factory=list)

    def rows(self) -> list[dict]:
        return [{"label": lab, "probability_a": pa, "probability_b": pb, "cosine_a": ca, "cosine_b": cb}
                for lab, pa, pb, ca, cb in zip(self.labels, self.probabilities_a, self.probabilities_b,
                                               self.cosine_a, self.cosine_b, strict=True)]


def _ranks(values: Sequence[float]) -> np.ndarray:
    order = np.argsort(-np.asarray(values), kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) < 2:
        return 1.0
    ra, rb = _ranks(a), _ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra @ rb) / np.sqrt((ra @ ra) * (rb @ rb)))


def compare_models(service: ClipService, image, labels: str | Sequence[str], templates: str | Sequence[str] = "single",
                   model_a: str = "", model_b: str = "") -> ModelComparison:
    name_a, name_b = service.model_name(model_a), service.model_name(model_b)
    notices = []
    if name_a == name_b:
        notices.append("both sides use the same model: pick another for model_b to compare")
    a = service.zero_shot(image, labels, templates, name_a)
    b = service.zero_shot(image, labels, templates, name_b)
    order = list(parse_labels(labels).labels)
    order = [lab for lab in order if lab in a.labels]  # a long label list is cut the same way for both
    pa, ca = dict(zip(a.labels, a.probabilities)), dict(zip(a.labels, a.cosine))
    pb, cb = dict(zip(b.labels, b.probabilities)), dict(zip(b.labels, b.cosine))
    notices += [f"{name_a}: {n}" for n in a.notices] + [f"{name_b}: {n}" for n in b.notices]
    prob_a, prob_b = [pa[lab] for lab in order], [pb[lab] for lab in order]
    return ModelComparison(a.image, order, name_a, name_b, a.scoring, b.scoring, prob_a, prob_b,
                           [ca[lab] for lab in order], [cb[lab] for lab in order], a.labels[0], b.labels[0],
                           a.labels[0] == b.labels[0], _r(spearman(prob_a, prob_b)), _notices(notices))


@dataclass
class MatrixComparison(StudyResult):
    a: dict  # the service's Similarity result for model_a
    b: dict
    top1_agreement: float  # share of images whose best text is the same under both models
    notices: list[Notice] = field(default_factory=list)


def compare_matrices(service: ClipService, images, texts, model_a: str = "", model_b: str = "",
                     names: Sequence[str] | None = None) -> MatrixComparison:
    a = service.similarity_matrix(images, texts, service.model_name(model_a), names)
    b = service.similarity_matrix(images, texts, service.model_name(model_b), names)
    best_a, best_b = np.argmax(a.cosine, axis=1), np.argmax(b.cosine, axis=1)
    return MatrixComparison(a.to_json(), b.to_json(), _r(float((best_a == best_b).mean())),
                            _notices(a.notices + b.notices))


# ---------------------------------------------------------------- which words carry the match


@dataclass
class TokenAttribution(StudyResult):
    tokens: list[str]
    attribution: list[float]  # gradient × input per token
    words: list[str]
    word_attribution: list[float]  # gradient × input per word
    score: float  # cosine of the image with the whole text
    method: str  # what word_attribution is: gradient_x_input
    notices: list[Notice] = field(default_factory=list)
    word_leave_one_out: list[float] = field(default_factory=list)  # cosine drop when the word is deleted
    token_words: list[int] = field(default_factory=list)  # the word each token belongs to
    text: str = ""
    image: str = ""
    model: str = ""


def token_attribution(service: ClipService, image, text: str, model: str = "", name: str = "") -> TokenAttribution:
    r = engine_token_attribution(service.encoder(model), load_image(image), text)
    return TokenAttribution(r.tokens, [_r(v) for v in r.attribution], r.words, [_r(v) for v in r.word_attribution],
                            _r(r.score), r.method, _notices(r.notices), [_r(v) for v in r.word_leave_one_out], r.token_words,
                            r.text, name, service.model_name(model))
