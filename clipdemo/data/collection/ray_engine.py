"""The same embedding as a Ray Data pipeline: `python -m clipdemo embed SOURCE --out DIR --engine ray`.

The driver lists the source and plans shards exactly as the local engine does; pending rows go
into a Ray Dataset, and `map_batches` runs `EmbedActor` — a class, so each worker (actor) loads the
model once and keeps it — which calls the local engine's `ShardEmbedder`. The driver gathers the
rows back by shard and writes each finished shard with the same writer, so a Ray run and a local
run give the same files (vectors equal to float rounding; tests/test_collection_ray.py checks).

Local by default (a Ray instance with `workers`+1 CPUs started here). On a cluster
(`--ray-address auto` on a node of it, or ray://head:10001): every node needs clipdemo and its
requirements installed, the images at the same path (a shared file system), and the model under
the same name (a hub id in each node's cache, or a shared folder). `--ray-gpus 1` gives each actor a GPU.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from clipdemo.core import settings
from clipdemo.data.collection import embed
from clipdemo.data.collection.layout import CollectionError
from clipdemo.data.collection.sources import Item, Source

REPO_ROOT = Path(__file__).resolve().parents[3]
OBJECT_STORE_BYTES = 300 * 2**20  # local instance: embeddings are small; keep /dev/shm use modest


class EmbedActor:
    """One model per Ray worker; a batch of rows (shard, pos, path, caption) -> the same rows + vectors."""

    def __init__(self, model: str, device: str, dtype: str, spec: dict, batch_size: int, with_texts: bool):
        # runs inside a Ray worker process, which imports only what its task needs
        from clipdemo.core.encoding import Encoder
        from clipdemo.core.loading import load_model

        self.embedder = embed.ShardEmbedder(Encoder(load_model(model, device, dtype)), spec, batch_size)
        self.with_texts = with_texts

    def __call__(self, batch: dict) -> dict:
        items = [Item(str(p), str(c)) for p, c in zip(batch["path"], batch["caption"], strict=True)]
        kept, img, skipped = self.embedder.images(items)
        ok = {it.path for it in kept}
        rows = np.array([i for i, it in enumerate(items) if it.path in ok], np.int64)
        dim = self.embedder.encoder.dim
        out = {"shard": np.asarray(batch["shard"])[rows], "pos": np.asarray(batch["pos"])[rows],
               "path": np.array([items[i].path for i in rows], dtype=object),
               "caption": np.array([items[i].caption for i in rows], dtype=object),
               "img_emb": img.reshape(len(rows), dim)}
        if self.with_texts:
            out["text_emb"] = self.embedder.texts([items[i].caption for i in rows]).reshape(len(rows), dim)
        # unreadable files travel back as rows of their shard with pos -1 and the reason as path, so
        # the driver knows when a shard is complete and can report them
        missing = np.array([i for i, it in enumerate(items) if it.path not in ok], np.int64)
        if len(missing):
            n = len(missing)
            out = {"shard": np.concatenate([out["shard"], np.asarray(batch["shard"])[missing]]),
                   "pos": np.concatenate([out["pos"], np.full(n, -1, np.int64)]),
                   "path": np.concatenate([out["path"], np.array(skipped, dtype=object)]),
                   "caption": np.concatenate([out["caption"], np.array([""] * n, dtype=object)]),
                   **{k: np.concatenate([out[k], np.zeros((n, dim), np.float32)])
                      for k in ("img_emb", "text_emb") if k in out}}
        return out


def _describe_model(model: str | None, device: str, dtype: str) -> tuple[dict, int, str, str]:
    """Name, family, source and dimension from the config alone (the driver never loads weights)."""
    from transformers import AutoConfig

    # runs inside a Ray worker process, which imports only what its task needs
    from clipdemo.core.devices import dtype_name, pick_device, pick_dtype
    from clipdemo.core.loading import BUNDLED, ModelNotAvailable, default_model_name, resolve_source

    name = model or default_model_name()
    source, local = resolve_source(name)
    try:
        cfg = AutoConfig.from_pretrained(source, local_files_only=local, trust_remote_code=False)
    except Exception as e:  # noqa: BLE001
        raise ModelNotAvailable(f"cannot read the config of {name}: {e}") from e
    dim = int(getattr(cfg, "projection_dim", None) or cfg.text_config.hidden_size)
    dev = pick_device(device)
    dt = dtype_name(pick_dtype(dev, dtype))
    # runs inside a Ray worker process, which imports only what its task needs
    from clipdemo.core.fingerprint import image_tower_fingerprint

    record = {"model": name or BUNDLED, "family": cfg.model_type, "model_source": str(source), "compute_dtype": dt,
              "image_tower": image_tower_fingerprint(source)}
    return record, dim, dev.type, dt


def init_ray(address: str | None, workers: int):
    import ray

    if ray.is_initialized():
        return ray
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        path = os.pathsep.join([str(REPO_ROOT), settings.env("PYTHONPATH")]).strip(os.pathsep)
        ray.init(num_cpus=max(1, workers) + 1, include_dashboard=False, log_to_driver=False,
                 object_store_memory=OBJECT_STORE_BYTES,
                 runtime_env={"env_vars": {"PYTHONPATH": path, "HF_HUB_OFFLINE": settings.env("HF_HUB_OFFLINE", "0"),
                                           "TOKENIZERS_PARALLELISM": "false"}})
    return ray


def embed_ray(source: Source, out: Path, model: str | None = None, device: str = "auto", dtype: str = "auto",
              shard_size: int = embed.DEFAULT_SHARD_SIZE, batch_size: int = embed.DEFAULT_BATCH,
              store_dtype: str = "float16", address: str | None = None, workers: int = 1, gpus: float = 0.0,
              progress: bool = True, shutdown: bool | None = None) -> dict:
    try:
        import ray  # noqa: F401
        import ray.data
    except ImportError as e:
        raise CollectionError("--engine ray needs Ray Data: pip install -r requirements-ray.txt") from e
    import pandas as pd
    from tqdm import tqdm

    record, dim, dev, dt = _describe_model(model, device, dtype)
    out.mkdir(parents=True, exist_ok=True)
    info = embed.start(out, source, record, dim, shard_size, store_dtype)
    plan = embed.plan_shards(source.items, shard_size)
    info, notices = embed.reconcile(out, source, plan, info)
    todo = embed.pending(out, plan)
    expected = {k: len(items) for k, items in todo}
    t0, skipped = time.perf_counter(), 0
    if todo:
        rows = pd.DataFrame([{"shard": k, "pos": i, "path": it.path, "caption": it.caption}
                             for k, items in todo for i, it in enumerate(items)])
        started_here = not ray.is_initialized()
        init_ray(address, workers)
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False  # the driver's own bar below counts images
            ds = ray.data.from_pandas(rows).map_batches(
                EmbedActor, fn_constructor_kwargs=dict(model=record["model"], device=dev if not address else device,
                                                       dtype=dt if not address else dtype, spec=source.spec(),
                                                       batch_size=batch_size, with_texts=source.has_captions),
                batch_size=batch_size, batch_format="numpy", num_cpus=1, num_gpus=gpus or None,
                compute=ray.data.ActorPoolStrategy(size=max(1, workers)))  # one model load per actor
            skipped = _gather(ds, out, todo, expected, store_dtype, source.has_captions, dim,
                              tqdm(total=len(source.items), initial=len(source.items) - len(rows), unit="img",
                                   desc="embedding (ray)", disable=not progress, file=sys.stderr))
        finally:
            if shutdown if shutdown is not None else started_here:
                ray.shutdown()
    return {**embed.finish(out, info, time.perf_counter() - t0, skipped), "notices": notices}


def _gather(ds, out: Path, todo, expected: dict[int, int], store_dtype: str, with_texts: bool, dim: int,
            bar) -> int:
    """Collect rows by shard; write each shard as soon as all its rows are back (they come in any order)."""
    parts: dict[int, list[dict]] = {k: [] for k, _ in todo}
    seen = dict.fromkeys(expected, 0)
    skipped = 0
    with bar:
        for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
            bar.update(len(batch["pos"]))
            bad = batch["pos"] < 0
            for problem in batch["path"][bad]:
                embed.print_skip(str(problem))
            skipped += int(bad.sum())
            for k in np.unique(batch["shard"]):
                sel = batch["shard"] == k
                seen[int(k)] += int(sel.sum())
                good = sel & ~bad
                if good.any():
                    parts[int(k)].append({key: batch[key][good] for key in batch})
            for k in [k for k in parts if seen[k] >= expected[k]]:
                _write(out, k, parts.pop(k), store_dtype, with_texts, dim)
    if parts:
        raise CollectionError(f"Ray returned too few rows for shard(s) {sorted(parts)}; rerun to resume.")
    return skipped


def _write(out: Path, k: int, pieces: list[dict], store_dtype: str, with_texts: bool, dim: int) -> None:
    if not pieces:  # every image of the shard was unreadable: an empty shard, as the local engine writes
        empty = np.zeros((0, dim), np.float32)
        embed.write_result(out, embed.ShardResult(k, [], [], empty, empty if with_texts else None), store_dtype)
        return
    cat = {key: np.concatenate([p[key] for p in pieces]) for key in pieces[0]}
    order = np.argsort(cat["pos"], kind="stable")  # the source's order, as the local engine writes it
    r = embed.ShardResult(k, [str(x) for x in cat["path"][order]], [str(x) for x in cat["caption"][order]],
                          np.asarray(np.stack(cat["img_emb"][order]), np.float32),
                          np.asarray(np.stack(cat["text_emb"][order]), np.float32) if with_texts else None)
    embed.write_result(out, r, store_dtype)
