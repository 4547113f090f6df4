"""The pictures the Learn tab's training sees and is measured on.

- the heatmap's fixed batch: 16 seen colour-shape pairs, in colour pairs, captioned as the chosen
  concepts are in training;
- the accuracy sets: pictures of the 8 held-out pairs and of 8 seen pairs, named among all 64 pairs;
- `ScenePool`: training batches that re-use rendered scenes (rendering 32 pictures costs as much as a
  training step on a small CPU), growing by a quarter batch per step; captions are drawn afresh.
"""

from __future__ import annotations

import random

from clipdemo.core import toyworld
from clipdemo.core.toyworld import concept_caption

POOL_SIZE = 2048
EVAL_PER_COMBO = 2  # held-out / seen images per colour-shape pair in the accuracy curves


def fixed_captions(combos: list[tuple[str, str]], concepts: str, language: str = "en") -> list[str]:
    """Captions for the heatmap batch, phrased as the training captions for these concepts are
    (toyworld.concept_caption / zh_concept_caption, in `language`: "en" or "zh")."""
    if language == "zh":
        if concepts == "colour":
            return [f"一张有{toyworld.zh_colour(c)}的东西的照片" for c, _ in combos]
        if concepts == "shape":
            return [f"一张{toyworld.zh_shape(s)}的照片" for _, s in combos]
        return [toyworld.zh_colour(c) + toyworld.zh_shape(s) for c, s in combos]
    if concepts == "colour":
        return [f"a photo of something {c}" for c, _ in combos]
    if concepts == "shape":
        return [f"a photo of a {s}" for _, s in combos]
    return [f"a {c} {s}" for c, s in combos]


def shifted_pairs(shift: int) -> list[tuple[str, str]]:
    """Colour i with shape 3i+shift: every colour and every shape once. HELD_OUT is shift 1."""
    shapes = toyworld.SHAPES
    return [(c, shapes[(3 * i + shift) % len(shapes)]) for i, c in enumerate(toyworld.COLOURS)]


def batch_pairs() -> list[tuple[str, str]]:
    """The 16 seen colour-shape pairs of the fixed batch, in colour pairs (none of them held out)."""
    first, second = shifted_pairs(2), shifted_pairs(5)
    return [cs for pair in zip(first, second, strict=True) for cs in pair if cs not in toyworld.HELD_OUT]


def fixed_batch(concepts: str, image_size: int, seed: int = 7, language: str = "en"):
    """One batch that never changes during a run: 16 single objects of 16 seen colour-shape pairs, each
    colour and each shape twice. Rows come in colour pairs: once colours are learned the diagonal shows
    as 2x2 blocks, which sharpen into single cells as shapes are learned (with colour-only captions
    they never can: the two captions are the same)."""
    rng = random.Random(seed)
    combos = batch_pairs()
    images = [toyworld.render(toyworld.sample_scene(rng, "single", [cs]), image_size) for cs in combos]
    return images, fixed_captions(combos, concepts, language), combos


def accuracy_sets(image_size: int, per_combo: int = EVAL_PER_COMBO, seed: int = 11):
    """Images of the 8 held-out pairs and of 8 seen pairs (each colour and shape once), with their true pair."""
    rng = random.Random(seed)
    out = {}
    seen = [cs for cs in shifted_pairs(2) if cs not in toyworld.HELD_OUT]
    for name, combos in (("heldout", toyworld.allowed_combos("heldout")), ("seen", seen)):
        pairs = [cs for cs in combos for _ in range(per_combo)]
        out[name] = ([toyworld.render(toyworld.sample_scene(rng, "single", [cs]), image_size) for cs in pairs], pairs)
    return out


ALL_PAIRS = toyworld.allowed_combos("all")
PAIR_LABELS = [f"a {c} {s}" for c, s in ALL_PAIRS]  # accuracy asks "which of all 64 pairs is it?"
ZH_PAIR_LABELS = [f"一个{toyworld.zh_colour(c)}{toyworld.zh_shape(s)}" for c, s in ALL_PAIRS]


def pair_labels(language: str = "en") -> list[str]:
    return ZH_PAIR_LABELS if language == "zh" else PAIR_LABELS


class ScenePool:
    """Training batches from a growing pool of rendered scenes."""

    def __init__(self, image_size: int, concepts: str, size: int = POOL_SIZE, language: str = "en",
                 world: str = "full", hard: float = 0.0):
        self.image_size, self.concepts, self.size = image_size, concepts, size
        # "pairs": one object per scene, of the fixed batch's 16 pairs only (the smallest world); "single": one
        # object per scene, any seen pair; "full": every kind of scene (counts, pairs, positions). Held-out pairs
        # never appear in any of them.
        self.kind = None if world == "full" else "single"
        self.combos = batch_pairs() if world == "pairs" else toyworld.allowed_combos("train")
        # share of batches whose pictures hold only two colours: there colour cannot tell the pairs apart, so
        # shape must (train.TrainConfig.hard_batches, here for the Learn tab's pool)
        self.hard = hard
        self.zh_share = 1.0 if language == "zh" else 0.0  # captions in one language: the one the class reads
        self.items: list[tuple[toyworld.Scene, object]] = []

    def batch(self, rng: random.Random, n: int) -> tuple[list, list[str]]:
        """All of the first batch is rendered, then a quarter of each until the pool is full; the rest is drawn
        from the pool (for a two-colour batch, from its scenes of those colours, rendering more if too few)."""
        combos, candidates = None, self.items
        if self.hard and rng.random() < self.hard:
            pair = rng.sample(sorted({c for c, _ in self.combos}), 2)
            combos = [cs for cs in self.combos if cs[0] in pair]
            candidates = [it for it in self.items if all(o.colour in pair for o in it[0].objects)]
        n_new = 0 if len(self.items) >= self.size else n if len(self.items) < n else max(1, n // 4)
        n_new = max(n_new, n - len(candidates))
        fresh = []
        for _ in range(n_new):
            scene = toyworld.sample_scene(rng, self.kind, combos=combos or self.combos)
            fresh.append((scene, toyworld.render(scene, self.image_size, supersample=2)))
        chosen = fresh + rng.sample(candidates, n - n_new)
        self.items.extend(fresh[:max(0, self.size - len(self.items))])  # the pool stays within its size
        return [im for _, im in chosen], [concept_caption(s, rng, self.concepts, zh_share=self.zh_share)
                                           for s, _ in chosen]

    def __len__(self) -> int:
        return len(self.items)
