"""Embed a source into a collection folder: batched, sharded, resumable, with a progress bar.

The source's sorted items are cut into shards of `shard_size`; shard k is written only when all its
images are embedded (layout.write_shard), so a rerun after a crash or Ctrl-C skips finished shards
and redoes at most one. Both engines (this local one, and ray_engine on a cluster) run the same
`ShardEmbedder` on the same shards, so they write the same vectors.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clipdemo.collection import layout, sources
from clipdemo.collection.layout import CollectionError
from clipdemo.collection.sources import Item, Source
from clipdemo.images import ImageError

DEFAULT_SHARD_SIZE = 10_000  # rows per shard: the unit of resumption (~3 min of CPU with the bundled model)
DEFAULT_BATCH = 64
STORE_DTYPES = ("float16", "float32")
PROGRESS_STEP = 1024  # images between progress-bar updates inside a shard


@dataclass
class ShardResult:
    k: int
    paths: list[str]
    captions: list[str]
    img_emb: np.ndarray
    text_emb: np.ndarray | None
    skipped: list[str] = field(default_factory=list)


class ShardEmbedder:
    """Items -> unit image (and caption) vectors with one loaded model. No caches: every image once."""

    def __init__(self, encoder, spec: dict, batch_size: int = DEFAULT_BATCH):
        self.encoder = encoder
        self.spec = spec
        self.batch_size = max(1, int(batch_size))

    def images(self, items: list[Item]) -> tuple[list[Item], np.ndarray, list[str]]:
        kept, vectors, skipped = [], [], []
        for start in range(0, len(items), self.batch_size):
            batch, images = [], []
            for it in items[start:start + self.batch_size]:
                try:
                    images.append(sources.load(self.spec, it.path))
                    batch.append(it)
                except ImageError as e:  # one broken file must not stop a million
                    skipped.append(str(e))
            if images:
                pixels = self.encoder.preprocess(images)
                vectors.append(self.encoder.image_features_from_pixels(pixels).cpu().numpy())
                kept += batch
        dim = self.encoder.dim
        return kept, (np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32)), skipped

    def texts(self, captions: list[str]) -> np.ndarray:
        """Caption vectors, row for row; a zero row where an image has no caption."""
        out = np.zeros((len(captions), self.encoder.dim), np.float32)
        idx = [i for i, c in enumerate(captions) if c]
        for start in range(0, len(idx), self.batch_size):
            chunk = idx[start:start + self.batch_size]
            tokens = self.encoder.tokenize([captions[i] for i in chunk])
            out[chunk] = self.encoder.text_features_from_tokens(tokens).cpu().numpy()
        return out

    def __call__(self, k: int, items: list[Item], with_texts: bool) -> ShardResult:
        kept, img, skipped = self.images(items)
        captions = [it.caption for it in kept]
        text = self.texts(captions) if with_texts else None
        return ShardResult(k, [it.path for it in kept], captions, img, text, skipped)


def plan_shards(items: list[Item], shard_size: int) -> list[tuple[int, list[Item]]]:
    size = max(1, int(shard_size))
    return [(k, items[i:i + size]) for k, i in enumerate(range(0, len(items), size))]


def model_record(loaded) -> dict:
    from clipdemo.devices import dtype_name
    from clipdemo.fingerprint import image_tower_fingerprint

    return {"model": loaded.name, "family": loaded.family, "model_source": str(loaded.source),
            "compute_dtype": dtype_name(loaded.dtype), "image_tower": image_tower_fingerprint(loaded.source)}


def start(out: Path, source: Source, model: dict, dim: int, shard_size: int, store_dtype: str) -> dict:
    """Write (or check) the sidecar: a rerun must use the same source, model and shard plan to resume."""
    if store_dtype not in STORE_DTYPES:
        raise CollectionError(f"--store-dtype must be one of {', '.join(STORE_DTYPES)}.")
    info = {"model": model["model"], "family": model["family"], "dim": int(dim), "source": str(source.root),
            "source_kind": source.kind, "planned": len(source.items), "shard_size": int(shard_size),
            "store_dtype": store_dtype, "texts": source.has_captions}
    old = layout.read_sidecar(out)
    if old is not None:
        if old.get("image_tower") and model.get("image_tower") and old["image_tower"] != model["image_tower"]:
            raise CollectionError(f"{out} was begun with other weights of {model['model']} (its image tower has "
                                  "changed since): write to a new --out folder, or remove this one.")
        for key in ("model", "dim", "source", "planned", "shard_size", "store_dtype"):
            if old.get(key) != info[key]:
                raise CollectionError(
                    f"{out} already holds a collection with {key}={old.get(key)!r} (this run: {info[key]!r}). "
                    "Resume with the same settings, or write to a new --out folder.")
    elif layout.shard_numbers(out):
        raise CollectionError(f"{out} holds embeddings without a clipdemo sidecar (another tool's output?); "
                              "write to a new --out folder.")
    info = {**(old or {}), **info, **model, "status": "embedding"}
    layout.write_sidecar(out, info)
    return info


def finish(out: Path, info: dict, seconds: float, skipped: int) -> dict:
    shards, dim, dtype = layout.scan(out)
    info = {**info, "count": sum(s.rows for s in shards), "shards": {str(s.k): s.rows for s in shards},
            "status": "complete", "skipped": int(info.get("skipped", 0)) + skipped,
            "embed_seconds": round(float(info.get("embed_seconds", 0.0)) + seconds, 2)}
    layout.write_sidecar(out, info)
    return info


def write_result(out: Path, r: ShardResult, store_dtype: str) -> None:
    layout.write_shard(out, r.k, r.img_emb, r.paths, r.captions, r.text_emb, dtype=store_dtype)


def pending(out: Path, plan: list[tuple[int, list[Item]]]) -> list[tuple[int, list[Item]]]:
    done = set(layout.shard_numbers(out))
    return [(k, items) for k, items in plan if k not in done]


def embed_local(source: Source, out: Path, encoder, shard_size: int = DEFAULT_SHARD_SIZE,
                batch_size: int = DEFAULT_BATCH, store_dtype: str = "float16", progress: bool = True,
                on_skip: Callable[[str], None] | None = None) -> dict:
    """The local engine: shard after shard in this process."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    info = start(out, source, model_record(encoder.loaded), encoder.dim, shard_size, store_dtype)
    plan = plan_shards(source.items, shard_size)
    todo = pending(out, plan)
    embedder = ShardEmbedder(encoder, source.spec(), batch_size)
    t0, skipped = time.perf_counter(), 0
    done_items = sum(len(items) for k, items in plan) - sum(len(items) for _, items in todo)
    with tqdm(total=len(source.items), initial=done_items, unit="img", desc="embedding", disable=not progress,
              file=sys.stderr, smoothing=0.1) as bar:
        for k, items in todo:
            parts = []
            for i in range(0, len(items), PROGRESS_STEP):
                parts.append(embedder(k, items[i:i + PROGRESS_STEP], source.has_captions))
                bar.update(len(items[i:i + PROGRESS_STEP]))
            r = merge(parts)
            for problem in r.skipped:
                (on_skip or print_skip)(problem)
            skipped += len(r.skipped)
            write_result(out, r, store_dtype)
    return finish(out, info, time.perf_counter() - t0, skipped)


def print_skip(problem: str) -> None:
    print(f"skipped: {problem}", file=sys.stderr)


def merge(parts: list[ShardResult]) -> ShardResult:
    """One shard from its pieces, in order."""
    first = parts[0]
    text = None if first.text_emb is None else np.concatenate([p.text_emb for p in parts])
    return ShardResult(first.k, [x for p in parts for x in p.paths], [x for p in parts for x in p.captions],
                       np.concatenate([p.img_emb for p in parts]), text, [x for p in parts for x in p.skipped])
