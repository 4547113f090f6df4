"""The header: what the picker offers, what the status line says, switching and its failures."""

from __future__ import annotations

import json
import shutil

import gradio as gr
import pytest

from clipdemo.core.loading import BUNDLED, KNOWN_MODELS
from clipdemo.core.registry import ModelRegistry
from clipdemo.ui import header
from clipdemo.ui.context import UIContext


@pytest.fixture
def second_dir(tiny_clip_dir, tmp_path):
    """A second local checkpoint, downloaded-style (it knows which hub repo it came from)."""
    folder = tmp_path / "openai--clip-vit-base-patch32"
    shutil.copytree(tiny_clip_dir, folder)
    (folder / "clipdemo-source.json").write_text(json.dumps({"repo_id": "openai/clip-vit-base-patch32"}))
    return folder


@pytest.fixture
def ctx(second_dir, tiny_clip_dir):
    registry = ModelRegistry(BUNDLED, device="cpu", dtype="fp32", max_models=2,
                             allowed_folders=(str(second_dir), str(tiny_clip_dir)))
    return UIContext(registry)


def test_picker_offers_bundled_hub_ids_and_allowed_folders(ctx, second_dir, tiny_clip_dir):
    offered = dict((value, label) for label, value in header.choices(ctx))
    assert list(offered)[0] == BUNDLED
    assert set(KNOWN_MODELS) <= set(offered)
    assert str(second_dir.resolve()) in offered and str(tiny_clip_dir.resolve()) in offered
    assert offered[BUNDLED].startswith("●")  # not ✓: Gradio marks the chosen option with its own ✓
    # offline (the tests' setting) a hub id that is not cached cannot be had: say so before anyone picks it
    assert offered["openai/clip-vit-large-patch14"].startswith("✗")
    assert "OpenAI CLIP ViT-B/32" in offered[str(second_dir.resolve())]  # a downloaded folder keeps its name
    assert "(local folder)" in offered[str(tiny_clip_dir.resolve())]


def test_status_names_model_device_dtype_size_and_scoring(ctx):
    text = header.status_markdown(ctx, BUNDLED)
    for part in ("clipdemo toy CLIP", "device **cpu**", "dtype **fp32**", "M parameters", "MB in memory",
                 "softmax over labels, logit scale s = ", "in memory: `clipdemo toy CLIP (bundled)`"):
        assert part in text, part
    chinese = header.status_markdown(ctx, BUNDLED, "zh-CN")
    assert "当前模型" in chinese and "设备 **cpu**" in chinese and "Active model" not in chinese


def test_sigmoid_models_say_so(tmp_path):
    from test_loading import build_tiny_siglip

    folder = str(build_tiny_siglip(tmp_path / "siglip"))
    ctx = UIContext(ModelRegistry(folder, device="cpu", dtype="fp32"))
    assert "sigmoid per label" in header.status_markdown(ctx, folder)
    bundled_note, sigmoid_note, chinese_note = header.notes_visibility(ctx, folder)
    assert sigmoid_note["visible"] and not bundled_note["visible"] and not chinese_note["visible"]


def test_switching_loads_and_keeps_at_most_max_models(ctx, second_dir, tiny_clip_dir):
    name, picker, status, bundled_note, sigmoid_note, _, summary = header.switch_model(
        ctx, str(second_dir.resolve()), BUNDLED)
    assert name == str(second_dir.resolve()) and picker["value"] == name
    assert "OpenAI CLIP ViT-B/32" in status and not bundled_note["visible"] and not sigmoid_note["visible"]
    assert "OpenAI CLIP ViT-B/32" in summary and "softmax" in summary and "dtype" not in summary  # one line
    header.switch_model(ctx, str(tiny_clip_dir.resolve()), name)
    assert len(ctx.registry.loaded_names()) == 2  # --max-models 2: the oldest one was let go
    assert BUNDLED not in ctx.registry.loaded_names()
    name, *_ = header.switch_model(ctx, BUNDLED, str(tiny_clip_dir.resolve()))
    assert name == BUNDLED  # and it loads again on demand


def test_a_failed_switch_stays_on_the_current_model_and_warns(ctx, monkeypatch):
    warnings = []
    monkeypatch.setattr(gr, "Warning", lambda message, **kw: warnings.append(message))
    name, picker, status, *_ = header.switch_model(ctx, "openai/clip-vit-large-patch14", BUNDLED)
    assert name == BUNDLED and picker["value"] == BUNDLED and "clipdemo toy CLIP" in status
    assert warnings and "python -m clipdemo download" in warnings[0]
    name, *_ = header.switch_model(ctx, "/etc", BUNDLED)  # not on the allow-list: refused, not loaded
    assert name == BUNDLED and "--allow-folder" in warnings[-1]


def test_header_builds_inside_blocks(ctx):
    with gr.Blocks() as demo:
        header.build(ctx, gr.State(BUNDLED))
    config = demo.get_config_file()
    picker = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "model-picker")
    assert picker["props"]["value"] == BUNDLED
    assert any(d.get("api_name") == "switch_model" for d in config["dependencies"])


def test_every_header_string_has_both_languages():
    assert set(header.STRINGS["en"]) == set(header.STRINGS["zh-CN"])
    assert all(header.STRINGS["zh-CN"].values())
