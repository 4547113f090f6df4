"""The Similarity tab's export box: the matrix figure and its numbers, the spatial map's grid, and a session.

A session names the texts, the mode, the logit scale s (= 1/temperature) and the spatial method; where the
images were one of the tab's own batches (a seeded toy batch, the bundled toy pictures or photos) it says which, so loading
the session back brings the same images again. Uploaded images are named, not stored.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from clipdemo.core.similarity import MAX_IMAGES, SimilarityMatrix
from clipdemo.core.spatial import METHODS, SpatialMap
from clipdemo.ui import exports as ex
from clipdemo.ui.similarity import figures as st

VIEW = "similarity"
BATCH_KINDS = ("toy", "bundled_toys", "photos")


def matrix_records(matrix: SimilarityMatrix, mode: str, logit_scale: float) -> list[dict]:
    """One row per (image, text) cell: the raw cosine and the value the view shows (cosine or probability)."""
    shown = matrix.view(mode, logit_scale)
    return [{"image": image, "text": text, "cosine": float(matrix.cosine[i, j]), "shown": float(shown[i, j]),
             "mode": mode, "logit_scale": float(logit_scale)}
            for i, image in enumerate(matrix.images) for j, text in enumerate(matrix.texts)]


def spatial_records(smap: SpatialMap, image: str) -> list[dict]:
    """One row per cell of the relevance grid (row 0 at the top of what the model saw)."""
    return [{"image": image, "text": smap.text, "method": smap.method, "row": r, "col": c,
             "relevance": float(smap.grid[r, c])} for r in range(smap.grid.shape[0]) for c in range(smap.grid.shape[1])]


# ---------------------------------------------------------------- which batch the images came from


def batch_paths(batch: dict | None) -> list[str] | None:
    """The image files of one of the tab's own batches, made again (None for anything else)."""
    if not isinstance(batch, dict) or batch.get("kind") not in BATCH_KINDS:
        return None
    if batch["kind"] == "toy":
        n, seed = batch.get("n"), batch.get("seed")
        if not (isinstance(n, int) and isinstance(seed, int)) or not 1 <= n <= MAX_IMAGES or seed < 0:
            raise ValueError(f"toy batch {batch!r} needs a size 1..{MAX_IMAGES} and a seed >= 0")
        return st.toy_batch(n, seed)[0]
    return (st.bundled_toys if batch["kind"] == "bundled_toys" else st.bundled_photos)()[0]


def _batch_names(batch: dict) -> list[str]:
    if batch["kind"] == "toy":
        return [f"toy_{i + 1}.png" for i in range(batch["n"])]
    return [Path(p).name for p in batch_paths(batch)]


def matching_batch(batch: dict | None, matrix: SimilarityMatrix) -> dict | None:
    """The batch the buttons made, if the matrix is of exactly its images (not of files uploaded since)."""
    if not isinstance(batch, dict) or batch.get("kind") not in BATCH_KINDS:
        return None
    return batch if _batch_names(batch) == list(matrix.images) else None


# ---------------------------------------------------------------- payload and session


def payload(mstate: dict | None, sstate: dict | None, mode: str | None, logit_scale: float | None,
            method: str | None, batch: dict | None = None, image=None, figure=None) -> dict | None:
    """The export box's payload for what the tab shows now (None before anything ran)."""
    if not mstate and not sstate:
        return None
    mode = mode or "cosine"
    figures, tables, extra = {}, {}, {}
    settings = {"mode": mode, "logit_scale": None, "method": method or "gradcam"}
    seed = None
    if mstate:
        matrix: SimilarityMatrix = mstate["matrix"]
        scale = float(logit_scale) if logit_scale else matrix.logit_scale
        settings["logit_scale"] = round(scale, 4)
        if figure is None:
            figure = st.matrix_figure(matrix, matrix.view(mode, scale), mode, mstate.get("paths"))
        figures["matrix"] = ex.png_ready(figure)
        tables["matrix"] = matrix_records(matrix, mode, scale)
        extra.update(texts=list(matrix.texts), images=list(matrix.images))
        used = matching_batch(batch, matrix)
        if used is not None:
            settings["batch"] = dict(used)
            seed = used.get("seed")
    if sstate:
        smap: SpatialMap = sstate["map"]
        name = Path(str(getattr(image, "name", image))).name if image else "image"
        tables["spatial"] = spatial_records(smap, name)
        extra["spatial"] = {"image": name, "text": smap.text, "method": smap.method, "score": round(smap.score, 5)}
    base = dict((mstate or sstate).get("session") or {})
    session = {**base, "settings": settings, "seed": seed, **extra} if base else None
    return ex.payload(VIEW, figures=figures, tables=tables, session=session)


# ---------------------------------------------------------------- a session back into the inputs


def restore_inputs(record: dict) -> tuple:
    """A similarity session -> (texts, mode, logit scale, method, spatial text, images, pending logit scale).

    The build resets the logit-scale slider to the model's own value; the pending logit scale puts the
    session's back after the next build."""
    texts = ex.text_list(record, "texts")
    mode = ex.setting(record, "mode", choices=st.MODES)
    key = "logit_scale" if "logit_scale" in record.get("settings", {}) else "temperature"  # older sessions
    logit_scale = ex.setting(record, key, lo=1, hi=100)
    method = ex.setting(record, "method", choices=list(METHODS))
    spatial = record.get("spatial")
    text = spatial.get("text") if isinstance(spatial, dict) and isinstance(spatial.get("text"), str) else gr.skip()
    batch = ex.setting(record, "batch", kind=dict)
    files = batch_paths(batch) if isinstance(batch, dict) else None
    pending = None if ex.is_skip(logit_scale) else float(logit_scale)
    return ("\n".join(texts) if texts else gr.skip(), mode, logit_scale, method, text,
            files if files is not None else gr.skip(), pending)


def keep_logit_scale(pending):
    """After a build: the restored session's logit scale instead of the model's own (once)."""
    if pending is None:
        return gr.skip(), None
    return gr.update(value=float(np.clip(pending, 1, 100))), None
