"""The embedding map as a Plotly figure: images and texts as different marker kinds, in 2D or 3D.

Pure plotting: numbers and names in, a figure out. Every point carries its index in
customdata[0], which the page's hover/click hook (map_tab.HOOK_JS) uses to find the thumbnail.
"""

from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from clipdemo.core.projection import Projection
from clipdemo.core.search import Hit
from clipdemo.core.toyworld import COLOURS
from clipdemo.data.embedding_map import MapData
from clipdemo.ui.exports import png_ready  # the chart's toolbar keeps its PNG camera in sight

COLOUR_BY = ("modality", "label", "group")
MODALITY_COLOURS = {"image": "#4f7cff", "text": "#f28e2b"}
NAMED_COLOURS = {name: "#{:02x}{:02x}{:02x}".format(*rgb) for name, rgb in COLOURS.items()}
NAMED_COLOURS.update({"mixed": "#9a9a9a", "caption": "#6b6b6b", "text": "#444444", "label": "#111111"})
PALETTE = qualitative.D3 + qualitative.Set2 + qualitative.Dark24
SYMBOLS = {"image": "circle", "text": "diamond"}
WEBGL_ABOVE = 1500  # SVG is crisper and works without a GPU; WebGL only pays off for big maps
HIT_COLOUR = "#e4002b"


def colour_map(values: list[str]) -> dict[str, str]:
    """Toy colour words get their own colour; everything else a palette colour in first-seen order."""
    out, k = {}, 0
    for v in dict.fromkeys(values):
        if v in NAMED_COLOURS:
            out[v] = NAMED_COLOURS[v]
        else:
            out[v] = PALETTE[k % len(PALETTE)]
            k += 1
    return out


def _wrap(text: str, width: int = 48) -> str:
    return "<br>".join(textwrap.wrap(text, width)) or text


def _revision(data: MapData, proj: Projection) -> str:
    # Same points and coordinates -> same revision: a search highlight keeps the user's zoom and camera.
    return f"{data.key}-{hash(np.ascontiguousarray(proj.coords).tobytes())}"


def _axis_title(method: str, k: int) -> str:
    return f"{method.upper()} {k}" if method != "pca" else f"PC {k}"


# Words drawn inside the figure; the tab passes translated ones.
WORDS = {"images": "images", "texts": "texts", "image": "image", "text": "text", "hits": "search hits",
         "lines": "image → caption"}


def map_figure(data: MapData, proj: Projection, colour_by: str = "modality", lines: bool = False,
               hits: list[Hit] | None = None, height: int = 640, title: str = "",
               words: dict[str, str] | None = None) -> go.Figure:
    w = {**WORDS, **(words or {})}
    kinds = data.point_kinds()
    names = data.point_names()
    texts = data.point_captions()
    if colour_by == "label" and data.labels:
        keys = data.point_labels()
    elif colour_by == "group":
        keys = data.point_groups()
    else:
        colour_by, keys = "modality", kinds
    colours = MODALITY_COLOURS if colour_by == "modality" else colour_map(keys)
    xyz = proj.coords
    three_d = proj.dims == 3
    scatter = go.Scatter3d if three_d else (go.Scattergl if data.n_points > WEBGL_ABOVE else go.Scatter)
    fig = go.Figure()

    if lines and data.pairs:
        seg = [[], [], []]
        for i, j in data.pairs:
            a, b = xyz[i], xyz[data.n_images + j]
            for d in range(proj.dims):
                seg[d] += [float(a[d]), float(b[d]), None]
        line_kw = dict(x=seg[0], y=seg[1], mode="lines", hoverinfo="skip", name=w["lines"],
                       line=dict(color="rgba(90,90,90,0.28)", width=1))
        fig.add_trace(go.Scatter3d(z=seg[2], **line_kw) if three_d else go.Scatter(**line_kw))

    in_legend: set[str] = set()
    for kind in ("image", "text"):
        for key in dict.fromkeys(k for k, kd in zip(keys, kinds, strict=True) if kd == kind):
            idx = [i for i in range(len(kinds)) if kinds[i] == kind and keys[i] == key]
            if not idx:
                continue
            custom = [[i, names[i], _wrap(texts[i]) if kind == "image" else _wrap(names[i])] for i in idx]
            hover = (f"<b>%{{customdata[1]}}</b><br>%{{customdata[2]}}<extra>{w['image']}</extra>" if kind == "image"
                     else f"%{{customdata[2]}}<extra>{w['text']}</extra>")
            marker = dict(color=colours.get(key, "#888"), symbol=SYMBOLS[kind],
                          size=(5 if three_d else 8) if kind == "image" else (6 if three_d else 11),
                          opacity=0.85 if kind == "image" else 0.95,
                          line=dict(width=0 if kind == "image" else 1, color="#222"))
            if colour_by == "modality":
                label = f"{w['images']} ●" if kind == "image" else f"{w['texts']} ◆"
            else:
                label = str(key)  # one legend entry per colour; the marker shape tells the kind
            trace = dict(x=xyz[idx, 0], y=xyz[idx, 1], mode="markers", marker=marker, customdata=custom,
                         hovertemplate=hover, legendgroup=str(key), name=label, showlegend=label not in in_legend)
            in_legend.add(label)
            fig.add_trace(scatter(z=xyz[idx, 2], **trace) if three_d else scatter(**trace))

    if hits:
        idx = [h.index for h in hits]
        trace = dict(x=xyz[idx, 0], y=xyz[idx, 1], mode="markers+text", text=[str(h.rank) for h in hits],
                     textposition="top center", textfont=dict(color=HIT_COLOUR, size=13),
                     marker=dict(symbol="circle-open", size=12 if three_d else 20, color=HIT_COLOUR,
                                 line=dict(width=3, color=HIT_COLOUR)),
                     customdata=[[h.index, h.name, f"#{h.rank} · cos {h.score:+.3f}"] for h in hits],
                     hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}<extra></extra>",
                     name=w["hits"])
        fig.add_trace(go.Scatter3d(z=xyz[idx, 2], **trace) if three_d else go.Scatter(**trace))

    axis = dict(showticklabels=False, zeroline=False, showgrid=True, gridcolor="#eee")
    layout = dict(height=height, template="plotly_white", margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                  # two entries fit in a line above the map; a colour per label or group gets a column beside
                  # it (plotly makes room for it there, where a wrapped line above was cut off)
                  legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=11))
                  if colour_by == "modality" else
                  dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01, font=dict(size=11),
                       title=dict(text=f"● {w['images']}<br>◆ {w['texts']}", font=dict(size=11))),
                  hoverlabel=dict(align="left"), uirevision=_revision(data, proj),
                  title=dict(text=title, font=dict(size=14)) if title else None)
    if three_d:
        layout["scene"] = {f"{a}axis": dict(title=_axis_title(proj.method, k + 1), **axis)
                           for k, a in enumerate("xyz")}
    else:
        layout["xaxis"] = dict(title=_axis_title(proj.method, 1), **axis)
        layout["yaxis"] = dict(title=_axis_title(proj.method, 2), scaleanchor="x", scaleratio=1, **axis)
    fig.update_layout(**layout)
    return png_ready(fig)


def empty_figure(message: str, height: int = 640) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=15, color="#666"))
    fig.update_layout(height=height, template="plotly_white", xaxis=dict(visible=False), yaxis=dict(visible=False),
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig
