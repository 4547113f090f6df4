"""Figures for the Few-shot & compare tab: each takes a service result (its JSON) and translated words."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from clipdemo.ui.exports import png_ready  # the chart's toolbar keeps its PNG camera in sight

LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=10, t=60, b=40), legend=dict(orientation="h", y=-0.22))
PROBE, ZERO, CHANCE = "#4f7cff", "#ff8c42", "#888"


def few_shot_figure(r: dict, words: dict[str, str]) -> go.Figure:
    """Probe accuracy against k (log scale) with its spread over seeds, the zero-shot line and chance."""
    ks, acc, std = r["shots"], r["accuracy"], r["accuracy_std"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ks + ks[::-1], y=[a + s for a, s in zip(acc, std)] + [a - s for a, s in
                                                                                     zip(acc[::-1], std[::-1])],
                             fill="toself", fillcolor="rgba(79,124,255,0.15)", line=dict(width=0),
                             hoverinfo="skip", name=words["spread"]))
    fig.add_trace(go.Scatter(x=ks, y=acc, mode="lines+markers", name=words["probe"], line=dict(color=PROBE, width=3),
                             error_y=dict(type="data", array=std, visible=True, color=PROBE),
                             hovertemplate="k = %{x}<br>%{y:.1%}<extra></extra>"))
    fig.add_hline(y=r["zero_shot_accuracy"], line_dash="dash", line_color=ZERO, line_width=3,
                  annotation_text=words["zero"].format(v=r["zero_shot_accuracy"]), annotation_position="bottom right")
    fig.add_hline(y=r["chance"], line_dash="dot", line_color=CHANCE,
                  annotation_text=words["chance"].format(v=r["chance"]), annotation_position="top right")
    if r.get("equivalent_shots"):
        fig.add_vline(x=r["equivalent_shots"], line_dash="dot", line_color=ZERO)
    fig.update_layout(title=dict(text=words["title"], x=0.02), height=400,
                      xaxis=dict(type="log", tickvals=ks, ticktext=[str(k) for k in ks], title=words["x"]),
                      yaxis=dict(range=[0, 1.05], tickformat=".0%", title=words["y"]), **LAYOUT)
    return png_ready(fig)


def compare_figure(r: dict, names: tuple[str, str], words: dict[str, str]) -> go.Figure:
    """Each model's scores for the labels, side by side, in the caller's label order (best of each in bold)."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[f"{n}<br><sup>{words[s]}</sup>" for n, s in
                                        zip(names, (r["scoring_a"], r["scoring_b"]), strict=True)])
    labels = r["labels"]
    for col, (probs, top, colour) in enumerate(((r["probabilities_a"], r["top_a"], PROBE),
                                                (r["probabilities_b"], r["top_b"], ZERO)), 1):
        fig.add_trace(go.Bar(y=labels, x=probs, orientation="h", marker_color=colour, showlegend=False,
                             text=[f"<b>{p:.1%}</b>" if lab == top else f"{p:.1%}" for lab, p in zip(labels, probs)],
                             textposition="auto", hovertemplate="%{y}: %{x:.3f}<extra></extra>"), 1, col)
        fig.update_xaxes(range=[0, 1], tickformat=".0%", row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=max(260, 60 + 34 * len(labels)), template="plotly_white",
                      margin=dict(l=10, r=10, t=70, b=30))
    return png_ready(fig)


def matrices_figure(a: dict, b: dict, names: tuple[str, str]) -> go.Figure:
    """Two cosine matrices side by side, one colour scale each (two models' cosines are not on one scale)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=list(names), horizontal_spacing=0.04, shared_yaxes=True)
    short = [t if len(t) <= 28 else t[:27] + "…" for t in a["texts"]]
    for col, m in enumerate((a, b), 1):
        fig.add_trace(go.Heatmap(z=m["cosine"], x=short, y=m["images"], colorscale="Viridis", showscale=False,
                                 text=[[f"{v:.2f}" for v in row] for row in m["cosine"]], texttemplate="%{text}",
                                 hovertemplate="%{y}<br>%{x}<br>cos %{z:.3f}<extra></extra>"), 1, col)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-35)
    fig.update_layout(height=460, template="plotly_white", margin=dict(l=10, r=10, t=50, b=10))
    return png_ready(fig)
