"""clipdemo.core.catalogue: every coded message in English and Chinese, with the same parameters."""

from __future__ import annotations

import pytest

from clipdemo.core import catalogue
from clipdemo.core.errors import InputError
from clipdemo.core.notices import Notice


@pytest.mark.parametrize("code", sorted(catalogue.MESSAGES))
def test_every_code_speaks_both_languages_with_the_same_parameters(code):
    entry = catalogue.MESSAGES[code]
    for loc in catalogue.LOCALES:
        assert entry.get(loc, "").strip(), f"{code} has no {loc} text"
    assert catalogue.fields(entry["en"]) == catalogue.fields(entry["zh-CN"]), code
    if code != catalogue.FREE_TEXT:
        assert entry["en"] != entry["zh-CN"], f"{code}: the Chinese is a copy of the English"


def test_a_code_without_chinese_is_caught(monkeypatch):
    monkeypatch.setitem(catalogue.MESSAGES, "half_done", {"en": "only English {n}"})
    with pytest.raises(AssertionError, match="no zh-CN"):
        test_every_code_speaks_both_languages_with_the_same_parameters("half_done")


def test_a_coded_error_and_notice_render_in_either_language():
    e = InputError(code="no_usable_image", problems="a.png: damaged")
    assert str(e) == "None of the files is a usable image: a.png: damaged" and e.code == "no_usable_image"
    assert e.text("zh-CN").startswith("没有一个文件是可用的图片")
    assert str(InputError("plain words")) == "plain words"  # raises not converted yet still work
    n = Notice("out_of_world", {"name": "cat.jpg", "score": 90.0, "limit": 58.0}, "warning")
    assert "cat.jpg" in n.message and "90" in n.message and "cat.jpg" in n.text("zh-CN") and "玩具" in n.text("zh-CN")
    with pytest.raises(KeyError):
        Notice("no_such_code")
