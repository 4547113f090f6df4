"""The embedding-map tab's export box: the map figure, every point's coordinates, and a session.

The session holds the gallery choice, the texts and labels, the projection (method, dims, n_neighbors,
min_dist, seed) and the styling, so loading it back and drawing again gives the same map for the toy
world and the bundled photos (uploaded images are counted, not stored). The tab's own embeddings
export (.npy / .parquet) stays as it is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import gradio as gr

from clipdemo.core.projection import Projection
from clipdemo.data.embedding_map import MapData, project_map
from clipdemo.serve.service import ModelDetails
from clipdemo.ui import exports as ex

VIEW = "map"
SOURCES = ("toy", "photos", "upload")
METHODS = ("umap", "pca", "tsne")
COLOUR_BY = ("modality", "label", "group")
PROJECTION_SEED = 0  # embedding_map.project_map's default: every map of the tab uses it


def point_records(data: MapData, proj: Projection) -> list[dict]:
    """One row per point: name, kind (image/text), x, y[, z], zero-shot label, caption group, caption."""
    axes = ("x", "y", "z")[:proj.dims]
    rows = []
    for i, (kind, name, label, group, caption) in enumerate(zip(
            data.point_kinds(), data.point_names(), data.point_labels(), data.point_groups(), data.point_captions(),
            strict=True)):
        row = {"name": name, "kind": kind}
        row.update({a: float(v) for a, v in zip(axes, proj.coords[i], strict=True)})
        row.update(label=label, group=group, caption=caption)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class MapView:
    """How a map is projected and styled: the settings its session records and a restore puts back."""

    method: str
    dims: int
    n_neighbors: int
    min_dist: float
    colour_by: str = "modality"
    lines: bool = False

    @classmethod
    def of(cls, method, dims, n_neighbors, min_dist, colour_by="modality", lines=False) -> MapView:
        """From the tab's controls (Gradio hands numbers as floats)."""
        return cls(method, int(dims), int(n_neighbors), float(min_dist), colour_by, bool(lines))

    def settings(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MapSource:
    """What a map was drawn from: the gallery choice, and whether captions and label prompts became points."""

    source: str
    captions: bool = True
    label_points: bool = True


def _payload(data: MapData, fig, view: MapView, session: dict) -> dict:
    proj = project_map(data, view.method, view.dims, view.n_neighbors, view.min_dist, PROJECTION_SEED)
    return ex.payload(VIEW, figures={"map": ex.png_ready(fig)}, tables={"points": point_records(data, proj)},
                      session=session)


def after_draw(model: ModelDetails, model_name: str | None, data: MapData, fig, drawn: MapSource,
               view: MapView) -> dict:
    """The payload for a freshly drawn map (the session names what was drawn, not what the boxes hold now)."""
    texts = [text for text, kind in zip(data.texts, data.text_kinds, strict=True) if kind == "text"]
    settings = {"source": drawn.source, "captions": bool(drawn.captions), "label_points": bool(drawn.label_points),
                **view.settings()}
    session = ex.session(model, VIEW, model_name, settings, data.labels, seed=PROJECTION_SEED, texts=texts,
                         images=len(data.gallery), gallery=data.gallery.source)
    return _payload(data, fig, view, session)


def after_redraw(previous: dict | None, data: MapData | None, fig, view: MapView):
    """New projection or styling: the same embeddings, so the drawn map's session with the new view settings."""
    if data is None or not previous or not previous.get("session") or not hasattr(fig, "to_dict"):
        return gr.skip()
    session = {**previous["session"], "settings": {**previous["session"]["settings"], **view.settings()}}
    return _payload(data, fig, view, session)


def restore_inputs(record: dict) -> tuple:
    """A map session -> (source, files' visibility, captions, more texts, labels, label points, method, dims,
    n_neighbors, min_dist, colour by, lines)."""
    s = ex.setting
    source = s(record, "source", choices=SOURCES)
    files = gr.skip() if ex.is_skip(source) else gr.update(visible=source == "upload")
    texts = ex.text_list(record, "texts")
    labels = ex.text_list(record, "labels")
    return (source, files, s(record, "captions", kind=bool), "\n".join(texts), ", ".join(labels),
            s(record, "label_points", kind=bool), s(record, "method", choices=METHODS),
            s(record, "dims", choices=(2, 3)), s(record, "n_neighbors", lo=2, hi=100),
            s(record, "min_dist", lo=0.0, hi=0.99), s(record, "colour_by", choices=COLOUR_BY),
            s(record, "lines", kind=bool))
