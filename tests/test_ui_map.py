"""The embedding-map tab: strings, the figure, the handlers on a tiny model, and the HTTP API's shape."""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from clipdemo.core.registry import ModelRegistry
from clipdemo.core.search import Hit
from clipdemo.data import embedding_map as em
from clipdemo.data import gallery
from clipdemo.ui.context import UIContext
from clipdemo.ui.map import figures as map_plot
from clipdemo.ui.map import layout as map_tab
from clipdemo.ui.map.strings import STRINGS

VIEW = ("pca", 2, 15, 0.1)  # method, dims, n_neighbors, min_dist: PCA keeps these tests free of numba


class Silent:
    def __call__(self, *args, **kwargs):
        pass


class Click:
    def __init__(self, point):
        self._data = {"point": point}
        self.point = point


@pytest.fixture(scope="module")
def small_toy():
    return gallery.toy_gallery(n=12, seed=5, size=48, use_disk=False)


@pytest.fixture
def ctx(tiny_clip_dir, small_toy, monkeypatch):
    monkeypatch.setattr(map_tab.galleries, "toy_gallery", lambda *a, **k: small_toy)
    return UIContext(ModelRegistry(str(tiny_clip_dir), device="cpu", dtype="fp32"))


def draw(ctx, source="toy", files=None, colour_by="modality", lines=False, labels="circle, star"):
    return map_tab.draw(ctx, source, files, True, "a red heart", labels, True, *VIEW, colour_by, lines, None,
                        request=None, progress=Silent())


# ---------------------------------------------------------------- strings


def test_strings_complete_in_both_languages_and_all_used_keys_exist():
    assert set(STRINGS["en"]) == set(STRINGS["zh-CN"])
    assert all(k.startswith("map.") for k in STRINGS["en"])
    assert all(v.strip() for loc in STRINGS.values() for v in loc.values())
    source = Path(map_tab.__file__).read_text()
    used = set(re.findall(r"""\bt\(\s*["'](map\.[\w.]+)["']""", source))
    used |= set(re.findall(r"""\btr\(\s*request,\s*["'](map\.[\w.]+)["']""", source))
    assert len(used) > 30 and used <= set(STRINGS["en"])
    for key in ("map.gap_centroid", "map.gap_pairs", "map.note_points"):  # same placeholders in both
        assert set(re.findall(r"{(\w+)", STRINGS["en"][key])) == set(re.findall(r"{(\w+)", STRINGS["zh-CN"][key]))
    assert map_tab.STRINGS is STRINGS  # the i18n merger finds them on the tab module


# ---------------------------------------------------------------- the figure


@pytest.fixture(scope="module")
def data(tiny_encoder, small_toy):
    return em.build_map_data(tiny_encoder, small_toy, "a red heart", "circle, star")


def test_figure_marks_images_and_texts_differently(data):
    fig = map_plot.map_figure(data, em.project_map(data, "pca", 2))
    symbols = {tr.name: tr.marker.symbol for tr in fig.data}
    assert symbols == {"images ●": "circle", "texts ◆": "diamond"}
    n = sum(len(tr.x) for tr in fig.data)
    assert n == data.n_points
    assert all(isinstance(tr, go.Scatter) for tr in fig.data)  # SVG for small maps
    image_trace = fig.data[0]
    assert [c[0] for c in image_trace.customdata] == list(range(data.n_images))  # the hover hook's index


def test_figure_lines_hits_3d_and_group_colours(data):
    hits = [Hit(1, 3, "toy_003.png", 0.5), Hit(2, 0, "toy_000.png", 0.4)]
    fig = map_plot.map_figure(data, em.project_map(data, "pca", 3), colour_by="group", lines=True, hits=hits)
    assert all(isinstance(tr, go.Scatter3d) for tr in fig.data)
    line = fig.data[0]
    assert line.mode == "lines" and list(line.x).count(None) == len(data.pairs)
    hit = fig.data[-1]
    assert hit.name == "search hits" and list(hit.text) == ["1", "2"]
    coords = em.project_map(data, "pca", 3).coords
    assert hit.x[0] == pytest.approx(coords[3, 0])
    colours = {tr.legendgroup: tr.marker.color for tr in fig.data[1:-1]}
    for group, colour in colours.items():
        if group in map_plot.NAMED_COLOURS:
            assert colour == map_plot.NAMED_COLOURS[group]
    legend = [tr.name for tr in fig.data[1:-1] if tr.showlegend]
    assert len(legend) == len(set(legend)) == len(colours)  # one legend entry per colour, not per kind
    words = {"images": "图片", "texts": "文字", "hits": "搜索结果"}
    zh = map_plot.map_figure(data, em.project_map(data, "pca", 2), hits=hits, words=words)
    assert [tr.name for tr in zh.data] == ["图片 ●", "文字 ◆", "搜索结果"]


def test_label_colouring_falls_back_to_modality_without_labels(tiny_encoder, small_toy):
    plain = em.build_map_data(tiny_encoder, small_toy)
    fig = map_plot.map_figure(plain, em.project_map(plain, "pca", 2), colour_by="label")
    assert {tr.name for tr in fig.data} == {"images ●", "texts ◆"}


# ---------------------------------------------------------------- handlers


def test_draw_then_redraw_reuses_embeddings(ctx):
    fig, gap, notes, data, hits, thumbs, table, hit_gallery = draw(ctx, colour_by="label", lines=True)
    assert isinstance(fig, go.Figure) and data.n_images == 12 and hits is None
    assert "Modality gap" in gap and "own caption" in gap
    assert "12 images" in notes
    assert len(eval_json(thumbs)) == 12 and eval_json(thumbs)[0].startswith("data:image/jpeg")
    enc = ctx.registry.get()
    misses = enc.image_cache.misses, enc.text_cache.misses
    fig3d, notes3d = map_tab.redraw(ctx, data, "pca", 3, 15, 0.1, "group", False, None)
    assert isinstance(fig3d.data[0], go.Scatter3d) and "PCA in 3D" in notes3d
    assert (enc.image_cache.misses, enc.text_cache.misses) == misses  # no model run
    assert "reused" in draw(ctx)[2]  # a second draw of the same gallery: cached embeddings


def eval_json(text):
    import json

    return json.loads(text)


def test_redraw_without_a_map_changes_nothing():
    fig, notes = map_tab.redraw(None, None, *VIEW, "modality", False, None)
    assert fig == gr.update() and notes == gr.update()


def test_search_highlights_and_lists_hits(ctx):
    data = draw(ctx)[3]
    fig, table, hit_gallery, hits = map_tab.run_search(ctx, data, "a red circle", None, 4, *VIEW, "modality", False)
    assert table["headers"] == ["rank", "name", "caption", "cosine"]  # a page in English: English column names
    table = table["value"]
    assert [row[0] for row in table] == [1, 2, 3, 4]
    assert [row[3] for row in table] == sorted((row[3] for row in table), reverse=True)
    assert fig.data[-1].name == "search hits" and len(hit_gallery) == 4
    with pytest.raises(gr.Error):
        map_tab.run_search(ctx, data, "   ", None, 4, *VIEW, "modality", False)
    with pytest.raises(gr.Error):
        map_tab.run_search(ctx, None, "a red circle", None, 4, *VIEW, "modality", False)


def test_image_query_ranks_the_same_image_first(ctx, small_toy, tmp_path):
    data = draw(ctx)[3]
    path = tmp_path / "q.png"
    small_toy.images[5].save(path)
    _, table, _, hits = map_tab.run_search(ctx, data, "", str(path), 3, *VIEW, "modality", False)
    assert hits[0].index == 5 and table["value"][0][1] == "toy_005.png"


def test_clicking_an_image_and_a_text(ctx):
    data = draw(ctx)[3]
    image, md, *rest = map_tab.show_point(ctx, data, 5, *VIEW, "modality", False, Click(2))
    assert image is data.gallery.images[2] and "toy_002.png" in md and "cos" in md
    assert all(r == gr.update() for r in rest)
    j = data.texts.index("a red heart")
    image, md, fig, table, _, hits = map_tab.show_point(ctx, data, 5, *VIEW, "modality", False, Click(data.n_images + j))
    assert image is None and "a red heart" in md and len(table["value"]) == 5 and fig.data[-1].name == "search hits"
    assert map_tab.show_point(ctx, data, 5, *VIEW, "modality", False, Click(10_000))[0] == gr.update()


def test_export_files_load_back(ctx):
    data = draw(ctx)[3]
    paths = map_tab.export(ctx, data, *VIEW)
    assert [Path(p).name for p in paths] == ["embeddings.npy", "embeddings.parquet", "coords.csv"]
    assert np.load(paths[0]).shape == (data.n_points, data.image_emb.shape[1])
    assert len(pd.read_parquet(paths[1])) == data.n_points and len(pd.read_csv(paths[2])) == data.n_points


def test_uploads_photos_and_bad_input(ctx, tmp_path, small_toy):
    with pytest.raises(gr.Error):
        draw(ctx, source="upload", files=None)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(gr.Error, match="No usable images"):
        draw(ctx, source="upload", files=[str(bad)])
    good = tmp_path / "blue_star.png"
    small_toy.images[0].save(good)
    data = draw(ctx, source="upload", files=[str(good), str(bad)], labels="")[3]
    assert data.gallery.captions == ["blue star"] and any("bad.png" in n for n in data.notices)
    assert draw(ctx, source="photos", labels="cat, horse")[3].n_images == 6


def test_service_embedding_map_and_search_on_the_toy_gallery(ctx):
    """What the public /embedding_map and /search return (clipdemo.ui.api publishes these service calls)."""
    out = ctx.service.embedding_map(None, "a red heart\nblue things", method="pca").to_json()
    recs, summary = out["points"], out["summary"]
    assert {r["kind"] for r in recs} == {"image", "text"}
    assert all(set(r) >= {"kind", "name", "x", "y"} and "z" not in r for r in recs)
    assert recs[-1]["name"] == "blue things" and summary["images"] == 12
    assert summary["modality_gap"]["centroid_distance"] > 0
    ranked = ctx.service.search("a red circle", None, k=100).to_json()["results"]
    assert len(ranked) == 12 and [r["rank"] for r in ranked] == list(range(1, 13))
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)


def test_tab_builds_with_no_public_endpoint(ctx):
    with gr.Blocks() as demo:
        map_tab.build(ctx, gr.State(None))
    assert demo.get_api_info()["named_endpoints"] == {}  # the UI's own events stay private


def test_the_gap_readout_says_what_its_numbers_show():
    """'closer to its own caption' only when the paired cosine is higher; the toy model on photos (+0.392 own vs
    +0.420 others) is told as the opposite, in both languages."""
    from types import SimpleNamespace

    def readout(paired, unpaired, lang="en"):
        gap = SimpleNamespace(centroid_distance=0.79, paired_cosine=paired, unpaired_cosine=unpaired)
        request = SimpleNamespace(headers={"accept-language": lang})
        return map_tab.gap_readout(SimpleNamespace(gap=lambda: gap), request)

    assert "closer to its own caption than to the others" in readout(0.45, 0.20)
    photos = readout(0.392, 0.420)
    assert "not closer to their own captions" in photos and "+0.392" in photos and "+0.420" in photos
    assert "并不比" in readout(0.392, 0.420, "zh-CN") and "并不比" not in readout(0.45, 0.20, "zh-CN")
