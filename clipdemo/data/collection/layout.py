"""clip-retrieval's folder layout, read and written, plus clipdemo's JSON sidecar.

    DIR/img_emb/img_emb_{k}.npy          (n_k, d) float16 or float32, L2-normalised rows
    DIR/text_emb/text_emb_{k}.npy        (n_k, d) caption embeddings, row for row (only when captions exist)
    DIR/metadata/metadata_{k}.parquet    n_k rows: image_path, caption (+ any other columns)
    DIR/clipdemo_collection.json         model, dimension, count, source (clipdemo only; optional on read)

This is what clip-retrieval's `clip-retrieval inference` writes (shard numbers may be zero-padded),
so its output folders open here unchanged, and clipdemo's folders feed its index/back-end tools.
A shard counts as finished once its metadata parquet exists: it is written last, by an atomic rename,
so an interrupted run leaves no half shard that a rerun would skip.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipdemo.errors import InputError

SIDECAR = "clipdemo_collection.json"
FORMAT = "clipdemo-collection"
VERSION = 1
IMG_DIR, TEXT_DIR, META_DIR = "img_emb", "text_emb", "metadata"
_SHARD = re.compile(r"^(?:img_emb|text_emb|metadata)_(\d+)\.(?:npy|parquet)$")
# clip-retrieval names the path column image_path; other tools write these (first match wins)
PATH_COLUMNS = ("image_path", "path", "filepath", "file", "filename", "file_name", "image", "url")
CAPTION_COLUMNS = ("caption", "text", "title", "description", "label")


class CollectionError(InputError):
    """A folder that is not a usable collection, or one that does not fit the active model (a ValueError too)."""


def shard_files(root: Path, k: int, width: int = 0) -> dict[str, Path]:
    tag = str(k).zfill(width)
    return {"img": root / IMG_DIR / f"img_emb_{tag}.npy", "text": root / TEXT_DIR / f"text_emb_{tag}.npy",
            "meta": root / META_DIR / f"metadata_{tag}.parquet"}


def atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_npy(path: Path, matrix: np.ndarray) -> None:
    with open(path, "wb") as f:  # np.save on a path would append ".npy" to the temporary name
        np.save(f, matrix)


def write_shard(root: str | Path, k: int, img_emb: np.ndarray, image_paths: list[str], captions: list[str],
                text_emb: np.ndarray | None = None, dtype: str = "float16", extra: dict | None = None) -> None:
    """One shard: embeddings first, the metadata parquet last (its presence marks the shard finished)."""
    import pandas as pd

    root = Path(root)
    files = shard_files(root, k)
    if len(img_emb) != len(image_paths) or len(captions) != len(image_paths):
        raise ValueError("a shard needs one path and one caption per embedding row")
    atomic_write(files["img"], lambda p: save_npy(p, np.asarray(img_emb, dtype)))
    if text_emb is not None:
        atomic_write(files["text"], lambda p: save_npy(p, np.asarray(text_emb, dtype)))
    table = pd.DataFrame({"image_path": image_paths, "caption": captions, **(extra or {})})
    atomic_write(files["meta"], lambda p: table.to_parquet(p, index=False))


def shard_numbers(root: str | Path) -> list[int]:
    """Finished shards: those with both an image-embedding file and a metadata parquet, in order."""
    root = Path(root)

    def numbers(sub: str) -> dict[int, Path]:
        found = {}
        for p in (root / sub).glob("*"):
            m = _SHARD.match(p.name)
            if m:
                found[int(m.group(1))] = p
        return found

    return sorted(set(numbers(IMG_DIR)) & set(numbers(META_DIR)))


def find_shard(root: Path, sub: str, stem: str, k: int) -> Path | None:
    """The file of shard k, whatever zero-padding its writer used."""
    suffix = ".parquet" if sub == META_DIR else ".npy"
    for p in (root / sub).glob(f"{stem}_*{suffix}"):
        m = _SHARD.match(p.name)
        if m and int(m.group(1)) == k:
            return p
    return None


def npy_shape(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Rows and dtype from the .npy header alone (no data read)."""
    m = np.load(path, mmap_mode="r")
    return m.shape, m.dtype


def read_sidecar(root: str | Path) -> dict | None:
    path = Path(root) / SIDECAR
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CollectionError(f"{path}: unreadable ({e}).") from e
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CollectionError(f"{path}: not a clipdemo collection sidecar.")
    return info


def write_sidecar(root: str | Path, info: dict) -> Path:
    path = Path(root) / SIDECAR
    record = {"format": FORMAT, "version": VERSION, **info}
    atomic_write(path, lambda p: p.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8"))
    return path


@dataclass
class ShardInfo:
    k: int
    rows: int
    img: Path
    meta: Path
    text: Path | None


def scan(root: str | Path) -> tuple[list[ShardInfo], int, np.dtype]:
    """Every finished shard with its row count, checked for a common dimension; (shards, dim, dtype)."""
    root = Path(root)
    if not root.is_dir():
        raise CollectionError(f"{root} is not a folder.")
    shards, dims, dtype = [], set(), None
    for k in shard_numbers(root):
        img = find_shard(root, IMG_DIR, "img_emb", k)
        meta = find_shard(root, META_DIR, "metadata", k)
        shape, dtype = npy_shape(img)
        if len(shape) != 2:
            raise CollectionError(f"{img}: expected a 2-D matrix, found shape {shape}.")
        dims.add(shape[1])
        shards.append(ShardInfo(k, shape[0], img, meta, find_shard(root, TEXT_DIR, "text_emb", k)))
    if not shards:
        raise CollectionError(f"{root} holds no embeddings: expected {IMG_DIR}/img_emb_0.npy and "
                              f"{META_DIR}/metadata_0.parquet (clip-retrieval's layout). Make one with "
                              f"`python -m clipdemo embed IMAGES --out {root}`.")
    if len(dims) > 1:
        raise CollectionError(f"{root}: shards disagree on the dimension ({sorted(dims)}).")
    return shards, dims.pop(), dtype


def path_column(columns) -> str | None:
    return next((c for c in PATH_COLUMNS if c in columns), None)


def caption_column(columns) -> str | None:
    return next((c for c in CAPTION_COLUMNS if c in columns), None)
