"""The Similarity tab's pictures and batches, apart from its layout: what the tab and its export box share.

The matrix figure and the clickable score table draw the numbers of a `SimilarityMatrix`; the batch makers
write the tab's example batches (a seeded toy batch, the bundled toy pictures, the photos) to files.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from clipdemo.core import assets, toyworld
from clipdemo.core.errors import UserError
from clipdemo.core.images import load_image
from clipdemo.core.similarity import MODES, SimilarityMatrix  # noqa: F401 - MODES: the views' modes, for the tab
from clipdemo.core.templates import is_chinese
from clipdemo.serve.service import unique_names as _unique  # one rule for repeated names, the service's
from clipdemo.ui import exports as ex
from clipdemo.ui import overlay, scratch
from clipdemo.ui.context import example_photos
from clipdemo.ui.locale_defaults import toy_caption

PHOTO_TEXTS = {"astronaut": "an astronaut", "camera": "a man with a camera", "chelsea": "a cat",
               "coffee": "a cup of coffee", "horse": "a horse", "rocket": "a rocket"}

# ---------------------------------------------------------------- batches


def toy_click(n: int = 6, locale: str = "en") -> tuple[list[str], str, dict]:
    """The toy button: a new random batch, captioned in the visitor's language, and its seed (for the session file)."""
    seed = random.randrange(10**6)
    return (*toy_batch(n, seed, locale), {"kind": "toy", "n": n, "seed": seed})


def toy_batch(n: int = 6, seed: int | None = None, locale: str = "en") -> tuple[list[str], str]:
    """n toy scenes written to PNG files, and their captions (text i for image i) in the locale's language."""
    seed = random.randrange(10**6) if seed is None else seed
    out = scratch.new_folder("sim-")
    paths, captions = [], []
    for i, (img, _, scene) in enumerate(toyworld.generate(n, seed=seed, size=224)):
        path = out / f"toy_{i + 1}.png"
        img.save(path)
        paths.append(str(path))
        captions.append(toy_caption(scene, locale))
    return paths, "\n".join(captions)


def bundled_toys() -> tuple[list[str], str]:
    files = assets.toy_paths()[:6]
    return [str(p) for p in files], "\n".join(p.stem.split("_", 1)[1].replace("_", " ") for p in files)


def bundled_photos() -> tuple[list[str], str]:
    files = example_photos()
    return files, "\n".join(PHOTO_TEXTS.get(Path(p).stem, Path(p).stem) for p in files)


# ---------------------------------------------------------------- the matrix


CJK_WIDTH = 2.5  # a Chinese character is about as wide as 2.5 average Latin letters


def _width(s: str) -> float:
    """Display width in average Latin letters."""
    return sum(CJK_WIDTH if is_chinese(ch) else 1 for ch in s)


def _wrap(s: str, width: int = 18) -> str:
    # Chinese has no spaces and each character is wider than a Latin letter: cut it into pieces
    step = max(1, int(width / CJK_WIDTH))
    words = [w[i:i + step] if is_chinese(w) else w for w in s.split()
             for i in (range(0, len(w), step) if is_chinese(w) else (0,))]
    lines, cur = [], ""
    for w in words:
        if cur and _width(cur) + _width(w) + 1 > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines = [*lines, cur]
    if len(lines) > 4:  # keep the axis readable; the full text is in the hover and the table
        lines = [*lines[:3], lines[3] + " …"]
    return "<br>".join(lines)


def _cut(s: str, width: float) -> str:
    """At most `width` Latin letters wide (a Chinese character counts as CJK_WIDTH), "…" where cut."""
    if _width(s) <= width:
        return s
    while s and _width(s) > width - 1:
        s = s[:-1]
    return s + "…"


def _thumbnail(path: str):
    try:
        img = load_image(path)
    except UserError:
        return None
    img.thumbnail((96, 96))
    return img


def matrix_figure(matrix: SimilarityMatrix, values: np.ndarray, mode: str, paths: dict | None = None) -> go.Figure:
    n, m = values.shape
    is_prob = mode != "cosine"
    text = [[f"{v:.0%}" if is_prob else f"{v:+.3f}" for v in row] for row in values]
    fig = go.Figure(go.Heatmap(
        z=values, x=list(range(m)), y=list(range(n)), text=text, texttemplate="%{text}",
        colorscale=overlay.PLOTLY_SCALE, zmin=0 if is_prob else None, zmax=1 if is_prob else None,
        customdata=[[[matrix.images[i], matrix.texts[j]] for j in range(m)] for i in range(n)],
        hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>%{text}<extra></extra>",
        colorbar=dict(title=dict(text="p" if is_prob else "cos", side="right"), thickness=12)))
    thumbs = paths is not None and n <= 12
    for i, name in enumerate(matrix.images):
        img = _thumbnail(paths[name]) if thumbs and name in paths else None
        if img is not None:
            fig.add_layout_image(source=img, xref="x", yref="y", x=-0.55, y=i, sizex=0.9, sizey=0.9,
                                 xanchor="right", yanchor="middle", layer="above")
    if matrix.paired:
        for i in range(n):
            fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, y0=i - 0.5, y1=i + 0.5,
                          line=dict(color="#ff3d7f", width=3))
    # Up to 4 texts: wrapped, upright. More: one slanted line each (cut at 28 letters; the hover and the table
    # have the whole text), so neighbouring captions never print over each other, even on a phone.
    slanted = m > 4
    ticks = [_cut(s, 28) if slanted else _wrap(s, 20) for s in matrix.texts]
    fig.update_xaxes(tickvals=list(range(m)), ticktext=ticks,
                     side="top", tickangle=-55 if slanted else 0, tickfont=dict(size=11),
                     range=[-1.5 if thumbs else -0.5, m - 0.5], showgrid=False, zeroline=False)
    fig.update_yaxes(tickvals=list(range(n)), ticktext=[_wrap(s, 16) for s in matrix.images], autorange="reversed",
                     showgrid=False, zeroline=False, scaleanchor="x" if thumbs else None)
    head = 3 * max(_width(t) for t in ticks) if slanted else 15 * max(t.count("<br>") + 1 for t in ticks)
    fig.update_layout(height=min(900, 90 + 78 * n + head),
                      margin=dict(l=10, r=10, t=20, b=10), template="plotly_white")
    return ex.png_ready(fig)


def score_table(matrix: SimilarityMatrix, values: np.ndarray, mode: str, image_header: str = "image"):
    """The clickable table: image names down, texts across, cells coloured like the heatmap."""
    is_prob = mode != "cosine"
    cells = pd.DataFrame([[round(float(v), 3) for v in row] for row in values], columns=_unique(matrix.texts))
    cells.insert(0, image_header, matrix.images)
    lo, hi = (0.0, 1.0) if is_prob else (float(values.min()), float(values.max()))
    rgb = overlay.colourise((values - lo) / (hi - lo) if hi > lo else np.zeros_like(values))

    def colour(frame):
        css = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for j, col in enumerate(frame.columns[1:]):
            for i in range(len(frame)):
                r, g, b = rgb[i, j]
                ink = "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"
                css.iloc[i, css.columns.get_loc(col)] = f"background-color: rgb({r},{g},{b}); color: {ink}"
        return css

    fmt = "{:.0%}" if is_prob else "{:+.3f}"
    return cells.style.apply(colour, axis=None).format({c: fmt.format for c in cells.columns[1:]})
