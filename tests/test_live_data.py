"""The Learn tab's pictures: the fixed heatmap batch, the accuracy sets, the scene pool."""

from __future__ import annotations

import random

from clipdemo.core import toyworld
from clipdemo.teach.live_data import ALL_PAIRS, ScenePool, accuracy_sets, fixed_batch, fixed_captions


def test_fixed_batch_pairs_are_seen_distinct_and_balanced():
    images, captions, combos = fixed_batch("all", 32)
    assert len(images) == len(captions) == len(set(combos)) == 16
    assert not set(combos) & toyworld.HELD_OUT
    assert all(sum(c == col for c, _ in combos) == 2 for col in toyworld.COLOURS)
    assert images[0].size == (32, 32)
    # colour-only captions cannot tell two pictures of one colour apart: 8 distinct captions, not 16
    assert len(set(fixed_captions(combos, "colour"))) == 8 and len(set(fixed_captions(combos, "shape"))) == 8
    assert fixed_batch("all", 32)[1] == captions  # fixed: the same batch every time


def test_accuracy_sets_hold_heldout_and_seen_pairs():
    sets = accuracy_sets(32, per_combo=1)
    assert set(sets["heldout"][1]) == toyworld.HELD_OUT
    assert not set(sets["seen"][1]) & toyworld.HELD_OUT and len(set(sets["seen"][1])) == 8
    assert set(sets["seen"][1]) <= set(ALL_PAIRS)


def test_scene_pool_renders_a_quarter_batch_per_step_until_full():
    pool = ScenePool(32, "colour", size=40)
    rng = random.Random(0)
    images, captions = pool.batch(rng, 16)
    assert len(images) == len(captions) == 16 and len(pool) == 16  # the first batch is all new
    assert all(c.startswith("a photo of something") for c in captions)  # captions follow the concepts
    pool.batch(rng, 16)
    assert len(pool) == 20  # then a quarter of each batch
    for _ in range(10):
        images, _ = pool.batch(rng, 16)
    assert len(pool) == 40 and len(images) == 16 and images[0].size == (32, 32)  # full: nothing new
