"""The class-ready layout, in the real app and Debian's Chromium (issue #12).

A phone (390×844): the header stacks, the model picker is not cut, all five tabs are in sight (none
behind "…"). A laptop (1440×900): the first screen holds an example to click and the run button; the
map's clicked-point panel sits beside the map. A file that is no image is answered when it is uploaded.
The Chinese UI (browser language zh-CN), driven through every tab, shows no English word beyond
names, symbols and what the model itself reads (captions and labels of the toy world).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app_server import running_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed "
                                 "(scripts/test.sh installs it with apt)")]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1440, "height": 900}
IDLE_JS = ("() => ![...document.querySelectorAll('.progress-text, .eta-bar, .progress-level')]"
           ".some(e => e.offsetParent !== null)")


@pytest.fixture(scope="module")
def app_url():
    with running_app() as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def open_page(browser, url, viewport, locale="en"):
    page = browser.new_page(viewport=viewport, locale=locale)
    page.set_default_timeout(120_000)  # a busy 2-core machine renders slowly
    page.goto(url, wait_until="load")
    page.wait_for_function("() => (document.querySelector('#model-status')?.innerText || '').length > 20")
    return page


def wait_idle(page):
    page.wait_for_timeout(400)
    page.wait_for_function(IDLE_JS)
    page.wait_for_timeout(500)


def in_view(page, locator, viewport) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] and \
        box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]


def test_on_a_phone_the_header_stacks_and_every_tab_is_in_sight(browser, app_url):
    page = open_page(browser, app_url, PHONE)
    picker = page.locator("#model-picker input").first
    status = page.locator("#model-status")
    p, s = picker.bounding_box(), status.bounding_box()
    assert s["y"] >= p["y"] + p["height"] - 1, "the status line should sit under the picker, not beside it"
    assert p["width"] >= 0.6 * PHONE["width"], p
    # the picker's text fits its box (the input does not scroll its text sideways)
    assert picker.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), picker.input_value()
    tabs = page.get_by_role("tab")
    assert tabs.count() == 5
    for i in range(5):
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


# ---------------------------------------------------------------- no English in the Chinese UI

# Names, symbols and formulas that Chinese text keeps as they are
NAMES = {"CLIP", "OpenAI", "ViT-B", "ViT", "LAION", "SigLIP", "Chinese-CLIP", "Google", "OpenVINO", "API", "JSON",
         "CSV", "PNG", "UMAP", "PCA", "t-SNE", "LiT", "Zhai", "clipdemo", "clip", "logit", "softmax", "sigmoid",
         "cos", "cpu", "cuda", "fp32", "bf16", "fp16", "torch", "token", "png", "log", "Surgery", "surgery",
         "gradcam", "decomposition", "naive", "imagenet", "single", "bare", "ensemble", "zh_single",
         "zh_ensemble", "n_neighbors", "min_dist", "value-value", "toy", "Gradio", "Pillow", "JPEG", "WebP",
         "GIF", "BMP", "TIFF", "models", "download", "python", "app.py", "CLIPDEMO_MODEL"}


def model_words() -> set[str]:
    """What the model reads, shown as it is: the toy world's captions and labels, the English templates."""
    from clipdemo import toyworld
    from clipdemo.templates import TEMPLATE_SETS

    words = set(toyworld.COLOURS) | set(toyworld.SHAPES) | set(toyworld.PLURALS.values()) | set(toyworld.SIZES)
    words |= set(toyworld.COUNT_WORDS.values()) | {s + "s" for s in toyworld.SHAPES}
    words |= {"left", "right", "center", "the", "and", "photo", "picture", "drawing", "image", "something",
              "label", "red'", "circle'"}
    for templates in TEMPLATE_SETS.values():
        for template in templates:
            words |= set(re.findall(r"[A-Za-z]+", template))
    return words


def english_left(text: str, allowed: set[str]) -> list[str]:
    words = re.findall(r"[A-Za-z][A-Za-z_'.-]*[A-Za-z]", text)
    return sorted({w for w in words if len(w) >= 3 and w not in allowed and w.lower() not in allowed
                   and not re.fullmatch(r"[\w-]+\.(?:png|jpe?g|webp)", w, re.I)  # file names: toy_1.png
                   and not re.fullmatch(r"[a-z]+_\d+", w)})


def test_the_chinese_ui_shows_no_english(browser, app_url, tmp_path):
    from playwright.sync_api import expect

    page = open_page(browser, app_url, LAPTOP, locale="zh-CN")
    page.wait_for_timeout(1500)  # the page-load events write the server-made lines in Chinese
    seen: dict[str, str] = {}

    def grab(where: str) -> None:
        seen[where] = page.evaluate(
            "() => document.body.innerText + '\\n' + [...document.querySelectorAll('svg text')]"
            ".map(e => e.textContent).join('\\n')")

    grab("first screen")
    page.locator("[role='tabpanel']:visible img[src*='00_a_small']").first.click()
    page.locator("#zs-run").click()
    wait_idle(page)
    grab("zero-shot")
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    page.locator("#zs-image input[type=file]").set_input_files(str(bad))
    toast = page.locator(".toast-body, [data-testid='toast-body']").filter(has_text="notes.png")
    expect(toast.first).to_be_visible(timeout=30_000)
    grab("a bad upload's message")
    tabs = page.get_by_role("tab")
    tabs.nth(1).click()
    page.locator("#sim-toy-batch").click()
    wait_idle(page)
    grab("similarity")
    tabs.nth(2).click()
    page.locator("[role='tabpanel']:visible button.primary:visible").first.click()
    page.wait_for_function("() => document.querySelector('#clipdemo-map-plot .js-plotly-plot')?.data?.length > 0")
    wait_idle(page)
    grab("map")
    tabs.nth(3).click()
    page.wait_for_timeout(500)
    grab("learn")
    tabs.nth(4).click()
    page.locator("[role='tabpanel']:visible button.primary:visible").first.click()
    wait_idle(page)
    grab("lessons")
    page.close()

    allowed = {w.lower() for w in NAMES | model_words()}
    gallery_captions = texts_of_the_map_gallery()
    left = {}
    for where, text in seen.items():
        for caption in gallery_captions:  # the map's points are named by their captions: the model's input
            text = text.replace(caption, "")
        found = english_left(text, allowed)
        if found:
            left[where] = found
    assert not left, f"English left in the Chinese UI: {left}"


def texts_of_the_map_gallery() -> list[str]:
    from clipdemo import gallery

    return sorted({c for c in gallery.toy_gallery().captions if c}, key=len, reverse=True)


def test_the_english_check_finds_english():
    """The check itself: a UI sentence left in English is found; names, captions and file names are not."""
    allowed = {w.lower() for w in NAMES | model_words()}
    assert english_left("Switching loads the model once", allowed) == ["Switching", "loads", "model", "once"]
    assert english_left("模型：OpenAI CLIP ViT-B/32 · toy_003.png — a large blue diamond on the right", allowed) == []
    assert english_left("Input problem", allowed) == ["Input", "problem"]
