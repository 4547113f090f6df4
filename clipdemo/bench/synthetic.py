"""Test and benchmark collections: real toy-world images (embedded by the model) plus random unit vectors.

`toy_image_folder` renders N toy scenes as PNGs with same-named .txt captions (clip-retrieval's
"files" input). `demo_collection` embeds them as shard 0 and appends random unit vectors as
further shards, so a 100k-point collection costs 2k real forward passes. Synthetic rows are marked
(image_path "synthetic/…", caption "") and have no image: their hover shows no thumbnail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clipdemo.data.collection import embed, layout, sources

SYNTHETIC_PREFIX = "synthetic/"


def toy_image_folder(folder: str | Path, n: int, seed: int = 7, size: int = 96) -> Path:
    """n toy scenes as folder/toy_{i}.png + toy_{i}.txt (kept if already there)."""
    # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
    from clipdemo.core import toyworld

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


def planted_folder(folder: str | Path, n: int = 450, copies: int = 50, wrong: int = 20, seed: int = 27,
                   size: int = 96) -> dict:
    """A test collection with known flaws: n toy pictures with captions, of which `copies` are near-copies of
    others (re-encoded as JPEG at quality 75, re-cropped by 1-3 pixels a side, brightness changed by up to 6%) and `wrong`
    carry the caption of a picture of another colour and shape. Returns the truth: {"copies": [[original,
    copy] file names], "wrong": [file names]}."""
    import json
    import random

    from PIL import ImageEnhance

    # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
    from clipdemo.core import toyworld

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    scenes = toyworld.generate(n - copies, seed=seed, size=size, split="all")
    names = [f"toy_{i:06d}" for i in range(n - copies)]
    for name, (image, caption, _) in zip(names, scenes, strict=True):
        image.save(folder / f"{name}.png")
        (folder / f"{name}.txt").write_text(caption, encoding="utf-8")
    truth = {"copies": [], "wrong": []}
    for j, i in enumerate(rng.sample(range(len(names)), copies)):
        left, top, right, bottom = (rng.randint(1, 3) for _ in range(4))
        image = scenes[i][0].crop((left, top, size - right, size - bottom)).resize((size, size))
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.94, 1.06))
        name = f"copy_{j:04d}"
        image.save(folder / f"{name}.jpg", quality=75)
        (folder / f"{name}.txt").write_text(scenes[i][1], encoding="utf-8")
        truth["copies"].append([f"{names[i]}.png", f"{name}.jpg"])
    objects = [tuple((o.colour, o.shape) for o in s.objects) for _, _, s in scenes]
    for i in rng.sample(range(len(names)), wrong):
        donor = next(d for d in rng.sample(range(len(names)), len(names))
                     if not set(objects[d]) & set(objects[i]))
        (folder / f"{names[i]}.txt").write_text(scenes[donor][1], encoding="utf-8")
        truth["wrong"].append(f"{names[i]}.png")
    (folder / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth
