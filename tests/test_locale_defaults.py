import random

from clipdemo.core import toyworld
from clipdemo.core.templates import TEMPLATE_SETS, is_chinese
from clipdemo.core.zeroshot import parse_labels
from clipdemo.ui.locale_defaults import default_template, defaults_for, toy_caption


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


ZH_REQUEST = type("Request", (), {"headers": {"accept-language": "zh-CN,zh;q=0.9"}})()
EN_REQUEST = type("Request", (), {"headers": {"accept-language": "en-US"}})()


def test_map_tab_starts_in_the_visitors_language():
    import gradio as gr

    from clipdemo.ui.map import layout as map_tab

    labels, query, hint = map_tab.locale_inputs(map_tab.TOY_LABELS, map_tab.DEFAULT_QUERY, ZH_REQUEST)
    assert parse_labels(labels).labels == [toyworld.zh_shape(s) for s in toyworld.SHAPES]
    assert query == "一个红色圆形" and is_chinese(hint["placeholder"])
    # what the visitor typed meanwhile stays; an English UI keeps the English defaults
    assert map_tab.locale_inputs("star, moon", "a blue star", ZH_REQUEST)[:2] == (gr.skip(), gr.skip())
    assert map_tab.locale_inputs(map_tab.TOY_LABELS, map_tab.DEFAULT_QUERY, EN_REQUEST) == (gr.skip(),) * 3
    assert map_tab.default_labels("photos", ZH_REQUEST) == defaults_for("zh").photo_labels
    assert map_tab.default_labels("toy", EN_REQUEST) == map_tab.TOY_LABELS
    assert map_tab.default_labels("upload", ZH_REQUEST) == ""


def test_toy_gallery_in_chinese_has_the_same_pictures_with_chinese_twins_of_the_captions():
    from clipdemo.data import gallery

    en = gallery.toy_gallery(n=6, seed=5, size=48, use_disk=False)
    zh = gallery.toy_gallery(n=6, seed=5, size=48, use_disk=False, language="zh")
    assert zh.images == en.images and zh.names == en.names and zh.groups == en.groups
    scenes = [s for _, _, s in toyworld.generate(6, seed=5, size=16, split="all")]
    assert zh.captions == [toyworld.zh_full_caption(s) for s in scenes]
    assert en.captions == [toyworld.full_caption(s) for s in scenes]
    assert zh.key != en.key  # caches keyed by content keep the two apart
