"""What the Video tab draws: the cosine timeline (one curve per query, its median frame dotted, moments shaded)."""

from __future__ import annotations

import plotly.graph_objects as go

from clipdemo.serve.service import VideoSearch

COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def timeline_figure(result: VideoSearch, words: dict[str, str]) -> go.Figure:
    """`words`: axis_time, axis_score, median in the visitor's language."""
    fig = go.Figure()
    for k, (query, scores) in enumerate(zip(result.queries, result.scores, strict=True)):
        colour = COLOURS[k % len(COLOURS)]
        fig.add_trace(go.Scatter(x=result.times, y=scores, mode="lines+markers", name=query,
                                 line={"color": colour, "width": 2}, marker={"size": 5},
                                 hovertemplate="%{x:.2f} s · %{y:.3f}<extra>" + query + "</extra>"))
        fig.add_hline(y=result.baseline[k], line={"color": colour, "dash": "dot", "width": 1})
        for m in (m for m in result.moments if m["query"] == k):
            fig.add_vrect(x0=m["start"], x1=m["end"], fillcolor=colour, opacity=0.10, line_width=0)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=words["median"],
                             line={"color": "#888", "dash": "dot", "width": 1}))
    fig.update_layout(margin={"l": 50, "r": 10, "t": 40, "b": 40}, height=320, template="plotly_white",
                      xaxis_title=words["axis_time"], yaxis_title=words["axis_score"],
                      legend={"orientation": "h", "y": -0.25}, hovermode="x unified")
    return fig
