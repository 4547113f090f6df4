"""Languages: every key a tab module uses exists in English and Simplified Chinese, none is empty; and the
real UI in a Chinese browser shows no English (the last test)."""

from __future__ import annotations

import ast
import importlib
import re
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
    from clipdemo.teach.live_training import CONCEPTS
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


# ---------------------------------------------------------------- the real UI in a Chinese browser
# Drives every tab of the running app with the browser's language set to zh-CN and reads what the page
# shows (text, chart labels, toasts): no English word may be left beyond names, symbols and what the
# model itself reads (the toy world's captions and labels, file names).

import ui_browser  # noqa: E402
from ui_browser import BROWSER_MARKS, LAPTOP, open_page, wait_idle  # noqa: E402

app_url, browser = ui_browser.app_url, ui_browser.browser  # one app and one browser for this module

# ---------------------------------------------------------------- no English in the Chinese UI

# Names, symbols and formulas that Chinese text keeps as they are
NAMES = {"CLIP", "OpenAI", "ViT-B", "ViT", "ResNet", "CNN", "LAION", "SigLIP", "Chinese-CLIP", "Google", "OpenVINO", "API", "JSON",
         "CSV", "PNG", "UMAP", "PCA", "t-SNE", "LiT", "Zhai", "clipdemo", "clip", "logit", "softmax", "sigmoid",
         "cos", "cpu", "cuda", "fp32", "bf16", "fp16", "torch", "token", "png", "log", "Surgery", "surgery",
         "gradcam", "decomposition", "naive", "imagenet", "single", "bare", "ensemble", "zh_single",
         "zh_ensemble", "n_neighbors", "min_dist", "value-value", "toy", "Gradio", "Pillow", "JPEG", "WebP",
         "GIF", "BMP", "TIFF", "models", "download", "python", "app.py", "CLIPDEMO_MODEL",
         "Wilson"}  # the Wilson interval: a person's name


def model_words() -> set[str]:
    """What the model reads, shown as it is: the toy world's captions and labels, the English templates."""
    from clipdemo.core import toyworld
    from clipdemo.core.templates import TEMPLATE_SETS

    words = set(toyworld.COLOURS) | set(toyworld.SHAPES) | set(toyworld.PLURALS.values()) | set(toyworld.SIZES)
    words |= set(toyworld.COUNT_WORDS.values()) | {s + "s" for s in toyworld.SHAPES}
    words |= {"left", "right", "center", "the", "and", "photo", "picture", "drawing", "image", "something",
              "label", "red'", "circle'"}
    for templates in TEMPLATE_SETS.values():
        for template in templates:
            words |= set(re.findall(r"[A-Za-z]+", template))
    return words


def english_left(text: str, allowed: set[str]) -> list[str]:
    words = re.findall(r"[A-Za-z][A-Za-z_'.-]*[A-Za-z]", text)
    return sorted({w for w in words if len(w) >= 3 and w not in allowed and w.lower() not in allowed
                   and not re.fullmatch(r"[\w-]+\.(?:png|jpe?g|webp)", w, re.I)  # file names: toy_1.png
                   and not re.fullmatch(r"[a-z]+_\d+", w)})


@pytest.mark.browser
@BROWSER_MARKS[1]
def test_the_chinese_ui_shows_no_english(browser, app_url, tmp_path):
    from playwright.sync_api import expect

    page = open_page(browser, app_url, LAPTOP, locale="zh-CN")
    page.wait_for_timeout(1500)  # the page-load events write the server-made lines in Chinese
    seen: dict[str, str] = {}

    def grab(where: str) -> None:
        text = page.evaluate(
            "() => document.body.innerText + '\\n' + [...document.querySelectorAll('svg text')]"
            ".map(e => e.textContent).join('\\n')")
        # Gradio's own progress line while a request waits ("queue: 1/2 | 0.4/2.0s") is not the app's text
        seen[where] = re.sub(r"queue:\s*\d+/\d+[^\n]*", "", text)

    grab("first screen")
    page.locator("[role='tabpanel']:visible img[src*='00_a_small']").first.click()
    page.locator("#zs-run").click()
    wait_idle(page)
    grab("zero-shot")
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    page.locator("#zs-image input[type=file]").set_input_files(str(bad))
    toast = page.locator(".toast-body, [data-testid='toast-body']").filter(has_text="notes.png")
    expect(toast.first).to_be_visible(timeout=30_000)
    grab("a bad upload's message")
    tabs = page.get_by_role("tab")
    tabs.nth(1).click()
    page.locator("#sim-toy-batch").click()
    wait_idle(page)
    grab("similarity")
    tabs.nth(2).click()
    page.locator("[role='tabpanel']:visible button.primary:visible").first.click()
    page.wait_for_function("() => document.querySelector('#clipdemo-map-plot .js-plotly-plot')?.data?.length > 0")
    wait_idle(page)
    grab("map")
    tabs.nth(3).click()
    page.wait_for_timeout(500)
    grab("learn")
    tabs.nth(4).click()
    page.locator("[role='tabpanel']:visible button.primary:visible").first.click()
    wait_idle(page)
    grab("lessons")
    page.close()

    allowed = {w.lower() for w in NAMES | model_words()}
    gallery_captions = texts_of_the_map_gallery()
    left = {}
    for where, text in seen.items():
        for caption in gallery_captions:  # the map's points are named by their captions: the model's input
            text = text.replace(caption, "")
        found = english_left(text, allowed)
        if found:
            left[where] = found
    assert not left, f"English left in the Chinese UI: {left}"


def texts_of_the_map_gallery() -> list[str]:
    from clipdemo.data import gallery

    return sorted({c for c in gallery.toy_gallery().captions if c}, key=len, reverse=True)


def test_the_english_check_finds_english():
    """The check itself: a UI sentence left in English is found; names, captions and file names are not."""
    allowed = {w.lower() for w in NAMES | model_words()}
    assert english_left("Switching loads the model once", allowed) == ["Switching", "loads", "model", "once"]
    assert english_left("模型：OpenAI CLIP ViT-B/32 · toy_003.png — a large blue diamond on the right", allowed) == []
    assert english_left("Input problem", allowed) == ["Input", "problem"]


def test_bold_and_italics_render_in_every_string():
    """CommonMark closes `**` only where it is right-flanking: "**标题：**正文" (punctuation inside, a letter
    after) stays raw asterisks on the page; "**标题**：正文" renders."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    raw = []
    for loc, strings in i18n.all_strings().items():
        for key, text in strings.items():
            shown = re.sub(r"<code>.*?</code>", "", md.render(text))
            if "**" in shown:
                raw.append((loc, key))
    assert not raw, raw
