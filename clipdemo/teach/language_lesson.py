"""Lesson: the same pictures labelled in English and in Chinese, both scores side by side.

Each picture picks its colour-shape pair among 16 (its own and look-alikes: each picture's colour with
the next picture's shape), once with English labels in "a photo of a {}." and once with the same labels
in Chinese in "一张{}的照片。". A model that reads both languages scores alike; OpenAI's CLIP, trained on
English captions, reads Chinese poorly (Chinese-CLIP was trained for it).
"""

from __future__ import annotations

import random

import numpy as np

from clipdemo import toyworld
from clipdemo.encoding import Encoder
from clipdemo.lessons import Probe, _ask, _image_size, _render
from clipdemo.templates import DEFAULT_TEMPLATE, ZH_DEFAULT_TEMPLATE

LANGUAGES = {"en": (DEFAULT_TEMPLATE, lambda c, s: f"{c} {s}"),
             "zh": (ZH_DEFAULT_TEMPLATE, lambda c, s: toyworld.zh_colour(c) + toyworld.zh_shape(s))}


def language_comparison(encoder: Encoder, n_images: int = 8, seed: int = 19) -> Probe:
    """One Probe, groups "en" and "zh": item i and item n_images + i are the same picture."""
    rng = random.Random(seed)
    pairs = rng.sample(toyworld.allowed_combos("train"), n_images)
    decoys = [(c, pairs[(i + 1) % n_images][1]) for i, (c, _) in enumerate(pairs)]
    options_pairs = list(dict.fromkeys(pairs + decoys))
    size = _image_size(encoder)
    images = [_render(toyworld.sample_scene(rng, "single", [p]), size) for p in pairs]
    items = []
    for lang, (template, name) in LANGUAGES.items():
        options = [name(c, s) for c, s in options_pairs]
        truths = [options_pairs.index(p) for p in pairs]
        items += _ask(encoder, images, [options] * n_images, truths, [lang] * n_images, template)
    probe = Probe("languages", items, encoder.loaded.name)
    en, zh = items[:n_images], items[n_images:]
    for lang, sel in (("en", en), ("zh", zh)):
        probe.notes[f"{lang}_true_probability"] = float(np.mean([it.probs[it.truth] for it in sel]))
    probe.notes["same_answer"] = float(np.mean([a.answer == b.answer for a, b in zip(en, zh, strict=True)]))
    return probe
