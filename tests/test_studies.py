"""The paper's follow-ups through the service: /few_shot's defaults, two models side by side (a session's own
Learn-tab model included, SigLIP scored with its sigmoid), and which words carry the match."""

from __future__ import annotations

import io
import random
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from clipdemo.core import toyworld
from clipdemo.core.errors import InputError
from clipdemo.serve import studies

ROOT = Path(__file__).resolve().parents[1]
RED = ROOT / "assets/toy/00_a_small_red_circle_on_the_left.png"


@pytest.fixture(scope="module")
def service(tiny_clip_dir):
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService

    return ClipService(ModelRegistry("bundled", device="cpu", dtype="fp32", allowed_folders=(str(tiny_clip_dir),)))


def test_few_shot_defaults_run_on_the_toy_world_and_rise_with_k(service):
    r = service.few_shot()
    j = r.to_json()
    for key in ("shots", "accuracy", "accuracy_std", "zero_shot_accuracy", "chance", "equivalent_shots", "notices"):
        assert key in j
    assert r.shots == [1, 2, 4, 8, 16] and r.source == "toy" and r.chance == pytest.approx(1 / 8)
    assert r.accuracy[-1] > r.accuracy[0] > r.chance
    assert r.zero_shot_accuracy > r.chance and len(r.per_seed[0]) == 5
    # the crossing point lies where the curve passes the zero-shot line
    if r.equivalent_shots is not None:
        below = [k for k, a in zip(r.shots, r.accuracy) if a < r.zero_shot_accuracy]
        assert not below or r.equivalent_shots >= max(below)


def test_few_shot_on_own_pictures_takes_classes_from_zip_folders(service, tmp_path):
    rng = random.Random(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for colour in ("red", "blue", "green"):
            for i in range(4):
                scene = toyworld.sample_scene(rng, kind="single", combos=[(colour, "circle")])
                png = io.BytesIO()
                toyworld.render(scene, 64).save(png, "PNG")
                z.writestr(f"{colour}/{i}.png", png.getvalue())
    path = tmp_path / "classes.zip"
    path.write_bytes(buf.getvalue())
    r = service.few_shot([str(path)], labels="ignored", shots="1,2,4", seeds=2)
    assert r.source == "upload" and r.classes == ["red", "blue", "green"]
    assert r.shots == [1, 2] and r.test_per_class == 2  # 4 pictures a class: 2 held out, 2 to learn from
    assert any("ignored" in str(n) for n in r.notices) and any("left out" in str(n) for n in r.notices)
    assert r.zero_shot_accuracy > 1 / 3  # colour names are what the bundled model reads best


def test_few_shot_refuses_what_it_cannot_do(service):
    with pytest.raises(InputError, match="seeds"):
        service.few_shot(seeds=50)
    with pytest.raises(InputError, match="at least two"):
        service.few_shot(labels="circle")


def test_compare_models_scores_each_side_and_says_where_they_agree(service, tiny_clip_dir):
    r = service.compare_models(str(RED), "blue square, red circle, yellow star", model_b=str(tiny_clip_dir))
    assert r.labels == ["blue square", "red circle", "yellow star"]  # the caller's order
    assert r.model_a == "bundled" and r.model_b == str(tiny_clip_dir)
    assert r.scoring_a == r.scoring_b == "softmax"
    assert sum(r.probabilities_a) == pytest.approx(1, abs=1e-4) and sum(r.probabilities_b) == pytest.approx(1, abs=1e-4)
    assert r.top_a == "red circle" == r.labels[int(np.argmax(r.probabilities_a))]
    assert r.top_b == r.labels[int(np.argmax(r.probabilities_b))]
    assert r.agree == (r.top_a == r.top_b)
    same = service.compare_models(str(RED), "blue square, red circle", model_a="bundled", model_b="bundled")
    assert same.agree and same.rank_agreement == 1.0 and any("same model" in str(n) for n in same.notices)


def test_spearman_of_reversed_rankings_is_minus_one():
    assert studies.spearman([0.1, 0.5, 0.9], [0.9, 0.5, 0.1]) == pytest.approx(-1)
    assert studies.spearman([0.1, 0.5, 0.9], [0.2, 0.3, 0.4]) == pytest.approx(1)


def test_compare_with_a_sessions_learn_tab_model_and_a_sigmoid_model(service, tmp_path, tiny_clip_dir):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_loading import build_tiny_siglip

    from clipdemo.core.loading import load_model

    private = service.registry.add_private("session-1", load_model(str(tiny_clip_dir), "cpu", "fp32"), "Learn tab")
    r = service.compare_models(str(RED), "red circle, blue square", model_a="bundled", model_b=private)
    assert r.model_b == private and len(r.probabilities_b) == 2
    siglip = build_tiny_siglip(tmp_path / "siglip")
    service.registry.add(str(siglip), load_model(str(siglip), "cpu", "fp32"))
    s = service.compare_models(str(RED), "red circle, blue square, a cat", model_b=str(siglip))
    assert s.scoring_a == "softmax" and s.scoring_b == "sigmoid"
    assert sum(s.probabilities_b) != pytest.approx(1, abs=1e-3)  # a sigmoid per label, not a share of one


def test_compare_matrices_side_by_side(service, tiny_clip_dir):
    blue = ROOT / "assets/toy/01_a_small_blue_square_on_the_right.png"
    r = service.compare_matrices([str(RED), str(blue)], "a red circle\na blue square", model_b=str(tiny_clip_dir))
    assert np.shape(r.a["cosine"]) == np.shape(r.b["cosine"]) == (2, 2)
    best_a, best_b = np.argmax(r.a["cosine"], 1), np.argmax(r.b["cosine"], 1)
    assert r.top1_agreement == pytest.approx(float((best_a == best_b).mean()))


def test_token_attribution_through_the_service(service):
    r = service.token_attribution(str(RED), "a red circle and a blue square")
    j = r.to_json()
    for key in ("tokens", "attribution", "words", "word_attribution", "score", "method", "notices"):
        assert key in j
    assert r.image == RED.name and r.model == "bundled" and r.method == "gradient_x_input"
    assert r.word_leave_one_out[1] > r.word_leave_one_out[5]  # "red" over "blue" on a red circle
