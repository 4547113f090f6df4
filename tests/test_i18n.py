"""Languages: every key a tab module uses exists in English and Simplified Chinese, none is empty."""

from __future__ import annotations

import ast
import importlib
import string
from pathlib import Path

import pytest

from clipdemo.ui import i18n

UI_DIR = Path(i18n.__file__).resolve().parent
MODULES = sorted(".".join(p.relative_to(UI_DIR).with_suffix("").parts) for p in UI_DIR.rglob("*.py")
                 if p.stem != "__init__")  # dotted below clipdemo.ui: "header", "map.layout"


def _strings_modules() -> list[str]:
    return [m for m in MODULES if isinstance(getattr(importlib.import_module(f"clipdemo.ui.{m}"), "STRINGS", None),
                                              dict)]


def used_keys(module: str) -> tuple[set[str], set[str]]:
    """(literal keys, prefixes of f-string keys) passed to t(...) or tr(request, ...) in a module."""
    tree = ast.parse((UI_DIR / f"{module.replace('.', '/')}.py").read_text())
    keys, prefixes = set(), set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("t", "tr")):
            continue
        pos = 0 if node.func.id == "t" else 1
        if len(node.args) <= pos:
            continue
        arg = node.args[pos]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            keys.add(arg.value)
        elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
            prefixes.add(arg.values[0].value)
    return keys, prefixes


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_module_with_strings_is_registered():
    """A module's strings reach Gradio's I18n only through i18n.TAB_MODULES."""
    merged = i18n.all_strings()["en"]
    missing = sorted(m for m in _strings_modules()
                     if not set(importlib.import_module(f"clipdemo.ui.{m}").STRINGS.get("en", {})) <= set(merged))
    assert not missing, f"add {missing} to clipdemo.ui.i18n.TAB_MODULES"


@pytest.mark.parametrize("module", MODULES)
def test_every_used_key_exists_in_both_languages(module):
    merged = i18n.all_strings()
    own = getattr(importlib.import_module(f"clipdemo.ui.{module}"), "STRINGS", {})
    keys, prefixes = used_keys(module)
    for loc in i18n.LOCALES:
        known = set(merged[loc]) | set(own.get(loc, {}))
        missing = sorted(k for k in keys if k not in known)
        assert not missing, f"{module}: missing in {loc}: {missing}"
        for prefix in prefixes:
            assert any(k.startswith(prefix) for k in known), f"{module}: no {loc} key starts with {prefix!r}"


@pytest.mark.parametrize("module", ["header", *[m for m in MODULES if m.endswith(".layout")]])
def test_translations_are_complete_and_consistent(module):
    strings = getattr(importlib.import_module(f"clipdemo.ui.{module}"), "STRINGS", None)
    if strings is None:
        pytest.skip(f"{module} has no STRINGS")
    en, zh = strings.get("en", {}), strings.get("zh-CN", {})
    assert set(en) == set(zh), f"{module}: only in en {set(en) - set(zh)}, only in zh-CN {set(zh) - set(en)}"
    for key in en:
        assert en[key].strip() and zh[key].strip(), f"{module}: empty translation for {key}"
        assert placeholders(en[key]) == placeholders(zh[key]), f"{module}: {key} has other placeholders in zh-CN"


def test_no_key_is_defined_twice_differently():
    seen: dict[str, tuple[str, str]] = {}
    for module in _strings_modules():
        strings = importlib.import_module(f"clipdemo.ui.{module}").STRINGS
        for key, text in strings.get("en", {}).items():
            if key in seen:
                assert seen[key][1] == text, f"{key} defined in {seen[key][0]} and {module}"
            seen[key] = (module, text)


def test_learn_and_lessons_dynamic_keys_exist():
    from clipdemo.live_training import CONCEPTS
    from clipdemo.ui.learn import layout as learn_tab
    from clipdemo.ui.lessons import layout as lessons_tab

    learn = learn_tab.STRINGS
    states = ("running", "paused", "finished", "stopped", "error")
    reasons = ("time_limit", "idle", "user", "reset", "session_end", "error", "done")
    codes = ("busy", "no_run", "no_model", "bad_knob")
    for loc in i18n.LOCALES:
        needed = [f"learn.state.{s}" for s in states] + [f"learn.reason.{r}" for r in reasons] + \
                 [f"learn.err.{c}" for c in codes] + [f"learn.concepts.{c}" for c in CONCEPTS]
        assert not [k for k in needed if k not in learn[loc]]
        lesson_keys = [f"lessons.{key}.{part}" for key, *_ in lessons_tab.LESSONS for part in ("tab", "about")]
        assert not [k for k in lesson_keys if k not in lessons_tab.STRINGS[loc]]


def test_server_messages_follow_the_browser_language():
    class FakeRequest:
        def __init__(self, lang):
            self.headers = {"accept-language": lang}

    assert i18n.tr(FakeRequest("zh-CN,zh;q=0.9"), "learn.start") == "开始"
    assert i18n.tr(FakeRequest("en-US,en;q=0.9"), "learn.start") == "Start"
    text = i18n.tr(FakeRequest("zh-CN"), "learn.err.busy", running=2, limit=2)
    assert "2" in text and "上限" in text


# Chinese strings that are rightly without Chinese characters: symbols, file names, formulas, CLIP's own prompts.
LATIN_IN_ZH = {"zs.csv", "zs.kind.sigmoid", "map.export_files", "learn.status_reason", "learn.fig.matrix.logit",
               "lessons.right", "lessons.wrong", "lessons.answer", "lessons.templates.set.three",
               "lessons.templates.set.single", "lessons.temperature.temp"}


def test_no_english_is_left_in_the_chinese_ui():
    """Every zh-CN string is Chinese (a short allow-list of symbols and formulas aside), and none is simply
    the English text copied over."""
    import re

    cjk = re.compile(r"[\u4e00-\u9fff]")
    strings = i18n.all_strings()
    untranslated = sorted(k for k, v in strings["zh-CN"].items() if not cjk.search(v) and k not in LATIN_IN_ZH)
    assert not untranslated, f"English left in zh-CN: {untranslated}"
    copied = sorted(k for k, v in strings["zh-CN"].items()
                    if v == strings["en"].get(k) and k not in LATIN_IN_ZH and re.search(r"[a-z]{4,}", v))
    assert not copied, f"zh-CN copies the English: {copied}"


def test_server_made_zero_shot_text_follows_the_language():
    """Chart axis, notes and batch-table headers are made on the server: in Chinese for a Chinese browser."""
    import re
    from types import SimpleNamespace

    from clipdemo.ui.zeroshot import layout as zeroshot_tab

    class Zh:
        headers = {"accept-language": "zh-CN"}

    result = SimpleNamespace(notices=[], scoring="softmax", sigmoid=False, labels=["a", "b"], templates=["{}"],
                             logit_scale=32.0)
    notes = zeroshot_tab._notes(result, Zh())
    axis = zeroshot_tab.bar_chart([("a", 0.6, 0.3), ("b", 0.4, 0.2)], False, Zh()).layout.xaxis.title.text
    for text in (notes, axis):
        words = re.findall(r"[A-Za-z]{4,}", text)
        assert not [w for w in words if w not in ("softmax", "logit", "sigmoid", "SigLIP")], text
