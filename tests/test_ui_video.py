"""The Video tab: the timeline and moments it draws from ClipService.video_search, and in Chromium the toy example,
a click on a moment that shows its frame and seeks the player there, in English and Chinese."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ui_browser import BROWSER_MARKS, LAPTOP, PHONE, app_url, browser, open_page, wait_idle  # noqa: F401

from clipdemo.core.registry import ModelRegistry
from clipdemo.ui.context import UIContext
from clipdemo.ui.video import layout as video_tab


@pytest.fixture(scope="module")
def ctx():
    return UIContext(ModelRegistry("bundled", device="cpu", dtype="fp32", backend="torch"))


def test_timeline_has_a_curve_per_query_and_moments_as_thumbnails(ctx):
    clip = video_tab.example_video()
    fig, thumbs, summary, numbers, moments = video_tab.search(ctx, clip, "a red circle\n红色圆形", None, 2.0, "bundled")
    curves = [tr for tr in fig.data if tr.x[0] is not None]
    assert [c.name for c in curves] == ["a red circle", "红色圆形"] and len(curves[0].x) == 20
    assert len(fig.layout.shapes) >= 4  # per query a dotted median line and at least one shaded moment
    assert len(thumbs) == len(moments) and "4.0–6.0 s" in thumbs[0][1]
    assert "4.00 s" in summary and numbers["best_time"] == pytest.approx(4.0, abs=0.6)
    frame, line, seek = video_tab.pick_moment(moments, SimpleNamespace(index=0, value={"image": {"path": "f.png"}}))
    assert seek == moments[0]["peak_time"] and frame == "f.png" and "4.0–6.0" in line


def test_no_video_is_a_message(ctx):
    import gradio as gr

    with pytest.raises(gr.Error, match="Add a video"):
        video_tab.search(ctx, None, "a red circle", None, 2.0, "bundled")


@pytest.mark.parametrize("locale, viewport", [("en", LAPTOP), ("zh-CN", PHONE)])
def test_the_toy_example_runs_and_a_moment_seeks_the_player(browser, app_url, locale, viewport, tmp_path):  # noqa: F811
    for mark in BROWSER_MARKS:
        if mark.name == "skipif" and mark.args[0]:
            pytest.skip(mark.kwargs["reason"])
    page = open_page(browser, app_url, viewport, locale)
    page.get_by_role("tab").last.click()
    page.locator("#vid-example").click()
    page.wait_for_function("() => document.querySelectorAll('#vid-moments img').length >= 3", timeout=180_000)
    wait_idle(page)
    # three queries and the legend's median entry
    page.wait_for_function("() => document.querySelector('#vid-timeline .js-plotly-plot')?.data?.length === 4")
    page.locator("#vid-moments img").first.click()
    page.wait_for_function("() => { const v = document.querySelector('#vid-video video');"
                           " return v && v.currentTime >= 3.9 && v.currentTime < 6; }", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#vid-frame img') !== null")
    page.screenshot(path=str(tmp_path / f"video-{locale}.png"), full_page=True)
    page.close()
