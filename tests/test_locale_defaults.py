import random

from clipdemo import toyworld
from clipdemo.locale_defaults import default_template, defaults_for, toy_caption
from clipdemo.templates import TEMPLATE_SETS, is_chinese
from clipdemo.zeroshot import parse_labels


def test_chinese_ui_gets_chinese_labels_and_template():
    zh = defaults_for("zh-CN")
    assert zh.language == "zh" and defaults_for("zh").language == "zh"
    labels = parse_labels(zh.toy_labels).labels
    assert len(labels) == 8 and all(is_chinese(lab) for lab in labels) and "红色圆形" in labels
    assert TEMPLATE_SETS[zh.template] == ("一张{}的照片。",) and len(TEMPLATE_SETS[zh.ensemble]) > 30
    assert default_template("zh-CN") == "一张{}的照片。"


def test_other_locales_get_english():
    for loc in ("en", "fr", "", None):
        d = defaults_for(loc)
        assert d.language == "en" and "red circle" in d.toy_labels and d.template == "single"
        assert not is_chinese(d.toy_labels + d.photo_labels + d.shape_labels)


def test_toy_captions_follow_the_locale():
    scene = toyworld.sample_scene(random.Random(1))
    assert toy_caption(scene, "zh-CN") == toyworld.zh_full_caption(scene)
    assert toy_caption(scene, "en") == toyworld.full_caption(scene)


def test_similarity_toy_batch_is_captioned_in_the_locale(monkeypatch, tmp_path):
    from clipdemo.ui.similarity import figures as st

    paths, en = st.toy_batch(3, seed=7)
    _, zh = st.toy_batch(3, seed=7, locale="zh-CN")
    assert len(paths) == 3 and len(zh.splitlines()) == 3
    assert all(is_chinese(line) for line in zh.splitlines()) and not is_chinese(en)


def test_chinese_axis_labels_wrap_by_display_width():
    from clipdemo.ui.similarity.figures import _wrap

    lines = _wrap("一个大的青色圆形和一个小的黄色圆形", 14).split("<br>")
    assert "".join(lines) == "一个大的青色圆形和一个小的黄色圆形" and all(len(line) <= 5 for line in lines)
    assert _wrap("a small red circle", 14) == "a small red<br>circle"
