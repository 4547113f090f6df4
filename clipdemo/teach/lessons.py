"""One-click experiments for a class: each runs the active model on toy-world pictures and returns
its actual outputs as plain numbers (nothing is scripted; a different model gives other answers).

- template_comparison: bare label, "a photo of a {}.", the 80-template ensemble and a counting template,
  on pictures of one object and of three
- temperature_lesson: one image's cosines turned into probabilities at several logit scales s = 1/τ
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
from clipdemo.templates import DEFAULT_TEMPLATE, PROBE_TEMPLATE, TEMPLATE_SETS, ZH_DEFAULT_TEMPLATE, ZH_TEMPLATES
from clipdemo.zeroshot import class_embeddings

# the lesson's phrasings: three of the shared sets, and one that says "three" (right on pictures of three)
LESSON_TEMPLATE_SETS = {**{k: TEMPLATE_SETS[k] for k in ("bare", "single", "imagenet80")},
                        "three": ("a photo of three {}.",)}
# The same four phrasings in Chinese (a Chinese UI runs the lessons in Chinese; the bundled model reads both)
ZH_LESSON_TEMPLATE_SETS = {"bare": TEMPLATE_SETS["bare"], "single": (ZH_DEFAULT_TEMPLATE,), "imagenet80": ZH_TEMPLATES,
                           "three": ("一张三个{}的照片。",)}
PLURAL_SETS = frozenset({"three"})  # these templates take the plural label ("red circles")
TEMPLATE_GROUPS = ("one", "three")  # pictures of one object / of three identical objects


def _image_size(encoder: Encoder) -> int:
    # Render at the model's own input size: what the bundled model was trained on, no resampling.
    return max(32, int(encoder.loaded.image_size))


def _render(scene: toyworld.Scene, size: int) -> Image.Image:
    return toyworld.render(scene, size)


def _pair_name(pair: tuple[str, str], language: str = "en") -> str:
    """"red circle" / "红色圆形"."""
    if language == "zh":
        return toyworld.zh_colour(pair[0]) + toyworld.zh_shape(pair[1])
    return f"{pair[0]} {pair[1]}"


def _single_template(language: str) -> str:
    return ZH_DEFAULT_TEMPLATE if language == "zh" else DEFAULT_TEMPLATE


@dataclass
class ProbeItem:
    """One picture put to the model: the options it chose from, its probabilities, the truth."""

    image: Image.Image
    options: list[str]
    probs: list[float]
    truth: int
    group: str = ""
    key: str = ""  # what the right answer says ("left", "right", "2", ...): balanced within each group

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

    def balance(self, group: str | None = None) -> dict[str, int]:
        """How often each kind of right answer occurs (equal counts: no answer wins by habit alone)."""
        out: dict[str, int] = {}
        for it in self.items:
            if group is None or it.group == group:
                out[it.key] = out.get(it.key, 0) + 1
        return out

    @property
    def all_right(self) -> bool:
        """Every item answered right: the experiment shows no limit on this model."""
        return bool(self.items) and all(it.correct for it in self.items)


def _ask(encoder: Encoder, images: list[Image.Image], options: list[list[str]], truths: list[int],
         groups: list[str], template: str = PROBE_TEMPLATE, keys: list[str] | None = None) -> list[ProbeItem]:
    """Each image picks among its own options (softmax over them at the model's logit scale)."""
    img = encoder.encode_images(images)
    unique = list(dict.fromkeys(template.format(o) for opts in options for o in opts))
    row = {text: k for k, text in enumerate(unique)}
    text = encoder.encode_texts(unique)  # one batch for all options
    items = []
    keys = keys or [""] * len(images)
    for i, (opts, truth, group, key) in enumerate(zip(options, truths, groups, keys, strict=True)):
        cos = img[i] @ text[[row[template.format(o)] for o in opts]].T
        probs = encoder.probabilities(cos[None, :], axis=1)[0]
        items.append(ProbeItem(images[i], list(opts), [float(p) for p in probs], truth, group, key))
    return items


# ---------------------------------------------------------------- prompt templates


@dataclass
class TemplateComparison:
    images: list[Image.Image]
    truth: list[str]
    groups: list[str]  # "one" or "three" objects in the picture, as many of each
    labels: list[str]  # all 64 colour-shape pairs
    predictions: dict[str, list[str]]  # template set -> one label per image
    confidence: dict[str, list[float]]  # template set -> probability of that label
    true_prob: dict[str, list[float]]  # template set -> probability of the right label
    accuracy: dict[str, float]  # template set -> share right over all pictures
    group_accuracy: dict[str, dict[str, float]]  # template set -> group -> share right
    n_prompts: dict[str, int]
    model: str

    @property
    def chance(self) -> float:
        return 1 / len(self.labels)

    @property
    def flat(self) -> bool:
        """Every phrasing scores the same on every group: nothing to see on this model."""
        return len({tuple(g.values()) for g in self.group_accuracy.values()}) == 1


def template_comparison(encoder: Encoder, per_group: int = 8, seed: int = 1, language: str = "en") -> TemplateComparison:
    """The same pictures named among all 64 colour-shape pairs, the labels written four ways. Half the
    pictures hold one object, half three identical ones: a template helps where it describes the picture
    ("a photo of three red circles." on three circles) and misleads where it does not."""
    rng = random.Random(seed)
    pairs = rng.sample(toyworld.allowed_combos("train"), 2 * per_group)
    size = _image_size(encoder)
    scenes = [toyworld.sample_scene(rng, "single", [p]) for p in pairs[:per_group]] + \
             [toyworld.sample_scene(rng, "count", [p], n_objects=3) for p in pairs[per_group:]]
    images = [_render(sc, size) for sc in scenes]
    groups = [TEMPLATE_GROUPS[0]] * per_group + [TEMPLATE_GROUPS[1]] * per_group
    truth = [_pair_name(p, language) for p in pairs]
    every = toyworld.allowed_combos("all")
    labels = [_pair_name(p, language) for p in every]
    # Chinese has no plural: "一张三个红色圆形的照片。"
    plural = labels if language == "zh" else [f"{c} {toyworld.plural(sh)}" for c, sh in every]
    img = encoder.encode_images(images)
    preds, conf, true_p, acc, by_group, n_prompts = {}, {}, {}, {}, {}, {}
    sets = ZH_LESSON_TEMPLATE_SETS if language == "zh" else LESSON_TEMPLATE_SETS
    for name, templates in sets.items():
        written = plural if name in PLURAL_SETS else labels
        probs = encoder.probabilities(img @ class_embeddings(encoder, written, templates).T, axis=1)
        best = probs.argmax(axis=1)
        preds[name] = [labels[j] for j in best]
        conf[name] = [float(probs[i, j]) for i, j in enumerate(best)]
        true_p[name] = [float(probs[i, labels.index(t)]) for i, t in enumerate(truth)]
        right = [p == t for p, t in zip(preds[name], truth, strict=True)]
        acc[name] = float(np.mean(right))
        by_group[name] = {g: float(np.mean([r for r, gg in zip(right, groups, strict=True) if gg == g]))
                          for g in TEMPLATE_GROUPS}
        n_prompts[name] = len(labels) * len(templates)
    return TemplateComparison(images, truth, groups, labels, preds, conf, true_p, acc, by_group, n_prompts,
                              encoder.loaded.name)


# ---------------------------------------------------------------- logit scale and temperature


@dataclass
class TemperatureLesson:
    image: Image.Image
    labels: list[str]
    truth: int
    cosine: list[float]
    scales: list[float]  # logit scales s; the temperature is tau = 1/s
    probs: list[list[float]]  # one row per logit scale
    model_scale: float
    model: str


def temperature_lesson(encoder: Encoder, scales: tuple[float, ...] = (1.0, 10.0, 100.0),
                       seed: int = 3, language: str = "en") -> TemperatureLesson:
    """Cosines are close together; multiplied by a logit scale s (divided by the temperature tau = 1/s),
    the softmax makes them decisive: the higher s (the lower tau), the sharper."""
    rng = random.Random(seed)
    pair = rng.choice(toyworld.allowed_combos("train"))
    image = _render(toyworld.sample_scene(rng, "single", [pair]), _image_size(encoder))
    c, s = pair
    others = [p for p in toyworld.allowed_combos("train") if p != pair and (p[0] == c or p[1] == s)]
    pairs = [pair, *rng.sample(others, 5)]
    rng.shuffle(pairs)
    labels = [_pair_name(p, language) for p in pairs]
    cosine = encoder.encode_images([image])[0] @ class_embeddings(encoder, labels, [_single_template(language)]).T
    own = encoder.loaded.logit_scale
    shown = sorted({*scales, round(own, 2)})
    probs = [encoder.probabilities(cosine, logit_scale=s).tolist() for s in shown]  # SigLIP: its sigmoid
    return TemperatureLesson(image, labels, pairs.index(pair), cosine.tolist(), shown, probs, round(own, 2),
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


def modality_gap(encoder: Encoder, n: int = 24, seed: int = 5, language: str = "en") -> ModalityGap:
    rng = random.Random(seed)
    size = _image_size(encoder)
    scenes = [toyworld.sample_scene(rng) for _ in range(n)]
    images = [_render(s, size) for s in scenes]
    captions = [(toyworld.zh_full_caption if language == "zh" else toyworld.full_caption)(s) for s in scenes]
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


def compositional(encoder: Encoder, per_pair: int = 2, seed: int = 11, language: str = "en") -> Probe:
    """Pictures of the 8 held-out colour-shape pairs and of 8 seen pairs; each picks among all 64 pairs."""
    rng = random.Random(seed)
    heldout = toyworld.allowed_combos("heldout")
    # each colour and shape once, like HELD_OUT, but all seen in training
    seen = [p for p in shifted_pairs(2) if p not in toyworld.HELD_OUT]
    combos = toyworld.allowed_combos("all")
    options = [_pair_name(p, language) for p in combos]
    size = _image_size(encoder)
    images, truths, groups = [], [], []
    for group, pairs in (("heldout", heldout), ("seen", seen)):
        for p in pairs:
            for _ in range(per_pair):
                images.append(_render(toyworld.sample_scene(rng, "single", [p]), size))
                truths.append(combos.index(p))
                groups.append(group)
    items = _ask(encoder, images, [options] * len(images), truths, groups, _single_template(language),
                 keys=[options[t] for t in truths])
    probe = Probe("compositional", items, encoder.loaded.name,
                  notes={"part_chance": 1 / len(toyworld.COLOURS)})  # guessing a colour (or a shape): 1 in 8
    for group in probe.groups():  # which half of the answer was right: colour, shape, both
        sel = [it for it in items if it.group == group]
        probe.notes[f"{group}_colour"] = float(np.mean([combos[it.answer][0] == combos[it.truth][0] for it in sel]))
        probe.notes[f"{group}_shape"] = float(np.mean([combos[it.answer][1] == combos[it.truth][1] for it in sel]))
    return probe


# ---------------------------------------------------------------- limits: counting, left/right


def counting_probe(encoder: Encoder, per_count: int = 4, seed: int = 13, language: str = "en") -> Probe:
    """1, 2 or 3 identical objects; the model picks 'one/two/three <colour> <shape>s'."""
    rng = random.Random(seed)
    size = _image_size(encoder)
    images, options, truths, groups = [], [], [], []
    for n in (1, 2, 3):
        for _ in range(per_count):
            scene = toyworld.sample_scene(rng, "count", n_objects=n)
            o = scene.objects[0]
            if language == "zh":  # 一个/两个/三个红色圆形
                opts = [f"{toyworld.ZH_COUNT_WORDS[k]}个{_pair_name((o.colour, o.shape), 'zh')}" for k in (1, 2, 3)]
            else:
                opts = [f"{toyworld.COUNT_WORDS[k]} {o.colour} {o.shape if k == 1 else toyworld.plural(o.shape)}"
                        for k in (1, 2, 3)]
            images.append(_render(scene, size))
            options.append(opts)
            truths.append(n - 1)
            groups.append(str(n))
    template = ZH_DEFAULT_TEMPLATE if language == "zh" else PROBE_TEMPLATE
    return Probe("counting", _ask(encoder, images, options, truths, groups, template, keys=groups),
                 encoder.loaded.name)


def _two_apart(rng: random.Random, tries: int = 200) -> toyworld.Scene:
    """Two different objects, clearly one left of the other."""
    for _ in range(tries):
        scene = toyworld.sample_scene(rng, "mixed", n_objects=2)
        a, b = scene.objects
        if b.x - a.x > 0.3 and (a.colour, a.shape) != (b.colour, b.shape):
            return scene
    raise RuntimeError("could not draw a two-object scene")


def _one_aside(rng: random.Random, position: str, tries: int = 400) -> toyworld.Scene:
    for _ in range(tries):
        scene = toyworld.sample_scene(rng, "single")
        if scene.objects[0].position == position:
            return scene
    raise RuntimeError(f"could not draw a scene with its object on the {position}")


def left_right_probe(encoder: Encoder, per_kind: int = 8, seed: int = 17, language: str = "en") -> Probe:
    """Three ways to ask where things are; each offers the true sentence and its mirror image.

    single: 'a red circle on the left' vs '... on the right' (a phrasing the toy model was trained on)
    order: 'a red circle and a blue square' vs the reverse (toy captions name objects left to right)
    relation: 'a red circle to the left of a blue square' vs '... to the right of ...' (never trained on)

    Balanced: in each group the right answer says "left" as often as "right" (the object's side, or the
    relation's word), and stands first as often as second, so a model that always prefers one word or
    one position scores exactly 50%.

    In Chinese: '左边有一个红色圆形' / '一个红色圆形和一个蓝色正方形' / '红色圆形在蓝色正方形的左边'.
    """
    zh = language == "zh"

    def name(o) -> str:
        return _pair_name((o.colour, o.shape), language)

    def on_side(o, side: str) -> str:
        return f"{toyworld.ZH_POSITIONS[side]}有一个{name(o)}" if zh else f"a {name(o)} on the {side}"

    def both(a: str, b: str) -> str:
        return f"一个{a}和一个{b}" if zh else f"a {a} and a {b}"

    def relation(a: str, side: str, b: str) -> str:
        return f"{a}在{b}的{toyworld.ZH_POSITIONS[side]}" if zh else f"a {a} to the {side} of a {b}"

    rng = random.Random(seed)
    size = _image_size(encoder)
    images, options, truths, groups, keys = [], [], [], [], []

    def add(scene, true_option, wrong_option, group, key, i):
        first = i % 4 < 2  # the right answer first in half the items, crossed with the key's alternation
        images.append(_render(scene, size))
        options.append([true_option, wrong_option] if first else [wrong_option, true_option])
        truths.append(0 if first else 1)
        groups.append(group)
        keys.append(key or ("listed first" if first else "listed second"))

    for i in range(per_kind):
        side = ("left", "right")[i % 2]
        scene = _one_aside(rng, side)
        o = scene.objects[0]
        other = "right" if side == "left" else "left"
        add(scene, on_side(o, side), on_side(o, other), "single", side, i)
    for i in range(per_kind):  # the true sentence names the left object first; balanced by where it stands
        scene = _two_apart(rng)
        a, b = (name(o) for o in scene.objects)
        add(scene, both(a, b), both(b, a), "order", "", i)
    for i in range(per_kind):
        scene = _two_apart(rng)
        left, right = (name(o) for o in scene.objects)
        if i % 2 == 0:  # the left object is the subject: "... to the left of ..." is true
            add(scene, relation(left, "left", right), relation(left, "right", right), "relation", "left", i)
        else:  # the right object is the subject: "... to the right of ..." is true
            add(scene, relation(right, "right", left), relation(right, "left", left), "relation", "right", i)
    template = ZH_DEFAULT_TEMPLATE if zh else PROBE_TEMPLATE
    return Probe("left_right", _ask(encoder, images, options, truths, groups, template, keys=keys),
                 encoder.loaded.name)
