"""The matrix maths against direct computation, and CLIP's paired loss against the trainer's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from clipdemo.core import similarity as sim
from clipdemo.teach.trainer import contrastive_losses as torch_losses


@pytest.fixture
def embeddings():
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, 16)) * 3, rng.normal(size=(5, 16)) * 0.2  # deliberately not normalised


def test_cosine_matrix_matches_direct_loops(embeddings):
    img, txt = embeddings
    cos = sim.cosine_matrix(img, txt)
    assert cos.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            direct = img[i] @ txt[j] / (np.linalg.norm(img[i]) * np.linalg.norm(txt[j]))
            assert cos[i, j] == pytest.approx(direct, abs=1e-12)


def test_cosine_matrix_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="differ"):
        sim.cosine_matrix(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError):
        sim.cosine_matrix(np.ones(3), np.ones((2, 3)))


def test_softmax_over_texts_and_images_match_direct(embeddings):
    cos = sim.cosine_matrix(*embeddings)
    t = 37.0
    rows = sim.softmax_over_texts(cos, t)
    cols = sim.softmax_over_images(cos, t)
    e = np.exp(cos * t)
    np.testing.assert_allclose(rows, e / e.sum(1, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(cols, e / e.sum(0, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(rows.sum(1), 1)
    np.testing.assert_allclose(cols.sum(0), 1)


def test_temperature_sharpens_the_softmax(embeddings):
    cos = sim.cosine_matrix(*embeddings)
    cold, hot = sim.softmax_over_texts(cos, 1.0), sim.softmax_over_texts(cos, 100.0)
    assert (hot.max(1) > cold.max(1)).all()
    assert hot.argmax(1).tolist() == cold.argmax(1).tolist() == cos.argmax(1).tolist()


def test_softmax_is_stable_at_huge_temperature():
    p = sim.softmax_over_texts(np.array([[0.3, 0.2, -0.1]]), 1e5)
    assert np.isfinite(p).all() and p[0, 0] == pytest.approx(1.0)


def test_scores_dispatch_and_sigmoid_for_siglip(embeddings):
    cos = sim.cosine_matrix(*embeddings)
    np.testing.assert_allclose(sim.scores(cos, "cosine", 10), cos)
    np.testing.assert_allclose(sim.scores(cos, "softmax_images", 10), sim.softmax_over_images(cos, 10))
    sig = sim.scores(cos, "softmax_texts", 10, sigmoid=True, bias=-2.0)
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-(cos * 10 - 2))))
    with pytest.raises(ValueError, match="unknown mode"):
        sim.scores(cos, "bogus", 10)


@pytest.mark.parametrize("temperature", [1.0, 14.3, 100.0])
def test_contrastive_losses_match_the_trainer(temperature):
    rng = np.random.default_rng(1)
    cos = sim.cosine_matrix(rng.normal(size=(6, 8)), rng.normal(size=(6, 8)))
    losses = sim.contrastive_losses(cos, temperature)
    i2t, t2i = torch_losses(torch.tensor(cos * temperature))
    assert losses.image_to_text == pytest.approx(i2t.item(), rel=1e-9)
    assert losses.text_to_image == pytest.approx(t2i.item(), rel=1e-9)
    assert losses.mean == pytest.approx((i2t.item() + t2i.item()) / 2, rel=1e-9)
    assert losses.chance == pytest.approx(math.log(6))


def test_loss_directions_differ_on_an_asymmetric_batch():
    # Image 0 fits both texts (its row is unsure); text 1 fits image 0 better than its own image 1.
    cos = np.array([[0.9, 0.9], [0.0, 0.5]])
    losses = sim.contrastive_losses(cos, 10)
    assert losses.image_to_text == pytest.approx((math.log(2) + math.log(1 + math.exp(-5))) / 2)
    assert losses.text_to_image == pytest.approx((math.log(1 + math.exp(-9)) + math.log(1 + math.exp(4))) / 2)
    assert losses.text_to_image > 5 * losses.image_to_text


def test_perfect_and_uniform_batches():
    assert sim.contrastive_losses(np.eye(4), 100).mean < 1e-6
    uniform = sim.contrastive_losses(np.full((4, 4), 0.3), 50)
    assert uniform.mean == pytest.approx(math.log(4))


def test_loss_needs_pairs():
    with pytest.raises(ValueError, match="pairs"):
        sim.contrastive_losses(np.zeros((2, 3)), 10)
    with pytest.raises(ValueError, match="pairs"):
        sim.sigmoid_loss(np.zeros((3, 2)), 10)


def test_sigmoid_loss_matches_direct():
    rng = np.random.default_rng(2)
    cos = rng.uniform(-1, 1, size=(3, 3))
    t, b = 10.0, -5.0
    direct = 0.0
    for i in range(3):
        for j in range(3):
            z = (1 if i == j else -1) * (cos[i, j] * t + b)
            direct -= math.log(1 / (1 + math.exp(-z)))
    assert sim.sigmoid_loss(cos, t, b) == pytest.approx(direct / 3)


def test_similarity_matrix_with_a_model(tiny_encoder, toy_images):
    images = [img for img, _, _ in toy_images[:3]]
    texts = [cap for _, cap, _ in toy_images[:3]]
    m = sim.similarity_matrix(tiny_encoder, images, texts + ["  "], names=["a", "b", "c"])
    assert m.texts == texts  # blank lines dropped
    direct = tiny_encoder.encode_images(images) @ tiny_encoder.encode_texts(texts).T
    np.testing.assert_allclose(m.cosine, direct, atol=1e-5)
    assert m.paired and m.losses() is not None and m.siglip_loss() is None
    assert m.losses().mean == pytest.approx(sim.contrastive_losses(m.cosine, m.logit_scale).mean)
    js = m.as_json()
    assert js["images"] == ["a", "b", "c"] and js["texts"] == texts
    assert np.array(js["cosine"]).shape == (3, 3) and js["scoring"] == "softmax"
    unpaired = sim.similarity_matrix(tiny_encoder, images[:2], texts)
    assert not unpaired.paired and unpaired.losses() is None
    assert unpaired.images == ["image 1", "image 2"]


def test_similarity_matrix_needs_inputs(tiny_encoder, toy_images):
    with pytest.raises(ValueError, match="image"):
        sim.similarity_matrix(tiny_encoder, [], ["a red circle"])
    with pytest.raises(ValueError, match="text"):
        sim.similarity_matrix(tiny_encoder, [toy_images[0][0]], ["", " "])
