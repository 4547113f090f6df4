"""Collections as plain functions: what the map tab, the CLI and the HTTP API call.

Only folders given at launch (`--collection DIR`, env CLIPDEMO_COLLECTIONS) can be opened, by
their folder name; a visitor never names a path. Each collection is opened once per process
(vectors and metadata in memory), its map computed once (cached on disk, see mapping).
Functions return dicts of plain numbers and strings; numpy arrays where a caller draws a map.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from clipdemo.collection import atlas, mapping, sources
from clipdemo.collection.layout import CollectionError
from clipdemo.collection.store import Collection, open_collection
from clipdemo.encoding import LRUCache
from clipdemo.fingerprint import image_tower_fingerprint

THUMB_SIDE = 128
DEFAULT_K = 10


class CollectionSet:
    """The collections a running app offers, by name."""

    def __init__(self, folders=()):
        self.folders: dict[str, Path] = {}
        for folder in folders:
            path = Path(folder).expanduser().resolve()
            name = path.name
            if name in self.folders and self.folders[name] != path:
                raise CollectionError(f"two collections are named {name!r} ({self.folders[name]} and {path}); "
                                      "rename one folder.")
            self.folders[name] = path
        self._open: dict[str, Collection] = {}
        self._lock = threading.Lock()
        self.thumbs = LRUCache(4096)

    def names(self) -> list[str]:
        return list(self.folders)

    def get(self, name: str) -> Collection:
        if name not in self.folders:
            offered = ", ".join(self.folders) or "none (start the app with --collection DIR)"
            raise CollectionError(f"no collection named {name!r} here; offered: {offered}.")
        with self._lock:
            if name not in self._open:
                self._open[name] = open_collection(self.folders[name], name)
            return self._open[name]


_active = CollectionSet()


def configure(folders=()) -> CollectionSet:
    """Set the launch-time collections (checked now: a wrong folder fails at start, not on a visitor)."""
    global _active
    chosen = CollectionSet(list(dict.fromkeys([*folders])))
    for name in chosen.names():
        chosen.get(name)
    _active = chosen
    return chosen


def active() -> CollectionSet:
    return _active


def _set(collections: CollectionSet | None) -> CollectionSet:
    return collections if collections is not None else _active


def collection_info(name: str, collections: CollectionSet | None = None) -> dict:
    c = _set(collections).get(name)
    return {"name": c.name, "count": c.count, "dim": c.dim, "model": c.model, "dtype": str(c.dtype),
            "shards": len(c.shards), "texts": any(s.text for s in c.shards), "images": c.image_root is not None}


def collection_map(name: str, collections: CollectionSet | None = None,
                   progress: Callable[[str], None] | None = None) -> dict:
    """Every point's 2D position (computed once, then cached), with how it was made and how good it is."""
    c = _set(collections).get(name)
    t = time.perf_counter()
    coords, report = mapping.collection_projection(c, progress=progress)
    return {**collection_info(name, collections), "x": coords[:, 0], "y": coords[:, 1], "projection": report,
            "seconds": round(time.perf_counter() - t, 3)}


def collection_search(name: str, encoder, query: str | None = None, image=None, k: int = DEFAULT_K,
                      collections: CollectionSet | None = None) -> dict:
    """Text -> image or image -> image over every vector (exact). `image`: a PIL image or path."""
    from clipdemo.search import clean_query

    c = _set(collections).get(name)
    loaded = encoder.loaded
    notices = c.check_model(loaded.name, encoder.dim, str(loaded.source), image_tower_fingerprint(loaded.source))
    t = time.perf_counter()
    if image is not None:
        from clipdemo.images import load_image

        q = encoder.encode_images([load_image(image)])[0]
        asked = "image"
    else:
        q = encoder.encode_texts([clean_query(query)])[0]
        asked = clean_query(query)
    t_encode = time.perf_counter() - t
    ranked = c.search(q, k)
    meta = c.metadata
    hits = [{"rank": r + 1, "index": i, "image_path": meta["image_path"].iat[i], "caption": meta["caption"].iat[i],
             "score": round(s, 4)} for r, (i, s) in enumerate(ranked)]
    return {"collection": name, "query": asked, "hits": hits, "notices": notices, "count": c.count,
            "seconds": {"encode": round(t_encode, 4), "search": round(time.perf_counter() - t - t_encode, 4)}}


def collection_thumbnail(name: str, index: int, side: int = THUMB_SIDE,
                         collections: CollectionSet | None = None) -> bytes:
    """A small JPEG of point `index`'s image, read only from the collection's own source."""
    s = _set(collections)
    c = s.get(name)
    index = int(index)
    if not 0 <= index < c.count:
        raise CollectionError(f"no point {index} in {name!r}.")
    key = (name, index, side)
    cached = s.thumbs.get(key)
    if cached is not None:
        return cached
    spec = c.image_root
    if spec is None:
        raise CollectionError(f"collection {name!r} has no local images.")
    image = sources.load(spec, c.image_relpath(index))
    image.thumbnail((side, side))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    data = buf.getvalue()
    s.thumbs.put(key, data)
    return data


def export_selection(name: str, indices, out_dir: str | Path, collections: CollectionSet | None = None) -> Path:
    c = _set(collections).get(name)
    coords, _ = mapping.collection_projection(c)
    return atlas.write_selection(c, coords, indices, out_dir)


def export_atlas(name: str, out_dir: str | Path, collections: CollectionSet | None = None) -> Path:
    c = _set(collections).get(name)
    coords, _ = mapping.collection_projection(c)
    return atlas.write_atlas(c, coords, out_dir)


def prepare_in_background(collections: CollectionSet | None = None) -> threading.Thread | None:
    """Compute missing maps at start-up, one after another, so the first visitor finds them cached (app.py
    starts it once the server is up)."""
    s = _set(collections)
    if not s.names():
        return None

    def work():
        for name in s.names():
            try:
                c = s.get(name)
                if mapping.load_cached(c) is None:
                    print(f"clipdemo: computing the map of collection {name!r} ({c.count} points)…", file=sys.stderr)
                mapping.collection_projection(c)
            except Exception as e:  # noqa: BLE001 - a visitor opening it will see the error itself
                print(f"clipdemo: collection {name!r}: {e}", file=sys.stderr)

    thread = threading.Thread(target=work, name="collection-maps", daemon=True)
    thread.start()
    return thread


def nearest_to_point(name: str, index: int, k: int = DEFAULT_K, collections: CollectionSet | None = None) -> dict:
    """Image -> image from a point already in the collection (no model run)."""
    c = _set(collections).get(name)
    index = int(index)
    if not 0 <= index < c.count:
        raise CollectionError(f"no point {index} in {name!r}.")
    ranked = c.search(np.asarray(c.vectors[index], np.float32), k)
    meta = c.metadata
    return {"collection": name, "query": int(index),
            "hits": [{"rank": r + 1, "index": i, "image_path": meta["image_path"].iat[i],
                      "caption": meta["caption"].iat[i], "score": round(s, 4)} for r, (i, s) in enumerate(ranked)]}
