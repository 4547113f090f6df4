"""The registry keeps a session's own (Learn-tab) models to that session (issue #11)."""

from __future__ import annotations

import gradio as gr
import pytest

from clipdemo.loading import BUNDLED, ModelNotAvailable, load_model
from clipdemo.registry import ModelRegistry, is_private
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
