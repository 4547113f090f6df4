"""Zero-shot vs. few-shot: how many labelled pictures per class a prompt is worth (the CLIP paper's linear probes).

A logistic-regression probe (scikit-learn) is fitted on the image embeddings of k labelled pictures per
class, for several k and several random splits (seeds), and tested on held-out pictures; the zero-shot
classifier (each class's prompt embedding) is tested on the same held-out pictures. Where the probe's
curve crosses the zero-shot line is what the prompt is worth: "≈ N labelled pictures per class". The
paper's figure of ~4 is an average over its datasets; here it is measured on whatever data is given.

Pictures come from the toy world (classes named by a colour, a shape or both; rendered on demand) or from
the visitor (one class per folder of a zip, or a CSV of path,label: clipdemo.data.gallery's reader).
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression

from clipdemo.core import limits, toyworld
from clipdemo.core.cache import LRUCache
from clipdemo.core.encoding import Encoder
from clipdemo.core.errors import InputError
from clipdemo.core.zeroshot import class_embeddings, resolve_templates

DEFAULT_SHOTS = (1, 2, 4, 8, 16)
DEFAULT_TOY_LABELS = tuple(toyworld.SHAPES)  # eight shapes in any colour: the probe must learn shape
TOY_TEST_PER_CLASS = 20  # held-out toy pictures per class and seed
PROBE_C = 10.0  # inverse L2 strength: unit-length features are small, C=1 under-fits one shot per class
TOY_RENDER_PX = 96  # what the toy gallery renders at; every toy-trained model sees less


@dataclass
class LabelledSet:
    """Pictures with one class each; `classes` in the order the curve and the prompts use."""

    images: list[Image.Image]
    labels: list[str]
    classes: list[str]
    source: str  # toy | upload
    notices: list[str] = field(default_factory=list)


@dataclass
class FewShotCurve:
    shots: list[int]  # k, labelled pictures per class
    accuracy: list[float]  # held-out accuracy of the probe, mean over seeds, per k
    accuracy_std: list[float]  # its spread over seeds
    per_seed: list[list[float]]  # [k][seed]
    zero_shot_accuracy: float  # the prompts, on the same held-out pictures (mean over seeds)
    zero_shot_std: float
    chance: float  # 1 / classes
    equivalent_shots: float | None  # k where the probe's curve reaches zero-shot (None: not within the shots)
    classes: list[str]
    test_per_class: int
    seeds: int
    templates: list[str]
    notices: list[str] = field(default_factory=list)


def parse_shots(text: str | Sequence[int]) -> list[int]:
    """"1,2,4,8,16" -> [1, 2, 4, 8, 16]: distinct, ascending, each in 1..FEW_SHOT_MAX_SHOTS."""
    parts = text.replace(";", ",").split(",") if isinstance(text, str) else list(text)
    try:
        shots = sorted({int(str(p).strip()) for p in parts if str(p).strip()})
    except ValueError as e:
        raise InputError(f"shots must be whole numbers separated by commas, like 1,2,4,8,16 (got {text!r})") from e
    if not shots:
        return list(DEFAULT_SHOTS)
    if shots[0] < 1 or shots[-1] > limits.FEW_SHOT_MAX_SHOTS:
        raise InputError(f"each shot count must be between 1 and {limits.FEW_SHOT_MAX_SHOTS} (got {text!r})")
    return shots[:limits.FEW_SHOT_MAX_POINTS]


# ---------------------------------------------------------------- the pictures


def toy_class(label: str) -> tuple[str | None, str | None]:
    """(colour, shape) a toy label asks for: "circle" -> any colour, "red" -> any shape, "red circle" -> both."""
    words = label.lower().replace("-", " ").split()
    colour = next((w for w in words if w in toyworld.COLOURS), None)
    shape = next((w for w in words if w in toyworld.SHAPES or w.rstrip("s") in toyworld.SHAPES), None)
    if shape is not None and shape not in toyworld.SHAPES:
        shape = shape.rstrip("s")
    if (colour is None and shape is None) or len(words) > 2:
        raise InputError(f"the toy world has no pictures of {label!r}: name a colour ({', '.join(toyworld.COLOURS)}),"
                         f" a shape ({', '.join(toyworld.SHAPES)}) or both, like 'red circle'")
    return colour, shape


_TOY_SETS = LRUCache(4)  # (labels, per_class, seed, size) -> LabelledSet: a class reruns the same defaults


def toy_set(labels: Sequence[str], per_class: int, seed: int = 0, size: int = TOY_RENDER_PX) -> LabelledSet:
    """`per_class` single-object toy pictures for each label (a colour, a shape, or a colour and a shape);
    the same request again gets the same pictures without drawing them (and the encoder's cache embeds none)."""
    key = (tuple(labels), per_class, seed, size)
    found = _TOY_SETS.get(key)
    if found is None:
        found = _draw_toy_set(labels, per_class, seed, size)
        _TOY_SETS.put(key, found)
    return LabelledSet(list(found.images), list(found.labels), list(found.classes), found.source)


def _draw_toy_set(labels: Sequence[str], per_class: int, seed: int, size: int) -> LabelledSet:
    wanted = [toy_class(lab) for lab in labels]
    if len(set(wanted)) < len(wanted):
        raise InputError("two labels ask for the same toy pictures; give different colours or shapes")
    overlap = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:]
               if _overlaps(toy_class(a), toy_class(b))]
    if overlap:
        a, b = overlap[0]
        raise InputError(f"{a!r} and {b!r} overlap (a picture could be both); use only colours, only shapes, "
                         "or colour-shape pairs")
    rng = random.Random(seed)
    images, names = [], []
    for label, (colour, shape) in zip(labels, wanted, strict=True):
        combos = [(c, s) for c, s in toyworld.allowed_combos("all")
                  if colour in (None, c) and shape in (None, s)]
        for _ in range(per_class):
            limits.check_time()
            scene = toyworld.sample_scene(rng, kind="single", combos=combos)
            images.append(toyworld.render(scene, size))
            names.append(label)
    return LabelledSet(images, names, list(labels), "toy")


def _overlaps(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


def from_gallery(images: Sequence[Image.Image], groups: Sequence[str], notices: Sequence[str] = ()) -> LabelledSet:
    """The visitor's pictures with their class (a zip's folder or the CSV's label): classes with at least
    two pictures (one to learn from, one to test on) are kept."""
    counts: dict[str, int] = {}
    for g in groups:
        counts[g] = counts.get(g, 0) + 1
    keep = [c for c in counts if counts[c] >= 2]
    out = list(notices)
    dropped = [c for c in counts if counts[c] < 2]
    if dropped:
        out.append(f"{len(dropped)} class(es) with a single picture left out: " + ", ".join(dropped[:5]))
    if len(keep) < 2:
        raise InputError("few-shot needs at least two classes with two or more pictures each: a zip with one "
                         "folder per class, or a CSV of path,label beside the pictures")
    if len(keep) > limits.FEW_SHOT_MAX_CLASSES:
        out.append(f"{len(keep)} classes given; the first {limits.FEW_SHOT_MAX_CLASSES} are used")
        keep = keep[:limits.FEW_SHOT_MAX_CLASSES]
    chosen = set(keep)
    pairs = [(im, g) for im, g in zip(images, groups, strict=True) if g in chosen]
    return LabelledSet([im for im, _ in pairs], [g for _, g in pairs], keep, "upload", out)


# ---------------------------------------------------------------- the experiment


def _splits(y: np.ndarray, n_classes: int, test_per_class: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Per class, a random order: the first `test_per_class` are held out, the rest may be learned from."""
    rng = np.random.default_rng(seed)
    pools, test = [], []
    for c in range(n_classes):
        idx = rng.permutation(np.flatnonzero(y == c))
        test.append(idx[:test_per_class])
        pools.append(idx[test_per_class:])
    return pools, np.concatenate(test)


def probe_accuracy(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    """Fit the logistic-regression probe on `train`, its accuracy on `test`."""
    clf = LogisticRegression(C=PROBE_C, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a tiny, separable training set converges slowly; the answer is fine
        clf.fit(x[train], y[train])
    return float((clf.predict(x[test]) == y[test]).mean())


def equivalent_shots(shots: Sequence[int], accuracy: Sequence[float], zero_shot: float) -> float | None:
    """The k (interpolated on a log scale between measured points) where the probe's curve first reaches the
    zero-shot accuracy; the first k when the curve starts at or above it (the prompt is worth at most that);
    None when no measured k reaches it (worth more than the last)."""
    if accuracy[0] >= zero_shot:
        return float(shots[0])
    for (k0, a0), (k1, a1) in zip(zip(shots, accuracy), zip(shots[1:], accuracy[1:])):
        if a0 < zero_shot <= a1:
            t = (zero_shot - a0) / (a1 - a0)
            return float(2 ** (math.log2(k0) + t * (math.log2(k1) - math.log2(k0))))
    return None


def few_shot_curve(encoder: Encoder, data: LabelledSet, shots: Sequence[int], seeds: int,
                   templates: str | Sequence[str] = "single", test_per_class: int | None = None) -> FewShotCurve:
    """Probe accuracy against k, with zero-shot and chance, over `seeds` random splits of `data`."""
    notices = list(data.notices)
    y = np.array([data.classes.index(lab) for lab in data.labels])
    counts = np.bincount(y, minlength=len(data.classes))
    if test_per_class is None:  # the visitor's pictures: half of the smallest class is held out
        test_per_class = max(1, int(counts.min()) // 2)
    room = int(counts.min()) - test_per_class  # pictures left to learn from in the smallest class
    usable = [k for k in shots if k <= room]
    if not usable:
        raise InputError(f"the smallest class has {int(counts.min())} pictures: {test_per_class} are held out for "
                         f"testing, which leaves {room} to learn from; ask for fewer shots or add pictures")
    if len(usable) < len(shots):
        notices.append(f"shots above {room} left out: the smallest class has {int(counts.min())} pictures and "
                       f"{test_per_class} of each class are held out for testing")
    tmpl = resolve_templates(templates or "single")
    x = encoder.encode_images(data.images).astype(np.float64)
    text = class_embeddings(encoder, data.classes, tmpl)
    zero_pred = (x @ text.T).argmax(axis=1)
    per_seed = [[0.0] * seeds for _ in usable]
    zero = []
    for s in range(seeds):
        pools, test = _splits(y, len(data.classes), test_per_class, s)
        zero.append(float((zero_pred[test] == y[test]).mean()))
        for i, k in enumerate(usable):
            limits.check_time()
            train = np.concatenate([p[:k] for p in pools])
            per_seed[i][s] = probe_accuracy(x, y, train, test)
    acc = [float(np.mean(v)) for v in per_seed]
    zs = float(np.mean(zero))
    eq = equivalent_shots(usable, acc, zs)
    return FewShotCurve(usable, acc, [float(np.std(v)) for v in per_seed], per_seed, zs, float(np.std(zero)),
                        1.0 / len(data.classes), eq, list(data.classes), test_per_class, seeds, tmpl, notices)
