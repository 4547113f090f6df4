"""A first screen a class understands, in the real app and Debian's Chromium (issue #23).

At 1440×900 and 390×844, in English and Chinese: every tab is on the first screen and the model's
engineering details are one click away. Chinese renders with the app's own font (no system CJK font needed),
the logit-scale box redraws on Enter, and axe-core finds no serious or critical violation on any tab.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import ui_browser
from ui_browser import BROWSER_MARKS, LAPTOP, PHONE, in_view, open_page, wait_idle

from clipdemo.ui.app import TABS

app_url, browser = ui_browser.app_url, ui_browser.browser  # one app and one browser for this module

pytestmark = BROWSER_MARKS


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_tabs_are_on_the_first_screen(browser, app_url, viewport, locale):
    page = open_page(browser, app_url, viewport, locale)
    tabs = page.locator("[role=tablist]").first.get_by_role("tab")
    assert tabs.count() == len(TABS)
    for i in range(len(TABS)):
        assert in_view(page, tabs.nth(i), viewport), (i, tabs.nth(i).bounding_box())
    status = page.locator("#model-status")
    assert not status.is_visible(), "backend and agreement details belong one click away"
    page.locator("#model-details button, #model-details .label-wrap").first.click()
    page.wait_for_function("() => document.querySelector('#model-status')?.offsetParent !== null")
    assert re.search("OpenVINO|torch", status.inner_text())
    page.close()


def test_chinese_renders_with_only_the_apps_own_font(browser, app_url):
    system_cjk = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip()
    page = open_page(browser, app_url, LAPTOP, "zh-CN")
    page.evaluate("() => document.fonts.ready")
    page.wait_for_function("() => document.fonts.check('16px \"clipdemo CJK\"', '模型')")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    checked = 0
    for selector in ("#app-title h2", "[role=tablist] [role=tab]", "#model-summary p"):
        for node in cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]:
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            text = cdp.send("DOM.getOuterHTML", {"nodeId": node})["outerHTML"]
            cjk = len(re.findall("[\u4e00-\u9fff]", re.sub("<[^>]+>", "", text)))
            if not cjk:
                continue
            checked += 1
            drawn = sum(f["glyphCount"] for f in fonts if f["isCustomFont"] and "CJK" in f["familyName"])
            assert drawn >= cjk, (selector, fonts)  # every Chinese glyph from the app's font, none tofu
            if not system_cjk:
                assert not [f for f in fonts if not f["isCustomFont"] and "CJK" in f["familyName"]]
    assert checked >= len(TABS) + 1  # title, the tabs, the model line
    # glyph widths: a real CJK glyph is one em wide; the fallback's tofu box is not
    widths = page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d');
        const w = f => { c.font = f; return c.measureText('模型训练').width; };
        return [w('40px "clipdemo CJK"'), w('40px "no such font"')]; }""")
    assert abs(widths[0] - 160) < 2, widths
    if not system_cjk:
        assert abs(widths[1] - 160) > 2, widths  # no CJK font on this machine: without the app's, tofu
    page.close()


def test_the_logit_scale_box_redraws_on_enter(browser, app_url):
    page = open_page(browser, app_url, LAPTOP)
    page.get_by_role("tab").nth(1).click()
    page.locator("#sim-toy-batch").click()
    loss = page.locator("[role='tabpanel']:visible").get_by_text("Paired batch")
    loss.first.wait_for(timeout=120_000)
    wait_idle(page)
    box = page.locator("[role='tabpanel']:visible input[type=number]").first
    box.fill("1")
    box.press("Enter")
    page.wait_for_function("() => [...document.querySelectorAll('[role=tabpanel] .prose')]"
                           ".some(e => /Paired batch/.test(e.innerText) && /logit scale s = 1\\.0 /.test(e.innerText))",
                           timeout=60_000)
    page.close()


def test_axe_finds_no_serious_or_critical_violation(browser, app_url):
    import sys

    sys.path.insert(0, str(ui_browser.ROOT / "scripts"))
    from a11y_check import axe

    bad = {}
    for locale in ("en", "zh-CN"):
        page = open_page(browser, app_url, LAPTOP, locale)
        tabs = page.locator("[role=tablist]").first.get_by_role("tab")
        for i in range(len(TABS)):
            tabs.nth(i).click()
            wait_idle(page)
            for v in axe(page):
                if v["impact"] in ("serious", "critical"):
                    bad.setdefault(f"{locale} tab {i}", []).append((v["id"], v["nodes"][0]["target"]))
        page.close()
    assert not bad, bad
