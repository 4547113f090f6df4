"""The map benchmark runs end to end and reports every step (PCA stands in for UMAP to keep numba out)."""

from __future__ import annotations

import time

from clipdemo.tools import bench_map

from clipdemo import projection, settings


def test_benchmark_rows_and_table(tiny_clip_dir, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(settings, "CACHE_DIR", tmp_path)
    real_project = projection.project
    monkeypatch.setattr(projection, "project", lambda x, method="umap", dims=2, *a, **k: real_project(x, "pca", dims))
    monkeypatch.setattr(projection, "warm_up", lambda: 0.0)
    started = time.perf_counter()
    rows = bench_map.run_map_benchmark(str(tiny_clip_dir), n_images=10)
    wall = time.perf_counter() - started
    steps = [r.step for r in rows]
    assert any("end to end" in s for s in steps) and any("re-projection" in s for s in steps)
    end_to_end = next(r for r in rows if "end to end" in r.step)
    assert end_to_end.bar == 15.0 and "10 images encoded" in end_to_end.detail
    assert 0.0 < end_to_end.seconds <= wall  # a time measured inside this run, not a constant
    reprojection = next(r for r in rows if "re-projection" in r.step)
    assert "re-encoded: 0 images, 0 texts" in reprojection.detail
    assert all(r.cpu is not None and r.cpu >= 0 for r in rows)
    out = capsys.readouterr().out
    assert "load average" in out and "end to end" in out and out.count("\n") == len(rows) + 2


def test_row_ok_compares_with_the_bar():
    assert bench_map.Row("a", 2.0, 3.0).ok is True
    assert bench_map.Row("a", 4.0, 3.0).ok is False
    assert bench_map.Row("a", 4.0).ok is None
