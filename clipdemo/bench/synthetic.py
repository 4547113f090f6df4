"""Test and benchmark collections: real toy-world images (embedded by the model) plus random unit vectors.

`toy_image_folder` renders N toy scenes as PNGs with same-named .txt captions (clip-retrieval's
"files" input). `demo_collection` embeds them as shard 0 and appends random unit vectors as
further shards, so a 100k-point collection costs 2k real forward passes. Synthetic rows are marked
(image_path "synthetic/…", caption "") and have no image: their hover shows no thumbnail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clipdemo.collection import embed, layout, sources

SYNTHETIC_PREFIX = "synthetic/"


def toy_image_folder(folder: str | Path, n: int, seed: int = 7, size: int = 96) -> Path:
    """n toy scenes as folder/toy_{i}.png + toy_{i}.txt (kept if already there)."""
    from clipdemo import toyworld

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("toy_*.png"))) == n and len(list(folder.glob("toy_*.txt"))) == n:
        return folder
    for i, (image, caption, _) in enumerate(toyworld.generate(n, seed=seed, size=size, split="all")):
        image.save(folder / f"toy_{i:06d}.png")
        (folder / f"toy_{i:06d}.txt").write_text(caption, encoding="utf-8")
    return folder


def random_unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def demo_collection(out: str | Path, images: str | Path, n_real: int, n_total: int, encoder,
                    synthetic_shard: int = 100_000, progress: bool = True, store_dtype: str = "float16") -> dict:
    """Embed n_real toy images (shard 0), then pad with random unit vectors to n_total rows."""
    out = Path(out)
    toy_image_folder(images, n_real)
    source = sources.open_source(images)
    info = embed.embed_local(source, out, encoder, shard_size=max(1, n_real), progress=progress,
                             store_dtype=store_dtype)
    n_fake = max(0, n_total - info["count"])
    for j, start in enumerate(range(0, n_fake, synthetic_shard)):
        k = j + 1
        if layout.find_shard(out, layout.META_DIR, "metadata", k):
            continue
        rows = min(synthetic_shard, n_fake - start)
        paths = [f"{SYNTHETIC_PREFIX}{start + i:07d}" for i in range(rows)]
        layout.write_shard(out, k, random_unit(rows, encoder.dim, seed=k), paths, [""] * rows, dtype=store_dtype)
    return embed.finish(out, {**info, "synthetic_rows": n_fake}, 0.0, 0)
