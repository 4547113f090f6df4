"""Every tab's export box: its files load back to the numbers the view shows, and its session file fills the
tab's inputs again. Bad files give a message, never an exception that would reach the server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from clipdemo.core.registry import ModelRegistry
from clipdemo.data import embedding_map as em
from clipdemo.data import gallery
from clipdemo.serve.exports import read_session, session_record, write_session
from clipdemo.teach.lessons import TEMPLATE_GROUPS
from clipdemo.teach.live_training import LiveConfig, LiveTrainingManager
from clipdemo.ui import exports as ex
from clipdemo.ui.context import UIContext
from clipdemo.ui.learn import export as learn_export
from clipdemo.ui.learn import layout as learn_tab
from clipdemo.ui.lessons import export as lessons_export
from clipdemo.ui.lessons import layout as lessons_tab
from clipdemo.ui.map import export as map_export
from clipdemo.ui.map import layout as map_tab
from clipdemo.ui.similarity import export as similarity_export
from clipdemo.ui.similarity import layout as st
from clipdemo.ui.zeroshot import layout as zeroshot_tab

TOY = sorted((Path(__file__).resolve().parent.parent / "assets" / "toy").glob("*.png"))[0]
ZH = SimpleNamespace(headers={"accept-language": "zh-CN,zh;q=0.9"})


def by_name(paths) -> dict[str, Path]:
    """{'similarity-matrix.csv': path, ...}"""
    return {Path(p).name: Path(p) for p in paths}


def restore(path, views, apply, n, model=None, request=None):
    return ex.restore_session(path, views, apply, n, model, request)


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ctx(tiny_clip_dir):
    return UIContext(ModelRegistry(str(tiny_clip_dir), device="cpu", dtype="fp32"))


# ---------------------------------------------------------------- the box and its messages


def test_export_box_with_restore_builds():
    with gr.Blocks() as demo:
        box = gr.Textbox()
        state = ex.export_box("similarity", restore=ex.Restore([box], lambda r: ("x",)))
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    assert isinstance(state, gr.State) and {"export-similarity", "session-similarity"} <= set(ids)
    upload = ids["session-similarity"]
    event = next(d for d in config["dependencies"] if [upload, "upload"] in [list(t) for t in d["targets"]])
    assert upload in event["outputs"] and box._id in event["outputs"]  # cleared for the next file; fills the box
    assert event["api_visibility"] == "private"  # not an API endpoint


def test_bad_files_give_a_message_not_an_exception(tmp_path):
    apply = zeroshot_tab.restore_inputs
    skip = (gr.skip(), gr.skip())
    cases = {
        "garbage.json": b"\xff\xd8 not json",
        "other.json": b'{"labels": ["a"]}',
        "newer.json": json.dumps({"format": "clipdemo-session", "version": 99, "view": "zero_shot"}).encode(),
        "map.json": json.dumps(session_record("map", "bundled")).encode(),
        "noview.json": json.dumps({**session_record("x", "bundled"), "view": ["zero_shot"]}).encode(),
    }
    words = {"garbage.json": "cannot be read", "other.json": "not a clipdemo session",
             "newer.json": "newer clipdemo", "map.json": "another view (Embedding map)",
             "noview.json": "another view"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.warns(UserWarning):
            message, *updates = restore(tmp_path / name, ("zero_shot",), apply, 2)
        assert words[name] in message and f"`{name}`" in message and tuple(updates) == skip, name
        assert str(tmp_path) not in message  # the server's paths stay on the server
    with pytest.warns(UserWarning):  # a folder, not a file
        message, *updates = restore(tmp_path, ("zero_shot",), apply, 2)
    assert "cannot be read" in message and tuple(updates) == skip
    assert restore(None, ("zero_shot",), apply, 2) == ("", *skip)  # the upload was cleared


def test_a_session_with_unusable_settings_is_refused_with_the_reason(tmp_path):
    bad = write_json(tmp_path / "bad.json", session_record("similarity", "bundled", {"mode": "bogus"}))
    with pytest.warns(UserWarning):
        message, *updates = restore(bad, ("similarity",), similarity_export.restore_inputs, 7)
    assert "bogus" in message and "cannot be used" in message and all(u == gr.skip() for u in updates)
    wrong_count = write_json(tmp_path / "w.json", session_record("zero_shot", "bundled"))
    with pytest.warns(UserWarning):
        message, *_ = restore(wrong_count, ("zero_shot",), lambda r: ("only one",), 2)
    assert "cannot be used" in message


def test_messages_follow_the_visitors_language(tmp_path):
    other = write_json(tmp_path / "other.json", {"a": 1})
    with pytest.warns(UserWarning):
        message, *_ = restore(other, ("zero_shot",), zeroshot_tab.restore_inputs, 2, request=ZH)
    assert "不是 clipdemo 的会话文件" in message
    good = write_json(tmp_path / "s.json", session_record("lesson_gap", "bundled", {"lesson": "gap"}))
    message, *_ = restore(good, ("lesson_gap",), lessons_export.restore_inputs, 1, request=ZH)
    assert "已从" in message and "两团点云" in message  # the lesson's own tab name


# ---------------------------------------------------------------- zero-shot


def test_zero_shot_session_round_trip(tmp_path, ctx):
    labels, template = "red circle, blue square, yellow star", "imagenet7"
    data = zeroshot_tab.classify(ctx, str(TOY), labels, template, None)[-1]
    files = by_name(ex.write_files(data, tmp_path))
    message, *inputs = restore(files["zero_shot-session.json"], ("zero_shot", "zero_shot_batch"),
                               zeroshot_tab.restore_inputs, 2, model="another-model")
    assert inputs == [labels, template]
    assert "restored" in message and "another-model" in message  # says the session used another model
    batch = zeroshot_tab.classify_many(ctx, [str(TOY)], "a, b\nc", "{} here", None)[-1]
    files = by_name(ex.write_files(batch, tmp_path / "batch"))
    _, *inputs = restore(files["zero_shot_batch-session.json"], ("zero_shot", "zero_shot_batch"),
                         zeroshot_tab.restore_inputs, 2)
    assert inputs == ["a, b, c", "{} here"]


# ---------------------------------------------------------------- similarity


@pytest.fixture(scope="module")
def sim(ctx):
    paths, texts = st.toy_batch(4, seed=7)
    numbers, _, mstate, *_ = st.compute_matrix(ctx, paths, texts)
    shown, raw, grid, _, sstate = st.compute_spatial(ctx, paths[1], texts.splitlines()[1], "decomposition")
    return SimpleNamespace(paths=paths, texts=texts, numbers=numbers, mstate=mstate, grid=grid, sstate=sstate)


def test_similarity_files_hold_the_numbers_the_view_shows(tmp_path, sim):
    fig, _, table = st.render_matrix(sim.mstate, "softmax_texts", 20.0)
    batch = {"kind": "toy", "n": 4, "seed": 7}
    data = similarity_export.payload(sim.mstate, sim.sstate, "softmax_texts", 20.0, "decomposition", batch,
                                     sim.paths[1], fig)
    files = by_name(ex.write_files(data, tmp_path))
    assert set(files) == {"similarity-matrix.html", "similarity-matrix.csv", "similarity-matrix.json",
                          "similarity-spatial.csv", "similarity-spatial.json", "similarity-session.json"}
    cells = pd.read_csv(files["similarity-matrix.csv"])
    assert list(cells.columns) == ["image", "text", "cosine", "shown", "mode", "logit_scale"]
    np.testing.assert_allclose(cells["shown"].to_numpy().reshape(4, 4), np.array(fig.data[0].z), rtol=1e-9)
    np.testing.assert_allclose(cells["cosine"].to_numpy().reshape(4, 4), sim.numbers["cosine"], atol=1e-5)
    assert list(cells["image"][::4]) == list(table.data["image"]) and set(cells["mode"]) == {"softmax_texts"}
    grid = pd.read_csv(files["similarity-spatial.csv"])
    np.testing.assert_allclose(grid["relevance"].to_numpy().reshape(8, 8), sim.grid["relevance"], atol=1e-4)
    assert set(grid["image"]) == {"toy_2.png"} and set(grid["method"]) == {"decomposition"}
    assert json.loads(files["similarity-matrix.json"].read_text())["records"][0]["image"] == "toy_1.png"
    session = read_session(files["similarity-session.json"])
    assert session["settings"] == {"mode": "softmax_texts", "logit_scale": 20.0, "method": "decomposition",
                                   "batch": batch}
    assert session["seed"] == 7 and session["texts"] == sim.texts.splitlines()
    assert session["spatial"]["text"] == sim.texts.splitlines()[1] and session["model_info"]["family"] == "clip"
    assert fig.layout.modebar.remove  # the figure the view shows keeps only its PNG camera in the toolbar


def test_similarity_session_round_trip_brings_the_same_batch_back(tmp_path, sim):
    batch = {"kind": "toy", "n": 4, "seed": 7}
    data = similarity_export.payload(sim.mstate, sim.sstate, "softmax_images", 35.5, "naive", batch, sim.paths[1])
    session = by_name(ex.write_files(data, tmp_path))["similarity-session.json"]
    _, texts, mode, temperature, method, text, files, pending = restore(
        session, ("similarity",), similarity_export.restore_inputs, 7)
    assert (texts, mode, temperature, method, text) == (sim.texts, "softmax_images", 35.5, "naive",
                                                         sim.texts.splitlines()[1])
    assert [Path(f).name for f in files] == [Path(p).name for p in sim.paths] and pending == 35.5
    for a, b in zip(files, sim.paths, strict=True):  # the very same pictures, made again from the seed
        assert np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))
    # the build puts the model's own logit scale on the slider; the restored one comes back once
    assert similarity_export.keep_logit_scale(pending) == (gr.update(value=35.5), None)
    assert similarity_export.keep_logit_scale(None) == (gr.skip(), None)


def test_similarity_uploads_are_named_not_reproduced(tmp_path, ctx, sim):
    mstate = st.compute_matrix(ctx, sim.paths[:2], "a red circle\na blue square")[2]
    stale = {"kind": "toy", "n": 4, "seed": 7}  # the last toy batch, no longer what the matrix shows
    data = similarity_export.payload(mstate, None, "cosine", None, "gradcam", stale)
    session = read_session(by_name(ex.write_files(data, tmp_path))["similarity-session.json"])
    assert "batch" not in session["settings"] and session["seed"] is None
    assert session["images"] == ["toy_1.png", "toy_2.png"] and "spatial" not in session
    assert session["settings"]["logit_scale"] == pytest.approx(mstate["matrix"].logit_scale, abs=1e-4)
    _, texts, *_, files, _ = restore(by_name(ex.write_files(data, tmp_path))["similarity-session.json"],
                                     ("similarity",), similarity_export.restore_inputs, 7)
    assert texts == "a red circle\na blue square" and files == gr.skip()
    assert similarity_export.payload(None, None, "cosine", None, "gradcam") is None


def test_similarity_bundled_batches_are_recognised(sim):
    names = [Path(p).name for p in st.bundled_toys()[0]]
    matrix = SimpleNamespace(images=names)
    assert similarity_export.matching_batch({"kind": "bundled_toys"}, matrix) == {"kind": "bundled_toys"}
    assert similarity_export.matching_batch({"kind": "photos"}, matrix) is None
    with pytest.raises(ValueError):
        similarity_export.batch_paths({"kind": "toy", "n": 10_000, "seed": 1})


# ---------------------------------------------------------------- embedding map


@pytest.fixture
def map_ctx(ctx, monkeypatch):
    small = gallery.toy_gallery(n=12, seed=5, size=48, use_disk=False)
    monkeypatch.setattr(map_tab.galleries, "toy_gallery", lambda *a, **k: small)
    return ctx


def test_map_files_hold_the_points_the_figure_shows(tmp_path, map_ctx):
    view = ("pca", 2, 15, 0.1, "group", True)
    out = map_tab.draw(map_ctx, "toy", None, True, "a red heart\ntwo blue stars", "circle, star", True, *view, None,
                       request=None, progress=lambda *a, **k: None)
    fig, data = out[0], out[3]
    payload = map_export.after_draw(map_ctx.service.describe(), None, data, fig, map_export.MapSource("toy"),
                                    map_export.MapView(*view))
    files = by_name(ex.write_files(payload, tmp_path))
    assert set(files) == {"map-map.html", "map-points.csv", "map-points.json", "map-session.json"}
    points = pd.read_csv(files["map-points.csv"], keep_default_na=False)
    assert list(points.columns) == ["name", "kind", "x", "y", "label", "group", "caption"]
    assert len(points) == data.n_points and (points["kind"] == "image").sum() == 12
    shown = 0
    for trace in fig.data:  # every marker on the figure sits at its row's coordinates
        if trace.mode == "markers":
            for (i, *_), x, y in zip(trace.customdata, trace.x, trace.y, strict=True):
                assert (points.loc[i, "x"], points.loc[i, "y"]) == pytest.approx((x, y), abs=1e-6)
                shown += 1
    assert shown == data.n_points
    assert set(points["label"][points["kind"] == "image"]) <= {"circle", "star"}
    session = read_session(files["map-session.json"])
    assert session["settings"] == {"source": "toy", "captions": True, "label_points": True, "method": "pca",
                                   "dims": 2, "n_neighbors": 15, "min_dist": 0.1, "colour_by": "group",
                                   "lines": True}
    assert session["labels"] == ["circle", "star"] and session["texts"] == ["a red heart", "two blue stars"]
    assert session["seed"] == map_export.PROJECTION_SEED and session["images"] == 12

    fig3, _ = map_tab.redraw(map_ctx, data, "pca", 3, 15, 0.1, "modality", False, None, None)
    again = map_export.after_redraw(payload, data, fig3, map_export.MapView("pca", 3, 15, 0.1, "modality", False))
    files3 = by_name(ex.write_files(again, tmp_path / "3d"))
    points3 = pd.read_csv(files3["map-points.csv"], keep_default_na=False)
    coords = em.project_map(data, "pca", 3).coords
    np.testing.assert_allclose(points3[["x", "y", "z"]].to_numpy(), coords, atol=1e-6)
    settings = read_session(files3["map-session.json"])["settings"]
    assert settings["dims"] == 3 and settings["colour_by"] == "modality" and settings["source"] == "toy"
    assert map_export.after_redraw(None, data, fig3, map_export.MapView("pca", 3, 15, 0.1)) == gr.skip()
    # the controls hand numbers as floats: the view settings are typed once, as the session records them
    assert map_export.MapView.of("pca", 3.0, 15.0, 0.1, "group", 1).settings() == {
        "method": "pca", "dims": 3, "n_neighbors": 15, "min_dist": 0.1, "colour_by": "group", "lines": True}

    _, *inputs = restore(files["map-session.json"], ("map",), map_export.restore_inputs, 12)
    assert inputs == ["toy", gr.update(visible=False), True, "a red heart\ntwo blue stars", "circle, star", True,
                      "pca", 2, 15, 0.1, "group", True]


def test_map_tab_keeps_its_embeddings_export_and_publishes_no_api(map_ctx):
    with gr.Blocks() as demo:
        map_tab.build(map_ctx, gr.State(None))
    assert demo.get_api_info()["named_endpoints"] == {}  # /embedding_map and /search are clipdemo.ui.api's
    ids = {c.get("props", {}).get("elem_id") for c in demo.get_config_file()["components"]}
    assert {"export-map", "session-map"} <= ids


# ---------------------------------------------------------------- learn


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    from transformers import AutoTokenizer

    from clipdemo.core.loading import BUNDLED_MODEL_DIR

    manager = LiveTrainingManager(max_running=1, time_limit_s=120, idle_timeout_s=120,
                                  tokenizer=AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR),
                                  export_root=tmp_path_factory.mktemp("learned"))
    cfg = LiveConfig(mode="scratch", batch_size=8, lr=1e-3, width=32, concepts="colour", steps=100, layers=1, heads=2,
                     image_size=32, patch_size=8, logits_every=2, eval_every=3, seed=4, language="zh")
    try:
        manager.start("s", cfg)
        end = time.monotonic() + 90
        while manager.snapshot("s")["step"] < 6 and time.monotonic() < end:
            time.sleep(0.05)
        yield manager.stop("s")
    finally:
        manager.shutdown()


def test_learn_files_hold_the_training_history(tmp_path, snap):
    assert snap["step"] >= 6 and snap["state"] == "stopped"
    files = by_name(ex.write_files(learn_export.payload(snap), tmp_path))
    assert {"learn-logits.html", "learn-loss.html", "learn-logit_scale.html", "learn-accuracy.html",
            "learn-history.csv", "learn-accuracy.csv", "learn-logits.csv", "learn-session.json"} <= set(files)
    history = pd.read_csv(files["learn-history.csv"])
    for key, values in snap["history"].items():
        np.testing.assert_allclose(history[key].to_numpy(), values, rtol=1e-12)
    loss = learn_tab.figures(None, snap)[1]  # what the loss chart draws
    np.testing.assert_allclose(history["loss_i2t"], loss.data[0].y)
    logits = pd.read_csv(files["learn-logits.csv"], keep_default_na=False)
    n = len(snap["logits"])
    np.testing.assert_allclose(logits["logit"].to_numpy().reshape(n, n), snap["logits"])
    assert list(logits["own_caption"][:: n + 1]) == list(logits["caption"][:: n + 1]) == snap["captions"]
    accuracy = json.loads(files["learn-accuracy.json"].read_text())["records"]
    assert [r["step"] for r in accuracy] == snap["accuracy"]["step"]
    session = read_session(files["learn-session.json"])
    assert session["settings"] == snap["config"] and session["seed"] == 4 and session["step"] == snap["step"]
    assert learn_export.payload(None) is None

    _, *knobs = restore(files["learn-session.json"], ("learn",), learn_export.restore_inputs, 9)
    assert knobs == ["scratch", 8, 1e-3, 32, "colour", 100, "zh", snap["config"]["image_tower"], snap["config"]["world"]]


def test_learn_session_from_the_api_with_knobs_the_tab_lacks(tmp_path, snap):
    odd = {**snap, "config": {**snap["config"], "width": 16}}  # the API allows widths the dropdown does not
    files = by_name(ex.write_files(learn_export.payload(odd), tmp_path))
    with pytest.warns(UserWarning):
        message, *knobs = restore(files["learn-session.json"], ("learn",), learn_export.restore_inputs, 9)
    assert "width = 16" in message and all(k == gr.skip() for k in knobs)


# ---------------------------------------------------------------- lessons


def test_the_service_runs_exactly_the_tabs_lessons(ctx):
    from clipdemo.core.errors import UserError
    from clipdemo.serve.service import LESSONS

    assert [key for key, *_ in lessons_tab.LESSONS] == list(LESSONS)
    with pytest.raises(UserError, match="no lesson named"):
        ctx.service.lesson("astrology")


@pytest.mark.parametrize("key", [key for key, *_ in lessons_tab.LESSONS])
def test_each_lesson_exports_its_figure_numbers_and_session(tmp_path, tiny_encoder, ctx, key):
    handler = dict((k, h) for k, h, *_ in lessons_tab.LESSONS)[key]
    summary, fig, table, pictures, result = handler(ctx.service.lesson(key), None)
    data = lessons_export.payload(key, ctx.service.describe(), "tiny", fig, result)
    view = f"lesson_{key}"
    files = by_name(ex.write_files(data, tmp_path))
    assert set(files) == {f"{view}-{key}.html", f"{view}-{key}.csv", f"{view}-{key}.json", f"{view}-session.json"}
    rows = pd.read_csv(files[f"{view}-{key}.csv"], keep_default_na=False)
    if key in ("heldout", "counting", "leftright", "languages"):  # the table the lesson shows, row for row
        shown = table["value"]
        if key == "heldout":
            rows = rows[rows["group"] == "heldout"]
        assert [r[3] for r in shown] == [round(p, 3) for p in rows["probability"]]
        assert [r[2].split(" ", 1)[1] for r in shown] == list(rows["answer"])
        assert [r[4] for r in shown] == list(rows["truth"])
    elif key == "temperature":  # the bars the figure draws
        np.testing.assert_allclose(rows["probability"].to_numpy(), np.concatenate([tr.y for tr in fig.data]))
    elif key == "gap":  # the points the figure draws
        np.testing.assert_allclose(rows["x"][rows["kind"] == "image"], fig.data[-2].x)
        np.testing.assert_allclose(rows["y"][rows["kind"] == "text"], fig.data[-1].y)
    else:  # templates: accuracy per template set and kind of picture, as the bars show
        for k, group in enumerate(TEMPLATE_GROUPS):
            accuracy = rows[rows["group"] == group].groupby("templates", sort=False)["correct"].mean()
            np.testing.assert_allclose(accuracy.to_numpy(), fig.data[k].y)
    session = read_session(files[f"{view}-session.json"])
    assert session["view"] == view and session["settings"]["lesson"] == key and session["model"] == "tiny"
    assert session["seed"] == lessons_export.lesson_settings(key)["seed"] is not None
    # loaded in any lesson's box, a lesson's session opens that lesson
    _, tabs = restore(files[f"{view}-session.json"], [f"lesson_{k}" for k, *_ in lessons_tab.LESSONS],
                      lessons_export.restore_inputs, 1)
    assert tabs.selected == f"lesson-{key}"


def test_lessons_keep_their_export_boxes_and_publish_no_api(ctx):
    with gr.Blocks() as demo:
        lessons_tab.build(ctx, gr.State(None))
    assert demo.get_api_info()["named_endpoints"] == {}  # UI wiring (Markdown, Plot, Gallery): private
    ids = {c.get("props", {}).get("elem_id") for c in demo.get_config_file()["components"]}
    assert {f"session-lesson_{k}" for k, *_ in lessons_tab.LESSONS} <= ids


def test_a_lesson_session_in_another_tab_is_refused(tmp_path):
    path = write_session(tmp_path / "s.json", session_record("lesson_counting", "bundled", {"lesson": "counting"}))
    with pytest.warns(UserWarning):
        message, *inputs = restore(path, ("learn",), learn_export.restore_inputs, 5)
    assert "5 · Counting" in message and "Learn: train a CLIP" in message and all(i == gr.skip() for i in inputs)
