"""End to end: the real app in Debian's Chromium (Playwright from PyPI, no downloaded browser).

Uploads an image, enters labels, runs, and checks that the chart and the label output show the
top label the engine itself computes for the same image and labels.
"""

from __future__ import annotations

import ui_browser
from ui_browser import BROWSER_MARKS, CHROMIUM, FLAGS, ROOT

pytestmark = BROWSER_MARKS
app_url = ui_browser.app_url  # one app for this module


def test_zero_shot_in_the_browser(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from clipdemo.core.encoding import Encoder
    from clipdemo.core.images import load_image
    from clipdemo.core.loading import load_model
    from clipdemo.core.zeroshot import zero_shot

    image = ROOT / "assets" / "toy" / "00_a_small_red_circle_on_the_left.png"
    labels = "red circle, blue square, yellow star, green triangle"
    expected = zero_shot(Encoder(load_model("bundled")), [load_image(image)], labels).top(0, 1)[0][0]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)  # a busy 2-core machine renders the page slowly
        # "load", not "networkidle": the Learn tab's timer keeps polling, so the network is never idle
        page.goto(app_url, wait_until="load")
        page.locator("input[type=file]").first.set_input_files(str(image))
        box = page.get_by_label("Labels (comma or one per line)")
        box.fill(labels)
        page.get_by_role("button", name="Label it").click()
        chart = page.locator(".js-plotly-plot").first
        expect(chart).to_be_visible(timeout=60_000)
        expect(chart).to_contain_text(expected, timeout=30_000)
        # the Label component names the winner in its heading
        expect(page.locator("[data-testid=label-output-value], .output-class").first).to_contain_text(
            expected, timeout=30_000)
        page.screenshot(path=str(tmp_path / "zero_shot.png"), full_page=True)
        browser.close()
