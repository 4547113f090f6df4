"""Lessons' views never pass noise off as a finding: counts, 95% intervals, verdicts in words and in the chart."""

from PIL import Image

from clipdemo.teach import lessons
from clipdemo.ui.lessons.figures import GUESSING_GREY
from clipdemo.ui.lessons.layout import run_counting, run_leftright


def _item(correct: bool, group: str, p: float = 0.51) -> lessons.ProbeItem:
    probs = [p, 1 - p] if correct else [1 - p, p]
    return lessons.ProbeItem(Image.new("RGB", (8, 8)), ["a red circle on the left", "a red circle on the right"],
                             probs, 0, group, "left")


def _bars(fig):
    bar = fig.data[0]
    return dict(zip(bar.x, zip(bar.y, bar.marker.color, bar.text, strict=True), strict=True))


def test_six_coin_flips_of_eight_are_called_guessing_in_words_and_in_the_chart():
    items = [_item(i < 6, "relation") for i in range(8)] + [_item(True, "single", 0.9) for _ in range(24)]
    probe = lessons.Probe("left_right", items, "m")
    summary, fig, *_ = run_leftright(probe, None)
    bars = _bars(fig)
    relation = next(v for k, v in bars.items() if "left of" in k)
    single = next(v for k, v in bars.items() if "one shape" in k)
    assert relation[0] == 0.75 and relation[1] == GUESSING_GREY and "guessing" in relation[2] and "6/8" in relation[2]
    assert single[1] != GUESSING_GREY and "guessing" not in single[2]
    line = next(x for x in summary.splitlines() if "to the left of" in x)
    assert "6/8" in line and "indistinguishable from guessing" in line and "above guessing" not in line
    assert "above guessing" in next(x for x in summary.splitlines() if "one shape" in x)
    assert "from 51%" in summary  # the model's own probabilities: barely above a coin flip


def test_lesson_6_on_the_bundled_model_claims_nothing_its_intervals_do_not_show(bundled_encoder):
    probe = lessons.left_right_probe(bundled_encoder)
    summary, fig, *_ = run_leftright(probe, None)
    bars = _bars(fig)
    for group, (label, (_value, colour, text)) in zip(probe.groups(), bars.items(), strict=True):
        s = probe.share(group)
        assert s.n >= 24  # enough pictures that a real effect would leave guessing behind
        line = next(x for x in summary.splitlines() if x.startswith(f"- {label}"))
        assert f"{s.right}/{s.n}" in line
        covers = s.low <= 0.5 <= s.high
        assert (colour == GUESSING_GREY) == covers
        assert ("indistinguishable from guessing" in line) == covers
        assert ("guessing" in text) == covers  # the bar's own label says it too
        if covers:
            assert "above guessing" not in line


def test_ties_between_identical_options_are_right_and_guessing_counts_distinct_choices():
    same = lessons.ProbeItem(Image.new("RGB", (8, 8)), ["a red circle", "a red circle", "a blue square"],
                             [0.5, 0.3, 0.2], 1, "g")
    assert same.correct and same.chance == 0.5
    probe = lessons.Probe("x", [same], "m")
    assert probe.share().right == 1 and probe.chance() == 0.5


def test_counting_shows_its_count_per_row(tiny_encoder):
    probe = lessons.counting_probe(tiny_encoder, per_count=2)
    summary, *_ = run_counting(probe, None)
    for g in probe.groups():
        assert f"{probe.share(g).right}/2" in summary
    assert "95% interval" in summary
