"""A collection's 2D map: UMAP computed once, cached beside the collection, with its measured quality.

How it scales: vectors are first reduced to 50 dimensions by PCA (on unit vectors, euclidean distance
there tracks cosine distance; UMAP's neighbour search gets ~10x less work than at 512-d). Up to
FIT_SAMPLE points UMAP is fitted on all of them ("full"); above that it is fitted on a random sample
and every other point is placed at the weighted mean of its K_PLACE nearest sampled points ("sample",
exact neighbours by blocked matrix products), which keeps the neighbour graph, and so the time,
bounded. umap-learn's own `transform` ("sample-umap") also optimises each placed point; it took 350 s
for 80k points on the busy 2-core CPU here, against seconds, and its trustworthiness is compared in
the README (Collections). `trustworthiness` (sklearn) on a random subset says how
well local neighbourhoods survive: 1.0 = every 2D neighbour is a true neighbour, ~0.5 = chance.

The cache (map/umap2d.npy + .json) sits in the collection folder, or under the app's cache (--cache-dir,
default ~/.cache/clipdemo) when that folder is read-only; it is keyed by a fingerprint of the shards, so
re-embedding invalidates it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from clipdemo.collection.layout import atomic_write, save_npy
from clipdemo.collection.store import Collection

PCA_DIMS = 50
FIT_SAMPLE = 20_000
TRANSFORM_BLOCK = 20_000
TRUST_SAMPLE = 2_000
TRUST_NEIGHBOURS = 10
STRATEGIES = ("auto", "full", "sample", "sample-umap")
K_PLACE = 10
PLACE_BLOCK = 2048  # rows per distance block: 2048 x 20k float32 = 160 MB
MAP_VERSION = 1

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def fingerprint(c: Collection) -> str:
    """Shard files' names and sizes plus their first and last vectors: changes when the collection does."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"v{MAP_VERSION}-{c.count}-{c.dim}".encode())
    for s in c.shards:
        h.update(f"{s.img.name}:{s.img.stat().st_size}:{s.meta.stat().st_size}".encode())
        m = np.load(s.img, mmap_mode="r")
        if len(m):
            h.update(np.asarray(m[0]).tobytes() + np.asarray(m[-1]).tobytes())
    return h.hexdigest()


def cache_dir(c: Collection) -> Path:
    """map/ in the collection when writable, else a per-fingerprint folder in the user cache."""
    own = c.root / "map"
    try:
        own.mkdir(exist_ok=True)
        probe = own / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
        return own
    except OSError:
        from clipdemo.gallery import cache_root

        folder = cache_root() / "collections" / fingerprint(c)
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def pca_reduce(x: np.ndarray, dims: int = PCA_DIMS, seed: int = 0) -> np.ndarray:
    from sklearn.decomposition import PCA

    x = np.asarray(x, np.float32)
    dims = min(dims, x.shape[1], len(x))
    if dims >= x.shape[1]:
        return x
    return PCA(n_components=dims, svd_solver="randomized", random_state=seed).fit_transform(x).astype(np.float32)


def _umap(n: int, seed: int):
    import umap

    # n_neighbors 15 and min_dist 0.1 are umap's defaults; random_state makes the map reproducible. umap
    # runs 500 epochs up to 10,000 points and 200 above: 200 throughout keeps a 10k map from costing
    # more than a 20k one (measured: 343 s for 10k at 500 epochs vs 186 s for a 20k fit at 200).
    return umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), min_dist=0.1, metric="euclidean",
                     random_state=seed, low_memory=True, n_epochs=200 if n > 2_000 else None)


def project(x: np.ndarray, strategy: str = "auto", fit_sample: int = FIT_SAMPLE, seed: int = 0,
            progress: Callable[[str], None] | None = None) -> tuple[np.ndarray, dict]:
    """(n, 2) float32 coordinates and a report: strategy, points fitted, seconds per step."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}")
    say = progress or (lambda msg: None)
    n = len(x)
    if n < 5:
        from clipdemo.projection import pca

        return pca(x, 2), {"strategy": "pca", "n": n, "fit_n": n, "seconds": {}}
    used = ("full" if n <= fit_sample else "sample") if strategy == "auto" else strategy
    times = {}
    t = time.perf_counter()
    with threadpool_limits(limits=2, user_api="blas"):
        reduced = pca_reduce(x, seed=seed)
    times["pca"] = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state": expected
        if used == "full" or fit_sample >= n:  # (an explicit sample strategy on few points fits them all)
            used = "full"
            say(f"UMAP on all {n} points")
            t = time.perf_counter()
            coords = _umap(n, seed).fit_transform(reduced)
            times["fit"] = time.perf_counter() - t
            fit_n = n
        else:
            fit_idx = np.sort(rng.choice(n, fit_sample, replace=False))
            say(f"UMAP fitted on {fit_sample} of {n} points")
            t = time.perf_counter()
            reducer = _umap(fit_sample, seed).fit(reduced[fit_idx])
            times["fit"] = time.perf_counter() - t
            coords = np.empty((n, 2), np.float32)
            coords[fit_idx] = reducer.embedding_
            rest = np.setdiff1d(np.arange(n), fit_idx)
            t = time.perf_counter()
            if used == "sample-umap":
                for a in range(0, len(rest), TRANSFORM_BLOCK):
                    say(f"placing points {a + 1}-{min(a + TRANSFORM_BLOCK, len(rest))} of {len(rest)} into the map")
                    block = rest[a:a + TRANSFORM_BLOCK]
                    coords[block] = reducer.transform(reduced[block])
            else:
                say(f"placing the other {len(rest)} points by their {K_PLACE} nearest sampled neighbours")
                with threadpool_limits(limits=2, user_api="blas"):
                    coords[rest] = knn_place(reduced[rest], reduced[fit_idx], coords[fit_idx])
            times["transform"] = time.perf_counter() - t
            fit_n = fit_sample
    report = {"strategy": used, "n": n, "fit_n": fit_n, "pca_dims": reduced.shape[1],
              "seconds": {k: round(v, 2) for k, v in times.items()}}
    return np.asarray(coords, np.float32), report


def knn_place(x: np.ndarray, fitted: np.ndarray, fitted_coords: np.ndarray, k: int = K_PLACE) -> np.ndarray:
    """2D positions for rows of x: the mean of their k nearest fitted points' positions, weighted by
    1 / (distance + the nearest distance), so an exact duplicate lands on its twin."""
    import torch  # its topk is ~5x quicker than numpy's argpartition on these (2048 x 20k) blocks

    f = torch.from_numpy(np.ascontiguousarray(fitted, np.float32))
    half_sq = 0.5 * (f ** 2).sum(dim=1)
    fc = torch.from_numpy(np.ascontiguousarray(fitted_coords, np.float32))
    out = np.empty((len(x), 2), np.float32)
    k = min(k, len(fitted))
    with torch.inference_mode():
        for a in range(0, len(x), PLACE_BLOCK):
            block = torch.from_numpy(np.ascontiguousarray(x[a:a + PLACE_BLOCK], np.float32))
            # nearest = largest x.f - |f|^2/2 (|x|^2 is the same along a row)
            score, near = torch.topk(block @ f.T - half_sq, k, dim=1)
            dist = ((block ** 2).sum(dim=1, keepdim=True) - 2 * score).clamp_min(0).sqrt()
            w = 1.0 / (dist + dist.min(dim=1, keepdim=True).values + 1e-6)
            w = w / w.sum(dim=1, keepdim=True)
            out[a:a + PLACE_BLOCK] = torch.einsum("nk,nkd->nd", w, fc[near]).numpy()
    return out


def trustworthiness(x: np.ndarray, coords: np.ndarray, sample: int = TRUST_SAMPLE, seed: int = 1,
                    indices: np.ndarray | None = None) -> float:
    """sklearn's trustworthiness (cosine in the original space) on a random subset of points."""
    from sklearn.manifold import trustworthiness as tw

    if indices is None:
        rng = np.random.default_rng(seed)
        indices = np.sort(rng.choice(len(x), min(sample, len(x)), replace=False))
    k = min(TRUST_NEIGHBOURS, len(indices) // 2 - 1)
    if k < 1:
        return float("nan")
    return float(tw(np.asarray(x[indices], np.float32), coords[indices], n_neighbors=k, metric="cosine"))


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def load_cached(c: Collection) -> tuple[np.ndarray, dict] | None:
    folder = cache_dir(c)
    coords_path, report_path = folder / "umap2d.npy", folder / "umap2d.json"
    if not (coords_path.exists() and report_path.exists()):
        return None
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        coords = np.load(coords_path)
    except (OSError, ValueError):
        return None
    if report.get("fingerprint") != fingerprint(c) or coords.shape != (c.count, 2):
        return None
    return coords, {**report, "cached": True}


def collection_projection(c: Collection, strategy: str = "auto", seed: int = 0,
                          progress: Callable[[str], None] | None = None) -> tuple[np.ndarray, dict]:
    """The collection's map: from the cache, or computed now (once, even with concurrent callers)."""
    with _lock_for(str(c.root)):  # a second visitor waits for the first one's projection, then reads it
        hit = load_cached(c)
        if hit is not None:
            return hit
        t = time.perf_counter()
        x = c.vectors
        coords, report = project(x, strategy, seed=seed, progress=progress)
        report["trustworthiness"] = round(trustworthiness(x, coords), 4)
        report["trust_sample"] = min(TRUST_SAMPLE, len(x))
        report["total_seconds"] = round(time.perf_counter() - t, 2)
        report["fingerprint"] = fingerprint(c)
        folder = cache_dir(c)
        atomic_write(folder / "umap2d.npy", lambda p: save_npy(p, coords))
        atomic_write(folder / "umap2d.json", lambda p: p.write_text(json.dumps(report, indent=1), encoding="utf-8"))
        return coords, {**report, "cached": False}
