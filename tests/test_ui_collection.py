"""The map tab's collection view: figure, handlers, strings, and the app started with --collection."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from app_server import running_app
from collection_fixtures import clip_retrieval_folder

from clipdemo.core.registry import ModelRegistry
from clipdemo.data.collection import embed, mapping, service, sources
from clipdemo.ui.collection import layout as collection_view
from clipdemo.ui.collection.figures import DENSITY_ABOVE, HITS_META, POINTS_UID, collection_figure
from clipdemo.ui.context import UIContext
from clipdemo.ui.i18n import all_strings

TOYS = Path(__file__).resolve().parent.parent / "assets" / "toy"


def test_figure_is_webgl_with_a_density_layer_only_when_crowded():
    rng = np.random.default_rng(0)
    small = rng.standard_normal((500, 2)).astype(np.float32)
    fig = collection_figure(small[:, 0], small[:, 1], "c", "auto")
    assert [t.type for t in fig.data] == ["scattergl"] and fig.data[0].meta == POINTS_UID
    big = rng.standard_normal((DENSITY_ABOVE + 1, 2)).astype(np.float32)
    fig = collection_figure(big[:, 0], big[:, 1], "c", "auto")
    assert [t.type for t in fig.data] == ["heatmap", "scattergl"]
    assert fig.data[1].marker.opacity < 0.2  # points stay hoverable but let the density show
    assert [t.type for t in collection_figure(small[:, 0], small[:, 1], "c", "density").data] == ["heatmap", "scattergl"]
    payload = json.loads(fig.to_json())
    assert "bdata" in payload["data"][1]["x"]  # typed arrays, not decimal text
    assert payload["layout"]["meta"] == {"collection": "c"}
    hits = [{"index": 3, "rank": 1, "image_path": "a.png", "score": 0.5}]
    fig = collection_figure(small[:, 0], small[:, 1], "c", "points", hits)
    assert fig.data[-1].meta == HITS_META and fig.data[-1].x[0] == small[3, 0]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, bundled_encoder):
    out = tmp_path_factory.mktemp("colls") / "toys"
    embed.embed_local(sources.open_source(TOYS), out, bundled_encoder, progress=False)
    registry = ModelRegistry("bundled", device="cpu", dtype="fp32")
    registry.add("bundled", bundled_encoder.loaded)
    return UIContext(registry, extra={"collections": service.CollectionSet([out])})


@pytest.fixture()
def fake_project(monkeypatch):
    monkeypatch.setattr(mapping, "project", lambda x, strategy="auto", seed=0, progress=None: (
        np.asarray(x[:, :2], np.float32), {"strategy": "full", "n": len(x), "fit_n": len(x), "seconds": {},
                                           "pca_dims": 50}))


def test_open_search_click_select_and_export(ctx, fake_project):
    fig, info, *_, opened = collection_view.open_map(ctx, "toys", "auto", progress=lambda *a, **k: None)
    assert opened == "toys" and "9 images" in info and len(fig.data[0].x) == 9
    fig, table, gallery, note = collection_view.search(ctx, "toys", opened, "a small red circle on the left", None,
                                                       3, "auto", "bundled")
    assert table[0][1] == "00_a_small_red_circle_on_the_left.png" and len(gallery) == 3
    assert fig.data[-1].meta == "clipdemo-collection-hits" and "exact search" in note
    evt = gr.EventData(None, {"point": 4})
    _, table, _, heading = collection_view.clicked(ctx, opened, 2, "auto", evt)
    assert table[0][1].startswith("04_") and "#4" in heading
    indices, md = collection_view.selected(opened, gr.EventData(None, {"indices": [1, 2, 5]}))
    assert indices == [1, 2, 5] and "3" in md
    [path] = collection_view.export_selection(ctx, opened, indices)
    import pandas as pd

    assert list(pd.read_parquet(path)["index"]) == [1, 2, 5]
    with pytest.raises(gr.Error):
        collection_view.search(ctx, "toys", None, "x", None, 3, "auto", "bundled")


@pytest.mark.parametrize("layer", ["clusters", "duplicates", "outliers"])
def test_insight_layers_draw_on_the_map_with_a_table_and_a_file(ctx, fake_project, layer):
    import pandas as pd

    from clipdemo.data.collection.insight import read_params

    fig, table, [path], note = collection_view.show_layer(ctx, "toys", layer, "auto", "bundled")
    assert fig.data[0].meta == POINTS_UID and len(fig.data) == 2  # the points keep the hover; the layer above
    assert {"index", "image_path", "caption"} <= set(table.columns) and note
    assert len(pd.read_parquet(path)) >= len(table) and read_params(path)["collection"] == "toys"
    if layer == "clusters":
        labels = [a.text for a in fig.layout.annotations]
        assert len(labels) == table["cluster"].nunique() >= 2 and all(label.startswith("<b>") for label in labels)
    with pytest.raises(gr.Error):
        collection_view.show_layer(ctx, None, layer, "auto", "bundled")


def test_mismatch_layer_on_a_collection_without_captions_says_it_needs_them(ctx, fake_project):
    with pytest.raises(gr.Error, match="has no captions"):
        collection_view.show_layer(ctx, "toys", "mismatched", "auto", "bundled")


def test_every_collection_string_in_both_languages():
    strings = all_strings()
    en = {k for k in strings["en"] if k.startswith("coll.")}
    zh = {k for k in strings["zh-CN"] if k.startswith("coll.")}
    assert en and en == zh


def test_app_with_a_collection_serves_its_thumbnails_and_nothing_else(tmp_path, bundled_encoder):
    out = tmp_path / "toys"
    embed.embed_local(sources.open_source(TOYS), out, bundled_encoder, progress=False)
    (out / "map").mkdir()  # a cached map, so the app's background projection has nothing to do
    cr, _ = clip_retrieval_folder(tmp_path / "cr", [4], dim=128)
    with running_app("--collection", str(out), "--collection", str(cr)) as (url, _):
        with urllib.request.urlopen(url + "clipdemo/collection/toys/thumb/0", timeout=30) as r:
            assert r.headers["content-type"] == "image/jpeg" and r.read(3) == b"\xff\xd8\xff"
        for bad in ("clipdemo/collection/cr/thumb/0", "clipdemo/collection/other/thumb/0",
                    "clipdemo/collection/toys/thumb/99"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(url + bad, timeout=30)
            assert e.value.code == 404
        page = urllib.request.urlopen(url + "config", timeout=30).read().decode()
        assert "clipdemo-collection-open" in page
        # the public API reaches the collection by name: exact search over its vectors, and its cached map
        from gradio_client import Client

        client = Client(url, verbose=False)
        chosen = service.CollectionSet([out])
        query = "a small red circle on the left"
        found = client.predict(query=query, k=3, collection="toys", api_name="/search")
        expected = service.collection_search("toys", bundled_encoder, query=query, k=3, collections=chosen)
        assert [r["name"] for r in found["results"]] == [h["image_path"] for h in expected["hits"]]
        # the same cosines up to float16 storage of the vectors and rounding (a server encodes the query anew)
        assert [r["score"] for r in found["results"]] == pytest.approx([h["score"] for h in expected["hits"]],
                                                                       abs=2e-3)
        with pytest.raises(Exception, match="collection"):
            client.predict(query="x", collection="nope", api_name="/search")

