"""English and Simplified Chinese for the whole UI, through Gradio's own i18n.

Each tab module owns its strings as `STRINGS = {"en": {...}, "zh-CN": {...}}`; this module
merges them. Components take `t("key")`; the browser's language picks the translation.
Text made on the server (errors, notices) goes through `tr(request, key, **fmt)`.
"""

from __future__ import annotations

import importlib

import gradio as gr

LOCALES = ("en", "zh-CN")
TAB_MODULES = ("header", "exports", "zeroshot.layout", "similarity.layout", "similarity.words", "map.layout",
               "learn.layout", "lessons.layout", "studies.layout", "collection.layout", "video.layout", "messages",
               "guard")

COMMON = {
    "en": {
        "app.title": "clipdemo — see how CLIP links pictures and words",
        "app.subtitle": "An image encoder and a text encoder map pictures and captions into one space; "
                        "matching pairs lie close together.",
        "err.generic": "Something went wrong: {error}",
        "common.complete": "Complete",  # Gradio's own key, which its Chinese table lacks
    },
    "zh-CN": {
        "app.title": "clipdemo — 看看 CLIP 如何把图片和文字联系起来",
        "app.subtitle": "图像编码器和文本编码器把图片和文字映射到同一个空间；相互匹配的图文彼此靠近。",
        "err.generic": "出错了：{error}",
        "common.complete": "完成",
    },
}


def t(key: str) -> gr.i18n.I18nData:
    return gr.i18n.I18nData(key)


def all_strings() -> dict[str, dict[str, str]]:
    merged = {loc: dict(COMMON[loc]) for loc in LOCALES}
    for name in TAB_MODULES:
        mod = importlib.import_module(f"clipdemo.ui.{name}")
        for loc in LOCALES:
            merged[loc].update(getattr(mod, "STRINGS", {}).get(loc, {}))
    return merged


def build_i18n() -> gr.I18n:
    strings = all_strings()
    return gr.I18n(en=strings["en"], **{"zh-CN": strings["zh-CN"], "zh": strings["zh-CN"]})


def locale_of(request: gr.Request | None) -> str:
    header = ""
    if request is not None:
        header = (request.headers.get("accept-language") or "").lower()
    return "zh-CN" if header.startswith("zh") else "en"


_CACHE: dict[str, dict[str, str]] = {}


def tr(request: gr.Request | None, key: str, **fmt) -> str:
    """Translate on the server, for messages built at request time."""
    if not _CACHE:
        _CACHE.update(all_strings())
    loc = locale_of(request)
    text = _CACHE[loc].get(key) or _CACHE["en"].get(key) or key
    return text.format(**fmt) if fmt else text
