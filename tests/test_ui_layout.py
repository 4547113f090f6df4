"""The class-ready layout, in the real app and Debian's Chromium (issue #12).

A phone (390×844): the header stacks, the model picker is not cut, all five tabs are in sight (none
behind "…"). A laptop (1440×900): the first screen holds an example to click and the run button; the
map's clicked-point panel sits beside the map. A file that is no image is answered when it is uploaded.
(The Chinese UI's words: tests/test_i18n.py.)
"""

from __future__ import annotations

import ui_browser
from ui_browser import BROWSER_MARKS, LAPTOP, PHONE, in_view, open_page, wait_idle

from clipdemo.ui.app import TABS

app_url, browser = ui_browser.app_url, ui_browser.browser  # one app and one browser for this module

pytestmark = BROWSER_MARKS


def test_on_a_phone_the_header_stacks_and_every_tab_is_in_sight(browser, app_url):
    page = open_page(browser, app_url, PHONE)
    picker = page.locator("#model-picker input").first
    status = page.locator("#model-summary")  # the one model line; its details fold away (#model-details)
    p, s = picker.bounding_box(), status.bounding_box()
    assert s["y"] >= p["y"] + p["height"] - 1, "the status line should sit under the picker, not beside it"
    assert p["width"] >= 0.6 * PHONE["width"], p
    # the picker's text fits its box (the input does not scroll its text sideways)
    assert picker.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), picker.input_value()
    tabs = page.get_by_role("tab")
    assert tabs.count() == len(TABS)
    for i in range(len(TABS)):
        tab = tabs.nth(i)
        assert tab.is_visible() and tab.bounding_box()["x"] + tab.bounding_box()["width"] <= PHONE["width"] + 1
    assert not page.locator(".overflow-menu:visible").count(), "tabs hidden behind …"
    tabs.nth(4).click()  # reachable: the lessons open
    page.get_by_role("tabpanel").filter(has=page.locator("button.primary:visible")).first.wait_for()
    page.close()


def test_the_first_screen_shows_an_example_and_the_run_button(browser, app_url):
    page = open_page(browser, app_url, LAPTOP)
    example = page.locator("[role='tabpanel']:visible img[src*='00_a_small']").first
    run = page.locator("#zs-run")
    assert in_view(page, example, LAPTOP), example.bounding_box()
    assert in_view(page, run, LAPTOP), run.bounding_box()
    page.close()


def test_a_file_that_is_no_image_is_answered_at_upload(browser, app_url, tmp_path):
    from playwright.sync_api import expect

    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    page = open_page(browser, app_url, LAPTOP)
    # a result first, so there is an old one to clear
    page.locator("[role='tabpanel']:visible img[src*='00_a_small']").first.click()
    page.locator("#zs-run").click()
    notes = page.locator("[role='tabpanel']:visible").get_by_text("logit scale s =")
    expect(notes.first).to_be_visible(timeout=60_000)
    page.locator("#zs-image").get_by_role("button", name="Remove Image").click()  # as a visitor makes room
    page.locator("#zs-image input[type=file]").set_input_files(str(bad))
    toast = page.locator(".toast-body, [data-testid='toast-body']").filter(has_text="notes.png")
    expect(toast.first).to_be_visible(timeout=30_000)
    expect(toast.first).to_contain_text("not an image")
    expect(notes).to_have_count(0, timeout=10_000)  # the old result's notes went with it
    assert not page.locator("#zs-image img").count(), "the unusable file still shows in the image box"
    page.close()


def test_the_clicked_point_panel_is_beside_the_map(browser, app_url):
    page = open_page(browser, app_url, LAPTOP)
    page.get_by_role("tab").nth(2).click()
    page.locator("[role='tabpanel']:visible button.primary:visible").first.click()
    page.wait_for_function("() => document.querySelector('#clipdemo-map-plot .js-plotly-plot')?.data?.length > 0")
    wait_idle(page)
    page.evaluate("() => { const gd = document.querySelector('#clipdemo-map-plot .js-plotly-plot');"
                  " gd.emit('plotly_click', {points: [{customdata: [3]}]}); }")
    panel = page.locator("#map-clicked")
    page.wait_for_function("() => !!document.querySelector('#map-clicked img')")
    plot = page.locator("#clipdemo-map-plot")
    plot.scroll_into_view_if_needed()
    p, c = plot.bounding_box(), panel.bounding_box()
    assert c["x"] >= p["x"] + p["width"] - 1, "the panel should be beside the map"
    assert c["y"] < p["y"] + 100 and c["y"] + 240 < LAPTOP["height"], (p, c)  # its picture in view with the map
    page.close()


def test_a_model_that_cannot_load_is_refused_once(browser, app_url):
    """Offline, a hub model cannot load: one warning (not "Warning (2)"), and the picker goes back."""
    import re

    from playwright.sync_api import expect

    page = open_page(browser, app_url, LAPTOP)
    page.locator("#model-picker input").click()
    page.get_by_role("option", name="OpenAI CLIP ViT-B/32").first.click()
    toast = page.locator(".toast-body, [data-testid='toast-body']").first
    expect(toast).to_be_visible(timeout=60_000)
    page.locator("body").click(position={"x": 5, "y": 5})  # the picker loses focus, as when a visitor moves on
    wait_idle(page)
    page.wait_for_timeout(1500)  # a repeated refusal would have arrived by now
    titles = page.locator(".toast-title").all_inner_texts()
    assert titles and not any(re.search(r"\(\d+\)", t) for t in titles), titles
    expect(page.locator("#model-picker input")).to_have_value(re.compile("clipdemo toy CLIP"))
    page.close()
