"""Few-shot probe vs. zero-shot: shot parsing, toy classes, the crossing point, and a curve on the bundled model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from clipdemo.core import toyworld
from clipdemo.core.errors import InputError
from clipdemo.teach import fewshot


def test_shots_are_parsed_sorted_and_bounded():
    assert fewshot.parse_shots("16, 1,4,4") == [1, 4, 16]
    assert fewshot.parse_shots("") == list(fewshot.DEFAULT_SHOTS)
    for bad in ("0,2", "1,x", "1,1000"):
        with pytest.raises(InputError):
            fewshot.parse_shots(bad)


def test_equivalent_shots_interpolates_on_a_log_scale():
    shots, acc = [1, 2, 4, 8], [0.2, 0.4, 0.6, 0.8]
    assert fewshot.equivalent_shots(shots, acc, 0.5) == pytest.approx(2 ** 1.5)  # halfway from 2 to 4
    assert fewshot.equivalent_shots(shots, acc, 0.8) == pytest.approx(8)
    assert fewshot.equivalent_shots(shots, acc, 0.9) is None  # beyond the largest k
    assert fewshot.equivalent_shots(shots, acc, 0.1) == 1  # at most the first k


def test_toy_labels_name_colours_shapes_or_both():
    assert fewshot.toy_class("circle") == (None, "circle")
    assert fewshot.toy_class("Red") == ("red", None)
    assert fewshot.toy_class("blue squares") == ("blue", "square")
    with pytest.raises(InputError, match="toy world has no pictures"):
        fewshot.toy_class("cat")
    with pytest.raises(InputError, match="overlap"):
        fewshot.toy_set(["red", "red circle"], 2)


def test_toy_set_draws_what_each_label_asks_for():
    data = fewshot.toy_set(["red", "blue square"], 3, seed=1, size=48)
    assert data.labels == ["red"] * 3 + ["blue square"] * 3 and data.classes == ["red", "blue square"]
    assert all(im.size == (48, 48) for im in data.images)


def test_own_pictures_keep_classes_with_two_or_more():
    ims = [Image.new("RGB", (8, 8))] * 6
    data = fewshot.from_gallery(ims, ["cat", "cat", "dog", "dog", "dog", "owl"])
    assert data.classes == ["cat", "dog"] and len(data.images) == 5
    assert any("single picture" in n for n in data.notices)
    with pytest.raises(InputError, match="at least two classes"):
        fewshot.from_gallery(ims[:3], ["cat", "cat", "owl"])


def test_probe_learns_separable_embeddings():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.05, (20, 4)) + [1, 0, 0, 0], rng.normal(0, 0.05, (20, 4)) + [0, 1, 0, 0]])
    y = np.array([0] * 20 + [1] * 20)
    train = np.array([0, 1, 20, 21])
    test = np.setdiff1d(np.arange(40), train)
    assert fewshot.probe_accuracy(x, y, train, test) == 1.0
    taught_wrong = y.copy()
    taught_wrong[train] = 1 - y[train]  # the pictures it learns from carry the other class's label
    assert fewshot.probe_accuracy(x, taught_wrong, train, test) == 0.0


def test_curve_on_the_bundled_model_rises_with_k_and_beats_chance(bundled_encoder):
    labels = ["circle", "square", "star", "cross"]
    data = fewshot.toy_set(labels, 8 + 10, seed=3)
    curve = fewshot.few_shot_curve(bundled_encoder, data, [1, 8], seeds=3, test_per_class=10)
    assert curve.shots == [1, 8] and curve.chance == 0.25
    assert curve.accuracy[1] > curve.accuracy[0] > curve.chance
    assert curve.zero_shot_accuracy > 0.5
    assert len(curve.per_seed) == 2 and len(curve.per_seed[0]) == 3
    assert curve.accuracy[0] == pytest.approx(np.mean(curve.per_seed[0]))


def test_shots_beyond_the_smallest_class_are_left_out_with_a_notice(bundled_encoder):
    data = fewshot.toy_set(["red", "blue"], 6, seed=2)
    curve = fewshot.few_shot_curve(bundled_encoder, data, [1, 2, 8], seeds=1, test_per_class=3)
    assert curve.shots == [1, 2] and any("left out" in n for n in curve.notices)
    with pytest.raises(InputError, match="smallest class"):
        fewshot.few_shot_curve(bundled_encoder, data, [4], seeds=1, test_per_class=3)


def test_toy_colours_are_those_of_the_world():
    data = fewshot.toy_set(["green"], 4, seed=0)
    assert data.classes == ["green"] and set(toyworld.COLOURS) >= {"green"}


def test_the_same_toy_request_reuses_its_pictures():
    a, b = fewshot.toy_set(["red", "blue"], 2, seed=4), fewshot.toy_set(["red", "blue"], 2, seed=4)
    assert a.images[0] is b.images[0] and a.images is not b.images  # drawn once; each caller its own list
    assert fewshot.toy_set(["red", "blue"], 2, seed=5).images[0] is not a.images[0]
