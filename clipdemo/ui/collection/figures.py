"""A collection's map as a Plotly figure: every point on WebGL, a density layer where points overlap.

Pure plotting. Coordinates go out as float32 arrays, which plotly serialises as base64 typed
arrays (8 bytes a point), never as per-point text: names and captions are fetched lazily on hover.
The density layer is a 2D histogram computed here (a fixed-size grid whatever the point count).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

POINTS_UID = "clipdemo-collection-points"  # trace meta: how the page hook tells the points trace
HITS_META = "clipdemo-collection-hits"  # ... and the search hits (customdata[0] = point index)
DENSITY_ABOVE = 20_000  # "auto" draws the density layer above this many points
DENSITY_BINS = 200
HIT_COLOUR = "#e4002b"
WORDS = {"points": "images", "density": "density", "hits": "search hits"}


DENSITY_SCALE = [[0.0, "#eef3ff"], [0.25, "#9db8ff"], [0.5, "#4f7cff"], [0.75, "#2747b8"], [1.0, "#0b1a5c"]]


def marker_style(n: int, density: bool = False) -> dict:
    """Smaller, fainter markers as the count grows, so overlap reads as darker, not as a blot. Over a
    density layer they are nearly transparent: WebGL points are drawn above it, and still take the hover."""
    size = 6 if n <= 2_000 else 4 if n <= 20_000 else 2.5
    opacity = 0.8 if n <= 2_000 else 0.5 if n <= 20_000 else 0.3
    if density:
        size, opacity = min(size, 3), 0.08
    return dict(size=size, opacity=opacity, color="#1f3a93" if density else "#4f7cff")


def density_grid(x: np.ndarray, y: np.ndarray, bins: int = DENSITY_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x centres, y centres, log(1 + count) grid with empty cells as NaN so they stay transparent)."""
    counts, xe, ye = np.histogram2d(x, y, bins=bins)
    z = np.log1p(counts.T).astype(np.float32)
    z[counts.T == 0] = np.nan
    return ((xe[:-1] + xe[1:]) / 2).astype(np.float32), ((ye[:-1] + ye[1:]) / 2).astype(np.float32), z


def collection_figure(x: np.ndarray, y: np.ndarray, name: str, view: str = "auto", hits: list[dict] | None = None,
                      words: dict[str, str] | None = None, height: int = 680) -> go.Figure:
    w = {**WORDS, **(words or {})}
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    n = len(x)
    density = view == "density" or (view == "auto" and n > DENSITY_ABOVE)
    fig = go.Figure()
    if density and n:
        xc, yc, z = density_grid(x, y)
        fig.add_trace(go.Heatmap(x=xc, y=yc, z=z, colorscale=DENSITY_SCALE, showscale=False, hoverinfo="skip",
                                 name=w["density"], zsmooth="best"))
    fig.add_trace(go.Scattergl(x=x, y=y, mode="markers", marker=marker_style(n, density and n > 0), meta=POINTS_UID,
                               name=w["points"],
                               hovertemplate="#%{pointNumber}<extra></extra>", showlegend=False))
    if hits:
        idx = np.array([h["index"] for h in hits], np.int64)
        fig.add_trace(go.Scattergl(
            x=x[idx], y=y[idx], mode="markers+text", text=[str(h["rank"]) for h in hits], textposition="top center",
            textfont=dict(color=HIT_COLOUR, size=13), name=w["hits"], meta=HITS_META,
            marker=dict(symbol="circle-open", size=16, color=HIT_COLOUR, line=dict(width=3, color=HIT_COLOUR)),
            customdata=[[h["index"], h["image_path"], f"#{h['rank']} · cos {h['score']:+.3f}"] for h in hits],
            hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}<extra></extra>"))
    axis = dict(showticklabels=False, zeroline=False, showgrid=False, title=None)
    fig.update_layout(height=height, template="plotly_white", margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=axis, yaxis=dict(scaleanchor="x", scaleratio=1, **axis),
                      showlegend=bool(hits), legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
                      meta={"collection": name}, uirevision=f"collection-{name}-{n}", hovermode="closest")
    return fig


LAYER_COLOUR = "#e4002b"


def add_insight_layer(fig: go.Figure, x: np.ndarray, y: np.ndarray, layer: str, table, labels: list[str],
                      top: int = 40) -> go.Figure:
    """Draw an insight layer over the map: clusters coloured with their labels at their centres; for the other
    layers the `top` rows (every picture of a duplicate group) ringed. Hover stays with the points trace."""
    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
    if layer == "clusters":
        cluster = table["cluster"].to_numpy()
        idx = table["index"].to_numpy()
        fig.add_trace(go.Scattergl(x=x[idx], y=y[idx], mode="markers", hoverinfo="skip", showlegend=False,
                                   marker=dict(size=6, opacity=0.75, color=cluster, colorscale="Turbo")))
        for g, label in enumerate(labels):
            mine = idx[cluster == g]
            if len(mine):
                fig.add_annotation(x=float(np.median(x[mine])), y=float(np.median(y[mine])), text=f"<b>{label}</b>",
                                   showarrow=False, font=dict(size=13, color="#111"), bgcolor="rgba(255,255,255,0.8)",
                                   borderpad=2)
        return fig
    rows = table if layer == "duplicates" else table.head(top)
    idx = rows["index"].to_numpy()
    fig.add_trace(go.Scattergl(x=x[idx], y=y[idx], mode="markers", hoverinfo="skip", showlegend=False,
                               marker=dict(symbol="circle-open", size=12, color=LAYER_COLOUR,
                                           line=dict(width=2, color=LAYER_COLOUR))))
    return fig
