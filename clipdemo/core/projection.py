"""Project joint embeddings to 2D/3D (UMAP, PCA, t-SNE) and measure the modality gap.

Embeddings arrive L2-normalised, so cosine distance is 1 - dot product. UMAP gets that distance
matrix precomputed (exact, fast for the few thousand points a map holds, and it skips umap's
per-pair Python calls). umap-learn spends 12-15 s compiling numba code on its first fit in a
process; `warm_up()` pays that once, off the request path (app.py runs it once the server is up),
and every later fit waits for it instead of compiling a second time in parallel.
Inputs too small for a neighbour graph (1-4 points) fall back to PCA with a notice.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from clipdemo.errors import InputError

METHODS = ("umap", "pca", "tsne")
MIN_POINTS_FOR_UMAP = 5  # fewer points cannot form a neighbour graph worth drawing
MIN_POINTS_FOR_TSNE = 5
TSNE_ITERATIONS = 500  # sklearn's minimum is 250; 1000 (its default) doubles the wait for little change


@dataclass
class Projection:
    coords: np.ndarray  # (n, dims) float32
    method: str  # the method actually used (may differ from the one asked for)
    dims: int
    seconds: float = 0.0
    notices: list[str] = field(default_factory=list)
    cached: bool = False  # True when handed back from a cache instead of computed now


# ---------------------------------------------------------------- the individual methods


def pca(x: np.ndarray, dims: int) -> np.ndarray:
    """scikit-learn's PCA; zero columns where there are fewer axes than dims (1-2 points). Each axis's sign is
    fixed (its largest coordinate positive), so the same data always gives the same picture."""
    from sklearn.decomposition import PCA

    x = np.asarray(x, np.float64)
    out = np.zeros((len(x), dims))
    k = min(dims, len(x) - 1, x.shape[1]) if len(x) > 1 else 0
    if k > 0:
        out[:, :k] = PCA(n_components=k, svd_solver="full").fit_transform(x)
        signs = np.sign(out[np.argmax(np.abs(out), axis=0), np.arange(dims)])
        out *= np.where(signs == 0, 1, signs)
    return out.astype(np.float32)


def cosine_distances(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = x / np.where(norms == 0, 1, norms)
    d = 1.0 - unit @ unit.T
    np.fill_diagonal(d, 0.0)
    return np.clip(d, 0.0, 2.0)


_UMAP_LOCK = threading.Lock()  # one fit at a time: the first compiles, the others wait and reuse it
_warm = threading.Event()


def _umap_fit(x: np.ndarray, dims: int, n_neighbors: int, min_dist: float, seed: int) -> np.ndarray:
    import umap  # imported late: importing umap-learn alone costs a few seconds

    dist = cosine_distances(x)
    reducer = umap.UMAP(n_components=dims, n_neighbors=n_neighbors, min_dist=min_dist, metric="precomputed",
                        random_state=seed, init="spectral")
    with warnings.catch_warnings():
        # "n_jobs overridden by random_state" and "using precomputed metric": expected, not for the user
        warnings.simplefilter("ignore")
        with _UMAP_LOCK:
            return np.asarray(reducer.fit_transform(dist), np.float32)


def umap_project(x: np.ndarray, dims: int, n_neighbors: int = 15, min_dist: float = 0.1,
                 seed: int = 0) -> tuple[np.ndarray, list[str]]:
    notices = []
    n = len(x)
    k = int(np.clip(n_neighbors, 2, n - 1))
    if k != n_neighbors:
        notices.append(f"n_neighbors={n_neighbors} is too many for {n} points; used {k}")
    min_dist = float(np.clip(min_dist, 0.0, 0.99))
    return _umap_fit(x, dims, k, min_dist, seed), notices


def tsne_project(x: np.ndarray, dims: int, perplexity: float = 30.0, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    from sklearn.manifold import TSNE

    notices = []
    n = len(x)
    p = float(min(perplexity, max(1.0, (n - 1) / 3)))  # t-SNE needs perplexity well below n
    if p != perplexity:
        notices.append(f"t-SNE perplexity lowered to {p:.1f} for {n} points")
    # Barnes-Hut is slow in 3D; the exact gradient is quicker there for the few hundred points of a map.
    exact = dims == 3 and n <= 1000
    tsne = TSNE(n_components=dims, perplexity=p, metric="precomputed", init="random", random_state=seed,
                max_iter=TSNE_ITERATIONS, method="exact" if exact else "barnes_hut")
    coords = tsne.fit_transform(cosine_distances(x).astype(np.float64))
    return np.asarray(coords, np.float32), notices


# ---------------------------------------------------------------- the one entry point


def project(x: np.ndarray, method: str = "umap", dims: int = 2, n_neighbors: int = 15, min_dist: float = 0.1,
            perplexity: float = 30.0, seed: int = 0) -> Projection:
    """Rows of `x` -> (n, dims) coordinates, by `method`; tiny inputs fall back to PCA with a notice."""
    # One BLAS thread: these matrices are small, and on a busy CPU a multi-threaded OpenBLAS call waits
    # for a descheduled partner thread (a 50 ms SVD was measured at 3-5 s next to torch).
    with threadpool_limits(limits=1, user_api="blas"):
        return _project(x, method, dims, n_neighbors, min_dist, perplexity, seed)


def _project(x, method, dims, n_neighbors, min_dist, perplexity, seed) -> Projection:
    if method not in METHODS:
        raise InputError(f"Unknown projection {method!r}; choose one of {', '.join(METHODS)}.")
    if dims not in (2, 3):
        raise InputError(f"A map has 2 or 3 dimensions, not {dims}.")
    x = np.asarray(x, np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise InputError("Nothing to project: add some images or texts first.")
    if not np.isfinite(x).all():
        raise ValueError("Some embeddings are not finite numbers; the model output is broken.")
    start = time.perf_counter()
    notices: list[str] = []
    used = method
    minimum = {"umap": MIN_POINTS_FOR_UMAP, "tsne": MIN_POINTS_FOR_TSNE}.get(method, 0)
    if len(x) < minimum:
        notices.append(f"only {len(x)} point(s): {method.upper()} needs at least {minimum}, so PCA is shown")
        used = "pca"
    if used == "umap":
        coords, extra = umap_project(x, dims, n_neighbors, min_dist, seed)
    elif used == "tsne":
        coords, extra = tsne_project(x, dims, perplexity, seed)
    else:
        coords, extra = pca(x, dims), []
    return Projection(coords, used, dims, time.perf_counter() - start, notices + extra)


# ---------------------------------------------------------------- the numba warm-up


def warm_up(n_points: int = 64, dim: int = 16) -> float:
    """Run one small UMAP fit of each kind the app makes, so numba compiles now and not on a request.

    Returns the seconds it took (0 when already warm). Safe to call from several threads.
    """
    if _warm.is_set():
        return 0.0
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n_points, dim)).astype(np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        for dims in (2, 3):
            _umap_fit(x, dims, n_neighbors=10, min_dist=0.1, seed=0)
    seconds = time.perf_counter() - start
    _warm.set()
    return seconds


def is_warm() -> bool:
    return _warm.is_set()


# ---------------------------------------------------------------- the modality gap


@dataclass
class ModalityGap:
    centroid_distance: float  # |mean(image) - mean(text)|, both clouds of unit vectors
    paired_cosine: float | None  # mean cosine of each image with its own caption
    unpaired_cosine: float | None  # mean cosine of each image with the other captions
    image_spread: float  # mean distance of image points to their centroid
    text_spread: float

    def as_dict(self) -> dict:
        return {k: (None if v is None else round(float(v), 4)) for k, v in self.__dict__.items()}


def modality_gap(image_emb: np.ndarray, text_emb: np.ndarray, pairs: list[tuple[int, int]] | None = None) -> ModalityGap:
    """How far apart the image cloud and the text cloud lie, and how much pairing matters.

    pairs: (image index, text index) for each image that has a caption. A caption shared by
    several images (same text) counts as theirs: it is left out of those images' unpaired mean.
    """
    img = np.asarray(image_emb, np.float64)
    txt = np.asarray(text_emb, np.float64)
    if len(img) == 0 or len(txt) == 0:
        raise ValueError("The modality gap needs at least one image and one text.")
    ci, ct = img.mean(axis=0), txt.mean(axis=0)
    gap = float(np.linalg.norm(ci - ct))
    spread_i = float(np.linalg.norm(img - ci, axis=1).mean())
    spread_t = float(np.linalg.norm(txt - ct, axis=1).mean())
    paired = unpaired = None
    if pairs:
        cos = img @ txt.T
        own = np.zeros_like(cos, dtype=bool)
        for i, j in pairs:
            own[i, j] = True
        rows = sorted({i for i, _ in pairs})
        paired = float(cos[own].mean())
        others = ~own[rows]
        if others.any():
            unpaired = float(cos[rows][others].mean())
    return ModalityGap(gap, paired, unpaired, spread_i, spread_t)
