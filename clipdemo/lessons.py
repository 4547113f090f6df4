"""One-click experiments for a class: each runs the active model on toy-world pictures and returns
its actual outputs as plain numbers (nothing is scripted; a different model gives other answers).

- template_comparison: bare label vs "a photo of a {}." vs the 80-template ensemble, same images
- temperature_lesson: one image's cosines turned into probabilities at several temperatures
- modality_gap: images and captions form two separate clouds in the joint space
- compositional: colour-shape pairs never seen in training vs seen pairs (compositional zero-shot)
- counting_probe, left_right_probe: the limits CLIP is known for, tried on toy scenes
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from clipdemo import toyworld
from clipdemo.encoding import Encoder
from clipdemo.live_data import shifted_pairs
from clipdemo.projection import pca
from clipdemo.templates import DEFAULT_TEMPLATE, PROBE_TEMPLATE, TEMPLATE_SETS
from clipdemo.zeroshot import class_embeddings

LESSON_TEMPLATE_SETS = {k: TEMPLATE_SETS[k] for k in ("bare", "single", "imagenet80")}  # the lesson's three


def _image_size(encoder: Encoder) -> int:
    # Render at the model's own input size: what the bundled model was trained on, no resampling.
    return max(32, int(encoder.loaded.image_size))


def _render(scene: toyworld.Scene, size: int) -> Image.Image:
    return toyworld.render(scene, size)


def _pair_name(pair: tuple[str, str]) -> str:
    return f"{pair[0]} {pair[1]}"


@dataclass
class ProbeItem:
    """One picture put to the model: the options it chose from, its probabilities, the truth."""

    image: Image.Image
    options: list[str]
    probs: list[float]
    truth: int
    group: str = ""

    @property
    def answer(self) -> int:
        return int(np.argmax(self.probs))

    @property
    def correct(self) -> bool:
        return self.answer == self.truth


@dataclass
class Probe:
    name: str
    items: list[ProbeItem]
    model: str
    notes: dict = field(default_factory=dict)

    def accuracy(self, group: str | None = None) -> float:
        sel = [it for it in self.items if group is None or it.group == group]
        return float(np.mean([it.correct for it in sel])) if sel else float("nan")

    def chance(self, group: str | None = None) -> float:
        sel = [it for it in self.items if group is None or it.group == group]
        return float(np.mean([1 / len(it.options) for it in sel])) if sel else float("nan")

    def groups(self) -> list[str]:
        return list(dict.fromkeys(it.group for it in self.items))


def _ask(encoder: Encoder, images: list[Image.Image], options: list[list[str]], truths: list[int],
         groups: list[str], template: str = PROBE_TEMPLATE) -> list[ProbeItem]:
    """Each image picks among its own options (softmax over them at the model's temperature)."""
    img = encoder.encode_images(images)
    unique = list(dict.fromkeys(template.format(o) for opts in options for o in opts))
    row = {text: k for k, text in enumerate(unique)}
    text = encoder.encode_texts(unique)  # one batch for all options
    items = []
    for i, (opts, truth, group) in enumerate(zip(options, truths, groups, strict=True)):
        cos = img[i] @ text[[row[template.format(o)] for o in opts]].T
        probs = encoder.probabilities(cos[None, :], axis=1)[0]
        items.append(ProbeItem(images[i], list(opts), [float(p) for p in probs], truth, group))
    return items


# ---------------------------------------------------------------- prompt templates


@dataclass
class TemplateComparison:
    images: list[Image.Image]
    truth: list[str]
    labels: list[str]
    predictions: dict[str, list[str]]  # template set -> one label per image
    confidence: dict[str, list[float]]  # template set -> probability of that label
    true_prob: dict[str, list[float]]  # template set -> probability of the right label
    accuracy: dict[str, float]
    n_prompts: dict[str, int]
    model: str


def template_comparison(encoder: Encoder, n_images: int = 8, seed: int = 0) -> TemplateComparison:
    """The same pictures and labels, three ways of phrasing the labels. The labels are the pictures' own
    pairs plus as many look-alikes (each picture's colour with the next picture's shape), so that
    naming the colour alone is not enough."""
    rng = random.Random(seed)
    pairs = rng.sample(toyworld.allowed_combos("train"), n_images)
    size = _image_size(encoder)
    images = [_render(toyworld.sample_scene(rng, "single", [p]), size) for p in pairs]
    truth = [_pair_name(p) for p in pairs]
    decoys = [_pair_name((c, pairs[(i + 1) % n_images][1])) for i, (c, _) in enumerate(pairs)]
    labels = list(dict.fromkeys(truth + decoys))
    img = encoder.encode_images(images)
    preds, conf, true_p, acc, n_prompts = {}, {}, {}, {}, {}
    for name, templates in LESSON_TEMPLATE_SETS.items():
        probs = encoder.probabilities(img @ class_embeddings(encoder, labels, templates).T, axis=1)
        best = probs.argmax(axis=1)
        preds[name] = [labels[j] for j in best]
        conf[name] = [float(probs[i, j]) for i, j in enumerate(best)]
        true_p[name] = [float(probs[i, labels.index(t)]) for i, t in enumerate(truth)]
        acc[name] = float(np.mean([p == t for p, t in zip(preds[name], truth, strict=True)]))
        n_prompts[name] = len(labels) * len(templates)
    return TemplateComparison(images, truth, labels, preds, conf, true_p, acc, n_prompts, encoder.loaded.name)


# ---------------------------------------------------------------- temperature


@dataclass
class TemperatureLesson:
    image: Image.Image
    labels: list[str]
    truth: int
    cosine: list[float]
    temperatures: list[float]
    probs: list[list[float]]  # one row per temperature
    model_temperature: float
    model: str


def temperature_lesson(encoder: Encoder, temperatures: tuple[float, ...] = (1.0, 10.0, 100.0),
                       seed: int = 3) -> TemperatureLesson:
    """Cosines are close together; multiplied by the temperature, the softmax makes them decisive."""
    rng = random.Random(seed)
    pair = rng.choice(toyworld.allowed_combos("train"))
    image = _render(toyworld.sample_scene(rng, "single", [pair]), _image_size(encoder))
    c, s = pair
    others = [p for p in toyworld.allowed_combos("train") if p != pair and (p[0] == c or p[1] == s)]
    pairs = [pair, *rng.sample(others, 5)]
    rng.shuffle(pairs)
    labels = [_pair_name(p) for p in pairs]
    cosine = encoder.encode_images([image])[0] @ class_embeddings(encoder, labels, [DEFAULT_TEMPLATE]).T
    own = encoder.loaded.logit_scale
    temps = sorted({*temperatures, round(own, 2)})
    probs = [encoder.probabilities(cosine, temperature=t).tolist() for t in temps]  # SigLIP: its sigmoid
    return TemperatureLesson(image, labels, pairs.index(pair), cosine.tolist(), temps, probs, own,
                             encoder.loaded.name)


# ---------------------------------------------------------------- modality gap


@dataclass
class ModalityGap:
    images: list[Image.Image]
    captions: list[str]
    image_xy: list[list[float]]  # 2-D PCA of both clouds together
    text_xy: list[list[float]]
    centroid_distance: float  # |mean image - mean text| (unit vectors: 0 = no gap, 2 = opposite)
    cos_image_image: float  # mean over different images
    cos_text_text: float
    cos_matched: float  # an image with its own caption
    cos_mismatched: float  # an image with another picture's caption
    retrieval: float  # image -> caption top-1 among these captions
    model: str


def modality_gap(encoder: Encoder, n: int = 24, seed: int = 5) -> ModalityGap:
    rng = random.Random(seed)
    size = _image_size(encoder)
    scenes = [toyworld.sample_scene(rng) for _ in range(n)]
    images = [_render(s, size) for s in scenes]
    captions = [toyworld.full_caption(s) for s in scenes]
    img, txt = encoder.encode_images(images), encoder.encode_texts(captions)
    off = ~np.eye(n, dtype=bool)
    cross = img @ txt.T
    xy = pca(np.concatenate([img, txt]), 2)  # the same PCA as the Map tab's
    return ModalityGap(
        images, captions, xy[:n].round(4).tolist(), xy[n:].round(4).tolist(),
        float(np.linalg.norm(img.mean(0) - txt.mean(0))), float((img @ img.T)[off].mean()),
        float((txt @ txt.T)[off].mean()), float(np.diag(cross).mean()), float(cross[off].mean()),
        float(np.mean(cross.argmax(axis=1) == np.arange(n))), encoder.loaded.name)


# ---------------------------------------------------------------- compositional zero-shot


def compositional(encoder: Encoder, per_pair: int = 2, seed: int = 11) -> Probe:
    """Pictures of the 8 held-out colour-shape pairs and of 8 seen pairs; each picks among all 64 pairs."""
    rng = random.Random(seed)
    heldout = toyworld.allowed_combos("heldout")
    # each colour and shape once, like HELD_OUT, but all seen in training
    seen = [p for p in shifted_pairs(2) if p not in toyworld.HELD_OUT]
    options = [_pair_name(p) for p in toyworld.allowed_combos("all")]
    size = _image_size(encoder)
    images, truths, groups = [], [], []
    for group, pairs in (("heldout", heldout), ("seen", seen)):
        for p in pairs:
            for _ in range(per_pair):
                images.append(_render(toyworld.sample_scene(rng, "single", [p]), size))
                truths.append(options.index(_pair_name(p)))
                groups.append(group)
    items = _ask(encoder, images, [options] * len(images), truths, groups, "a photo of a {}.")
    probe = Probe("compositional", items, encoder.loaded.name)
    for group in probe.groups():  # which half of the answer was right: colour, shape, both
        sel = [it for it in items if it.group == group]
        probe.notes[f"{group}_colour"] = float(np.mean([it.options[it.answer].split()[0] ==
                                                        it.options[it.truth].split()[0] for it in sel]))
        probe.notes[f"{group}_shape"] = float(np.mean([it.options[it.answer].split()[1] ==
                                                       it.options[it.truth].split()[1] for it in sel]))
    return probe


# ---------------------------------------------------------------- limits: counting, left/right


def counting_probe(encoder: Encoder, per_count: int = 4, seed: int = 13) -> Probe:
    """1, 2 or 3 identical objects; the model picks 'one/two/three <colour> <shape>s'."""
    rng = random.Random(seed)
    size = _image_size(encoder)
    images, options, truths, groups = [], [], [], []
    for n in (1, 2, 3):
        for _ in range(per_count):
            scene = toyworld.sample_scene(rng, "count", n_objects=n)
            o = scene.objects[0]
            opts = [f"{toyworld.COUNT_WORDS[k]} {o.colour} {o.shape if k == 1 else toyworld.plural(o.shape)}"
                    for k in (1, 2, 3)]
            images.append(_render(scene, size))
            options.append(opts)
            truths.append(n - 1)
            groups.append(str(n))
    return Probe("counting", _ask(encoder, images, options, truths, groups), encoder.loaded.name)


def _two_apart(rng: random.Random, tries: int = 200) -> toyworld.Scene:
    """Two different objects, clearly one left of the other."""
    for _ in range(tries):
        scene = toyworld.sample_scene(rng, "mixed", n_objects=2)
        a, b = scene.objects
        if b.x - a.x > 0.3 and (a.colour, a.shape) != (b.colour, b.shape):
            return scene
    raise RuntimeError("could not draw a two-object scene")


def _one_aside(rng: random.Random, tries: int = 200) -> toyworld.Scene:
    for _ in range(tries):
        scene = toyworld.sample_scene(rng, "single")
        if scene.objects[0].position != "center":
            return scene
    raise RuntimeError("could not draw an off-centre scene")


def left_right_probe(encoder: Encoder, per_kind: int = 8, seed: int = 17) -> Probe:
    """Three ways to ask where things are; each offers the true sentence and its mirror image.

    single: 'a red circle on the left' vs '... on the right' (a phrasing the toy model was trained on)
    order: 'a red circle and a blue square' vs the reverse (toy captions name objects left to right)
    relation: 'a red circle to the left of a blue square' vs '... to the right of ...' (never trained on)
    """
    rng = random.Random(seed)
    size = _image_size(encoder)
    images, options, truths, groups = [], [], [], []

    def add(scene, opts, group):
        flip = rng.random() < 0.5  # the right answer is not always first
        images.append(_render(scene, size))
        options.append(opts[::-1] if flip else opts)
        truths.append(1 if flip else 0)
        groups.append(group)

    for _ in range(per_kind):
        scene = _one_aside(rng)
        o = scene.objects[0]
        other = "right" if o.position == "left" else "left"
        add(scene, [f"a {o.colour} {o.shape} on the {o.position}", f"a {o.colour} {o.shape} on the {other}"],
            "single")
    for _ in range(per_kind):
        scene = _two_apart(rng)
        a, b = (f"{o.colour} {o.shape}" for o in scene.objects)
        add(scene, [f"a {a} and a {b}", f"a {b} and a {a}"], "order")
    for _ in range(per_kind):
        scene = _two_apart(rng)
        a, b = (f"{o.colour} {o.shape}" for o in scene.objects)
        add(scene, [f"a {a} to the left of a {b}", f"a {a} to the right of a {b}"], "relation")
    return Probe("left_right", _ask(encoder, images, options, truths, groups), encoder.loaded.name)
