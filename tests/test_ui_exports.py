"""The export box: what a tab hands it becomes files that load back (and the zero-shot tab uses it)."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
import pytest

from clipdemo.core.registry import ModelRegistry
from clipdemo.serve.exports import read_session
from clipdemo.serve.service import ClipService
from clipdemo.ui import exports as ex
from clipdemo.ui.context import UIContext
from clipdemo.ui.zeroshot import layout as zeroshot_tab

TOY = sorted((Path(__file__).resolve().parent.parent / "assets" / "toy").glob("*.png"))[0]


def test_payload_becomes_files_that_load_back(tmp_path, bundled_encoder):
    registry = ModelRegistry("bundled")
    registry.add("bundled", bundled_encoder.loaded)
    model = ClipService(registry).describe()  # plain numbers: the view never holds the model
    fig = go.Figure(go.Bar(x=[0.9, 0.1], y=["a", "b"], orientation="h"))
    records = [{"label": "a", "p": 0.9}, {"label": "b", "p": 0.1}]
    data = ex.payload("my view", figures={"chart": fig}, tables={"scores": records},
                      session=ex.session(model, "my view", "bundled", {"k": 2}, ["a", "b"], seed=3))
    files = [Path(f) for f in ex.write_files(data, tmp_path)]
    assert [f.name for f in files] == ["my-view-chart.html", "my-view-scores.csv", "my-view-scores.json",
                                       "my-view-session.json"]
    assert "<html" in files[0].read_text(encoding="utf-8")
    assert pd.read_csv(files[1]).to_dict("records") == records
    assert json.loads(files[2].read_text())["records"] == records
    session = read_session(files[3])
    assert session["seed"] == 3 and session["labels"] == ["a", "b"] and session["model"] == "bundled"
    assert session["model_info"] == model.session_info() and session["model_info"]["family"] == "clip"


def test_nothing_to_export_is_refused(tmp_path):
    with pytest.raises(ValueError):
        ex.write_files(None, tmp_path)
    with pytest.raises(ValueError):
        ex.write_files(ex.payload("v"), tmp_path)


def test_export_box_builds():
    with gr.Blocks() as demo:
        state = ex.export_box("zero_shot")
    assert isinstance(state, gr.State)
    assert any(c.get("props", {}).get("elem_id") == "export-zero_shot" for c in demo.get_config_file()["components"])


def test_zero_shot_tab_hands_its_result_to_the_export_box(tmp_path):
    ctx = UIContext(ModelRegistry("bundled", device="cpu", dtype="fp32"))
    labels = "red circle, blue square, yellow star"
    confidences, fig, _, _, _, data = zeroshot_tab.classify(ctx, str(TOY), labels, "imagenet7", "bundled")
    files = {Path(f).suffix + Path(f).stem.split("-")[-1]: f for f in ex.write_files(data, tmp_path)}
    table = pd.read_csv(files[".csvscores"])
    assert sorted(table["label"]) == sorted(confidences) and list(table["image"].unique()) == [TOY.name]
    top = table.sort_values("rank").iloc[0]
    assert top["probability"] == pytest.approx(max(confidences.values()), rel=1e-6)
    session = read_session(files[".jsonsession"])
    assert session["labels"] == ["red circle", "blue square", "yellow star"] and len(session["templates"]) == 7
    assert session["model"] == "bundled" and session["settings"]["template"] == "imagenet7"


def test_every_export_string_has_both_languages():
    assert set(ex.STRINGS["en"]) == set(ex.STRINGS["zh-CN"])


def test_png_ready_keeps_the_camera_in_the_toolbar():
    fig = ex.png_ready(go.Figure(go.Bar(x=[1], y=["a"])))
    removed = set(fig.layout.modebar.remove)
    assert {"zoom", "pan", "zoomIn"} <= removed and "toImage" not in removed
    assert "toImage" not in fig.to_dict()["layout"]["modebar"]["remove"]  # survives serialisation to the browser
