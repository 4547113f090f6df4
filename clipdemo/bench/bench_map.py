"""Speed bars of the embedding map, measured (never asserted): python -m clipdemo.bench.bench_map

With --sizes 1000,10000,100000 it measures collections instead (clipdemo.bench.collection_bench).

Steps, in the order a visitor meets them on a warm app (model loaded, UMAP warm-up done):
the first UMAP request (300 points, then the full 300-image map with captions), 300 gallery
images embedded and projected end to end with empty caches, and re-projection with new UMAP
settings, which must reuse the embeddings (0 images encoded). The machine's load average is
printed alongside: on a shared CPU every number scales with it.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

from clipdemo.core import projection
from clipdemo.data import embedding_map as em
from clipdemo.data import gallery


@dataclass
class Row:
    step: str
    seconds: float
    bar: float | None = None  # the limit in seconds, where there is one
    detail: str = ""
    cpu: float | None = None  # CPU seconds of this process (all threads): less sensitive to a busy machine

    @property
    def ok(self) -> bool | None:
        return None if self.bar is None else self.seconds <= self.bar


def _timed(fn) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - start, time.process_time() - cpu


def run_map_benchmark(model: str = "bundled", n_images: int = 300, device: str = "cpu", dtype: str = "fp32",
                      verbose: bool = True) -> list[Row]:
    # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    rows: list[Row] = []
    loaded, s, cpu = _timed(lambda: load_model(model, device, dtype))
    rows.append(Row("load the model (app start-up)", s, detail=loaded.describe(), cpu=cpu))
    warm, s, cpu = _timed(projection.warm_up)
    rows.append(Row("UMAP warm-up: import + numba JIT (start-up, background)", s, cpu=cpu))
    toy, s, cpu = _timed(lambda: gallery.toy_gallery(n_images))
    rows.append(Row(f"toy gallery of {n_images} ready (start-up; disk cache after the first run)", s, cpu=cpu))

    # The first real fits after the warm-up.
    encoder = Encoder(loaded)
    data = em.build_map_data(encoder, toy)
    proj, s, cpu = _timed(lambda: projection.project(data.image_emb, "umap", 2))
    rows.append(Row(f"first UMAP request after warm-up, {n_images} points", s, 3.0, f"method={proj.method}", cpu=cpu))
    proj, s, cpu = _timed(lambda: em.project_map(data, "umap", 2))
    rows.append(Row(f"first full map: UMAP of {data.n_points} points ({n_images} images + captions)", s, 3.0, cpu=cpu))

    # End to end with cold caches: a fresh encoder (empty caches) and a fresh projection cache.
    encoder = Encoder(loaded)
    em.clear_projection_cache()

    def end_to_end():
        g = gallery.toy_gallery(n_images)
        d = em.build_map_data(encoder, g)
        return d, em.project_map(d, "umap", 2)

    (data, proj), s, cpu = _timed(end_to_end)
    rows.append(Row(f"{n_images} gallery images embedded + UMAP 2D, end to end (warm app, cold caches)", s, 15.0,
                    f"{encoder.image_cache.misses} images encoded, {data.n_points} points", cpu=cpu))

    misses = encoder.image_cache.misses, encoder.text_cache.misses

    def reproject():
        d = em.build_map_data(encoder, gallery.toy_gallery(n_images))  # what the tab's Draw button does again
        return em.project_map(d, "umap", 2, n_neighbors=30, min_dist=0.5)

    proj, s, cpu = _timed(reproject)
    encoded = (encoder.image_cache.misses - misses[0], encoder.text_cache.misses - misses[1])
    rows.append(Row("re-projection with new UMAP settings (n_neighbors 30, min_dist 0.5)", s, None,
                    f"re-encoded: {encoded[0]} images, {encoded[1]} texts", cpu=cpu))
    proj, s, cpu = _timed(lambda: em.project_map(data, "umap", 3))
    rows.append(Row("UMAP 3D of the same map", s, cpu=cpu))
    proj, s, cpu = _timed(lambda: em.project_map(data, "pca", 2))
    rows.append(Row("PCA 2D of the same map", s, cpu=cpu))
    proj, s, cpu = _timed(lambda: em.project_map(data, "tsne", 2))
    rows.append(Row("t-SNE 2D of the same map", s, cpu=cpu))
    if verbose:
        print_table(rows)
    return rows


def print_table(rows: list[Row]) -> None:
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"embedding-map benchmark · {os.cpu_count()} CPUs · load average (1/5/15 min) {load}")
    width = max(len(r.step) for r in rows)
    print(f"{'step'.ljust(width)}  {'seconds':>8}  {'cpu s':>7}  {'bar':>5}  ok    detail")
    for r in rows:
        bar = f"≤{r.bar:.0f}" if r.bar is not None else ""
        ok = {True: "yes", False: "NO", None: ""}[r.ok]
        cpu = f"{r.cpu:7.2f}" if r.cpu is not None else " " * 7
        print(f"{r.step.ljust(width)}  {r.seconds:8.2f}  {cpu}  {bar:>5}  {ok:<4}  {r.detail}")


def main(argv=None) -> None:
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a == "--sizes" or a.startswith("--sizes=") for a in argv):  # collections of 1k-1M points
        # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
        from clipdemo.bench import collection_bench as bench

        return bench.main(argv)
    p = argparse.ArgumentParser(prog="python -m clipdemo.bench.bench_map", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="bundled")
    p.add_argument("--images", type=int, default=300)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32")
    args = p.parse_args(argv)
    run_map_benchmark(args.model, args.images, args.device, args.dtype)


if __name__ == "__main__":
    main()
