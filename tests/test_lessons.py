"""Lessons: each experiment returns the model's own numbers, consistent with the engine's scoring."""

from __future__ import annotations

import numpy as np
import pytest

from clipdemo.core import toyworld
from clipdemo.core.zeroshot import class_embeddings
from clipdemo.teach import lessons


def test_template_comparison_matches_the_engine(tiny_encoder):
    res = lessons.template_comparison(tiny_encoder, per_group=3)
    assert set(res.accuracy) == {"bare", "single", "imagenet80", "three"}
    assert res.groups == ["one"] * 3 + ["three"] * 3  # as many pictures of one object as of three
    k = len(res.labels)
    assert k == 64 and set(res.truth) <= set(res.labels) and res.chance == pytest.approx(1 / 64)
    assert res.n_prompts == {"bare": k, "single": k, "imagenet80": k * 80, "three": k}
    img = tiny_encoder.encode_images(res.images)
    truth = [res.labels.index(t) for t in res.truth]
    for name, templates in lessons.LESSON_TEMPLATE_SETS.items():
        written = [f"{c} {toyworld.plural(s)}" for c, s in (lab.split() for lab in res.labels)] \
            if name in lessons.PLURAL_SETS else res.labels
        probs = tiny_encoder.probabilities(img @ class_embeddings(tiny_encoder, written, templates).T, axis=1)
        assert res.predictions[name] == [res.labels[j] for j in probs.argmax(axis=1)]
        assert res.true_prob[name] == pytest.approx(probs[np.arange(6), truth].tolist(), abs=1e-6)
        right = probs.argmax(axis=1) == truth
        assert res.accuracy[name] == np.mean(right)
        assert res.group_accuracy[name] == {"one": np.mean(right[:3]), "three": np.mean(right[3:])}
    assert res.images[0].size == (32, 32)  # rendered at the model's own input size


def test_the_counting_template_helps_on_three_objects_and_misleads_on_one(bundled_encoder):
    """Lesson 1 shows a real effect on the bundled model, not a flat 100% for every phrasing."""
    res = lessons.template_comparison(bundled_encoder)
    assert not res.flat
    three, single = res.group_accuracy["three"], res.group_accuracy["single"]
    assert three["three"] > single["three"]  # the template that describes the picture wins there ...
    assert three["one"] < single["one"]  # ... and misleads on pictures of one object


def test_a_flat_result_is_called_flat(tiny_encoder):
    res = lessons.template_comparison(tiny_encoder, per_group=2)
    res.group_accuracy = {n: {"one": 1.0, "three": 1.0} for n in res.group_accuracy}
    assert res.flat
    probe = lessons.counting_probe(tiny_encoder, per_count=1)
    for it in probe.items:
        it.probs = [1.0 if j == it.truth else 0.0 for j in range(len(it.options))]
    assert probe.all_right
    probe.items[0].probs = probe.items[0].probs[::-1]
    assert not probe.all_right


def test_a_higher_logit_scale_lower_temperature_sharpens_the_same_cosines(tiny_encoder):
    res = lessons.temperature_lesson(tiny_encoder)
    assert res.labels[res.truth] in {f"{c} {s}" for c, s in toyworld.allowed_combos("train")}
    assert len(res.probs) == len(res.scales) and res.scales == sorted(res.scales)
    assert any(s == pytest.approx(res.model_scale, abs=0.01) for s in res.scales)
    for row in res.probs:
        assert sum(row) == pytest.approx(1, abs=1e-6)
    peaks = [max(row) for row in res.probs]
    # a higher logit scale s (a lower temperature 1/s): more confident, same ranking
    assert peaks == sorted(peaks) and peaks[-1] > peaks[0]
    assert [int(np.argmax(r)) for r in res.probs[1:]] == [int(np.argmax(res.cosine))] * (len(res.probs) - 1)
    cos = tiny_encoder.encode_images([res.image])[0] @ class_embeddings(tiny_encoder, res.labels, ["a photo of a {}."]).T
    assert res.cosine == pytest.approx(cos.tolist(), abs=1e-5)


def test_modality_gap_numbers(tiny_encoder):
    res = lessons.modality_gap(tiny_encoder, n=10)
    img, txt = tiny_encoder.encode_images(res.images), tiny_encoder.encode_texts(res.captions)
    assert res.cos_matched == pytest.approx(float(np.mean(np.sum(img * txt, axis=1))), abs=1e-5)
    assert res.centroid_distance == pytest.approx(float(np.linalg.norm(img.mean(0) - txt.mean(0))), abs=1e-5)
    assert 0 <= res.centroid_distance <= 2 and 0 <= res.retrieval <= 1
    assert np.array(res.image_xy).shape == (10, 2) and np.array(res.text_xy).shape == (10, 2)


def test_compositional_asks_about_heldout_and_seen_pairs(tiny_encoder):
    probe = lessons.compositional(tiny_encoder, per_pair=1)
    assert probe.groups() == ["heldout", "seen"]
    held = {tuple(it.options[it.truth].split()) for it in probe.items if it.group == "heldout"}
    seen = {tuple(it.options[it.truth].split()) for it in probe.items if it.group == "seen"}
    assert held == set(toyworld.HELD_OUT) and not seen & toyworld.HELD_OUT and len(seen) == 8
    assert all(len(it.options) == 64 and sum(it.probs) == pytest.approx(1, abs=1e-5) for it in probe.items)
    assert probe.chance() == pytest.approx(1 / 64)
    assert {"heldout_colour", "heldout_shape", "seen_colour", "seen_shape"} <= set(probe.notes)


def test_counting_probe_offers_one_two_three(tiny_encoder):
    probe = lessons.counting_probe(tiny_encoder, per_count=2)
    assert probe.groups() == ["1", "2", "3"] and len(probe.items) == 6
    for it in probe.items:
        assert [o.split()[0] for o in it.options] == ["one", "two", "three"]
        assert it.truth == int(it.group) - 1
    assert probe.accuracy() == np.mean([it.correct for it in probe.items])


def test_left_right_probe_offers_mirror_sentences(tiny_encoder):
    probe = lessons.left_right_probe(tiny_encoder, per_kind=4)
    assert probe.groups() == ["single", "order", "relation"]
    assert {it.truth for it in probe.items} == {0, 1}  # the right sentence is not always first
    for it in probe.items:
        a, b = it.options
        mirrored = a.replace("left", "@").replace("right", "left").replace("@", "right") == b
        assert a != b and (mirrored if it.group != "order" else sorted(a.split()) == sorted(b.split()))
    assert probe.chance() == pytest.approx(0.5)


@pytest.mark.parametrize("probe_fn", [lessons.left_right_probe, lessons.counting_probe, lessons.compositional])
def test_every_probe_is_balanced(tiny_encoder, probe_fn):
    """In each group every kind of right answer occurs equally often (and, for two options, the right one
    stands first as often as second): no answer wins by habit alone."""
    probe = probe_fn(tiny_encoder)
    if probe_fn is lessons.counting_probe:  # there the group is the answer: as many of each count
        overall = probe.balance()
        assert len(overall) == 3 and len(set(overall.values())) == 1, overall
    else:
        for group in probe.groups():
            counts = probe.balance(group)
            assert len(counts) >= 2 and len(set(counts.values())) == 1, (group, counts)
        items = [it for it in probe.items if it.group == group]
        if len(items[0].options) == 2:
            assert sum(it.truth == 0 for it in items) * 2 == len(items), group


def test_left_right_relation_says_left_and_right_equally_often(tiny_encoder):
    """The old artifact: every true relation said "to the left of", so a model preferring "left" scored 100%."""
    probe = lessons.left_right_probe(tiny_encoder)
    rel = [it for it in probe.items if it.group == "relation"]
    said = [("left of" in it.options[it.truth], "right of" in it.options[it.truth]) for it in rel]
    assert sum(left for left, _ in said) == sum(right for _, right in said) == len(rel) // 2
    always_left = np.mean([" left of" in it.options[it.truth] for it in rel])
    assert always_left == 0.5  # a model that always picks "left" is at chance
    for it in probe.items:
        if it.group == "single":
            scene_side = it.key
            assert f"on the {scene_side}" in it.options[it.truth]


def test_answers_come_from_the_model_not_a_script(tiny_encoder, tmp_path):
    """Another model (other random weights) answers the same questions differently."""
    from conftest import build_tiny_clip

    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    other = Encoder(load_model(str(build_tiny_clip(tmp_path / "other", seed=1)), device="cpu", dtype="fp32"))
    a = lessons.counting_probe(tiny_encoder, per_count=2)
    b = lessons.counting_probe(other, per_count=2)
    assert [it.options for it in a.items] == [it.options for it in b.items]  # same questions (seeded)
    assert not np.allclose([it.probs for it in a.items], [it.probs for it in b.items])


def _no_latin(text: str) -> bool:
    return not any(ch.isascii() and ch.isalpha() for ch in text)


def test_lessons_in_chinese_ask_the_same_pictures_in_chinese(tiny_encoder):
    """A Chinese UI runs every lesson in Chinese: the same pictures and truths, Chinese labels and templates."""
    en, zh = lessons.template_comparison(tiny_encoder, per_group=2), \
        lessons.template_comparison(tiny_encoder, per_group=2, language="zh")
    assert [im.tobytes() for im in en.images] == [im.tobytes() for im in zh.images]
    assert zh.truth[0] == toyworld.zh_colour(en.truth[0].split()[0]) + toyworld.zh_shape(en.truth[0].split()[1])
    assert all(_no_latin(lab) for lab in zh.labels) and zh.n_prompts["imagenet80"] == 64 * len(
        lessons.ZH_LESSON_TEMPLATE_SETS["imagenet80"])
    img = tiny_encoder.encode_images(zh.images)
    probs = tiny_encoder.probabilities(img @ class_embeddings(tiny_encoder, zh.labels, ["一张三个{}的照片。"]).T, axis=1)
    assert zh.predictions["three"] == [zh.labels[j] for j in probs.argmax(axis=1)]

    temp = lessons.temperature_lesson(tiny_encoder, language="zh")
    cos = tiny_encoder.encode_images([temp.image])[0] @ class_embeddings(tiny_encoder, temp.labels, ["一张{}的照片。"]).T
    assert all(_no_latin(lab) for lab in temp.labels) and temp.cosine == pytest.approx(cos.tolist(), abs=1e-5)
    assert all(_no_latin(c) for c in lessons.modality_gap(tiny_encoder, n=6, language="zh").captions)

    held = lessons.compositional(tiny_encoder, per_pair=1, language="zh")
    held_en = lessons.compositional(tiny_encoder, per_pair=1)
    assert [it.truth for it in held.items] == [it.truth for it in held_en.items]
    assert all(_no_latin(o) for o in held.items[0].options)
    for group in ("heldout", "seen"):  # the colour / shape halves are read from the pair, not split on spaces
        sel = [it for it in held.items if it.group == group]
        combos = toyworld.allowed_combos("all")
        assert held.notes[f"{group}_colour"] == np.mean([combos[it.answer][0] == combos[it.truth][0] for it in sel])

    count = lessons.counting_probe(tiny_encoder, per_count=1, language="zh")
    assert [o[:2] for o in count.items[0].options] == ["一个", "两个", "三个"]

    lr = lessons.left_right_probe(tiny_encoder, per_kind=4, language="zh")
    for it in lr.items:
        assert all(_no_latin(o) for o in it.options) and it.options[0] != it.options[1]
        if it.group == "single":
            assert it.options[it.truth].startswith(toyworld.ZH_POSITIONS[it.key])
        if it.group == "relation":
            assert it.options[it.truth].endswith(toyworld.ZH_POSITIONS[it.key])


def test_lessons_follow_the_ui_language(tiny_clip_dir):
    """The tab asks the service in the visitor's language; the service runs the lesson in it."""
    from types import SimpleNamespace

    from clipdemo.core.errors import UserError
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService
    from clipdemo.ui.lessons import layout as lessons_tab

    assert lessons_tab._language(SimpleNamespace(headers={"accept-language": "zh-CN"})) == "zh"
    assert lessons_tab._language(SimpleNamespace(headers={"accept-language": "en"})) == "en"
    service = ClipService(ModelRegistry(str(tiny_clip_dir), device="cpu", dtype="fp32"))
    assert all(_no_latin(t) for t in service.lesson("templates", language="zh").truth)
    assert service.lesson("counting", language="zh").items[0].options[0].startswith("一个")
    assert service.lesson("counting").items[0].options[0].startswith("one")
    assert service.lesson("languages", language="zh").groups() == ["en", "zh"]  # that lesson always asks both
    with pytest.raises(UserError):
        service.lesson("counting", language="fr")
