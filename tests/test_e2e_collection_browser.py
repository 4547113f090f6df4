"""End to end in Debian's Chromium: a collection opened in the map tab, a lasso drawn over its map with the
mouse, and the selection exported as a parquet that lists exactly the points the lasso took.

The lasso is plotly's own tool (modebar "Lasso Select"), driven by real mouse events; the app hears it
through its `plotly_selected` hook, the same path a visitor's selection takes.
"""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from app_server import running_app
from ui_browser import BROWSER_MARKS, CHROMIUM, FLAGS, LAPTOP

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def collection(tmp_path_factory, bundled_encoder):
    from clipdemo.bench import synthetic
    from clipdemo.data.collection import embed, mapping, sources, store

    root = tmp_path_factory.mktemp("coll")
    folder = synthetic.toy_image_folder(root / "pictures", 120, size=48)
    out = root / "toys120"
    embed.embed_local(sources.open_source(folder), out, bundled_encoder, progress=False)
    mapping.collection_projection(store.open_collection(out))  # cached beside it: opening reads it
    return out


def test_lasso_selection_exports_the_points_it_took(collection, tmp_path):
    import pandas as pd
    from playwright.sync_api import expect, sync_playwright

    with running_app("--collection", str(collection)) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport=LAPTOP)
        page.set_default_timeout(120_000)  # a busy 2-core machine renders slowly
        page.goto(url, wait_until="load")
        page.get_by_role("tab", name="Embedding map").click()
        page.locator("#clipdemo-collection-open").click()
        plot = page.locator("#clipdemo-collection-plot .js-plotly-plot")
        page.wait_for_function("() => { const gd = document.querySelector('#clipdemo-collection-plot .js-plotly-plot');"
                               " return gd && gd.__clipdemoHooked && gd.data && gd.data.length > 0; }")
        plot.hover()
        plot.locator('[data-title="Lasso Select"]').click()
        box = plot.locator(".nsewdrag").first.bounding_box()
        cx, cy, w, h = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"], box["height"]
        # a lasso around the middle half of the map, drawn as a hand would: down, a polygon, up
        corners = [(cx - w / 4, cy - h / 4), (cx + w / 4, cy - h / 4), (cx + w / 4, cy + h / 4),
                   (cx - w / 4, cy + h / 4), (cx - w / 4, cy - h / 4 + 2)]
        page.mouse.move(*corners[0])
        page.mouse.down()
        for x, y in corners[1:]:
            page.mouse.move(x, y, steps=8)
        page.mouse.up()
        selected = page.locator("#clipdemo-collection").get_by_text("points selected")
        expect(selected).to_be_visible(timeout=120_000)
        shown = int(selected.inner_text().split()[0].strip("*"))
        in_lasso = page.evaluate("""() => {
            const gd = document.querySelector('#clipdemo-collection-plot .js-plotly-plot');
            const t = gd.data.find(d => d.selectedpoints !== undefined && d.selectedpoints !== null);
            return t ? Array.from(t.selectedpoints) : [];
        }""")
        assert shown > 0 and shown == len(in_lasso)
        page.get_by_role("button", name="Export the selection (.parquet)").click()
        link = page.locator("#clipdemo-collection a[href*='.parquet']").first
        expect(link).to_be_attached(timeout=120_000)
        target = tmp_path / "selection.parquet"
        href = urllib.parse.urljoin(url, link.get_attribute("href"))
        target.write_bytes(urllib.request.urlopen(href, timeout=60).read())
        browser.close()
    table = pd.read_parquet(target)
    assert len(table) == shown
    assert sorted(table["index"]) == sorted(in_lasso)  # the very points the lasso took, with their files
    assert table["image_path"].str.endswith(".png").all()
