"""The map pipeline: which points exist, caching (no re-encoding), records, and exports that load back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clipdemo.data import embedding_map as em
from clipdemo.data import gallery


@pytest.fixture(scope="module")
def toy12():
    return gallery.toy_gallery(n=12, seed=5, size=48, use_disk=False)


def test_points_are_images_then_distinct_texts(tiny_encoder, toy12):
    data = em.build_map_data(tiny_encoder, toy12, extra_texts="a red heart\n\n  two   blue stars ",
                             labels="circle, star")
    distinct = list(dict.fromkeys(toy12.captions))
    assert data.texts[:len(distinct)] == distinct
    assert data.texts[len(distinct):] == ["a red heart", "two blue stars", "a photo of a circle.", "a photo of a star."]
    assert data.text_kinds.count("label") == 2 and data.text_kinds.count("text") == 2
    assert data.n_points == 12 + len(data.texts)
    assert data.point_kinds() == ["image"] * 12 + ["text"] * len(data.texts)
    for i, j in data.pairs:  # each image is paired with its own caption
        assert data.texts[j] == toy12.captions[i]
    assert np.allclose(np.linalg.norm(data.embeddings(), axis=1), 1, atol=1e-5)
    assert set(data.image_label) <= {"circle", "star"} and len(data.text_label) == len(data.texts)
    assert data.point_groups()[:12] == toy12.groups


def test_second_map_of_the_same_gallery_runs_no_model(tiny_encoder, toy12):
    em.build_map_data(tiny_encoder, toy12)
    misses = tiny_encoder.image_cache.misses, tiny_encoder.text_cache.misses
    again = em.build_map_data(tiny_encoder, toy12)
    assert (tiny_encoder.image_cache.misses, tiny_encoder.text_cache.misses) == misses
    first = em.project_map(again, "pca", 2)
    second = em.project_map(again, "pca", 2)  # projections are cached too
    assert second.cached and np.array_equal(second.coords, first.coords)
    assert not em.project_map(again, "pca", 3, n_neighbors=7).cached


def test_without_captions_or_labels(tiny_encoder, toy12):
    data = em.build_map_data(tiny_encoder, toy12, captions=False, labels="circle", label_points=False)
    assert data.texts == [] and data.pairs == [] and data.gap() is None
    assert data.labels == ["circle"] and data.image_label == ["circle"] * 12


def test_records_have_the_api_shape(tiny_encoder, toy12):
    data = em.build_map_data(tiny_encoder, toy12, extra_texts="a red heart")
    for dims in (2, 3):
        proj = em.project_map(data, "pca", dims)
        recs = em.records(data, proj)
        assert len(recs) == data.n_points
        assert recs[0]["kind"] == "image" and recs[0]["name"] == "toy_000.png"
        assert recs[0]["caption"] == toy12.captions[0]
        assert recs[-1] == {"kind": "text", "name": "a red heart",
                            **{a: pytest.approx(float(v), abs=1e-4) for a, v in zip("xyz", proj.coords[-1],
                                                                                      strict=False)}}
        assert ("z" in recs[0]) == (dims == 3)


def test_exports_load_back(tiny_encoder, toy12, tmp_path):
    data = em.build_map_data(tiny_encoder, toy12, labels="circle, star")
    proj = em.project_map(data, "pca", 3)
    paths = em.export_files(data, proj, tmp_path)
    assert np.array_equal(np.load(paths["npy"]), data.embeddings())
    table = pd.read_parquet(paths["parquet"])
    assert list(table["name"]) == data.point_names() and list(table["kind"]) == data.point_kinds()
    assert np.allclose(np.stack(table["embedding"].to_numpy()), data.embeddings())
    coords = pd.read_csv(paths["csv"])
    assert list(coords.columns) == ["kind", "name", "caption", "group", "label", "x", "y", "z"]
    assert np.allclose(coords[["x", "y", "z"]].to_numpy(), proj.coords, atol=1e-5)


def test_too_many_texts_are_capped(tiny_encoder, toy12, monkeypatch):
    monkeypatch.setattr(em, "MAX_TEXTS", 5)
    data = em.build_map_data(tiny_encoder, toy12, extra_texts="\n".join(f"text {i}" for i in range(20)))
    assert len(data.texts) == 5 and all(j < 5 for _, j in data.pairs)
    assert any("first 5" in n for n in data.notices)
