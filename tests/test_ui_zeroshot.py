"""The zero-shot tab's bar chart: its numbers stay readable on a phone's narrow chart."""

from __future__ import annotations

from clipdemo.ui.zeroshot.layout import bar_chart


def test_a_long_bar_carries_its_text_inside_and_a_short_one_beside_it():
    fig = bar_chart([("red circle", 0.93, 0.65), ("blue square", 0.05, 0.30), ("pink star", 0.02, 0.29)], False)
    bar = fig.data[0]
    by_label = dict(zip(bar.y, bar.textposition, strict=True))
    assert by_label == {"red circle": "inside", "blue square": "outside", "pink star": "outside"}
    assert all("cos" in t for t in bar.text)  # every bar still names its cosine
