"""The local engine writes clip-retrieval's layout, the same vectors the app computes, and resumes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from collection_fixtures import toy_folder

from clipdemo.collection import embed, layout, sources, store
from clipdemo.collection.layout import CollectionError
from clipdemo.images import load_image


@pytest.fixture()
def folder(tmp_path):
    return toy_folder(tmp_path, 10)


def test_layout_files_vectors_and_sidecar(folder, tmp_path, tiny_encoder):
    src = sources.open_source(folder)
    out = tmp_path / "coll"
    info = embed.embed_local(src, out, tiny_encoder, shard_size=4, batch_size=3, progress=False)
    assert [p.name for p in sorted((out / "img_emb").iterdir())] == ["img_emb_0.npy", "img_emb_1.npy", "img_emb_2.npy"]
    assert [p.name for p in sorted((out / "metadata").iterdir())] == [f"metadata_{k}.parquet" for k in range(3)]
    assert [p.name for p in sorted((out / "text_emb").iterdir())] == [f"text_emb_{k}.npy" for k in range(3)]
    emb = np.concatenate([np.load(out / "img_emb" / f"img_emb_{k}.npy") for k in range(3)])
    meta = pd.concat([pd.read_parquet(out / "metadata" / f"metadata_{k}.parquet") for k in range(3)])
    assert emb.dtype == np.float16 and emb.shape == (10, tiny_encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(emb.astype(np.float32), axis=1), 1.0, atol=2e-3)
    assert list(meta.columns) == ["image_path", "caption"] and list(meta["image_path"]) == [it.path for it in src.items]
    # the same vectors the app computes for the same images
    expected = tiny_encoder.encode_images([load_image(folder / p) for p in meta["image_path"]])
    np.testing.assert_allclose(emb.astype(np.float32), expected, atol=2e-3)
    text = np.concatenate([np.load(out / "text_emb" / f"text_emb_{k}.npy") for k in range(3)]).astype(np.float32)
    np.testing.assert_allclose(text, tiny_encoder.encode_texts(list(meta["caption"])), atol=2e-3)
    side = json.loads((out / layout.SIDECAR).read_text())
    assert side["count"] == info["count"] == 10 and side["dim"] == tiny_encoder.dim
    assert side["model"] == tiny_encoder.loaded.name and side["status"] == "complete"
    assert side["shards"] == {"0": 4, "1": 4, "2": 2} and side["source"] == str(folder.resolve())


def test_rerun_skips_finished_shards(folder, tmp_path, tiny_encoder, monkeypatch):
    src = sources.open_source(folder)
    out = tmp_path / "coll"
    embed.embed_local(src, out, tiny_encoder, shard_size=4, progress=False, store_dtype="float32")
    before = np.load(out / "img_emb" / "img_emb_1.npy")
    (out / "metadata" / "metadata_1.parquet").unlink()  # as if the run died while writing shard 1
    calls = []
    real = embed.ShardEmbedder.__call__
    monkeypatch.setattr(embed.ShardEmbedder, "__call__", lambda self, k, items, t: calls.append(k) or real(self, k, items, t))
    info = embed.embed_local(src, out, tiny_encoder, shard_size=4, progress=False, store_dtype="float32")
    assert calls == [1] and info["count"] == 10
    np.testing.assert_array_equal(np.load(out / "img_emb" / "img_emb_1.npy"), before)
    calls.clear()
    embed.embed_local(src, out, tiny_encoder, shard_size=4, progress=False, store_dtype="float32")
    assert calls == []


def test_rerun_with_other_settings_is_refused(folder, tmp_path, tiny_encoder):
    src = sources.open_source(folder)
    out = tmp_path / "coll"
    embed.embed_local(src, out, tiny_encoder, shard_size=4, progress=False)
    with pytest.raises(CollectionError, match="shard_size"):
        embed.embed_local(src, out, tiny_encoder, shard_size=5, progress=False)


def test_resuming_with_a_retrained_image_tower_is_refused(folder, tmp_path, tiny_encoder):
    src = sources.open_source(folder)
    out = tmp_path / "coll"
    embed.embed_local(src, out, tiny_encoder, shard_size=4, progress=False)
    side = json.loads((out / layout.SIDECAR).read_text())
    side["image_tower"] = "0" * 64  # as if the first run used other weights of the same model
    (out / layout.SIDECAR).write_text(json.dumps(side))
    with pytest.raises(CollectionError, match="other weights"):
        embed.embed_local(src, out, tiny_encoder, shard_size=4, progress=False)


def test_broken_images_are_skipped_and_reported(folder, tmp_path, tiny_encoder):
    (folder / "broken.png").write_bytes(b"not a png")
    seen = []
    info = embed.embed_local(sources.open_source(folder), tmp_path / "coll", tiny_encoder, progress=False,
                             on_skip=seen.append)
    assert info["count"] == 10 and info["skipped"] == 1 and "broken.png" in seen[0]
    c = store.open_collection(tmp_path / "coll")
    assert "broken.png" not in set(c.metadata["image_path"])
