"""One joint map: a gallery and some texts embedded by one model, projected, described and exported.

`build_map_data` does the encoding (cached by the Encoder, so a second map of the same gallery
costs no forward passes); `project_map` turns it into coordinates and keeps recent projections,
so switching back to earlier settings is instant. Points are ordered images first, then texts.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clipdemo import limits, projection
from clipdemo.cache import LRUCache
from clipdemo.encoding import Encoder
from clipdemo.gallery import Gallery
from clipdemo.templates import DEFAULT_TEMPLATE
from clipdemo.zeroshot import class_embeddings, parse_labels

MAX_TEXTS = 2000  # with MAX_IMAGES this keeps a map under umap's 4096-point exact-neighbour path
LABEL_TEMPLATE = DEFAULT_TEMPLATE  # a label point is the label's zero-shot prompt


@dataclass
class MapData:
    gallery: Gallery
    image_emb: np.ndarray  # (n_images, d), unit rows
    texts: list[str]  # one text point per distinct text
    text_kinds: list[str]  # "caption" | "text" | "label"
    text_emb: np.ndarray  # (n_texts, d), unit rows
    pairs: list[tuple[int, int]]  # (image index, text index) of each image and its caption
    labels: list[str] = field(default_factory=list)  # zero-shot labels, if any
    image_label: list[str] = field(default_factory=list)  # each image's best label
    text_label: list[str] = field(default_factory=list)  # each text's nearest label
    model_name: str = ""
    notices: list[str] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return len(self.image_emb)

    @property
    def n_points(self) -> int:
        return len(self.image_emb) + len(self.text_emb)

    def embeddings(self) -> np.ndarray:
        return np.concatenate([self.image_emb, self.text_emb]).astype(np.float32)

    @property
    def key(self) -> str:
        """Content id of the points: the vectors themselves (a retrained model under an old name differs)."""
        return hashlib.blake2b(self.embeddings().tobytes(), digest_size=16).hexdigest()

    def point_kinds(self) -> list[str]:
        return ["image"] * self.n_images + ["text"] * len(self.texts)

    def point_names(self) -> list[str]:
        return list(self.gallery.names) + list(self.texts)

    def point_captions(self) -> list[str]:
        """The caption of an image point, the text of a text point."""
        return list(self.gallery.captions) + list(self.texts)

    def point_groups(self) -> list[str]:
        """Caption group per point: the image's group, and for a caption the group of its images."""
        by_text: dict[int, str] = {}
        for i, j in self.pairs:
            by_text.setdefault(j, self.gallery.groups[i])
        return list(self.gallery.groups) + [by_text.get(j, self.text_kinds[j]) for j in range(len(self.texts))]

    def point_labels(self) -> list[str]:
        if not self.labels:
            return [""] * self.n_points
        return list(self.image_label) + list(self.text_label)

    def gap(self) -> projection.ModalityGap | None:
        if self.n_images == 0 or len(self.texts) == 0:
            return None
        return projection.modality_gap(self.image_emb, self.text_emb, self.pairs)


def split_lines(text: str | Sequence[str] | None) -> list[str]:
    lines = text.splitlines() if isinstance(text, str) else list(text or [])
    # each line cut to limits.MAX_TEXT_CHARS first: a 1 MB line costs what 500 characters cost
    return [limits.clean_text(" ".join(str(s)[:4 * limits.MAX_TEXT_CHARS].split())) for s in lines if str(s).strip()]


def build_map_data(encoder: Encoder, gallery: Gallery, extra_texts: str | Sequence[str] | None = None,
                   labels: str | Sequence[str] | None = None, captions: bool = True, label_points: bool = True,
                   model_name: str = "", progress: Callable[[int, int], None] | None = None) -> MapData:
    """Embed the gallery's images and the texts: captions, free lines and (optionally) label prompts."""
    notices = list(gallery.notices)
    texts: list[str] = []
    kinds: list[str] = []
    index: dict[str, int] = {}

    def add(text: str, kind: str) -> int:
        if text not in index:
            index[text] = len(texts)
            texts.append(text)
            kinds.append(kind)
        return index[text]

    pairs = []
    if captions:
        pairs = [(i, add(c, "caption")) for i, c in enumerate(gallery.captions) if c]
    for line in split_lines(extra_texts):
        add(line, "text")
    label_list = parse_labels(labels).labels if labels and split_lines(labels) else []
    if label_points:
        for lab in label_list:
            add(LABEL_TEMPLATE.format(lab), "label")
    if len(texts) > MAX_TEXTS:
        notices.append(f"{len(texts)} texts given; the map shows the first {MAX_TEXTS}")
        texts, kinds = texts[:MAX_TEXTS], kinds[:MAX_TEXTS]
        pairs = [(i, j) for i, j in pairs if j < MAX_TEXTS]
    image_emb = encoder.encode_images(gallery.images, progress=progress)
    text_emb = encoder.encode_texts(texts) if texts else np.zeros((0, image_emb.shape[1]), np.float32)
    data = MapData(gallery, image_emb, texts, kinds, text_emb, pairs, model_name=model_name, notices=notices)
    if label_list:
        label_emb = class_embeddings(encoder, label_list, [LABEL_TEMPLATE])
        data.labels = label_list
        data.image_label = [label_list[j] for j in (image_emb @ label_emb.T).argmax(axis=1)]
        data.text_label = [label_list[j] for j in (text_emb @ label_emb.T).argmax(axis=1)] if len(texts) else []
    return data


# ---------------------------------------------------------------- projections, cached


MAX_CACHED_PROJECTIONS = 32
_PROJECTIONS = LRUCache(MAX_CACHED_PROJECTIONS)


def clear_projection_cache() -> None:
    """Forget every cached projection (a benchmark's cold start)."""
    _PROJECTIONS.clear()


def project_map(data: MapData, method: str = "umap", dims: int = 2, n_neighbors: int = 15, min_dist: float = 0.1,
                seed: int = 0) -> projection.Projection:
    """Coordinates for every point; the same data and settings come back from a small cache."""
    key = (data.key, method, int(dims), int(n_neighbors), round(float(min_dist), 4), seed)
    hit = _PROJECTIONS.get(key)
    if hit is not None:
        return dataclasses.replace(hit, cached=True)
    proj = projection.project(data.embeddings(), method, int(dims), int(n_neighbors), float(min_dist), seed=seed)
    _PROJECTIONS.put(key, proj)
    return proj


def records(data: MapData, proj: projection.Projection) -> list[dict]:
    """One JSON-ready record per point: kind, name, x, y (and z in 3D); a caption for captioned images."""
    out = []
    axes = ("x", "y", "z")[:proj.dims]
    for i, (kind, name, cap) in enumerate(zip(data.point_kinds(), data.point_names(), data.point_captions(), strict=True)):
        rec = {"kind": kind, "name": name}
        rec.update({a: round(float(v), 5) for a, v in zip(axes, proj.coords[i], strict=True)})
        if kind == "image" and cap:
            rec["caption"] = cap
        out.append(rec)
    return out


# ---------------------------------------------------------------- exports


def point_table(data: MapData, proj: projection.Projection | None = None):
    import pandas as pd

    table = pd.DataFrame({"kind": data.point_kinds(), "name": data.point_names(), "caption": data.point_captions(),
                          "group": data.point_groups(), "label": data.point_labels()})
    if proj is not None:
        for a, col in zip(("x", "y", "z"), proj.coords.T, strict=False):
            table[a] = col.astype(np.float32)
    return table


def export_files(data: MapData, proj: projection.Projection, out_dir: str | Path) -> dict[str, Path]:
    """embeddings.npy (points x dims), embeddings.parquet (names, captions, vectors) and coords.csv."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    emb = data.embeddings()
    paths = {"npy": out / "embeddings.npy", "parquet": out / "embeddings.parquet", "csv": out / "coords.csv"}
    np.save(paths["npy"], emb)
    table = point_table(data)
    table["embedding"] = list(emb)
    table.to_parquet(paths["parquet"], index=False)
    point_table(data, proj).to_csv(paths["csv"], index=False)
    return paths
