"""`--engine ray`: a Ray Data pipeline on a local Ray instance (1 worker) writes the local engine's files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from collection_fixtures import toy_folder

from clipdemo.data.collection import embed, layout, ray_engine, sources

ray = pytest.importorskip("ray", reason="Ray is optional: pip install -r requirements-ray.txt")


def test_ray_engine_gives_the_local_engines_vectors_and_files(tmp_path, tiny_clip_dir, tiny_encoder):
    folder = toy_folder(tmp_path, 9)
    (folder / "broken.png").write_bytes(b"not an image")
    src = sources.open_source(folder)
    local, remote = tmp_path / "local", tmp_path / "ray"
    # the fixture encoder is loaded from tiny_clip_dir in fp32 on the CPU: the Ray workers load the same
    info_local = embed.embed_local(src, local, tiny_encoder, shard_size=4, batch_size=3, store_dtype="float32",
                                   progress=False)
    info_ray = ray_engine.embed_ray(src, remote, str(tiny_clip_dir), "cpu", "fp32", shard_size=4, batch_size=3,
                                    store_dtype="float32", workers=1, progress=False)
    assert info_ray["count"] == info_local["count"] == 9 and info_ray["skipped"] == info_local["skipped"] == 1
    assert info_ray["shards"] == info_local["shards"]
    for k in layout.shard_numbers(local):
        a = np.load(local / "img_emb" / f"img_emb_{k}.npy")
        b = np.load(remote / "img_emb" / f"img_emb_{k}.npy")
        np.testing.assert_allclose(b, a, atol=1e-5)
        np.testing.assert_allclose(np.load(remote / "text_emb" / f"text_emb_{k}.npy"),
                                   np.load(local / "text_emb" / f"text_emb_{k}.npy"), atol=1e-5)
        pd.testing.assert_frame_equal(pd.read_parquet(remote / "metadata" / f"metadata_{k}.parquet"),
                                      pd.read_parquet(local / "metadata" / f"metadata_{k}.parquet"))
    assert not ray.is_initialized()  # the local instance this run started is shut down again
