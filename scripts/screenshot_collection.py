"""README's collection picture: a prepared collection opened in the map tab, searched, a hit hovered.

    python scripts/screenshot_collection.py --collection /data/toy100k [--out docs/screenshots/collection-100k.png]
        [--query "a small red circle on the left"] [--lang en]

Starts `python app.py --collection DIR` and drives it in Debian's Chromium at 1440×900 as a visitor
would: Embedding map tab, "Open the collection", a text search, the mouse over the first hit (the
hover card loads its thumbnail from the collection's own images). Never downloads a browser.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


# where the first search hit sits on the screen (plotly's own axis conversion, decoded trace data)
FIRST_HIT_JS = """() => {
    const gd = document.querySelector('#clipdemo-collection-plot .js-plotly-plot');
    const d = gd._fullData.find(t => t.meta === 'clipdemo-collection-hits');
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
    return {x: box.left + xa._offset + xa.l2p(d.x[0]), y: box.top + ya._offset + ya.l2p(d.y[0])};
}"""


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--collection", required=True)
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "collection-100k.png"))
    p.add_argument("--query", default="a small red circle on the left")
    p.add_argument("--lang", default="en")
    args = p.parse_args(argv)
    from app_server import running_app
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, running_app("--collection", args.collection,
                                                           log_path=Path(tmp) / "app.log") as (url, _), \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale=args.lang)
        page.set_default_timeout(240_000)
        page.goto(url, wait_until="load")
        page.get_by_role("tab").nth(2).click()  # Embedding map, in either language
        page.locator("#clipdemo-collection-open").click()
        page.wait_for_function("() => { const gd = document.querySelector('#clipdemo-collection-plot .js-plotly-plot');"
                               " return gd && gd.__clipdemoHooked && gd.data && gd.data.length > 0; }")
        query = page.locator("#clipdemo-collection-query textarea, #clipdemo-collection-query input").first
        query.fill(args.query)
        page.locator("#clipdemo-collection-search").click()
        page.wait_for_function("() => { const gd = document.querySelector('#clipdemo-collection-plot .js-plotly-plot');"
                               " return gd && gd.data.some(d => d.meta === 'clipdemo-collection-hits'); }")
        hit = page.evaluate(FIRST_HIT_JS)
        page.locator("#clipdemo-collection").scroll_into_view_if_needed()
        page.mouse.move(hit["x"], hit["y"])
        page.wait_for_function("() => [...document.querySelectorAll('img')].some(i => i.src.includes('/thumb/')"
                               " && i.complete && i.naturalWidth > 0)")
        hit = page.evaluate(FIRST_HIT_JS)
        page.mouse.move(hit["x"], hit["y"])  # again, after the scroll: the card sits by the pointer
        page.wait_for_timeout(500)  # the card's caption arrives by fetch; a picture, not a test
        page.screenshot(path=args.out)
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
