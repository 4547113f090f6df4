"""The bundled model reads Chinese labels as well as English ones (measured on the shipped weights)."""

import random

import numpy as np

from clipdemo.core import toyworld
from clipdemo.core.zeroshot import zero_shot
from clipdemo.training import evaluate

PAIRS = [(c, s) for c in ("red", "blue", "yellow", "green") for s in ("circle", "square", "triangle")]


def _plain_pictures(per_pair: int = 3, seed: int = 20_261):
    rng = random.Random(seed)
    images, truth = [], []
    for k, (c, s) in enumerate(PAIRS):
        for _ in range(per_pair):
            images.append(evaluate.draw_plain(s, c, rng))
            truth.append(k)
    return images, np.array(truth)


def test_12_way_chinese_zero_shot_on_pillow_shapes_matches_english(bundled_encoder):
    images, truth = _plain_pictures()
    en = zero_shot(bundled_encoder, images, [f"{c} {s}" for c, s in PAIRS], "a photo of a {}.")
    zh = zero_shot(bundled_encoder, images, [toyworld.zh_colour(c) + toyworld.zh_shape(s) for c, s in PAIRS],
                   "一张{}的照片。")
    acc_en = float(np.mean(en.probs.argmax(1) == truth))
    acc_zh = float(np.mean(zh.probs.argmax(1) == truth))
    assert acc_zh >= 0.75, (acc_zh, acc_en)  # chance is 1/12
    assert acc_zh >= acc_en - 0.1, (acc_zh, acc_en)


def test_the_issue_example_picks_the_red_circle(bundled_encoder):
    scene = toyworld.sample_scene(random.Random(3), kind="single", combos=[("red", "circle")])
    res = zero_shot(bundled_encoder, [toyworld.render(scene, 224)], "红色圆形, 蓝色正方形, 黄色星形, 绿色三角形",
                    "一张{}的照片")
    assert res.predictions() == ["红色圆形"] and res.probs[0, 0] > 0.5


def test_mixed_language_label_list(bundled_encoder):
    scene = toyworld.sample_scene(random.Random(4), kind="single", combos=[("yellow", "star")])
    res = zero_shot(bundled_encoder, [toyworld.render(scene, 224)], "红色圆形, blue square, 黄色星形, green triangle",
                    "single")
    assert res.predictions() == ["黄色星形"]


def test_chinese_prompt_is_one_token_per_character(bundled_encoder):
    tok = bundled_encoder.loaded.tokenizer  # what AutoProcessor loaded from the bundled folder
    assert len(tok("一张红色圆形的照片").input_ids) == 9 + 2
