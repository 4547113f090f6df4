"""Small collections built in seconds: toy images on disk with captions, and clip-retrieval-style folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clipdemo.bench import synthetic


def toy_folder(root: Path, n: int = 12, nested: bool = True) -> Path:
    """n toy PNGs with .txt captions; half of them in a sub-folder when nested."""
    folder = synthetic.toy_image_folder(root / "flat", n, size=48)
    if not nested:
        return folder
    sub = folder / "sub"
    sub.mkdir(exist_ok=True)
    for p in sorted(folder.glob("toy_*.png"))[n // 2:]:
        p.rename(sub / p.name)
        p.with_suffix(".txt").rename(sub / p.with_suffix(".txt").name)
    return folder


def clip_retrieval_folder(root: Path, rows: list[int], dim: int = 16, seed: int = 0) -> tuple[Path, np.ndarray]:
    """A folder as `clip-retrieval inference` writes it: zero-padded shard names, float16, no sidecar,
    extra metadata columns, absolute image paths."""
    rng = np.random.default_rng(seed)
    (root / "img_emb").mkdir(parents=True)
    (root / "metadata").mkdir()
    (root / "text_emb").mkdir()
    chunks = []
    for k, n in enumerate(rows):
        emb = rng.standard_normal((n, dim)).astype(np.float32)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        chunks.append(emb.astype(np.float16))
        np.save(root / "img_emb" / f"img_emb_{k:02d}.npy", emb.astype(np.float16))
        np.save(root / "text_emb" / f"text_emb_{k:02d}.npy", emb.astype(np.float16))
        pd.DataFrame({"image_path": [f"/data/images/{k}/{i}.jpg" for i in range(n)],
                      "caption": [f"caption {k}-{i}" for i in range(n)],
                      "url": [f"http://example.invalid/{k}/{i}.jpg" for i in range(n)],
                      "width": [256] * n}).to_parquet(root / "metadata" / f"metadata_{k:02d}.parquet")
    return root, np.concatenate(chunks)
