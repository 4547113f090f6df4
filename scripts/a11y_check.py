"""Run axe-core (the copy bundled by the PyPI package axe-playwright-python) on every tab of a running app,
in English and Chinese, at 1440×900 and 390×844, in Debian's Chromium; print a table of violations by impact.

    python app.py --model bundled --port 7861 &
    python scripts/a11y_check.py http://127.0.0.1:7861 [--details]
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import Counter
from pathlib import Path

AXE_JS = Path(__import__("axe_playwright_python").__file__).with_name("axe.min.js")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu"]
VIEWPORTS = {"laptop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
TABS = 5
# WCAG 2 A/AA rules (what "contrast ≥ 4.5:1", names, labels mean); best-practice rules listed separately
RUN = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, "resultTypes": ["violations"]}


def axe(page) -> list[dict]:
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate("(opts) => axe.run(document, opts).then(r => r.violations)", RUN)


def open_app(browser, url, viewport, locale):
    page = browser.new_page(viewport=viewport, locale=locale)
    page.set_default_timeout(120_000)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => (document.querySelector('#model-summary')?.innerText || '').length > 20")
    return page


def check(browser, url, viewport, locale) -> dict[str, list[dict]]:
    page = open_app(browser, url, viewport, locale)
    out = {}
    tabs = page.locator("[role=tablist]").first.locator("[role=tab]")
    for i in range(TABS):
        tabs.nth(i).click()
        page.wait_for_timeout(1500)
        out[tabs.nth(i).inner_text().strip()] = axe(page)
    page.close()
    return out


def main(argv=None) -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--details", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    rows, everything = [], {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for locale in ("en", "zh-CN"):
            for vname, vp in VIEWPORTS.items():
                for tab, violations in check(browser, args.url, vp, locale).items():
                    impacts = Counter()
                    for v in violations:
                        impacts[v["impact"]] += len(v["nodes"])
                    rows.append((locale, vname, tab, impacts))
                    everything[f"{locale}/{vname}/{tab}"] = [
                        {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]),
                         "example": v["nodes"][0]["target"], "summary": v["nodes"][0].get("failureSummary", "")[:300],
                         "all": sorted({(str(n["target"])[-80:], n.get("failureSummary", "").split("\n")[1][:160])
                                        for n in v["nodes"]})}
                        for v in violations]
        browser.close()
    print(f"{'locale':7} {'width':7} {'tab':14} critical serious moderate minor")
    for locale, vname, tab, c in rows:
        print(f"{locale:7} {vname:7} {tab:14} {c['critical']:8} {c['serious']:7} {c['moderate']:8} {c['minor']:5}")
    total = Counter()
    for *_, c in rows:
        total.update(c)
    print(f"total nodes: critical {total['critical']}, serious {total['serious']}, moderate {total['moderate']}, "
          f"minor {total['minor']}")
    if args.details:
        for key, vs in everything.items():
            for v in vs:
                print(key, v["id"], v["impact"], v["nodes"], v["example"], v["summary"].replace("\n", " ")[:200])
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
