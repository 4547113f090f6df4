"""The plain functions the UI, CLI and API call: only launch-time collections, search, thumbnails, exports."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from collection_fixtures import clip_retrieval_folder, toy_folder
from PIL import Image

from clipdemo.core.errors import UserError
from clipdemo.core.images import ImageError
from clipdemo.data.collection import embed, mapping, service, sources
from clipdemo.data.collection.layout import CollectionError

TOYS = Path(__file__).resolve().parent.parent / "assets" / "toy"


@pytest.fixture(scope="module")
def toy_set(tmp_path_factory, bundled_encoder):
    out = tmp_path_factory.mktemp("colls") / "toys"
    embed.embed_local(sources.open_source(TOYS), out, bundled_encoder, progress=False)
    return service.CollectionSet([out])


@pytest.fixture()
def fake_project(monkeypatch):
    monkeypatch.setattr(mapping, "project", lambda x, strategy="auto", seed=0, progress=None: (
        np.asarray(x[:, :2], np.float32), {"strategy": "full", "n": len(x), "fit_n": len(x), "seconds": {}}))


def test_only_named_launch_collections_open(tmp_path, toy_set):
    assert toy_set.names() == ["toys"]
    with pytest.raises(CollectionError, match="no collection named 'other'.*offered: toys"):
        toy_set.get("other")
    a, _ = clip_retrieval_folder(tmp_path / "a" / "same", [3])
    b, _ = clip_retrieval_folder(tmp_path / "b" / "same", [3])
    with pytest.raises(CollectionError, match="two collections are named 'same'"):
        service.CollectionSet([a, b])
    with pytest.raises(CollectionError, match="holds no embeddings"):
        service.configure([tmp_path])  # a wrong folder fails at launch, not on a visitor


def test_text_search_finds_the_described_image_first(toy_set, bundled_encoder):
    for path in sorted(TOYS.glob("0[0-4]_*.png")):
        query = path.stem[3:].replace("_", " ")
        result = service.collection_search("toys", bundled_encoder, query=query, k=3, collections=toy_set)
        assert result["hits"][0]["image_path"] == path.name, query
        assert [h["rank"] for h in result["hits"]] == [1, 2, 3]
        assert result["hits"][0]["score"] >= result["hits"][1]["score"]
        assert result["seconds"]["search"] < 1.0 and result["notices"] == []


def test_image_search_and_point_search_find_the_image_itself(toy_set, bundled_encoder):
    path = sorted(TOYS.glob("*.png"))[5]
    by_image = service.collection_search("toys", bundled_encoder, image=str(path), k=2, collections=toy_set)
    assert by_image["hits"][0]["image_path"] == path.name and by_image["hits"][0]["score"] > 0.99
    by_point = service.nearest_to_point("toys", 5, 2, toy_set)
    assert by_point["hits"][0]["index"] == 5 and by_point["hits"][0]["score"] == pytest.approx(1.0, abs=2e-3)


def test_search_with_another_model_is_refused(toy_set, tiny_encoder):
    with pytest.raises(CollectionError, match="128-d vectors by bundled"):
        service.collection_search("toys", tiny_encoder, query="a red circle", collections=toy_set)


def test_thumbnails_come_only_from_the_collection_source(toy_set, tmp_path, tiny_encoder):
    data = service.collection_thumbnail("toys", 0, 64, toy_set)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and max(image.size) <= 64
    assert service.collection_thumbnail("toys", 0, 64, toy_set) is data  # cached
    with pytest.raises(CollectionError, match="no point 99"):
        service.collection_thumbnail("toys", 99, 64, toy_set)
    # metadata pointing outside the source is refused, whatever it says
    folder = toy_folder(tmp_path, 2, nested=False)
    out = tmp_path / "evil"
    embed.embed_local(sources.open_source(folder), out, tiny_encoder, progress=False)
    meta = out / "metadata" / "metadata_0.parquet"
    pd.DataFrame({"image_path": ["../../etc/passwd", "/etc/hostname"], "caption": ["", ""]}).to_parquet(meta)
    evil = service.CollectionSet([out])
    for i in (0, 1):
        with pytest.raises((ImageError, CollectionError)):
            service.collection_thumbnail("evil", i, 64, evil)


def test_map_selection_and_atlas_exports(toy_set, tmp_path, fake_project):
    m = service.collection_map("toys", toy_set)
    assert len(m["x"]) == len(m["y"]) == m["count"] == 9 and m["projection"]["strategy"] == "full"
    sel = service.export_selection("toys", [4, 1, 1, 99, -3], tmp_path, toy_set)
    table = pd.read_parquet(sel)
    assert list(table["index"]) == [1, 4] and table["image_path"].iat[0].startswith("01_")
    assert table["projection_x"].iat[1] == pytest.approx(float(m["x"][4]))
    with pytest.raises(UserError, match="Nothing selected"):  # a user's slip, not a bug
        service.export_selection("toys", [], tmp_path, toy_set)
    with pytest.raises(UserError, match="list of point indices"):
        service.export_selection("toys", ["one", "two"], tmp_path, toy_set)
    atlas = pd.read_parquet(service.export_atlas("toys", tmp_path, toy_set))
    assert len(atlas) == 9 and {"projection_x", "projection_y", "image_path", "caption"} <= set(atlas.columns)


def test_routes_serve_thumbnails_and_captions_of_launch_collections(toy_set, monkeypatch):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from clipdemo.ui.collection.routes import routes

    monkeypatch.setattr(service, "_active", toy_set)
    client = TestClient(Starlette(routes=routes()))
    r = client.get("/clipdemo/collection/toys/thumb/2")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert client.get("/clipdemo/collection/toys/point/2").json()["image_path"].startswith("02_")
    assert client.get("/clipdemo/collection/nope/thumb/2").status_code == 404
    assert client.get("/clipdemo/collection/toys/thumb/12345").status_code == 404
    assert client.get("/clipdemo/collection/toys/thumb/..%2F..%2Fetc%2Fpasswd").status_code == 404



def test_clip_service_search_and_map_take_a_collection(toy_set, monkeypatch, fake_project):
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService

    monkeypatch.setattr(service, "_active", toy_set)
    clip = ClipService(ModelRegistry("bundled", device="cpu", dtype="fp32"))
    found = clip.search("a small red circle on the left", k=2, collection="toys").to_json()
    assert [r["rank"] for r in found["results"]] == [1, 2]
    assert found["results"][0]["name"] == "00_a_small_red_circle_on_the_left.png" and found["model"] == "bundled"
    picture = next(p for p in Path(TOYS).glob("*.png") if p.name.startswith("03_"))
    by_image = clip.search(collection="toys", query_image=str(picture), k=2).to_json()  # image -> image
    assert by_image["results"][0]["name"] == picture.name and by_image["results"][0]["score"] > 0.99
    assert by_image["query"] == picture.name
    mapped = clip.embedding_map(None, collection="toys").to_json()
    assert len(mapped["points"]) == 9 and mapped["summary"]["collection"] == "toys"
    assert {"kind", "name", "x", "y", "caption"} <= set(mapped["points"][0])
    from clipdemo.core.errors import UserError

    with pytest.raises(UserError, match="no collection named 'nope'"):  # an input problem, not a bug
        clip.search("x", collection="nope")
