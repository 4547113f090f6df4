"""The real app in Debian's Chromium, for the browser tests: module fixtures (one app, one browser per test
module) and small page helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_server import running_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_MARKS = [pytest.mark.browser,
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
    page.wait_for_function("() => (document.querySelector('#model-summary')?.innerText || '').length > 20")
    return page


def wait_idle(page):
    page.wait_for_timeout(400)
    page.wait_for_function(IDLE_JS)
    page.wait_for_timeout(500)


def in_view(page, locator, viewport) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] and \
        box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]


