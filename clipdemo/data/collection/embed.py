"""Embed a source into a collection folder: batched, sharded, resumable, with a progress bar.

The source's sorted items are cut into shards of `shard_size`; shard k is written only when all its
images are embedded (layout.write_shard), so a rerun after a crash or Ctrl-C skips finished shards
and redoes at most one. Both engines (this local one, and ray_engine on a cluster) run the same
`ShardEmbedder` on the same shards, so they write the same vectors.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clipdemo.data.collection import layout, sources
from clipdemo.data.collection.layout import CollectionError
from clipdemo.data.collection.sources import Item, Source

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
        """Unit image vectors of the readable items; the next batch is read and prepared while the model
        encodes this one (Encoder.encode_stream); JPEGs decoded only as large as the model needs."""
        kept, vectors, skipped = [], [], []
        draft = self.encoder.draft_side

        def load(it: Item):
            return sources.load(self.spec, it.path, draft)

        for batch in self.encoder.encode_stream(items, load, self.batch_size):
            kept += batch.items
            vectors.append(batch.vectors)
            skipped += batch.skipped
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
    # torch-side helpers: a Ray worker imports this module before it needs them
    from clipdemo.core.devices import dtype_name
    from clipdemo.core.fingerprint import image_tower_fingerprint

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
        # "planned" (the count) may change: `reconcile` redoes the shards whose listing changed
        for key in ("model", "dim", "source", "shard_size", "store_dtype"):
            if old.get(key) != info[key]:
                raise CollectionError(
                    f"{out} already holds a collection with {key}={old.get(key)!r} (this run: {info[key]!r}). "
                    "Resume with the same settings, or write to a new --out folder.")
    elif layout.shard_numbers(out):
        raise CollectionError(f"{out} holds embeddings without a clipdemo sidecar (another tool's output?); "
                              "write to a new --out folder.")
    info = {**(old or {}), **info, **model, "status": "embedding"}
    if old is not None and "listing" not in old:
        info["planned_before"] = old.get("planned")
    if old is None:
        info.pop("listing", None)
    layout.write_sidecar(out, info)
    return info


def listing_digests(source: Source, plan: list[tuple[int, list[Item]]]) -> dict[str, str]:
    """Per shard, a digest of the names and sizes of the files planned for it."""
    sizes = sources.item_sizes(source)
    digests = {}
    for k, items in plan:
        h = hashlib.sha256()
        for it in items:
            h.update(f"{it.path}\0{sizes.get(it.path, -1)}\n".encode("utf-8", "surrogateescape"))
        digests[str(k)] = h.hexdigest()[:20]
    return digests


def reconcile(out: Path, source: Source, plan: list[tuple[int, list[Item]]], info: dict,
              say: Callable[[str], None] | None = None) -> tuple[dict, list[str]]:
    """Before resuming: finished shards whose files changed since they were embedded (names or sizes: files
    deleted, added, replaced), and shards the new plan no longer has, are removed so they are embedded again;
    the new listing is recorded. Returns (info, notices saying what changed)."""
    digests = listing_digests(source, plan)
    recorded = info.get("listing")
    done = layout.shard_numbers(out)
    if recorded is None:  # begun by a version that recorded only the count
        stale = done if info.get("planned_before", len(source.items)) != len(source.items) else []
    else:
        stale = [k for k in done if recorded.get(str(k)) != digests.get(str(k))]
    notices = []
    if stale:
        import pandas as pd

        before = set()
        for k in done:
            meta = layout.find_shard(out, layout.META_DIR, "metadata", k)
            if meta is not None:
                before.update(pd.read_parquet(meta, columns=["image_path"])["image_path"])
        now = {it.path for it in source.items}
        for k in stale:
            for sub, stem in ((layout.META_DIR, "metadata"), (layout.IMG_DIR, "img_emb"), (layout.TEXT_DIR, "text_emb")):
                found = layout.find_shard(out, sub, stem, k)  # the metadata first: it marks a shard finished
                if found is not None:
                    found.unlink(missing_ok=True)
        notices.append(f"the source changed since this collection was begun: {len(now - before)} file(s) not in it "
                       f"yet, {len(before - now)} no longer there (their rows are dropped), files changed in "
                       f"{len(stale)} shard(s) of {len(plan)}; those shards are embedded again")
        for notice in notices:
            (say or print_note)(notice)
    info = {**info, "planned": len(source.items), "listing": digests}
    info.pop("planned_before", None)
    layout.write_sidecar(out, info)
    return info, notices


def print_note(notice: str) -> None:
    print(f"note: {notice}", file=sys.stderr)


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
    info, notices = reconcile(out, source, plan, info)
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
    return {**finish(out, info, time.perf_counter() - t0, skipped), "notices": notices}


def print_skip(problem: str) -> None:
    print(f"skipped: {problem}", file=sys.stderr)


def merge(parts: list[ShardResult]) -> ShardResult:
    """One shard from its pieces, in order."""
    first = parts[0]
    text = None if first.text_emb is None else np.concatenate([p.text_emb for p in parts])
    return ShardResult(first.k, [x for p in parts for x in p.paths], [x for p in parts for x in p.captions],
                       np.concatenate([p.img_emb for p in parts]), text, [x for p in parts for x in p.skipped])
