"""Exported files load back: session JSON, CSV/JSON tables, figure HTML (and PNG where kaleido works)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image

from clipdemo.core.zeroshot import zero_shot
from clipdemo.serve import exports


@pytest.fixture(scope="module")
def result(bundled_encoder):
    images = [Image.new("RGB", (64, 64), c) for c in ("red", "blue")]
    return zero_shot(bundled_encoder, images, "red circle, blue square, 绿色三角形", "imagenet7")


@pytest.fixture(scope="module")
def service(bundled_encoder):
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService

    registry = ModelRegistry("bundled")
    registry.add("bundled", bundled_encoder.loaded)
    return ClipService(registry)


@pytest.fixture(scope="module")
def service_batch(service, tmp_path_factory):
    folder = tmp_path_factory.mktemp("zs")
    paths = []
    for colour in ("red", "blue"):
        Image.new("RGB", (64, 64), colour).save(folder / f"{colour}.png")
        paths.append(folder / f"{colour}.png")
    return service.zero_shot_batch(paths, "red circle, blue square, 绿色三角形", "imagenet7")


def test_session_round_trip(tmp_path, result, service):
    record = exports.session_record("zero_shot", "bundled", {"top_k": 5, "template": "imagenet7"}, result.labels,
                                    result.templates, seed=7, model_info=service.describe().session_info(),
                                    images=["a.png"])
    back = exports.read_session(exports.write_session(tmp_path / "s" / "session.json", record))
    assert back == json.loads(json.dumps(record))
    assert back["model"] == "bundled" and back["seed"] == 7 and back["labels"][2] == "绿色三角形"
    assert back["templates"] == result.templates and back["settings"]["top_k"] == 5
    assert back["model_info"]["scores"] == "softmax" and back["model_info"]["family"] == "clip"
    assert "绿色三角形" in (tmp_path / "s" / "session.json").read_text(encoding="utf-8")  # readable, not \\u-escaped


def test_read_session_refuses_other_files(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"labels": ["a"]}')
    with pytest.raises(ValueError, match="not a clipdemo session"):
        exports.read_session(other)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{nope")
    with pytest.raises(ValueError, match="not a readable session"):
        exports.read_session(garbage)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": exports.SESSION_FORMAT, "version": 99}))
    with pytest.raises(ValueError, match="newer clipdemo"):
        exports.read_session(newer)


@pytest.mark.parametrize("content, code", [
    (b"{nope", "unreadable"), (b"\xff\xfe\x00binary", "unreadable"), (b"[1, 2]", "not_session"),
    (b'{"format": "clipdemo-session", "version": "1"}', "not_session"),
    (b'{"format": "clipdemo-session", "version": 2}', "newer")])
def test_session_errors_say_why_with_a_code(tmp_path, content, code):
    path = tmp_path / "s.json"
    path.write_bytes(content)
    with pytest.raises(exports.SessionError) as err:
        exports.read_session(path)
    assert err.value.code == code and isinstance(err.value, ValueError)  # callers catching ValueError still work
    with pytest.raises(exports.SessionError, match="not a readable"):
        exports.read_session(tmp_path / "missing.json")


def test_zero_shot_table_as_csv_and_json(tmp_path, service_batch):
    records = [row for res in service_batch.results for row in res.rows()]
    assert len(records) == 6 and [r["rank"] for r in records[:3]] == [1, 2, 3]
    frame = pd.read_csv(exports.write_records_csv(tmp_path / "zs.csv", records))
    assert list(frame.columns) == ["image", "rank", "label", "probability", "cosine"]
    red = frame[frame["image"] == "red.png"].set_index("label")
    first = service_batch.results[0]
    assert list(red.index) == first.labels and red["probability"].is_monotonic_decreasing
    for label, p, c in zip(first.labels, first.probabilities, first.cosine, strict=True):
        assert red.loc[label, "probability"] == pytest.approx(p, rel=1e-6)
        assert red.loc[label, "cosine"] == pytest.approx(c, rel=1e-6)
    loaded = json.loads(exports.write_records_json(tmp_path / "zs.json", records, {"model": "bundled"}).read_text())
    assert loaded["meta"] == {"model": "bundled"} and loaded["records"] == json.loads(json.dumps(records))


def test_csv_columns_are_the_union_of_keys(tmp_path):
    frame = pd.read_csv(exports.write_records_csv(tmp_path / "t.csv", [{"a": 1}, {"b": np.float32(2.5), "a": 3}]))
    assert list(frame.columns) == ["a", "b"] and frame["b"].iloc[1] == 2.5 and pd.isna(frame["b"].iloc[0])


def test_json_writer_handles_numpy(tmp_path):
    path = exports.write_records_json(tmp_path / "n.json", [{"v": np.float32(0.5), "m": np.eye(2)}])
    assert json.loads(path.read_text())["records"][0] == {"v": 0.5, "m": [[1.0, 0.0], [0.0, 1.0]]}


def _figure() -> go.Figure:
    return go.Figure(go.Bar(x=[0.7, 0.2, 0.1], y=["red circle", "blue square", "绿色三角形"], orientation="h"))


def test_figure_html_is_self_contained(tmp_path):
    html = exports.write_figure_html(_figure(), tmp_path / "fig.html").read_text(encoding="utf-8")
    assert "<html" in html and "red circle" in html and "绿色三角形" in html
    assert not re.search(r"<script[^>]*src=", html)  # no script fetched from the net: opens offline
    assert len(html) > 1_000_000  # because plotly.js itself is inlined


def test_figure_png_when_kaleido_can_render(tmp_path):
    path = exports.write_figure_png(_figure(), tmp_path / "fig.png", scale=1)
    if path is None:
        pytest.skip("kaleido or a Chrome it can drive is not installed here: PNG export is optional")
    with Image.open(path) as png:
        assert png.format == "PNG" and png.size[0] >= 300


def test_png_export_reports_missing_kaleido(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_kaleido(name, *args, **kwargs):
        if name == "kaleido":
            raise ImportError("no kaleido")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_kaleido)
    assert exports.write_figure_png(_figure(), tmp_path / "fig.png") is None
    assert not (tmp_path / "fig.png").exists()


def test_embeddings_write_and_load_back(tmp_path):
    emb = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    files = exports.write_embeddings(tmp_path, ["a.png", "b.png", "c.png"], emb, {"width": [1, 2, 3]},
                                     meta={"model": "x"})
    table = pd.read_parquet(files["parquet"])
    assert list(table["name"]) == ["a.png", "b.png", "c.png"] and list(table["width"]) == [1, 2, 3]
    np.testing.assert_array_equal(np.load(files["npy"]), emb)
    np.testing.assert_array_equal(np.stack(table["embedding"].to_numpy()), emb)
    assert json.loads(files["meta"].read_text()) == {"rows": 3, "dim": 8, "normalised": True, "model": "x"}
    with pytest.raises(ValueError, match="2 names"):
        exports.write_embeddings(tmp_path, ["a", "b"], emb)
