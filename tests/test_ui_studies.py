"""The Few-shot & compare tab's functions and the Similarity tab's shaded words (what their events call)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from clipdemo.core.registry import ModelRegistry
from clipdemo.ui.context import UIContext
from clipdemo.ui.similarity import words
from clipdemo.ui.studies import layout as fs

ROOT = Path(__file__).resolve().parents[1]
RED = str(ROOT / "assets/toy/00_a_small_red_circle_on_the_left.png")
ZH = SimpleNamespace(headers={"accept-language": "zh-CN,zh;q=0.9"}, session_hash="zh-session")


@pytest.fixture(scope="module")
def ctx(tiny_clip_dir):
    return UIContext(ModelRegistry("bundled", device="cpu", dtype="fp32", allowed_folders=(str(tiny_clip_dir),)))


def test_few_shot_view_draws_curve_zero_shot_and_chance(ctx):
    fig, notes, numbers, payload = fs.run_few_shot(ctx, None, "red, blue, green", "1,4", 2, "single", "bundled")
    probe = [tr for tr in fig.data if tr.mode == "lines+markers"][0]
    assert list(probe.x) == [1, 4] and list(probe.y) == numbers["accuracy"]
    lines = sorted(round(s.y0, 6) for s in fig.layout.shapes if s.y0 == s.y1)
    assert lines == sorted([round(numbers["chance"], 6), round(numbers["zero_shot_accuracy"], 6)])
    assert "labelled picture" in notes and "chance 33.3%" in notes
    assert payload["tables"]["accuracy"][0]["shots"] == 1 and payload["session"]["model"] == "bundled"


@pytest.mark.parametrize(("eq", "first", "key"), [(None, 0.5, "more than 16"), (1.0, 0.95, "at most 1"),
                                                  (5.2, 0.5, "≈ 5.2")])
def test_worth_sentence_says_which_case(eq, first, key):
    r = {"equivalent_shots": eq, "shots": [1, 4, 16], "accuracy": [first, 0.8, 0.9], "zero_shot_accuracy": 0.9}
    assert key in fs.worth_sentence(r)


def test_worth_sentence_in_chinese():
    r = {"equivalent_shots": 5.2, "shots": [1, 16], "accuracy": [0.5, 0.9], "zero_shot_accuracy": 0.8}
    assert "提示词约抵得上每类 5.2 张" in fs.worth_sentence(r, ZH)


def test_compare_view_shows_both_models_and_their_verdict(ctx, tiny_clip_dir):
    fig, verdict, table, numbers, payload = fs.run_compare(ctx, RED, "red circle, blue square", "single",
                                                           "bundled", str(tiny_clip_dir))
    assert len(fig.data) == 2 and list(fig.data[0].y) == ["red circle", "blue square"]
    assert list(fig.data[0].x) == numbers["probabilities_a"] and list(fig.data[1].x) == numbers["probabilities_b"]
    assert ("agree" in verdict) and (("disagree" in verdict) != numbers["agree"])
    assert table["value"][0][0] == "red circle" and payload["session"]["settings"]["model_b"] == str(tiny_clip_dir)
    with pytest.raises(gr.Error):
        fs.run_compare(ctx, None, "red circle", "single", "bundled", "bundled")


def test_model_lists_offer_the_sessions_own_model_as_b(ctx, tiny_clip_dir):
    request = SimpleNamespace(headers={}, session_hash="s-42")
    a, b = fs.model_lists(ctx, "bundled", request)
    assert a["value"] == "bundled" and b["value"] != "bundled"
    private = ctx.service.add_session_model("s-42", tiny_clip_dir, "Learn tab")
    a, b = fs.model_lists(ctx, "bundled", request)
    assert b["value"] == private and private in [v for _, v in b["choices"]]
    other = SimpleNamespace(headers={}, session_hash="s-43")  # another visitor never sees it
    assert private not in [v for _, v in fs.model_lists(ctx, "bundled", other)[1]["choices"]]


def test_matrices_side_by_side(ctx, tiny_clip_dir):
    fig, note = fs.run_matrices(ctx, "bundled", str(tiny_clip_dir))
    assert len(fig.data) == 2 and len(fig.data[0].z) == 6 and "6 toy pictures" in note


def test_shaded_words_follow_the_numbers(ctx):
    shaded, numbers = words.explain_words(ctx, RED, "a red circle and a blue square", "bundled")
    assert numbers["words"][1] == "red" and shaded.count('class="word-shade"') == 2 * len(numbers["words"])
    assert words.shade(1.0, 1.0) == "rgba(46,160,67,0.75)" and words.shade(-0.5, 1.0) == "rgba(215,48,39,0.38)"
    assert "Leave one word out" in shaded and "逐词删除" in words.words_html(numbers, ZH)
    with pytest.raises(gr.Error):
        words.explain_words(ctx, RED, "  ", "bundled")
