"""Opening collections (ours and clip-retrieval's), exact search, and the model check."""

from __future__ import annotations

import numpy as np
import pytest
from collection_fixtures import clip_retrieval_folder, toy_folder

from clipdemo.data.collection import embed, layout, sources, store
from clipdemo.data.collection.layout import CollectionError


def test_clip_retrieval_folder_opens_with_its_column_names(tmp_path):
    root, vectors = clip_retrieval_folder(tmp_path / "cr", [5, 7, 3])
    c = store.open_collection(root)
    assert c.count == 15 and c.dim == 16 and c.model is None and c.dtype == np.float16
    np.testing.assert_array_equal(c.vectors, vectors)
    assert list(c.metadata["image_path"][:2]) == ["/data/images/0/0.jpg", "/data/images/0/1.jpg"]
    assert c.metadata["caption"].iat[5] == "caption 1-0" and "url" in c.metadata
    assert c.image_root == {"kind": "folder", "root": "/data/images"}
    assert c.image_relpath(6) == "1/1.jpg"


def test_our_folder_reads_as_clip_retrieval_reads_it(tmp_path, tiny_encoder):
    """clip-retrieval's tools glob img_emb/*.npy and metadata/*.parquet in sorted order and align rows."""
    import pandas as pd

    out = tmp_path / "ours"
    embed.embed_local(sources.open_source(toy_folder(tmp_path, 7)), out, tiny_encoder, shard_size=3, progress=False)
    npys = sorted((out / "img_emb").glob("*.npy"))
    metas = sorted((out / "metadata").glob("*.parquet"))
    assert len(npys) == len(metas) == 3
    for n, m in zip(npys, metas, strict=True):
        assert len(np.load(n)) == len(pd.read_parquet(m)) and {"image_path", "caption"} <= set(pd.read_parquet(m))
    back = store.open_collection(out)
    assert back.count == 7 and back.model == tiny_encoder.loaded.name


def test_dimension_and_model_mismatch_messages(tmp_path, tiny_encoder):
    root, _ = clip_retrieval_folder(tmp_path / "cr", [4])
    c = store.open_collection(root)
    with pytest.raises(CollectionError, match="16-d vectors .*model not recorded.* makes 32-d"):
        c.check_model("some/model", 32)
    notes = c.check_model("some/model", 16)
    assert notes and "does not record its model" in notes[0]
    out = tmp_path / "ours"
    embed.embed_local(sources.open_source(toy_folder(tmp_path, 3)), out, tiny_encoder, progress=False)
    ours = store.open_collection(out)
    assert ours.check_model(tiny_encoder.loaded.name, tiny_encoder.dim) == []
    assert ours.check_model("renamed", tiny_encoder.dim, str(tiny_encoder.loaded.source)) == []  # same folder
    with pytest.raises(CollectionError, match="pick"):
        ours.check_model("openai/clip-vit-base-patch32", tiny_encoder.dim)


def test_a_collection_made_by_other_weights_of_the_same_model_is_refused(tmp_path, tiny_encoder):
    """Same name, same folder, retrained image tower: the vectors no longer match the texts."""
    from clipdemo.core.fingerprint import image_tower_fingerprint

    out = tmp_path / "ours"
    embed.embed_local(sources.open_source(toy_folder(tmp_path, 3)), out, tiny_encoder, progress=False)
    ours = store.open_collection(out)
    source = str(tiny_encoder.loaded.source)
    recorded = ours.info["image_tower"]
    assert recorded == image_tower_fingerprint(source)
    assert ours.check_model(tiny_encoder.loaded.name, tiny_encoder.dim, source, recorded) == []
    with pytest.raises(CollectionError, match="other weights .*Embed the collection again"):
        ours.check_model(tiny_encoder.loaded.name, tiny_encoder.dim, source, "0" * 64)


def test_exact_search_matches_brute_force_and_breaks_ties_by_index(tmp_path):
    root, vectors = clip_retrieval_folder(tmp_path / "cr", [300, 200])
    c = store.open_collection(root)
    q = vectors[123].astype(np.float32)
    got = c.search(q, 10)
    scores = vectors.astype(np.float32) @ (q / np.linalg.norm(q))
    assert [i for i, _ in got] == list(np.lexsort((np.arange(len(scores)), -scores))[:10])
    assert got[0][0] == 123 and got[0][1] == pytest.approx(1.0, abs=1e-3)
    assert len(c.search(q, 10_000)) == 500  # k is capped at the collection size
    with pytest.raises(CollectionError, match="8-d query"):
        c.search(np.ones(8), 3)


def test_a_folder_without_embeddings_or_with_mixed_dims_is_refused(tmp_path):
    with pytest.raises(CollectionError, match="holds no embeddings"):
        store.open_collection(tmp_path)
    root, _ = clip_retrieval_folder(tmp_path / "cr", [3, 3])
    np.save(root / "img_emb" / "img_emb_01.npy", np.zeros((3, 8), np.float16))
    with pytest.raises(CollectionError, match="disagree"):
        layout.scan(root)
