"""Engine messages in the visitor's language: the real messages the engine raises, in Chinese."""

from __future__ import annotations

import re

import pytest

from clipdemo.core.errors import UserError
from clipdemo.core.images import ImageError, load_image
from clipdemo.core.zeroshot import parse_labels
from clipdemo.ui import messages

CJK = re.compile(r"[\u4e00-\u9fff]")


def engine_message(fn) -> str:
    with pytest.raises(UserError) as e:
        fn()
    return str(e.value)


@pytest.fixture
def bad_files(tmp_path):
    empty, text = tmp_path / "empty.png", tmp_path / "notes.png"
    empty.write_bytes(b"")
    text.write_text("not a picture")
    return empty, text


def test_image_problems_read_in_chinese_with_the_file_name(bad_files):
    for path in bad_files:
        english = engine_message(lambda p=path: load_image(str(p)))
        chinese = messages.translate(english, "zh-CN")
        assert CJK.search(chinese) and path.name in chinese, (english, chinese)
        assert not re.search(r"[a-z]{4,} [a-z]{4,}", chinese.replace(path.name, "")), chinese
        assert messages.translate(english, "en") == english


def test_label_problems_read_in_chinese():
    english = engine_message(lambda: parse_labels(" , "))
    assert CJK.search(messages.translate(english, "zh-CN")), english


def test_a_list_of_problems_is_translated_piece_by_piece():
    text = "Add at least one usable image. a.png: the file is empty (0 bytes). b.png: the image has no pixels."
    chinese = messages.translate(text, "zh-CN")
    assert "a.png" in chinese and "b.png" in chinese and "empty" not in chinese and "pixels" not in chinese


def test_an_unknown_message_keeps_its_english_text():
    assert messages.translate("something new went wrong", "zh-CN") == "something new went wrong"


def test_collection_model_checks_read_in_chinese(tmp_path, tiny_encoder):
    from collection_fixtures import clip_retrieval_folder, toy_folder

    from clipdemo.data.collection import embed, sources, store

    out = tmp_path / "mine"
    embed.embed_local(sources.open_source(toy_folder(tmp_path, 3)), out, tiny_encoder, progress=False)
    ours, loaded = store.open_collection(out), tiny_encoder.loaded
    foreign = store.open_collection(clip_retrieval_folder(tmp_path / "cr", [4])[0])
    english = [engine_message(lambda: ours.check_model("openai/clip-vit-base-patch32", tiny_encoder.dim)),
               engine_message(lambda: ours.check_model(loaded.name, tiny_encoder.dim + 1)),
               engine_message(lambda: foreign.check_model(loaded.name, tiny_encoder.dim)),
               engine_message(lambda: ours.check_model(loaded.name, tiny_encoder.dim, str(loaded.source), "0" * 64))]
    for text in english:
        chinese = messages.translate(text, "zh-CN")
        assert chinese != text and CJK.search(chinese) and ("'mine'" in chinese or "'cr'" in chinese), (text, chinese)
        rest = chinese.replace(loaded.name, "").replace("openai/clip-vit-base-patch32", "")
        assert not re.search(r"[a-z]{4,} [a-z]{4,}", rest.replace("clip-retrieval", "")), chinese


def test_a_coded_error_is_said_from_the_catalogue_with_its_nested_messages():
    from clipdemo.core.errors import InputError

    empty = engine_message(lambda: load_image(b""))
    assert messages.error_text(ImageError(code="file_empty", name="a.png"), "zh-CN") == "a.png：文件是空的（0 字节）。"
    nested = InputError(code="no_usable_matrix_image", problems=f"{empty}")
    chinese = messages.error_text(nested, "zh-CN")
    assert chinese.startswith("请至少添加一张可用的图片") and "empty" not in chinese, chinese
    assert messages.error_text(nested, "en") == str(nested)
