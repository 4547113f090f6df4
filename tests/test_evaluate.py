import json
import random

import numpy as np

from clipdemo import evaluate, toyworld


def test_plain_shapes_are_drawn_in_their_colour_on_grey():
    rng = random.Random(0)
    areas = {}
    for shape in toyworld.SHAPES:
        img = np.asarray(evaluate.draw_plain(shape, "blue", rng)).astype(int)
        blue = (img[..., 2] > 200) & (img[..., 0] < 60)
        areas[shape] = blue.mean()
        corner = img[0, 0]
        assert abs(corner[0] - corner[2]) < 15  # near-grey ground
    assert all(0.02 < a < 0.4 for a in areas.values()), areas
    # different shapes give different pixel sets even at one size
    masks = {s: (np.asarray(evaluate.draw_plain(s, "red", random.Random(1)))[..., 1] < 60) for s in toyworld.SHAPES}
    assert len({m.tobytes() for m in masks.values()}) == len(toyworld.SHAPES)


def test_evaluate_runs_and_reports_fractions(tiny_encoder):
    res = evaluate.evaluate(tiny_encoder, n_per_combo=1, n_heldout_per_combo=1, n_count=6, n_recall_batches=1)
    for key in ("colour", "shape", "zs64_seen", "zs64_heldout", "counting", "recall_i2t", "recall_t2i"):
        assert 0.0 <= res["toy"][key] <= 1.0
    assert res["toy"]["n_images"] == len(toyworld.allowed_combos("train")) + len(toyworld.HELD_OUT)


def test_card_keeps_pointing_section_and_lists_phases(tmp_path):
    (tmp_path / "training_log.json").write_text(json.dumps({
        "command": "python -m clipdemo.train --init-from x", "train_seconds": 60, "config": {"steps": 10},
        "previous": {"command": "python -m clipdemo.train --steps 5", "train_seconds": 120, "config": {"steps": 5}}}))
    (tmp_path / "README.md").write_text("old\n<!-- pointing:start -->\nPOINTING 71%\n<!-- pointing:end -->\n")
    res = {"toy": {k: 0.9 for k, _ in evaluate._ROWS} | {"n_images": 3}, "other_hands": {"colour": 0.5}, "seconds": 1}
    card = evaluate.write_card(tmp_path, res, "python -m clipdemo.evaluate").read_text()
    assert "POINTING 71%" in card
    assert card.index("--steps 5") < card.index("--init-from x")
    assert "3 minutes" in card
    assert "90.0%" in card and "50.0%" in card
