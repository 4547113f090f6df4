"""clipdemo.core.scoring: the one place cosines become scores, and the views that must go through it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from clipdemo.core import scoring


def test_softmax_and_sigmoid_of_scaled_cosines():
    cos = np.array([[0.30, 0.25, 0.10], [0.05, 0.20, 0.22]])
    p = scoring.probabilities(cos, scale=100.0, axis=1)
    assert p.sum(axis=1) == pytest.approx([1, 1]) and p[0].argmax() == 0
    e = np.exp(100 * cos[0])
    assert p[0] == pytest.approx(e / e.sum())
    q = scoring.probabilities(cos, scale=10.0, bias=-2.0, use_sigmoid=True)
    assert q == pytest.approx(1 / (1 + np.exp(-(10 * cos - 2))))
    assert scoring.probabilities(cos, 100.0, axis=0).sum(axis=0) == pytest.approx([1, 1, 1])
    big = scoring.softmax(np.array([1000.0, 0.0]))  # no overflow
    assert big == pytest.approx([1, 0])


def test_the_temperature_lesson_scores_a_siglip_model_with_its_sigmoid(tiny_encoder):
    from clipdemo.core.encoding import Encoder
    from clipdemo.teach import lessons

    clip = lessons.temperature_lesson(tiny_encoder)
    assert all(sum(row) == pytest.approx(1) for row in clip.probs)  # CLIP: a softmax over the labels
    siglip = Encoder(dataclasses.replace(tiny_encoder.loaded, family="siglip"))
    lesson = lessons.temperature_lesson(siglip)
    for s, row in zip(lesson.scales, lesson.probs, strict=True):
        assert row == pytest.approx(scoring.sigmoid(s * np.asarray(lesson.cosine)).tolist())
