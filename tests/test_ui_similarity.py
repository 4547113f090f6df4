"""The Similarity tab's functions (what its events and API endpoints call), on a tiny random CLIP."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from clipdemo.core.registry import ModelRegistry
from clipdemo.ui import overlay
from clipdemo.ui.context import UIContext
from clipdemo.ui.similarity import layout as st


@pytest.fixture(scope="module")
def ctx(tiny_clip_dir):
    return UIContext(ModelRegistry(str(tiny_clip_dir), device="cpu", dtype="fp32"))


@pytest.fixture(scope="module")
def batch():
    return st.toy_batch(4, seed=7)


@pytest.fixture(scope="module")
def built(ctx, batch):
    return st.compute_matrix(ctx, *batch)


def test_toy_batch_is_paired(batch):
    files, texts = batch
    assert len(files) == 4 and len(texts.splitlines()) == 4
    assert all(Image.open(f).size == (224, 224) for f in files)
    assert st.toy_batch(2, seed=7)[1].splitlines() == texts.splitlines()[:2]  # deterministic per seed


def test_matrix_api_returns_the_numbers(ctx, batch, built):
    numbers, notes, state, temperature, pair_image, pair_text = built
    files, texts = batch
    assert numbers["images"] == [f"toy_{i}.png" for i in range(1, 5)]
    assert numbers["texts"] == texts.splitlines()
    enc = ctx.service.encoder()
    imgs = [Image.open(f).convert("RGB") for f in files]
    direct = enc.encode_images(imgs) @ enc.encode_texts(texts.splitlines()).T
    np.testing.assert_allclose(np.array(numbers["cosine"]), direct, atol=1e-4)
    assert numbers["paired"] is True
    assert temperature["value"] == pytest.approx(enc.loaded.logit_scale, abs=0.01)
    assert pair_image["choices"] and pair_text["value"] == texts.splitlines()[0]


def test_paired_render_marks_the_diagonal_and_reports_losses(built):
    state = built[2]
    fig, note, table = st.render_matrix(state, "softmax_texts", 20.0)
    heat = fig.data[0]
    np.testing.assert_allclose(np.array(heat.z).sum(axis=1), 1.0, atol=1e-9)  # rows are distributions
    assert len([s for s in fig.layout.shapes if s.type == "rect"]) == 4
    loss = state["matrix"].losses(20.0)
    assert f"{loss.image_to_text:.3f}" in note and f"{loss.text_to_image:.3f}" in note and f"{loss.mean:.3f}" in note
    assert len(fig.layout.images) == 4  # thumbnails beside the rows
    assert table.data.shape == (4, 5) and list(table.data["image"]) == state["matrix"].images


def test_softmax_over_images_columns_sum_to_one(built):
    fig, _, _ = st.render_matrix(built[2], "softmax_images", 50.0)
    np.testing.assert_allclose(np.array(fig.data[0].z).sum(axis=0), 1.0, atol=1e-9)


def test_unpaired_batch_has_no_diagonal(ctx, batch):
    files, texts = batch
    state = st.compute_matrix(ctx, files[:3], texts)[2]
    fig, note, _ = st.render_matrix(state, "cosine", None)
    assert not fig.layout.shapes and "3" in note and "4" in note


def test_bad_inputs_give_clear_errors(ctx, batch, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(gr.Error):
        st.compute_matrix(ctx, [], "a red circle")
    with pytest.raises(gr.Error):
        st.compute_matrix(ctx, [str(broken)], "a red circle")
    with pytest.raises(gr.Error):
        st.compute_matrix(ctx, batch[0][:1], "\n  \n")
    numbers, notes, *_ = st.compute_matrix(ctx, [str(broken), batch[0][0]], "a red circle")
    assert numbers["images"] == ["toy_1.png"] and "broken.png" in notes


def test_clicking_a_cell_picks_that_pair(built):
    state = built[2]
    m = state["matrix"]
    assert st.pick_cell(state, SimpleNamespace(index=[2, 1])) == (m.images[2], m.texts[0])
    assert st.pick_cell(state, SimpleNamespace(index=[1, 0])) == (m.images[1], m.texts[1])  # name column
    path, text = st.pair_inputs(state, m.images[2], m.texts[0])
    assert path.endswith("toy_3.png") and text == m.texts[0]
    with pytest.raises(gr.Error):
        st.pair_inputs(None, "x", "y")


@pytest.mark.parametrize("method", ["decomposition", "gradcam", "surgery", "naive"])
def test_spatial_api_returns_pictures_and_the_grid(ctx, batch, method):
    shown, raw, numbers, notes, state = st.compute_spatial(ctx, batch[0][0], "a red circle", method)
    assert isinstance(shown, Image.Image) and shown.size == raw.size
    assert np.array(numbers["relevance"]).shape == (8, 8) and numbers["method"] == method
    assert "4×4" in notes and "8×8" in notes
    assert st.reblend(state, 0.0).size == shown.size


def test_spatial_on_a_wide_photo_explains_the_crop(ctx, tmp_path):
    path = tmp_path / "wide.png"
    Image.new("RGB", (400, 100), (30, 120, 200)).save(path)
    shown, raw, numbers, notes, _ = st.compute_spatial(ctx, str(path), "a blue square", "decomposition")
    assert shown.size[0] - overlay.scale_width(shown.size[1]) == 4 * shown.size[1]  # the picture, then its scale
    assert numbers["box"] == pytest.approx([150, 0, 250, 100], abs=1.5)
    assert "centre" in notes


def test_spatial_errors(ctx, batch):
    with pytest.raises(gr.Error):
        st.compute_spatial(ctx, None, "a red circle", "surgery")
    with pytest.raises(gr.Error):
        st.compute_spatial(ctx, batch[0][0], "", "surgery")


def test_strings_exist_in_both_languages():
    en, zh = st.STRINGS["en"], st.STRINGS["zh-CN"]
    assert set(en) == set(zh) and all(k.startswith("sim.") for k in en)
    assert all(v.strip() for v in zh.values())
    for key in ("sim.paired", "sim.map_notes", "sim.unavailable"):  # same placeholders in both
        assert {p.split("}")[0].split(":")[0] for p in en[key].split("{")[1:]} == \
               {p.split("}")[0].split(":")[0] for p in zh[key].split("{")[1:]}


def test_app_exposes_both_endpoints(ctx):
    from clipdemo.ui.app import build_app

    demo = build_app(ctx)
    names = {dep.get("api_name") for dep in demo.config["dependencies"]}
    assert {"similarity_matrix", "spatial_heatmap"} <= names


def test_http_api_through_gradio_client(ctx, batch):
    """Both endpoints, called the way a script would call them, against a launched app."""
    import socket

    from gradio_client import Client, handle_file

    from clipdemo.ui.app import build_app, launch_kwargs

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = build_app(ctx)
    demo.queue()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        params = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
        assert [p["parameter_name"] for p in params["/similarity_matrix"]["parameters"]] == ["images", "texts",
                                                                                              "model"]
        assert [p["parameter_name"] for p in params["/spatial_heatmap"]["parameters"]] == ["image", "text", "method",
                                                                                            "model"]
        files, texts = batch
        numbers = client.predict(images=[handle_file(f) for f in files[:2]], texts="\n".join(texts.splitlines()[:3]),
                                 api_name="/similarity_matrix")
        assert numbers["images"] == ["toy_1.png", "toy_2.png"] and len(numbers["texts"]) == 3
        assert np.array(numbers["cosine"]).shape == (2, 3)
        grid = client.predict(image=handle_file(files[0]), text="a red circle", method="gradcam",
                              api_name="/spatial_heatmap")
        assert np.array(grid["relevance"]).shape == (8, 8) and grid["method"] == "gradcam"
    finally:
        demo.close()
