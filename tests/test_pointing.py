"""The pointing game: trials, scoring against fake maps with known answers, the model-card section."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from clipdemo.core import toyworld
from clipdemo.training import pointing


@pytest.fixture(scope="module")
def trials():
    return pointing.make_trials(12, seed=5, size=96)


def test_trials_name_one_of_two_or_three_objects(trials):
    assert len(trials) == 12
    for tr in trials:
        assert tr.image.size == (96, 96)
        assert tr.target.any() and tr.others.any()
        assert not (tr.target & tr.others).any()  # objects do not overlap
        assert tr.text.startswith("a ") and len(tr.text.split()) == 3
    assert np.mean([tr.chance for tr in trials]) < 0.15


def test_trials_are_deterministic():
    a, b = pointing.make_trials(3, seed=9, size=64), pointing.make_trials(3, seed=9, size=64)
    assert [t.text for t in a] == [t.text for t in b]
    assert all((x.target == y.target).all() for x, y in zip(a, b, strict=True))


def _centroid(mask):
    ys, xs = np.nonzero(mask)
    # the mask pixel nearest the centroid, so concave shapes (crescents) still count as inside
    k = np.argmin((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2)
    return xs[k] + 0.5, ys[k] + 0.5


def _fake(trials, where):
    """A map function whose hottest point is chosen by `where(trial)`."""
    by_text_image = {id(t.image): t for t in trials}

    def map_fn(encoder, image, text, method):
        return SimpleNamespace(hottest_point=lambda: where(by_text_image[id(image)]))
    return map_fn


def test_a_perfect_pointer_scores_everything(trials):
    (score,) = pointing.evaluate(None, trials, ["oracle"], _fake(trials, lambda t: _centroid(t.target)))
    assert score.hits == len(trials) and score.accuracy == 1.0 and score.on_other == 0
    assert score.chance == pytest.approx(np.mean([t.chance for t in trials]))


def test_an_opposite_pointer_is_counted_as_such(trials):
    (score,) = pointing.evaluate(None, trials, ["opposite"], _fake(trials, lambda t: _centroid(t.others)))
    assert score.hits == 0 and score.other_rate == 1.0


def test_hit_handles_edges():
    tr = pointing.Trial(None, "x", np.zeros((10, 10), bool), np.zeros((10, 10), bool))
    tr.target[9, 9] = True
    assert pointing.hit(tr, (10.0, 10.0)) == (True, False)  # the far edge maps onto the last pixel
    assert pointing.hit(tr, (0.2, 0.2)) == (False, False)


def test_wilson_interval():
    s = pointing.MethodScore("m", 100, 80, 5, 0.05, 1.0)
    lo, hi = s.interval()
    assert lo < 0.8 < hi and lo == pytest.approx(0.711, abs=0.01) and hi == pytest.approx(0.867, abs=0.01)


def test_card_section_is_appended_then_replaced(tmp_path):
    scores = [pointing.MethodScore("surgery", 10, 8, 1, 0.06, 1.0), pointing.MethodScore("naive", 10, 3, 6, 0.06, 1)]
    section = pointing.card_section(scores, "assets/toy-clip", 0, 224)
    assert "| surgery | 8/10 | 80.0%" in section and "meets" in section
    readme = tmp_path / "README.md"
    readme.write_text("# toy CLIP\n\nintro\n")
    pointing.write_card(tmp_path, section)
    first = readme.read_text()
    assert first.startswith("# toy CLIP\n\nintro\n") and first.count(pointing.CARD_START) == 1
    readme.write_text(first + "\n## Later section\n")
    worse = pointing.card_section([pointing.MethodScore("surgery", 10, 2, 1, 0.06, 1.0)], "m", 0, 224)
    pointing.write_card(tmp_path, worse)
    second = readme.read_text()
    assert second.count(pointing.CARD_START) == 1 and "| surgery | 2/10 |" in second and "8/10" not in second
    assert "does not meet" in second and second.rstrip().endswith("## Later section")


def test_card_is_created_when_missing(tmp_path):
    path = pointing.write_card(tmp_path, pointing.CARD_START + "\nx\n" + pointing.CARD_END)
    assert path.read_text().startswith(pointing.CARD_START)


def test_command_line_on_a_tiny_model(tiny_clip_dir, tmp_path, capsys):
    folder = tmp_path / "model"
    shutil.copytree(tiny_clip_dir, folder)
    pointing.main(["--model", str(folder), "--n", "3", "--size", "64", "--write-card", "--threads", "1"])
    out = capsys.readouterr().out
    for method in ("surgery", "gradcam", "naive"):
        assert f"| {method} |" in out
    card = (folder / "README.md").read_text()
    assert pointing.CARD_START in card and pointing.CARD_END in card and "/3 |" in card


def test_chinese_trials_name_the_same_objects_in_chinese():
    en = pointing.make_trials(6, seed=3, size=64)
    zh = pointing.make_trials(6, seed=3, size=64, language="zh")
    for a, b in zip(en, zh, strict=True):
        assert np.array_equal(a.target, b.target)  # same scene, same named object
        _, colour, shape = a.text.split()
        assert b.text == "一个" + toyworld.zh_colour(colour) + toyworld.zh_shape(shape)


def test_card_section_has_a_table_per_language():
    en = [pointing.MethodScore("gradcam", 10, 9, 0, 0.05, 1.0)]
    zh = [pointing.MethodScore("gradcam", 10, 5, 2, 0.05, 1.0)]
    section = pointing.card_section(en, "assets/toy-clip", 0, 224, {"zh": zh})
    assert "--languages en,zh" in section and "一个红色圆形" in section
    assert "| gradcam | 9/10 |" in section and "| gradcam | 5/10 |" in section
    assert section.index("9/10") < section.index("5/10") and "does not meet" in section
