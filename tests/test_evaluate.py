import json
import random

import numpy as np

from clipdemo import toyworld
from clipdemo.tools import evaluate


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
        "command": "python -m clipdemo.training.train --init-from x", "train_seconds": 60, "config": {"steps": 10},
        "previous": {"command": "python -m clipdemo.training.train --steps 5", "train_seconds": 120, "config": {"steps": 5}}}))
    (tmp_path / "README.md").write_text("old\n<!-- pointing:start -->\nPOINTING 71%\n<!-- pointing:end -->\n")
    res = {"toy": {k: 0.9 for k, _ in evaluate._ROWS} | {"n_images": 3}, "other_hands": {"colour": 0.5}, "seconds": 1}
    card = evaluate.write_card(tmp_path, res, "python -m clipdemo.training.evaluate").read_text()
    assert "POINTING 71%" in card
    assert card.index("--steps 5") < card.index("--init-from x")
    assert "3 minutes" in card
    assert "90.0%" in card and "50.0%" in card


def test_both_languages_are_asked_about_the_same_pictures(tiny_encoder):
    kw = dict(n_per_combo=1, n_heldout_per_combo=1, n_count=6, n_recall_batches=1)
    english = evaluate.evaluate(tiny_encoder, **kw)
    both = evaluate.evaluate(tiny_encoder, languages=("en", "zh"), **kw)
    for renderer in ("toy", "other_hands"):  # adding Chinese leaves the English numbers as they were
        for key, value in english[renderer].items():
            assert both[renderer][key] == value, (renderer, key)
    for key in ("colour", "shape", "zs64_seen", "zs64_heldout", "counting", "recall_i2t", "recall_t2i"):
        assert 0.0 <= both["zh"]["toy"][key] <= 1.0
    assert 0.0 <= both["zh"]["other_hands"]["counting"] <= 1.0
    assert set(both["cross_lingual"]) == {"en_to_zh", "zh_to_en"}
    table = evaluate.metrics_table(both)
    assert "Chinese: toy renderer" in table and "一张{颜色}{形状}的照片。" in table and "English full caption" in table


def test_chinese_prompts_use_the_canonical_words():
    zh = evaluate.PROMPTS["zh"]
    assert zh.combo("red", "circle") == "一张红色圆形的照片。"
    assert zh.shape("crescent") == "一张月牙形的照片。"
    assert zh.colour("pink") == "一张粉色的物体的照片。"
    assert zh.count(2, "blue", "square") == "一张两个蓝色正方形的照片。"


class _TwinEncoder:
    """Texts map to their scene's vector: English and Chinese twins to the same one (or, broken, to another)."""

    def __init__(self, scenes, shuffle_zh=False):
        rng = np.random.default_rng(0)
        vecs = rng.normal(size=(len(scenes), 16))
        order = np.roll(np.arange(len(scenes)), 1) if shuffle_zh else np.arange(len(scenes))
        self.table = {toyworld.full_caption(s): vecs[i] for i, s in enumerate(scenes)}
        self.table |= {toyworld.zh_full_caption(s): vecs[order[i]] for i, s in enumerate(scenes)}

    def encode_texts(self, texts):
        return np.stack([self.table[t] for t in texts])


def test_cross_lingual_recall_finds_twins_and_notices_a_mixup():
    rng = random.Random(2)
    scenes = list({toyworld.full_caption(s): s for s in (toyworld.sample_scene(rng) for _ in range(40))}.values())
    assert evaluate.eval_cross_lingual(_TwinEncoder(scenes), [scenes]) == {"en_to_zh": 1.0, "zh_to_en": 1.0}
    broken = evaluate.eval_cross_lingual(_TwinEncoder(scenes, shuffle_zh=True), [scenes])
    assert broken["en_to_zh"] < 0.2 and broken["zh_to_en"] < 0.2


def test_plain_counting_pictures_hold_k_separate_shapes():
    from scipy import ndimage

    rng = random.Random(0)
    for k in (1, 2, 3):
        img = np.asarray(evaluate.draw_plain_count("circle", "blue", k, rng)).astype(int)
        blue = (img[..., 2] > 200) & (img[..., 0] < 60)
        assert ndimage.label(blue)[1] == k


def test_card_describes_a_domain_randomised_phase(tmp_path):
    (tmp_path / "training_log.json").write_text(json.dumps({
        "command": "python -m clipdemo.training.train --lock-text --varied-scenes 0.5", "train_seconds": 60,
        "config": {"steps": 10, "varied_scenes": 0.5, "lock_text": True, "colour_captions": 0.25},
        "previous": {"command": "python -m clipdemo.training.train --steps 5", "train_seconds": 120, "config": {"steps": 5}}}))
    res = {"toy": {k: 0.9 for k, _ in evaluate._ROWS} | {"n_images": 3}, "other_hands": {"colour": 0.5}, "seconds": 1}
    card = evaluate.write_card(tmp_path, res, "python -m clipdemo.evaluate").read_text()
    assert "domain-randomised scenes 50%, text side locked" in card and "colour-only captions 25%" in card
    assert "`evaluate.draw_plain`" in card and "never" in card
    assert "nothing locked" not in card  # that phase locked the text side
    (tmp_path / "training_log.json").write_text(json.dumps({"command": "x", "config": {"steps": 5}}))
    assert "Domain randomisation" not in evaluate.write_card(tmp_path, res, "y").read_text()


def test_card_describes_a_last_phase_with_nothing_locked(tmp_path):
    (tmp_path / "training_log.json").write_text(json.dumps({
        "command": "python -m clipdemo.training.train --zh-captions 0.5 --varied-scenes 0.5", "train_seconds": 60,
        "config": {"steps": 10, "varied_scenes": 0.5, "zh_captions": 0.5, "colour_captions": 0.2},
        "previous": {"command": "python -m clipdemo.training.train --lock-text", "train_seconds": 60,
                     "config": {"steps": 5, "varied_scenes": 0.5, "zh_captions": 0.5, "lock_text": True}}}))
    res = {"toy": {k: 0.9 for k, _ in evaluate._ROWS} | {"n_images": 3}, "other_hands": {"colour": 0.5}, "seconds": 1}
    card = evaluate.write_card(tmp_path, res, "python -m clipdemo.evaluate").read_text()
    assert "Last phase, nothing locked" in card and "trained whole, both towers at once" in card
    assert "Chinese captions 50%, colour-only captions 20%, domain-randomised scenes 50%)" in card


def test_card_names_an_averaged_phase():
    averaged = {"command": "python scripts/average_checkpoints.py a b --out c --weight 0.5",
                "config": {"steps": 0, "averaged": 0.5}}
    assert evaluate._phase_note(averaged) == "the last two phases' weights averaged (0.5 / 0.5)"
    assert evaluate._phase_note({"config": {"steps": 7, "lr": 0.1}}).startswith("7 steps (lr 0.1")
