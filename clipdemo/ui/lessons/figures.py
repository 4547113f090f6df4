"""Figures for the Lessons tab: each takes an experiment's result (plain numbers) and translated words."""

from __future__ import annotations

import plotly.graph_objects as go

from clipdemo.teach.lessons import TEMPLATE_GROUPS, ModalityGap, Probe, TemperatureLesson, TemplateComparison
from clipdemo.ui.exports import png_ready  # the chart's toolbar keeps its PNG camera in sight

LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=10, t=50, b=40), legend=dict(orientation="h", y=-0.2))
COLOURS = ("#4f7cff", "#ff8c42", "#2ca25f", "#d7301f", "#7b4fff")


GUESSING_GREY = "#9aa0a6"  # a bar whose interval covers guessing: grey and hatched, not the "finding" blue


def _interval_bars(shares, colour: str, words: dict[str, str]) -> dict:
    """Bar styling for counts: 95% Wilson error bars; a bar whose interval covers guessing greyed, hatched and
    labelled so (in words, not by colour alone)."""
    ys = [s.value for s in shares]
    covers = [s.verdict == "guessing" for s in shares]
    return dict(y=ys, marker=dict(color=[GUESSING_GREY if c else colour for c in covers],
                                  pattern=dict(shape=["/" if c else "" for c in covers])),
                error_y=dict(type="data", symmetric=False, array=[s.high - s.value for s in shares],
                             arrayminus=[s.value - s.low for s in shares], color="#333", thickness=1.5, width=6),
                text=[f"{s.value:.0%} ({s.right}/{s.n})" + (f"<br>{words['verdict.guessing']}" if c else "")
                      for s, c in zip(shares, covers, strict=True)],
                textposition="outside", cliponaxis=False,
                hovertemplate=[f"{s.right}/{s.n} = {s.value:.0%}<br>{words['interval']}: {s.low:.0%}–{s.high:.0%}"
                               f"<br>{words['verdict.' + s.verdict]}<extra></extra>" for s in shares])


def _chance_line(fig: go.Figure, value: float, text: str) -> None:
    fig.add_hline(y=value, line_dash="dot", line_color="#888", annotation_text=text, annotation_position="top right")


def templates_figure(res: TemplateComparison, words: dict[str, str]) -> go.Figure:
    """Share right per template set, one bar per kind of picture (one object / three objects)."""
    names = list(res.accuracy)
    xs = [words[f"set.{n}"] for n in names]
    fig = go.Figure()
    for k, group in enumerate(TEMPLATE_GROUPS):
        fig.add_trace(go.Bar(x=xs, name=words[f"group.{group}"],
                             **_interval_bars([res.share(n, group) for n in names], COLOURS[k], words)))
    _chance_line(fig, res.chance, words["chance"].format(v=res.chance))
    fig.update_layout(title=dict(text=words["title"], x=0.02), yaxis=dict(range=[0, 1.18], tickformat=".0%",
                                                                          title=words["accuracy"]),
                      barmode="group", height=360, **LAYOUT)
    return png_ready(fig)


def temperature_figure(res: TemperatureLesson, words: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    labels = [f"<b>{lab}</b>" if i == res.truth else lab for i, lab in enumerate(res.labels)]
    for k, (scale, probs) in enumerate(zip(res.scales, res.probs, strict=True)):
        own = abs(scale - res.model_scale) < 1e-6
        name = (words["own"] if own else words["temp"]).format(s=scale, tau=1 / scale)
        fig.add_trace(go.Bar(x=labels, y=probs, name=name, marker_color=COLOURS[k % len(COLOURS)],
                             hovertemplate="%{x}<br>p = %{y:.3f}<extra>" + name + "</extra>"))
    fig.update_layout(title=dict(text=words["title"], x=0.02), barmode="group",
                      yaxis=dict(range=[0, 1], tickformat=".0%", title=words["y"]), height=380, **LAYOUT)
    return png_ready(fig)


def gap_figure(res: ModalityGap, words: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    for (xi, yi), (xt, yt) in zip(res.image_xy, res.text_xy, strict=True):
        fig.add_trace(go.Scatter(x=[xi, xt], y=[yi, yt], mode="lines", line=dict(color="#ccc", width=1),
                                 hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=[p[0] for p in res.image_xy], y=[p[1] for p in res.image_xy], mode="markers",
                             name=words["images"], marker=dict(color=COLOURS[0], size=10),
                             text=res.captions, hovertemplate="🖼 %{text}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[p[0] for p in res.text_xy], y=[p[1] for p in res.text_xy], mode="markers",
                             name=words["texts"], marker=dict(color=COLOURS[1], size=10, symbol="diamond"),
                             text=res.captions, hovertemplate="✎ %{text}<extra></extra>"))
    fig.update_layout(title=dict(text=words["title"], x=0.02), xaxis=dict(title="PC 1", zeroline=False),
                      yaxis=dict(title="PC 2", zeroline=False, scaleanchor="x"), height=440, **LAYOUT)
    return png_ready(fig)


def probe_figure(probe: Probe, words: dict[str, str]) -> go.Figure:
    """Accuracy per group of the probe (count, 95% interval, verdict), with each group's chance level."""
    groups = probe.groups()
    xs = [words.get(f"group.{g}", g) for g in groups]
    fig = go.Figure(go.Bar(x=xs, name=words["accuracy"], **_interval_bars([probe.share(g) for g in groups],
                                                                          COLOURS[0], words)))
    fig.add_trace(go.Scatter(x=xs, y=[probe.chance(g) for g in groups], mode="markers", name=words["chance_marker"],
                             marker=dict(symbol="line-ew-open", size=40, color="#888", line=dict(width=2))))
    fig.update_layout(title=dict(text=words["title"], x=0.02), yaxis=dict(range=[0, 1.18], tickformat=".0%"),
                      height=360, **LAYOUT)
    return png_ready(fig)


def counting_figure(probe: Probe, words: dict[str, str]) -> go.Figure:
    """Confusion matrix: how many pictures of n objects got each answer."""
    counts = [[0, 0, 0] for _ in range(3)]
    for it in probe.items:
        counts[it.truth][it.answer] += 1
    ticks = [words["n1"], words["n2"], words["n3"]]
    fig = go.Figure(go.Heatmap(z=counts, x=ticks, y=ticks, colorscale="Blues", text=counts, texttemplate="%{text}",
                               showscale=False, hovertemplate="%{y} → %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=dict(text=words["title"], x=0.02), xaxis=dict(title=words["answer"]),
                      yaxis=dict(title=words["truth"], autorange="reversed"), height=340, template="plotly_white",
                      margin=dict(l=60, r=10, t=50, b=50))
    return png_ready(fig)
