"""Tables a collection's map leaves the app as: Embedding Atlas's input, and a selection of points.

Apple's Embedding Atlas (`pip install embedding-atlas`, then `embedding-atlas map.parquet
--x projection_x --y projection_y --text caption`) reads a parquet with precomputed coordinates, so
it draws clipdemo's UMAP instead of computing its own. Both tables hold one row per point: index,
image_path, caption, projection_x, projection_y (+ the score of a search hit, where there is one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clipdemo.collection.layout import atomic_write
from clipdemo.collection.store import Collection

MAX_SELECTION = 1_000_000


def points_table(c: Collection, coords: np.ndarray, indices: np.ndarray | None = None):
    import pandas as pd

    idx = np.arange(c.count) if indices is None else np.asarray(indices, np.int64)
    meta = c.metadata
    return pd.DataFrame({"index": idx, "image_path": meta["image_path"].to_numpy()[idx],
                         "caption": meta["caption"].to_numpy()[idx],
                         "projection_x": coords[idx, 0].astype(np.float32),
                         "projection_y": coords[idx, 1].astype(np.float32)})


def write_atlas(c: Collection, coords: np.ndarray, out: str | Path) -> Path:
    """The whole map as Embedding Atlas reads it."""
    path = Path(out)
    if path.suffix != ".parquet":
        path = path / f"{c.name}-embedding-atlas.parquet"
    table = points_table(c, coords)
    atomic_write(path, lambda p: table.to_parquet(p, index=False))
    return path


def clean_selection(c: Collection, indices) -> np.ndarray:
    """Indices from the browser: integers inside the collection, deduplicated, in order."""
    try:
        idx = np.unique(np.asarray(list(indices)[:MAX_SELECTION], dtype=np.int64))
    except (TypeError, ValueError) as e:
        raise ValueError("a selection is a list of point indices.") from e
    idx = idx[(idx >= 0) & (idx < c.count)]
    if not len(idx):
        raise ValueError("Nothing selected: drag a box or lasso over the map first.")
    return idx


def write_selection(c: Collection, coords: np.ndarray, indices, out: str | Path) -> Path:
    idx = clean_selection(c, indices)
    path = Path(out)
    if path.suffix != ".parquet":
        path = path / f"{c.name}-selection-{len(idx)}.parquet"
    table = points_table(c, coords, idx)
    atomic_write(path, lambda p: table.to_parquet(p, index=False))
    return path
