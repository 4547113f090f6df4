"""Live training: runs finish, pause, stop on limits, stay within the caps, export through load_model,
and two trainings in two sessions do not stall a third user's zero-shot request."""

from __future__ import annotations

import random
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from clipdemo.core import toyworld
from clipdemo.core.loading import ModelNotAvailable
from clipdemo.core.spatial import SpatialUnavailable, spatial_map
from clipdemo.core.zeroshot import zero_shot
from clipdemo.serve.service import ClipService
from clipdemo.teach.conv_tower import is_conv_tower
from clipdemo.teach.live_data import ScenePool, batch_pairs
from clipdemo.teach.live_training import (
    LiveConfig,
    LiveTrainingError,
    LiveTrainingManager,
    fixed_batch,
)

# Tiny runs: a few seconds on a busy 2-core CPU.
TINY = dict(mode="scratch", batch_size=8, width=16, layers=1, heads=2, image_size=32, patch_size=8, logits_every=4,
            eval_every=6)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from clipdemo.core.loading import BUNDLED_MODEL_DIR

    return AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR)


@pytest.fixture
def manager(tokenizer, tmp_path):
    m = LiveTrainingManager(max_running=2, time_limit_s=120, idle_timeout_s=120, tokenizer=tokenizer,
                            export_root=tmp_path)
    yield m
    m.shutdown()


class CountingEvent(threading.Event):
    def __init__(self):
        super().__init__()
        self.count = 0

    def wait(self, timeout=None):
        self.count += 1
        return super().wait(timeout)


def wait_for(pred, timeout: float = 60.0, every: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not reached in time")


def test_bad_knobs_are_refused_with_a_code():
    for bad in (dict(batch_size=1), dict(lr=1.0), dict(width=15), dict(steps=0), dict(concepts="size")):
        with pytest.raises(LiveTrainingError) as e:
            LiveConfig(**bad).validate()
        assert e.value.code == "bad_knob" and e.value.info["knob"] in bad


def test_a_run_trains_to_the_end_and_reports_plain_numbers(manager):
    snap = manager.start("s1", LiveConfig(steps=12, **TINY))
    assert snap["state"] == "running" and manager.running_count() == 1
    snap = wait_for(lambda: (s := manager.snapshot("s1"))["state"] == "finished" and s)
    assert snap["reason"] == "done" and snap["step"] == 12
    h = snap["history"]
    assert h["step"] == list(range(1, 13)) and all(np.isfinite(h["loss_i2t"])) and all(np.isfinite(h["loss_t2i"]))
    assert h["logit_scale"][0] == pytest.approx(1 / 0.07, rel=0.05)  # CLIP's initial logit scale (tau = 0.07)
    assert len(snap["logits"]) == 16 and all(len(r) == 16 and all(isinstance(v, float) for v in r)
                                             for r in snap["logits"])
    assert snap["logits_step"] == 12
    assert snap["accuracy"]["step"] == [0, 6, 12]  # at the start, every eval_every steps and at the end
    assert all(0 <= a <= 1 for a in snap["accuracy"]["heldout"] + snap["accuracy"]["seen"])
    assert manager.running_count() == 0  # a finished run gives its slot back
    assert snap["has_model"]
    run = manager._runs["s1"]
    run.join()
    assert run.trainer.opt is None  # the optimiser's state is freed at once; the weights stay for "use"


def test_training_on_one_batch_pulls_up_the_diagonal(tokenizer):
    """The objective is CLIP's: on the heatmap's own batch the diagonal must come to win its rows."""
    from clipdemo.teach.trainer import Trainer

    cfg = LiveConfig(steps=60, lr=3e-3, **TINY)
    trainer = Trainer(cfg.train_config(), tokenizer)
    images, captions, _ = fixed_batch("all", cfg.image_size)
    for _ in range(60):
        trainer.step((images, captions))
    with torch.no_grad():
        logits = trainer.logits(images, captions)
    assert (logits.argmax(dim=1) == torch.arange(16)).float().mean() >= 0.75


def test_pause_resume_stop_and_reset(manager):
    manager.start("s1", LiveConfig(steps=5000, **TINY))
    wait_for(lambda: manager.snapshot("s1")["step"] >= 2)
    waits = CountingEvent()  # the training loop waits on this event only while paused
    manager._runs["s1"]._wake = waits
    manager.pause("s1")
    wait_for(lambda: waits.count >= 1, timeout=30)  # the loop has seen the pause (a step in flight is done)
    step = manager.snapshot("s1")["step"]
    wait_for(lambda: waits.count >= 2, timeout=30)  # ... and came round again, still paused
    assert manager.snapshot("s1")["step"] == step and manager.snapshot("s1")["state"] == "paused"
    assert manager.running_count() == 1  # a paused run keeps its slot (it may resume)
    manager.resume("s1")
    wait_for(lambda: manager.snapshot("s1")["step"] > step)
    snap = manager.stop("s1")
    assert snap["state"] == "stopped" and snap["reason"] == "user" and manager.running_count() == 0
    run = manager._runs["s1"]
    manager.reset("s1")
    assert manager.snapshot("s1") is None
    assert run.trainer is None and len(run.pool) == 0 and not run._thread.is_alive()  # memory freed
    with pytest.raises(LiveTrainingError) as e:
        manager.pause("s1")
    assert e.value.code == "no_run"


def test_one_run_per_session_and_a_server_wide_cap(tokenizer, tmp_path):
    m = LiveTrainingManager(max_running=1, tokenizer=tokenizer, export_root=tmp_path)
    try:
        m.start("a", LiveConfig(steps=5000, **TINY))
        with pytest.raises(LiveTrainingError) as e:
            m.start("b", LiveConfig(steps=5000, **TINY))
        assert e.value.code == "busy" and e.value.info == {"running": 1, "limit": 1}
        m.start("a", LiveConfig(steps=5000, seed=1, **TINY))  # the same session restarts: replaces its run
        assert m.running_count() == 1 and m.snapshot("a")["config"]["seed"] == 1
        m.reset("a")
        m.start("b", LiveConfig(steps=5000, **TINY))  # the slot is free again
        assert m.running_count() == 1
    finally:
        m.shutdown()
    assert m.running_count() == 0


def test_time_limit_and_idle_timeout_stop_a_run(tokenizer, tmp_path):
    m = LiveTrainingManager(max_running=2, time_limit_s=1.0, tokenizer=tokenizer, export_root=tmp_path)
    try:
        m.start("t", LiveConfig(steps=5000, **TINY))
        snap = wait_for(lambda: (s := m.snapshot("t"))["state"] == "stopped" and s, timeout=30)
        assert snap["reason"] == "time_limit" and m.running_count() == 0
        m.time_limit_s, m.idle_timeout_s = 120, 0.5
        m.start("i", LiveConfig(steps=5000, **TINY))  # nobody reads its snapshot after this
        run = m._runs["i"]  # (not m.snapshot: reading it counts as watching)
        wait_for(lambda: run.state == "stopped", timeout=30)
        assert run.reason == "idle"
    finally:
        m.shutdown()


def free_port(lo: int = 7870, hi: int = 7899) -> int:
    import socket

    for port in range(lo, hi + 1):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.skip("no free port in 7870-7899")


def test_an_export_loads_as_the_sessions_own_model_through_load_model(manager):
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService

    manager.start("u", LiveConfig(steps=10, **TINY))
    wait_for(lambda: manager.snapshot("u")["state"] == "finished")
    registry = ModelRegistry("bundled", device="cpu", dtype="fp32", max_models=1)
    name = ClipService(registry).add_session_model("u", manager.export("u").resolve(), "my model")
    assert name in registry.loaded_names("u") and name not in registry.loaded_names("other")
    assert name not in registry.allowed_folders and registry.label(name) == "my model"
    enc = registry.get(name, "u")
    assert enc.loaded.image_size == 32 and enc.loaded.family == "clip"
    # the loaded model is the trained one: same embeddings as the trainer's weights
    run = manager._runs["u"]
    image = toyworld.render(toyworld.sample_scene(random.Random(0), "single"), 32)
    with torch.no_grad():
        pixels = run.trainer.encode_batch([image], ["x"])[2]
        ref = torch.nn.functional.normalize(run.trainer.model.get_image_features(pixel_values=pixels).pooler_output,
                                            dim=-1).numpy()
    assert np.allclose(enc.encode_images([image]), ref, atol=2e-3)
    # loading other models does not evict it (it is the session's own, not in the shared LRU)
    registry.get("bundled")
    assert registry.get(name, "u") is enc
    with pytest.raises(ModelNotAvailable):
        registry.get(name, "other")
    folder = manager.exported_folders("u")[0]
    manager.reset("u", registry)  # session end: folder removed, model freed
    assert not folder.exists() and name not in registry.loaded_names("u")


def test_two_trainings_stay_within_caps_and_do_not_stall_zero_shot(tiny_clip_dir, tmp_path):
    """Through the real app: two sessions train at once, a third cannot start one, a fourth labels a picture."""
    import gradio as gr
    from gradio_client import Client, handle_file

    from clipdemo.core.registry import ModelRegistry
    from clipdemo.ui import api
    from clipdemo.ui.context import UIContext
    from clipdemo.ui.learn import layout as learn_tab
    from clipdemo.ui.zeroshot import layout as zeroshot_tab

    registry = ModelRegistry(str(tiny_clip_dir), device="cpu", dtype="fp32")
    registry.get()
    manager = LiveTrainingManager(max_running=2, time_limit_s=120, export_root=tmp_path / "exports")
    ctx = UIContext(registry, extra={"live_training": manager})
    with gr.Blocks() as demo:
        model_name = gr.State(registry.default)
        learn_tab.build(ctx, model_name)
        zeroshot_tab.build(ctx, model_name)
        api.publish(ctx.service)
    assert any(t[1] == "unload" for dep in demo.fns.values() for t in dep.targets)  # tab close stops training
    demo.queue(default_concurrency_limit=2)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_port=free_port(), quiet=True)
    image = tmp_path / "toy.png"
    toyworld.render(toyworld.sample_scene(random.Random(1), "single"), 64).save(image)
    try:
        labeller = Client(url, verbose=False)

        def label() -> float:
            t0 = time.perf_counter()
            out = labeller.predict(image=handle_file(str(image)), labels="red circle, blue square",
                                   api_name="/zero_shot")
            assert out["labels"][0] in ("red circle", "blue square")
            return time.perf_counter() - t0

        label()  # warm
        idle = min(label() for _ in range(3))
        students = [Client(url, verbose=False) for _ in range(3)]
        for c in students[:2]:
            c.predict(16, 2e-3, 32, "all", 3000, "scratch", api_name="/learn_start")
        assert manager.running_count() == 2
        with pytest.raises(Exception, match="limit is 2"):
            students[2].predict(16, 2e-3, 32, "all", 3000, "scratch", api_name="/learn_start")
        wait_for(lambda: all(r.snapshot()["step"] >= 2 for r in manager._runs.values()), timeout=60)
        busy = [label() for _ in range(3)]
        steps = [r.snapshot()["step"] for r in manager._runs.values()]
        print(f"zero-shot latency: idle {idle * 1000:.0f} ms, during two trainings {np.median(busy) * 1000:.0f} ms; "
              f"training steps so far {steps}")
        # answered while both still run: the requests did not wait for them (latency itself: the load test)
        assert manager.running_count() == 2 and all(r.snapshot()["state"] == "running" for r in manager._runs.values())

        # "Use this model" loads the trained model; the API then answers with it, named by its label ...
        def model_of(client, model: str = "") -> str:
            return client.predict(image=handle_file(str(image)), labels="red circle, blue square", model=model,
                                  api_name="/zero_shot")["model"]

        assert model_of(students[0]) == registry.default
        students[0].predict(api_name="/learn_use_model")
        loaded = [m["name"] for m in students[0].predict(api_name="/models")["models"] if m["loaded"]]
        trained = next(n for n in loaded if n != registry.default)
        answered = model_of(students[0], trained)  # named for people, never by its private key
        assert answered == registry.label(trained) and answered != trained
        assert model_of(labeller) == registry.default  # ... and nobody's default changed
    finally:
        demo.close()
        manager.shutdown()
    assert manager.running_count() == 0


CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_in_the_browser_the_matrix_is_drawn_and_closing_the_tab_stops_training(tiny_clip_dir, tmp_path):
    import gradio as gr
    from playwright.sync_api import expect, sync_playwright

    from clipdemo.core.registry import ModelRegistry
    from clipdemo.ui.context import UIContext
    from clipdemo.ui.i18n import build_i18n
    from clipdemo.ui.learn import layout as learn_tab

    registry = ModelRegistry(str(tiny_clip_dir), device="cpu", dtype="fp32")
    manager = LiveTrainingManager(max_running=2, export_root=tmp_path / "exports")
    ctx = UIContext(registry, extra={"live_training": manager})
    with gr.Blocks() as demo:
        learn_tab.build(ctx, gr.State(registry.default))
    demo.queue()
    _, url, _ = demo.launch(prevent_thread_lock=True, server_port=free_port(), quiet=True, i18n=build_i18n())
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_context(locale="zh-CN").new_page()
            page.set_default_timeout(90_000)
            page.goto(url)
            page.get_by_role("button", name="开始", exact=True).click()  # the Chinese UI, from the browser's locale
            expect(page.get_by_text("训练中", exact=True)).to_be_visible(timeout=60_000)
            wait_for(lambda: manager.running_count() == 1, timeout=30)
            expect(page.locator(".heatmaplayer")).to_have_count(1, timeout=60_000)  # the logits matrix is drawn
            page.get_by_role("button", name="暂停", exact=True).click()
            expect(page.get_by_text("已暂停", exact=True)).to_be_visible(timeout=60_000)
            page.get_by_role("button", name="继续", exact=True).click()
            expect(page.get_by_text("训练中", exact=True)).to_be_visible(timeout=60_000)
            page.close()  # the tab closes: Gradio's unload stops and frees the run
            wait_for(lambda: manager.running_count() == 0 and not manager._runs, timeout=60)
            browser.close()
    finally:
        demo.close()
        manager.shutdown()


def test_locked_image_mode_freezes_the_bundled_image_tower_and_trains_the_text_tower(manager):
    """LiT: the image tower is the bundled model's and does not move; the text tower learns; the status JSON
    reports the diagonal."""
    from transformers import CLIPModel

    from clipdemo.core.loading import BUNDLED_MODEL_DIR

    bundled = CLIPModel.from_pretrained(BUNDLED_MODEL_DIR, dtype=torch.float32)
    status = manager.learn_start("lit", mode="locked", steps=12, batch_size=8, width=32, layers=1)
    assert status["mode"] == "locked" and status["running"] and status["steps"] == 12
    assert status["config"]["image_size"] == bundled.config.vision_config.image_size  # the tower's own size
    status = wait_for(lambda: (s := manager.learn_status("lit"))["state"] == "finished" and s, timeout=120)
    assert {"mode", "step", "steps", "batch_size", "diagonal_hits", "loss", "running"} <= set(status)
    assert status["step"] == 12 and not status["running"] and status["batch_size"] == 8
    assert 0 <= status["diagonal_hits"] <= status["fixed_batch"] == 16
    assert status["temperature"] == pytest.approx(1 / status["logit_scale"])
    assert status["trained_parameters"] < status["parameters"]
    model = manager._runs["lit"].trainer.model
    for name, p in bundled.vision_model.state_dict().items():
        torch.testing.assert_close(model.vision_model.state_dict()[name], p)  # frozen: unchanged by training
    assert not any(p.requires_grad for p in model.vision_model.parameters())
    fresh = manager._runs["lit"].trainer.model.text_model.embeddings.token_embedding.weight
    assert fresh.shape[1] == 32  # a new, small text tower


def test_learn_start_refuses_unknown_and_mistyped_settings(manager):
    with pytest.raises(LiveTrainingError) as e:
        manager.learn_start("x", colour="red")
    assert e.value.code == "bad_knob"
    with pytest.raises(LiveTrainingError):
        manager.learn_start("x", steps="many")
    for knob, value in (("seed", -1e30), ("seed", float("inf")), ("steps", float("nan")), ("layers", 1e9),
                        ("lr", float("nan")), ("batch_size", [8])):
        with pytest.raises(LiveTrainingError) as e:  # each once a `null` answer or a crash
            manager.learn_start("x", **{knob: value})
        assert e.value.code == "bad_knob" and e.value.info["knob"] == knob and knob in str(e.value)
    assert manager.learn_status("x") == {**manager.learn_status("x"), "state": "none", "running": False}


def test_chinese_captions_train_and_are_measured_in_chinese(manager):
    """language="zh": the heatmap's captions, the training captions and the 64-way accuracy labels are Chinese."""
    from clipdemo.teach.live_data import ScenePool, pair_labels

    assert LiveConfig(language="zh").train_config().zh_captions == 1.0
    assert LiveConfig().train_config().zh_captions == 0.0
    images, captions, combos = fixed_batch("all", 32, language="zh")
    assert captions == [toyworld.zh_colour(c) + toyworld.zh_shape(s) for c, s in combos]
    for concepts, word in (("colour", "的东西"), ("shape", "的照片")):
        assert all(word in c and not any(ch.isascii() and ch.isalpha() for ch in c)
                   for c in fixed_batch(concepts, 32, language="zh")[1])
    _, written = ScenePool(32, "all", language="zh").batch(random.Random(0), 24)
    assert all(not any(ch.isascii() and ch.isalpha() for ch in c) for c in written), written
    assert len(set(pair_labels("zh"))) == 64 and pair_labels("zh")[0].startswith("一个")
    status = manager.learn_start("zh", language="zh", steps=12, batch_size=8, width=16, layers=1, mode="scratch")
    assert status["config"]["language"] == "zh"
    snap = wait_for(lambda: (s := manager.snapshot("zh"))["state"] == "finished" and s)
    assert snap["captions"][0] == toyworld.zh_colour(combos[0][0]) + toyworld.zh_shape(combos[0][1])
    assert all(np.isfinite(snap["history"]["loss"])) and snap["accuracy"]["heldout"]


def test_an_unknown_caption_language_is_refused():
    with pytest.raises(LiveTrainingError) as e:
        LiveConfig(language="fr").validate()
    assert e.value.code == "bad_knob" and e.value.info["knob"] == "language"


def test_reset_of_a_session_that_never_trained_does_no_full_collection(manager, monkeypatch):
    """Every closing tab resets its session; a class of 60 leaving at once must not cost 60 full GC passes
    (each holds the GIL for a good part of a second and stalled other visitors' requests)."""
    import gc

    from clipdemo.teach import live_training

    calls = []
    monkeypatch.setattr(live_training.gc, "collect", lambda *a: calls.append(a) or 0)
    for i in range(60):
        manager.reset(f"visitor-{i}")
    assert calls == []
    assert gc.isenabled()


def test_from_scratch_defaults_use_the_conv_tower_and_the_smallest_world():
    cfg = LiveConfig.for_mode("scratch")
    assert cfg.image_tower == "cnn" and cfg.world == "pairs"
    assert LiveConfig.for_mode("locked").resolved().image_tower == "vit"  # LiT always locks the bundled ViT
    for bad in (dict(image_tower="resnet50"), dict(world="huge")):
        with pytest.raises(LiveTrainingError) as e:
            LiveConfig(**bad).validate()
        assert e.value.code == "bad_knob" and e.value.info["knob"] in bad


@pytest.mark.parametrize("world", ["pairs", "single", "full"])
def test_training_pictures_follow_the_world_and_never_show_held_out_pairs(world):
    pool = ScenePool(32, "all", size=64, world=world)
    rng = random.Random(0)
    for _ in range(6):
        pool.batch(rng, 16)
    kinds = {scene.kind for scene, _ in pool.items}
    assert kinds == {"single"} if world != "full" else len(kinds) > 1
    pairs = {(o.colour, o.shape) for scene, _ in pool.items for o in scene.objects}
    assert not pairs & set(toyworld.HELD_OUT)
    if world == "pairs":
        assert pairs <= set(batch_pairs()) and len(batch_pairs()) == 16
    else:
        assert not pairs <= set(batch_pairs())  # the other worlds reach beyond the batch's pairs


def test_a_conv_tower_run_trains_and_is_used_in_memory(manager):
    """The CNN run's model cannot be a Hugging Face folder: export says so with a code, and "use this model"
    hands the other tabs an in-memory copy whose embeddings are the trainer's."""
    from clipdemo.core.registry import ModelRegistry

    status = manager.learn_start("cnn", mode="scratch", steps=12, batch_size=8, width=32, layers=1, image_size=32,
                                 logits_every=4, eval_every=6)
    assert status["config"]["image_tower"] == "cnn" and status["config"]["world"] == "pairs"
    status = wait_for(lambda: (s := manager.learn_status("cnn"))["state"] == "finished" and s, timeout=120)
    assert status["step"] == 12 and np.isfinite(status["loss"]) and 0 <= status["diagonal_hits"] <= 16
    assert status["heldout_accuracy"] is not None
    run = manager._runs["cnn"]
    assert is_conv_tower(run.trainer.model)
    with pytest.raises(LiveTrainingError) as e:
        manager.export("cnn")
    assert e.value.code == "no_folder"
    registry = ModelRegistry("bundled", device="cpu", dtype="fp32", max_models=1)
    name = ClipService(registry).add_session_trained("cnn", partial(manager.trained_model, "cnn"), "cnn model")
    enc = registry.get(name, "cnn")
    image = toyworld.render(toyworld.sample_scene(random.Random(1), "single"), 32)
    with torch.no_grad():
        pixels = run.trainer.encode_batch([image], ["x"])[2]
        ref = torch.nn.functional.normalize(run.trainer.model.get_image_features(pixel_values=pixels).pooler_output,
                                            dim=-1).numpy()
    assert np.allclose(enc.encode_images([image]), ref, atol=2e-3)
    assert enc.loaded.model is not run.trainer.model  # a copy: training on does not change the used model
    result = zero_shot(enc, [image], "red circle, blue square", "single")
    assert result.probs.shape == (1, 2) and np.allclose(result.probs.sum(), 1, atol=1e-5)
    with pytest.raises(SpatialUnavailable):  # no patch grid: the maps say so instead of drawing nonsense
        spatial_map(enc, image, "red circle")


def test_two_colour_batches_hold_two_colours_and_still_no_held_out_pair():
    pool = ScenePool(32, "all", size=64, world="single", hard=1.0)
    rng = random.Random(3)
    for _ in range(8):  # growing, then full (drawn from the pool's scenes of the two colours)
        before = len(pool.items)
        images, captions = pool.batch(rng, 16)
        assert len(images) == len(captions) == 16
        batch_colours = {c for c in toyworld.COLOURS if any(f" {c} " in f" {cap} " for cap in captions)}
        assert 1 <= len(batch_colours) <= 2, captions
        assert len(pool.items) <= 64 and len(pool.items) >= before
    assert not {(o.colour, o.shape) for s, _ in pool.items for o in s.objects} & set(toyworld.HELD_OUT)
