"""Projection maths, the small-input fallback, the UMAP warm-up and the modality-gap numbers."""

from __future__ import annotations

import time

import numpy as np
import pytest

from clipdemo import projection


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def two_clusters(n_each=20, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=dim)
    b = -a
    x = np.concatenate([a + 0.15 * rng.normal(size=(n_each, dim)), b + 0.15 * rng.normal(size=(n_each, dim))])
    return unit(x).astype(np.float32), np.array([0] * n_each + [1] * n_each)


def separated(coords, labels) -> bool:
    """Every point's nearest neighbour in the map belongs to its own cluster."""
    d = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    return bool((labels[d.argmin(axis=1)] == labels).all())


def test_pca_matches_the_principal_axis():
    rng = np.random.default_rng(1)
    x = np.zeros((50, 5))
    x[:, 2] = rng.normal(size=50) * 10  # all variance along axis 2
    x[:, 4] = rng.normal(size=50) * 0.1
    coords = projection.pca(x, 2)
    assert coords.shape == (50, 2)
    centred = x[:, 2] - x[:, 2].mean()
    assert abs(np.corrcoef(coords[:, 0], centred)[0, 1]) > 0.999
    assert np.allclose(projection.pca(x, 2), coords)  # deterministic signs


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_tiny_inputs_fall_back_to_pca_with_a_notice(n):
    x = unit(np.random.default_rng(n).normal(size=(n, 8)))
    for method in ("umap", "tsne"):
        proj = projection.project(x, method, dims=3)
        assert proj.method == "pca"
        assert proj.coords.shape == (n, 3)
        assert np.isfinite(proj.coords).all()
        assert any("PCA" in note for note in proj.notices)


def test_bad_requests_raise_value_errors():
    x = unit(np.ones((6, 4)) + np.eye(6, 4))
    with pytest.raises(ValueError, match="Unknown projection"):
        projection.project(x, "lda")
    with pytest.raises(ValueError, match="2 or 3"):
        projection.project(x, "pca", dims=4)
    with pytest.raises(ValueError, match="Nothing to project"):
        projection.project(np.zeros((0, 4)), "pca")
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        projection.project(bad, "pca")


def test_cosine_distances_match_direct_computation():
    x = np.random.default_rng(2).normal(size=(7, 5)).astype(np.float32)
    d = projection.cosine_distances(x)
    u = unit(x)
    assert np.allclose(d, np.clip(1 - u @ u.T, 0, 2) * (1 - np.eye(7)), atol=1e-6)


def test_umap_warm_up_then_2d_and_3d_keep_clusters_apart():
    was_warm = projection.is_warm()
    started = time.perf_counter()
    seconds = projection.warm_up()
    outer = time.perf_counter() - started
    assert projection.is_warm()
    assert projection.warm_up() == 0.0  # paid once per process
    assert (seconds == 0.0) if was_warm else 0.0 < seconds <= outer  # the time it really took, said once
    x, labels = two_clusters()
    for dims in (2, 3):
        proj = projection.project(x, "umap", dims=dims, n_neighbors=8, min_dist=0.1)
        assert proj.method == "umap" and proj.coords.shape == (40, dims)
        assert separated(proj.coords, labels)
    again = projection.project(x, "umap", dims=2, n_neighbors=8, min_dist=0.1)
    assert np.allclose(again.coords, projection.project(x, "umap", 2, 8, 0.1).coords)  # seeded: reproducible


def test_umap_lowers_n_neighbors_for_few_points():
    x, _ = two_clusters(n_each=4)
    proj = projection.project(x, "umap", n_neighbors=50)
    assert proj.method == "umap"
    assert any("n_neighbors=50" in note for note in proj.notices)


def test_tsne_keeps_clusters_apart():
    x, labels = two_clusters(n_each=15)
    proj = projection.project(x, "tsne", dims=2)
    assert proj.method == "tsne" and proj.coords.shape == (30, 2)
    assert separated(proj.coords, labels)
    assert any("perplexity" in note for note in proj.notices)  # 30 points: perplexity lowered


def test_modality_gap_against_direct_computation():
    rng = np.random.default_rng(3)
    img = unit(rng.normal(size=(5, 6)) + [3, 0, 0, 0, 0, 0])
    txt = unit(rng.normal(size=(4, 6)) + [0, 3, 0, 0, 0, 0])
    pairs = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 3)]  # images 3 and 4 share caption 3
    gap = projection.modality_gap(img, txt, pairs)
    assert gap.centroid_distance == pytest.approx(np.linalg.norm(img.mean(0) - txt.mean(0)))
    cos = img @ txt.T
    assert gap.paired_cosine == pytest.approx(np.mean([cos[i, j] for i, j in pairs]))
    unpaired = [cos[i, j] for i in range(5) for j in range(4) if (i, j) not in pairs]
    assert gap.unpaired_cosine == pytest.approx(np.mean(unpaired))
    assert gap.image_spread == pytest.approx(np.linalg.norm(img - img.mean(0), axis=1).mean())
    assert set(gap.as_dict()) == {"centroid_distance", "paired_cosine", "unpaired_cosine", "image_spread",
                                  "text_spread"}


def test_modality_gap_is_zero_for_identical_clouds_and_needs_both():
    x = unit(np.random.default_rng(4).normal(size=(6, 3)))
    gap = projection.modality_gap(x, x)
    assert gap.centroid_distance == pytest.approx(0.0, abs=1e-9)
    assert gap.paired_cosine is None
    with pytest.raises(ValueError):
        projection.modality_gap(x, x[:0])
