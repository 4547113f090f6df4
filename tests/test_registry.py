"""The registry keeps a session's own (Learn-tab) models to that session (issue #11)."""

from __future__ import annotations

import gradio as gr
import pytest

from clipdemo.core.loading import BUNDLED, ModelNotAvailable, load_model
from clipdemo.core.registry import ModelRegistry, is_private
from clipdemo.ui import header
from clipdemo.ui.context import UIContext


@pytest.fixture
def registry():
    return ModelRegistry(BUNDLED, device="cpu", dtype="fp32", max_private=3, private_idle_s=60)


@pytest.fixture(scope="module")
def tiny_loaded(tiny_clip_dir):
    return load_model(str(tiny_clip_dir), device="cpu", dtype="fp32")


def test_a_private_model_is_its_sessions_only(registry, tiny_loaded, tiny_clip_dir):
    name = registry.add_private("session-A", tiny_loaded, "Your model from the Learn tab (step 5)")
    assert is_private(name) and "session-A" not in name and str(tiny_clip_dir) not in name
    assert registry.get(name, "session-A").loaded is tiny_loaded
    with pytest.raises(ModelNotAvailable, match="another browser session"):
        registry.get(name, "session-B")
    assert name in registry.choices("session-A") and name in registry.loaded_names("session-A")
    assert name not in registry.choices("session-B") and name not in registry.loaded_names("session-B")
    assert name not in registry.choices() and name not in registry.loaded_names()
    assert str(tiny_clip_dir) not in registry.allowed_folders  # no server path became loadable for anyone


def test_reset_close_and_idle_time_free_it(registry, tiny_loaded):
    a = registry.add_private("A", tiny_loaded, "a")
    again = registry.add_private("A", tiny_loaded, "a again")  # one per session: the new one replaces the old
    assert registry.private_names("A") == [again] and a != again
    assert registry.drop_session("A") == 1 and registry.private_names("A") == []
    with pytest.raises(ModelNotAvailable):
        registry.get(again, "A")
    b = registry.add_private("B", tiny_loaded, "b")
    registry._private[b].last_used -= 61
    assert registry.expire() == 1 and registry.private_names("B") == []
    for s in "CDEF":  # at most max_private (3) kept: the least recently used goes
        registry.add_private(s, tiny_loaded, s)
    assert registry.private_names("C") == [] and len(registry._private) == 3


def test_header_and_picker_show_nothing_of_another_session(registry, tiny_loaded, monkeypatch):
    ctx = UIContext(registry)
    label = header.session_model_label("en", 7)
    name = registry.add_private("A", tiny_loaded, label)
    mine = header.status_markdown(ctx, name, "en", "A")
    assert "Your model from the Learn tab (step 7" in mine and "clipdemo-learned" not in mine
    assert tiny_loaded.source not in mine  # the export folder (a server path) is never shown
    theirs = header.status_markdown(ctx, BUNDLED, "en", "B")
    assert "Learn tab" not in theirs and name not in theirs
    assert name in dict((v, k) for k, v in header.choices(ctx, "A"))
    assert name not in [v for _, v in header.choices(ctx, "B")]
    monkeypatch.setattr(gr, "Warning", lambda *a, **k: None)
    picked, *_ = header.switch_model(ctx, name, BUNDLED, session="B")  # B typing A's name: refused, stays
    assert picked == BUNDLED
    assert header.session_model_label("zh-CN", 7).startswith("你在")


def test_a_name_sent_by_another_session_is_refused_whatever_the_call(registry, tiny_loaded):
    """The service's calls name no session (the API passes only `model`): the caller's own session is checked."""
    from clipdemo.serve.service import ClipService

    name = registry.add_private("A", tiny_loaded, "Your model from the Learn tab (step 5)")
    caller = {"session": "B"}
    registry.caller_session = lambda: caller["session"]
    with pytest.raises(ModelNotAvailable, match="another browser session"):
        registry.get(name)
    caller["session"] = None  # a served request without a session (MCP): no private models
    with pytest.raises(ModelNotAvailable):
        registry.get(name)
    caller["session"] = "A"
    assert registry.get(name).loaded is tiny_loaded
    service = ClipService(registry)
    embedded = service.embed(texts="a red circle", model=name)
    assert embedded.model == "Your model from the Learn tab (step 5)"  # named for people, not by its key
    assert "session-model:" not in str(service.result_model(name))


def test_four_concurrent_first_calls_load_the_model_once(tiny_loaded, monkeypatch):
    """Two callers once loaded the same 90M model twice at once (RSS 930 -> 2,438 MiB with four)."""
    import threading
    import time

    from clipdemo.core import registry as registry_module

    registry = ModelRegistry("some/new-model", device="cpu", dtype="fp32", backend="torch")
    loads, release = [], threading.Event()

    def slow_load(name, device, dtype):
        loads.append(name)
        release.wait(30)  # held until every caller is waiting
        return tiny_loaded

    monkeypatch.setattr(registry_module, "load_model", slow_load)
    asked = []
    allowed = registry.check_allowed
    monkeypatch.setattr(registry, "check_allowed", lambda name: (asked.append(name), allowed(name)))
    got = []
    callers = [threading.Thread(target=lambda: got.append(registry.get("some/new-model"))) for _ in range(4)]
    for c in callers:
        c.start()
    start = time.monotonic()
    while len(asked) < 4 and time.monotonic() - start < 30:  # every caller is past the cache, asking to load
        threading.Event().wait(0.01)
    while len(loads) < 4 and time.monotonic() - start < 2:  # without the per-model lock all four would load
        threading.Event().wait(0.01)
    release.set()
    for c in callers:
        c.join(30)
    assert loads == ["some/new-model"] and len(got) == 4 and all(e is got[0] for e in got)
