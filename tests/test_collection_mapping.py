"""A collection's map: computed once, cached beside it (or in the user cache), invalidated when it changes."""

from __future__ import annotations

import numpy as np
import pytest
from collection_fixtures import clip_retrieval_folder

from clipdemo.core import settings
from clipdemo.data.collection import mapping, store


def clusters(n: int, dim: int = 32, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim)) * 3
    label = rng.integers(0, k, n)
    x = centres[label] + rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), label


def test_knn_place_puts_a_duplicate_on_its_twin_and_a_midpoint_between():
    fitted = np.eye(4, dtype=np.float32)
    coords = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], np.float32)
    placed = mapping.knn_place(fitted[[2]], fitted, coords, k=3)
    np.testing.assert_allclose(placed[0], coords[2], atol=1e-3)
    mid = mapping.knn_place(((fitted[0] + fitted[1]) / 2)[None], fitted, coords, k=2)
    np.testing.assert_allclose(mid[0], [5, 0], atol=1e-3)


@pytest.mark.parametrize("strategy", ["full", "sample"])
def test_umap_map_keeps_clusters_apart(strategy):
    x, label = clusters(500)
    coords, report = mapping.project(x, strategy, fit_sample=200)
    assert coords.shape == (500, 2) and report["strategy"] == strategy
    assert report["fit_n"] == (500 if strategy == "full" else 200)
    assert mapping.trustworthiness(x, coords, sample=300) > 0.85
    centres = np.stack([coords[label == c].mean(axis=0) for c in range(3)])
    spread = max(np.linalg.norm(coords[label == c] - centres[c], axis=1).mean() for c in range(3))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 2 * spread


def test_random_placement_scores_near_chance():
    x, _ = clusters(400)
    rng = np.random.default_rng(3)
    assert mapping.trustworthiness(x, rng.standard_normal((400, 2)).astype(np.float32), sample=400) < 0.6


@pytest.fixture()
def fake_project(monkeypatch):
    calls = []

    def project(x, strategy="auto", seed=0, progress=None, **kw):
        calls.append(len(x))
        return np.asarray(x[:, :2], np.float32), {"strategy": "full", "n": len(x), "fit_n": len(x), "seconds": {}}

    monkeypatch.setattr(mapping, "project", project)
    return calls


def test_projection_is_computed_once_and_cached_beside_the_collection(tmp_path, fake_project):
    root, vectors = clip_retrieval_folder(tmp_path / "cr", [40, 30])
    coords, report = mapping.collection_projection(store.open_collection(root))
    assert not report["cached"] and fake_project == [70] and 0 <= report["trustworthiness"] <= 1
    assert (root / "map" / "umap2d.npy").exists() and (root / "map" / "umap2d.json").exists()
    again, report2 = mapping.collection_projection(store.open_collection(root))  # a new process would do this
    assert report2["cached"] and fake_project == [70]
    np.testing.assert_array_equal(again, coords)
    # re-embedding a shard changes the fingerprint: the stale map is not served
    np.save(root / "img_emb" / "img_emb_01.npy", -np.load(root / "img_emb" / "img_emb_01.npy"))
    _, report3 = mapping.collection_projection(store.open_collection(root))
    assert not report3["cached"] and fake_project == [70, 70]


def test_unwritable_collection_caches_in_the_user_cache(tmp_path, fake_project, monkeypatch):

    monkeypatch.setattr(settings, "CACHE_DIR", tmp_path / "cache")  # the app's --cache-dir
    root, _ = clip_retrieval_folder(tmp_path / "cr", [20])
    (root / "map").write_text("a file where the cache folder would go")  # mkdir fails, as on a read-only disk
    c = store.open_collection(root)
    mapping.collection_projection(c)
    assert list((tmp_path / "cache" / "collections").glob("*/umap2d.npy"))
    _, report = mapping.collection_projection(store.open_collection(root))
    assert report["cached"] and fake_project == [20]
