"""Figures for the Learn tab, drawn from a live-training snapshot (plain numbers) and translated words."""

from __future__ import annotations

import base64
import io
import math
from functools import lru_cache

import gradio as gr
import plotly.graph_objects as go

from clipdemo.teach.live_data import fixed_batch
from clipdemo.ui.exports import png_ready  # the chart's toolbar keeps its PNG camera in sight
from clipdemo.ui.i18n import tr

LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=10, t=40, b=40), legend=dict(orientation="h", y=-0.2))


@lru_cache(maxsize=8)
def batch_thumbnails(concepts: str, image_size: int) -> tuple[str, ...]:
    """The fixed batch's pictures as data URIs (the batch is seeded: the same pictures the run uses)."""
    out = []
    for im in fixed_batch(concepts, image_size)[0]:
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        out.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    return tuple(out)


def logits_heatmap(snap: dict, words: dict[str, str]) -> go.Figure:
    """Rows: the batch's pictures; columns: their captions; colour: logit. Dots: each row's choice."""
    logits = snap["logits"]
    n = len(logits)
    captions = snap["captions"]
    fig = go.Figure()
    if n:
        fig.add_trace(go.Heatmap(
            z=logits, x=list(range(n)), y=list(range(n)), colorscale="Viridis",
            colorbar=dict(title=dict(text=words["logit"], side="right"), thickness=12),
            customdata=[list(captions) for _ in range(n)],
            hovertemplate=words["hover"] + "<extra></extra>"))
        best = [max(range(n), key=row.__getitem__) for row in logits]
        fig.add_trace(go.Scatter(x=best, y=list(range(n)), mode="markers", name=words["choice"],
                                 marker=dict(symbol="circle-open", size=11, color="#ff4d4d", line=dict(width=2)),
                                 hoverinfo="skip"))
        cfg = snap["config"]
        for i, src in enumerate(batch_thumbnails(cfg["concepts"], cfg["image_size"])[:n]):
            # big enough to tell the shapes apart on a classroom projector (about 36 px a row)
            fig.add_layout_image(source=src, xref="x", yref="y", x=-1.3, y=i, sizex=1.5, sizey=0.96,
                                 xanchor="center", yanchor="middle", layer="above", sizing="contain")
    hits = sum(max(range(n), key=row.__getitem__) == i for i, row in enumerate(logits)) if n else 0
    fig.update_layout(
        title=dict(text=words["title"].format(step=max(snap["logits_step"], 0), hits=hits, n=n), x=0.02),
        xaxis=dict(tickmode="array", tickvals=list(range(n)), ticktext=captions, tickangle=-40, side="bottom",
                   title=words["x"], range=[-2.1, n - 0.5], showgrid=False, zeroline=False),
        yaxis=dict(tickmode="array", tickvals=list(range(n)), ticktext=[""] * n, range=[n - 0.5, -0.5],
                   title=words["y"], showgrid=False, zeroline=False),
        height=800, showlegend=False, template="plotly_white", margin=dict(l=40, r=10, t=50, b=170))
    return png_ready(fig)


def loss_figure(snap: dict, words: dict[str, str]) -> go.Figure:
    h = snap["history"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=h["step"], y=h["loss_i2t"], name=words["i2t"], line=dict(color="#4f7cff")))
    fig.add_trace(go.Scatter(x=h["step"], y=h["loss_t2i"], name=words["t2i"], line=dict(color="#ff8c42")))
    chance = math.log(snap["config"]["batch_size"])
    fig.add_hline(y=chance, line_dash="dot", line_color="#888", annotation_text=words["chance"].format(v=chance),
                  annotation_position="top right")
    fig.update_layout(title=dict(text=words["title"], x=0.02), xaxis=dict(title=words["x"], range=[0, snap["steps"]]),
                      yaxis=dict(title=words["y"], rangemode="tozero"), height=300, **LAYOUT)
    return png_ready(fig)


def temperature_figure(snap: dict, words: dict[str, str]) -> go.Figure:
    h = snap["history"]
    fig = go.Figure(go.Scatter(x=h["step"], y=h["logit_scale"], name=words["y"], line=dict(color="#7b4fff")))
    fig.update_layout(title=dict(text=words["title"], x=0.02), xaxis=dict(title=words["x"], range=[0, snap["steps"]]),
                      yaxis=dict(title=words["y"]), height=300, **LAYOUT)
    return png_ready(fig)


def accuracy_figure(snap: dict, words: dict[str, str]) -> go.Figure:
    a = snap["accuracy"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=a["step"], y=a["seen"], name=words["seen"], mode="lines+markers",
                             line=dict(color="#2ca25f")))
    fig.add_trace(go.Scatter(x=a["step"], y=a["heldout"], name=words["heldout"], mode="lines+markers",
                             line=dict(color="#d7301f")))
    d, n = snap["diagonal"], max(1, len(snap["captions"]))
    fig.add_trace(go.Scatter(x=d["step"], y=[h / n for h in d["hits"]], name=words["diagonal"].format(v=1 / n),
                             mode="lines",
                             line=dict(color="#4f7cff", width=2)))
    fig.add_hline(y=snap["chance"], line_dash="dot", line_color="#888",
                  annotation_text=words["chance"].format(v=snap["chance"]), annotation_position="top right")
    # three long legend entries take three lines: below the axis title, with room for them
    layout = {**LAYOUT, "legend": dict(orientation="h", yanchor="top", y=-0.32), "margin": dict(l=50, r=10, t=40, b=120)}
    fig.update_layout(title=dict(text=words["title"], x=0.02), xaxis=dict(title=words["x"], range=[0, snap["steps"]]),
                      yaxis=dict(title=words["y"], range=[0, 1.02], tickformat=".0%"), height=360, **layout)
    return png_ready(fig)


def empty_figure(text: str, height: int = 300) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=14, color="#888"))
    fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False), height=height, template="plotly_white",
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


# ---------------------------------------------------------------- a snapshot's four figures, in the visitor's language


def _words(request, prefix: str, keys: tuple[str, ...]) -> dict[str, str]:
    out = {k: tr(request, f"learn.fig.{prefix}.{k}") for k in keys}
    out["x"] = tr(request, "learn.fig.x") if "x" not in keys else out["x"]
    return out


def figures(request, snap: dict | None, which: list[bool] | None = None) -> tuple:
    """(matrix, loss, temperature, accuracy) for a snapshot; placeholders before the first run.
    `which` picks the figures to draw; the others come back as gr.skip()."""
    if snap is None:
        empty = tr(request, "learn.fig.empty")
        return (empty_figure(empty, 800), empty_figure(empty),
                empty_figure(empty), empty_figure(empty))
    which = which or [True] * 4
    draw = (
        lambda: logits_heatmap(snap, _words(request, "matrix", ("title", "x", "y", "logit", "choice",
                                                                            "hover")))
        if snap["logits"] else empty_figure(tr(request, "learn.waiting"), 800),
        lambda: loss_figure(snap, _words(request, "loss", ("title", "i2t", "t2i", "chance", "y"))),
        lambda: temperature_figure(snap, _words(request, "temp", ("title", "y"))),
        lambda: accuracy_figure(snap, _words(request, "acc", ("title", "seen", "heldout", "chance",
                                                                          "diagonal", "y"))),
    )
    return tuple(fn() if w else gr.skip() for fn, w in zip(draw, which, strict=True))
