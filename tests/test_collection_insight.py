"""Collection insight (clipdemo/data/collection/insight.py and `python -m clipdemo collection ... --duplicates`):
the exact blocked pass equals brute force; on a generated collection with 50 planted copies and 20 wrong
captions among 450 pictures, the copies are grouped and the wrong captions ranked first (recall measured)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clipdemo.bench import synthetic
from clipdemo.data.collection import embed, insight, layout, sources, store
from clipdemo.data.collection.layout import CollectionError
from clipdemo.serve import collection_cli as cli


def _name(path: str) -> str:
    return Path(path).name


@pytest.fixture(scope="module")
def planted(tmp_path_factory, bundled_encoder):
    root = tmp_path_factory.mktemp("planted")
    truth = synthetic.planted_folder(root / "images")
    embed.embed_local(sources.open_source(root / "images"), root / "emb", bundled_encoder, progress=False)
    return store.open_collection(root / "emb"), truth, root


def test_blocked_pass_equals_brute_force():
    x = synthetic.random_unit(300, 16, seed=3)
    x[7] = x[100] + 0.01  # a planted near-copy
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    nb = insight.neighbourhood(x, k=5, threshold=0.9, block=64)
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    assert np.array_equal(nb.indices, np.argsort(-s, axis=1, kind="stable")[:, :5])
    assert nb.cosines == pytest.approx(np.sort(s, axis=1)[:, ::-1][:, :5], abs=1e-5)
    i, j = np.nonzero(np.triu(s >= 0.9, 1))
    assert sorted(map(tuple, nb.pairs.tolist())) == sorted(zip(i.tolist(), j.tolist(), strict=True))
    assert (7, 100) in set(map(tuple, nb.pairs.tolist()))


def test_planted_copies_are_grouped_and_wrong_captions_ranked_first(planted, tmp_path):
    c, truth, _ = planted
    out = insight.write_reports(c, tmp_path / "d.parquet", tmp_path / "m.parquet", tmp_path / "c.parquet",
                                tmp_path / "o.parquet")  # without a model: clusters named by a central caption
    dup = pd.read_parquet(out["duplicates"]["file"])
    group = {_name(p): g for p, g in zip(dup["image_path"], dup["group"], strict=True)}
    found = sum(a in group and b in group and group[a] == group[b] for a, b in truth["copies"])
    assert found >= 45, found  # of 50
    mis = pd.read_parquet(out["mismatched"]["file"])
    top40 = {_name(p) for p in mis["image_path"][:40]}
    assert len(top40 & set(truth["wrong"])) >= 15  # of 20
    assert list(mis["mismatch"]) == sorted(mis["mismatch"], reverse=True)
    row = mis.iloc[0]
    assert row["better_cosine"] - row["own_cosine"] == pytest.approx(row["mismatch"], abs=1e-5)
    assert row["better_caption"] == c.metadata["caption"].iat[int(row["better_caption_from"])]
    for kind in ("duplicates", "mismatched", "clusters", "outliers"):  # clip-retrieval's columns, and parameters
        table = pd.read_parquet(out[kind]["file"])
        assert {"index", "image_path", "caption"} <= set(table.columns)
        assert insight.read_params(out[kind]["file"])["count"] == 450
    assert insight.read_params(out["duplicates"]["file"])["threshold"] == insight.DUPLICATE_COSINE


def test_clusters_are_named_by_words_their_captions_share(planted, bundled_encoder):
    c, _, _ = planted
    table, labels, params = insight.clusters(c, n_clusters=8, encoder=bundled_encoder)
    assert params["n_clusters"] == 8 and len(set(labels)) >= 6
    assert set(labels) <= set(insight.vocabulary(c.metadata["caption"].tolist()))
    every = c.metadata["caption"]
    fitting = 0
    for g, label in enumerate(labels):  # a word of the label (its stem: "stars" -> "star") is far more common in
        own = table[table["cluster"] == g]["caption"]  # the cluster's captions than in the whole collection's
        fitting += max(own.str.contains(w[:4]).mean() / max(every.str.contains(w[:4]).mean(), 1e-9)
                       for w in label.split()) > 2
    assert fitting >= 6, (fitting, labels)  # of 8 (measured: 7; "three" named a cluster of 3-object scenes)


def test_outliers_rank_the_least_dense_first():
    x = synthetic.random_unit(200, 8, seed=1) * 0.05 + np.array([1.0] + [0.0] * 7, np.float32)
    x[42] = np.array([0, 0, 0, 0, 0, 0, 0, 1.0], np.float32)  # far from everyone
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    nb = insight.neighbourhood(x, k=5)
    score = 1 - nb.cosines.mean(1)
    assert int(np.argmax(score)) == 42


def test_collection_without_captions_says_mismatch_needs_captions(tmp_path):
    vectors = synthetic.random_unit(30, 16)
    layout.write_shard(tmp_path / "nocap", 0, vectors, [f"{i}.png" for i in range(30)], [""] * 30)
    c = store.open_collection(tmp_path / "nocap")
    nb = insight.neighbourhood(insight.unit_vectors(c))
    with pytest.raises(CollectionError, match="has no captions"):
        insight.mismatched_captions(c, nb)
    table, labels, params = insight.clusters(c, 3)  # clusters still work, named by a central picture
    assert "no captions" in params["label"] and all(label.endswith(".png") for label in labels)


def test_cli_writes_the_tables_and_reports_a_caption_less_collection(planted, tmp_path, capsys):
    c, truth, _ = planted
    code = cli.main([str(c.root), "--duplicates", str(tmp_path / "d.parquet"), "--mismatched",
                     str(tmp_path / "m.parquet"), "--clusters", str(tmp_path / "c.parquet"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["insight"]["duplicates"]["groups"] > 0 and len(out["insight"]["clusters"]["labels"]) > 1
    vectors = synthetic.random_unit(20, 16)
    layout.write_shard(tmp_path / "nocap", 0, vectors, [f"{i}.png" for i in range(20)], [""] * 20)
    code = cli.main([str(tmp_path / "nocap"), "--mismatched", str(tmp_path / "m2.parquet")])
    assert code == 2 and "needs them" in capsys.readouterr().err
