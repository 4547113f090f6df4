"""`python -m clipdemo bench_map --sizes ...` measures every column for every size and prints one table."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from clipdemo.bench import bench_map
from clipdemo.bench import collection_bench as bench
from clipdemo.data.collection import mapping


def test_bench_rows_for_each_size(tiny_clip_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mapping, "project", lambda x, strategy="auto", seed=0, progress=None, **kw: (
        np.asarray(x[:, :2], np.float32), {"strategy": "full", "n": len(x), "fit_n": len(x), "seconds": {}}))
    browser = shutil.which("chromium") is not None
    head, rows = bench.run([40, 90], str(tiny_clip_dir), str(tmp_path), n_real=12, ray=False, browser=browser)
    assert [r.n for r in rows] == [40, 90]
    assert any("local engine" in step and "img/s" in value for step, value in head)
    for r in rows:
        v = r.values
        assert v["first projection s"] > 0 and v["cached reopen s"] > 0 and v["payload MB"] > 0
        assert v["search ms (encode+exact)"] > 0 and v["exact search ms"] > 0 and v["peak RSS MB"] > 10
        if browser:
            assert v["first paint ms"] > 0
    # coordinates travel as base64 typed arrays (~11 bytes a point), not as decimal text (~36)
    assert (rows[1].values["payload MB"] - rows[0].values["payload MB"]) * 2**20 / 50 < 20
    out = capsys.readouterr().out
    assert "collection benchmark" in out and "first projection s" in out and "90" in out


def test_bench_map_hands_sizes_to_the_collection_benchmark(monkeypatch):
    seen = []
    monkeypatch.setattr(bench, "run", lambda sizes, *a, **k: seen.append(sizes))
    bench_map.main(["--sizes", "10,20", "--no-ray", "--no-browser"])
    assert seen == [[10, 20]]
    with pytest.raises(SystemExit):
        bench_map.main(["--sizes"])
