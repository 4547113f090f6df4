"""An opened collection: all its vectors and metadata in memory, exact search, and its images.

Exact search is one matrix product over every vector (100k x 512 float32 is ~200 MB and a few
tens of ms on a CPU core), so no approximate index: its recall loss would buy nothing measurable at
this size. Vectors stay in their stored dtype (float16 halves the memory) and are multiplied in
float32 blocks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from clipdemo.collection import layout
from clipdemo.collection.layout import CollectionError

SEARCH_BLOCK = 65_536  # rows multiplied at once: bounds the float32 copy of a float16 collection
FLOAT32_COPY_BYTES = 1 << 30  # up to this size search keeps a float32 copy (float16 blocks cost ~10x the time)
MAX_K = 1000


@dataclass
class Collection:
    name: str
    root: Path
    info: dict  # the sidecar, or {} for a folder written by clip-retrieval itself
    shards: list[layout.ShardInfo]
    dim: int
    dtype: np.dtype

    @property
    def count(self) -> int:
        return sum(s.rows for s in self.shards)

    @property
    def model(self) -> str | None:
        return self.info.get("model")

    @cached_property
    def vectors(self) -> np.ndarray:
        """(count, dim) in the stored dtype, shard order."""
        return np.concatenate([np.load(s.img) for s in self.shards])

    @cached_property
    def search_matrix(self) -> np.ndarray:
        """float32 when that fits in FLOAT32_COPY_BYTES (converting float16 per search is the slow part)."""
        if self.vectors.dtype != np.float32 and self.count * self.dim * 4 <= FLOAT32_COPY_BYTES:
            return self.vectors.astype(np.float32)
        return self.vectors

    @cached_property
    def metadata(self):
        """One row per vector: image_path and caption (clip-retrieval's names), plus any other columns."""
        import pandas as pd

        frames = []
        for s in self.shards:
            df = pd.read_parquet(s.meta)
            if len(df) != s.rows:
                raise CollectionError(f"{s.meta}: {len(df)} rows, but {s.img.name} holds {s.rows} vectors.")
            path_col, cap_col = layout.path_column(df.columns), layout.caption_column(df.columns)
            df = df.rename(columns={c: n for c, n in ((path_col, "image_path"), (cap_col, "caption")) if c})
            for col in ("image_path", "caption"):
                if col not in df:
                    df[col] = ""
            frames.append(df)
        table = pd.concat(frames, ignore_index=True)
        table["image_path"] = table["image_path"].fillna("").astype(str)
        table["caption"] = table["caption"].fillna("").astype(str)
        return table

    @cached_property
    def image_root(self) -> dict | None:
        """Where thumbnails may come from: the source named in the sidecar, else (clip-retrieval output,
        which lists absolute paths) the common folder of the listed files. None: no local images."""
        if self.info.get("source"):
            kind = "zip" if self.info.get("source_kind") == "zip" else "folder"
            return {"kind": kind, "root": self.info["source"]}
        paths = [p for p in self.metadata["image_path"].tolist() if p and os.path.isabs(p)]
        if not paths:
            return None
        return {"kind": "folder", "root": os.path.commonpath([os.path.dirname(p) for p in paths])}

    def image_relpath(self, index: int) -> str:
        path = self.metadata["image_path"].iat[index]
        spec = self.image_root
        if spec and os.path.isabs(path):
            return os.path.relpath(path, spec["root"])
        return path

    def same_model(self, model_name: str, model_source: str = "") -> bool:
        """The recorded model, by name or by the folder it was loaded from."""
        if self.model == model_name:
            return True
        recorded = self.info.get("model_source") or ""
        return bool(recorded and model_source) and Path(recorded).resolve() == Path(model_source).resolve()

    def check_model(self, model_name: str, dim: int, model_source: str = "", image_tower: str | None = None) -> list[str]:
        """Refuse a model that cannot search these vectors; notices where it might (model unknown).

        `image_tower`: the active model's `fingerprint.image_tower_fingerprint`; a collection that recorded
        another one was embedded by other weights under the same name (a retrained model)."""
        if dim != self.dim:
            made = f"by {self.model}" if self.model else "(model not recorded: a clip-retrieval folder?)"
            raise CollectionError(f"collection {self.name!r} holds {self.dim}-d vectors {made}; the active model "
                                  f"{model_name} makes {dim}-d ones. Pick the collection's model.")
        if self.model and not self.same_model(model_name, model_source):
            raise CollectionError(f"collection {self.name!r} was embedded by {self.model}; the active model is "
                                  f"{model_name}. Vectors of two models do not share a space: pick {self.model}.")
        recorded = self.info.get("image_tower")
        if recorded and image_tower and recorded != image_tower:
            raise CollectionError(f"collection {self.name!r} was embedded by other weights of {self.model} (its image "
                                  "tower has changed since, e.g. the model was retrained): its vectors no longer "
                                  "match this model's texts. Embed the collection again with this model.")
        if not self.model:
            return [f"collection {self.name!r} does not record its model; its vectors are {self.dim}-d like "
                    f"{model_name}'s, so it is assumed to be that model."]
        return []

    def search(self, query: np.ndarray, k: int = 10) -> list[tuple[int, float]]:
        """(index, cosine) of the k nearest vectors, best first; exact."""
        q = np.asarray(query, np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise CollectionError(f"a {q.shape[0]}-d query cannot search {self.dim}-d vectors.")
        q = q / (np.linalg.norm(q) or 1.0)
        k = int(np.clip(k, 1, min(MAX_K, self.count)))
        vectors = self.search_matrix
        scores = np.empty(len(vectors), np.float32)
        for a in range(0, len(vectors), SEARCH_BLOCK):
            scores[a:a + SEARCH_BLOCK] = vectors[a:a + SEARCH_BLOCK].astype(np.float32, copy=False) @ q
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # best first, ties by index: reproducible
        return [(int(i), float(scores[i])) for i in top]


def open_collection(root: str | Path, name: str | None = None) -> Collection:
    root = Path(root).expanduser().resolve()
    info = layout.read_sidecar(root) or {}
    shards, dim, dtype = layout.scan(root)
    if info.get("dim") not in (None, dim):
        raise CollectionError(f"{root}: the sidecar says {info['dim']}-d, the vectors are {dim}-d.")
    return Collection(name or root.name, root, info, shards, dim, dtype)
