"""The local engine writes clip-retrieval's layout, the same vectors the app computes, and resumes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from collection_fixtures import toy_folder

from clipdemo.core.images import load_image
from clipdemo.data.collection import embed, layout, sources, store
from clipdemo.data.collection.layout import CollectionError


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


def test_a_rerun_notices_a_changed_listing_not_only_its_count(folder, tmp_path, tiny_encoder):
    """5 files deleted and 5 others added (the same count) were accepted silently: 5 rows pointed at deleted
    files and the 5 new ones were never embedded."""
    import shutil

    out = tmp_path / "coll"
    embed.embed_local(sources.open_source(folder), out, tiny_encoder, shard_size=4, progress=False)
    items = [it.path for it in sources.open_source(folder).items]
    gone = items[:5]
    for i, name in enumerate(gone):
        shutil.copy(folder / items[-1], folder / f"zz-new-{i}.png")
        (folder / name).unlink()
    src = sources.open_source(folder)
    assert len(src.items) == 10  # the same count as before
    info = embed.embed_local(src, out, tiny_encoder, shard_size=4, progress=False)
    assert info["count"] == 10 and info["notices"], info
    assert "5 file(s) not in it yet, 5 no longer there" in info["notices"][0]
    rows = set(store.open_collection(out).metadata["image_path"])
    assert rows == {it.path for it in src.items} and not rows & set(gone)
    again = embed.embed_local(src, out, tiny_encoder, shard_size=4, progress=False)
    assert again["notices"] == [] and again["count"] == 10  # nothing changed since: nothing redone


def test_a_file_replaced_under_the_same_name_is_embedded_again(folder, tmp_path, tiny_encoder, monkeypatch):
    out = tmp_path / "coll"
    embed.embed_local(sources.open_source(folder), out, tiny_encoder, shard_size=4, progress=False)
    last = folder / sources.open_source(folder).items[-1].path
    last.write_bytes(last.read_bytes() + b"\0" * 10)  # another size: another file
    calls = []
    real = embed.ShardEmbedder.__call__
    monkeypatch.setattr(embed.ShardEmbedder, "__call__", lambda self, k, items, t: calls.append(k) or real(self, k, items, t))
    info = embed.embed_local(sources.open_source(folder), out, tiny_encoder, shard_size=4, progress=False)
    assert calls == [2] and info["notices"] and "1 shard(s) of 3" in info["notices"][0]
