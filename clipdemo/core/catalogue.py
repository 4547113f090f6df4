"""Every coded message in English and Simplified Chinese: notices that ride on results and user errors.

One table keyed by code, shared by the server (the API, MCP and the CLI get the English text beside the
code and parameters) and the UI (which renders the same code in the visitor's language). A message is a
`str.format` template over its parameters. tests/test_catalogue.py fails when a code lacks a language or
when the two languages use different parameters, so a rewording can never silently drop the Chinese.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

LOCALES = ("en", "zh-CN")
FREE_TEXT = "note"  # a message not yet given a code: its English text travels as the `text` parameter

MESSAGES: dict[str, dict[str, str]] = {
    FREE_TEXT: {"en": "{text}", "zh-CN": "{text}"},
    # ---- notices (clipdemo.core.notices): what a result's reader should know about it
    "out_of_world": {
        "en": "{name} is unlike anything the bundled toy model was trained on (out-of-world score {score:.0f}; toy "
              "pictures score below {limit:.0f}). The model only knows coloured shapes, so its numbers for this "
              "picture are guesses, however confident they look. For real photos pick a real CLIP, such as OpenAI "
              "CLIP ViT-B/32.",
        "zh-CN": "{name} 和内置玩具模型训练时见过的任何东西都不一样（世界外得分 {score:.0f}；玩具图片的得分低于 "
                 "{limit:.0f}）。这个模型只认识彩色图形，所以它对这张图片给出的数字只是猜测，不管看起来多么自信。"
                 "要处理真实照片，请选择真正的 CLIP，例如 OpenAI CLIP ViT-B/32。",
    },
    "out_of_world_many": {
        "en": "{n} pictures are unlike anything the bundled toy model was trained on (out-of-world score above "
              "{limit:.0f}): {names}. The model only knows coloured shapes, so its numbers for them are guesses. For "
              "real photos pick a real CLIP, such as OpenAI CLIP ViT-B/32.",
        "zh-CN": "有 {n} 张图片和内置玩具模型训练时见过的任何东西都不一样（世界外得分高于 {limit:.0f}）：{names}。"
                 "这个模型只认识彩色图形，所以它对这些图片给出的数字只是猜测。要处理真实照片，请选择真正的 CLIP，"
                 "例如 OpenAI CLIP ViT-B/32。",
    },
    "out_of_world_more": {
        "en": "… and {n} more pictures unlike the bundled toy model's world.",
        "zh-CN": "……另有 {n} 张图片和内置玩具模型的世界不一样。",
    },
    "scoring.softmax": {
        "en": "scores: softmax over the labels (they sum to 1; adding a label changes the others)",
        "zh-CN": "打分：在各标签之间做 softmax（总和为 1；增加一个标签会改变其他标签的概率）",
    },
    "scoring.sigmoid": {
        "en": "scores: sigmoid, each label on its own (SigLIP; they need not sum to 1)",
        "zh-CN": "打分：sigmoid，每个标签单独计算（SigLIP；总和不必为 1）",
    },
    "images_dropped": {
        "en": "{given} images given; only the first {limit} are used",
        "zh-CN": "给出了 {given} 张图片；只使用前 {limit} 张",
    },
    "texts_dropped": {
        "en": "{given} texts given; only the first {limit} are used",
        "zh-CN": "给出了 {given} 段文字；只使用前 {limit} 段",
    },
    "texts_cut": {
        "en": "{n} text(s) longer than {limit} characters were cut to that length (the model reads at most 77 tokens)",
        "zh-CN": "{n} 段文字超过 {limit} 个字符，已截断到这个长度（模型最多只读 77 个词元）",
    },
    "texts_cleaned": {
        "en": "{n} text(s) held characters that are not text (NUL or lone surrogates); they were removed or "
              "replaced with \ufffd",
        "zh-CN": "{n} 段文字含有非文本字符（NUL 或孤立代理项）；它们已被删除或替换为 \ufffd",
    },
    "image_skipped": {
        "en": "skipped: {reason}",
        "zh-CN": "已跳过：{reason}",
    },
    # ---- user errors (clipdemo.core.errors.UserError with a code)
    "no_image": {
        "en": "No image given: upload one, paste one, or pick an example.",
        "zh-CN": "没有图片：请上传、粘贴一张，或点选一个示例。",
    },
    "file_too_large": {
        "en": "{name}: the file is {mb} MB; the limit is {limit} MB.",
        "zh-CN": "{name}：文件有 {mb} MB，上限是 {limit} MB。",
    },
    "file_unreadable": {
        "en": "{name}: cannot be read ({why}).",
        "zh-CN": "{name}：无法读取（{why}）。",
    },
    "file_empty": {
        "en": "{name}: the file is empty (0 bytes).",
        "zh-CN": "{name}：文件是空的（0 字节）。",
    },
    "image_too_large": {
        "en": "{name}: {w}x{h} pixels is too large (limit {limit} megapixels).",
        "zh-CN": "{name}：{w}×{h} 像素太大（上限 {limit} 百万像素）。",
    },
    "not_an_image": {
        "en": "{name}: not an image Pillow can read (PNG, JPEG, WebP, GIF, BMP, TIFF …).",
        "zh-CN": "{name}：不是可以读取的图片（支持 PNG、JPEG、WebP、GIF、BMP、TIFF 等）。",
    },
    "image_bomb": {
        "en": "{name}: the image claims too many pixels (a decompression bomb?).",
        "zh-CN": "{name}：图片声称的像素数过多（可能是“解压炸弹”）。",
    },
    "image_damaged": {
        "en": "{name}: the image file is damaged or truncated ({why}).",
        "zh-CN": "{name}：图片文件已损坏或不完整（{why}）。",
    },
    "image_no_pixels": {
        "en": "{name}: the image has no pixels.",
        "zh-CN": "{name}：图片没有像素。",
    },
    "no_usable_image": {
        "en": "None of the files is a usable image: {problems}",
        "zh-CN": "没有一个文件是可用的图片：{problems}",
    },
    "no_usable_matrix_image": {
        "en": "Add at least one usable image. {problems}",
        "zh-CN": "请至少添加一张可用的图片。{problems}",
    },
    "selection_not_a_list": {
        "en": "A selection is a list of point indices.",
        "zh-CN": "选区应当是点的序号列表。",
    },
    "selection_empty": {
        "en": "Nothing selected: drag a box or lasso over the map first.",
        "zh-CN": "没有选中任何点：请先在图上拖出一个方框或套索。",
    },
    "no_gallery_files": {
        "en": "Upload some images (or one .zip of them) first, or pick another gallery.",
        "zh-CN": "请先上传一些图片（或一个包含图片的 .zip），或选择另一个图库。",
    },
    "no_such_point": {
        "en": "The map has no point {point}; draw the map again.",
        "zh-CN": "地图上没有第 {point} 个点；请重新绘制地图。",
    },
    "no_training": {
        "en": "This server has no Learn tab training.",
        "zh-CN": "这台服务器没有“训练”标签页的训练功能。",
    },
    "no_session": {
        "en": "No browser session: this call belongs to one session (gradio_client keeps one per Client).",
        "zh-CN": "没有浏览器会话：这个调用属于某个会话（gradio_client 的每个 Client 各有一个会话）。",
    },
    "no_lesson": {
        "en": "no lesson named {key!r}; the lessons are {lessons}",
        "zh-CN": "没有名为 {key!r} 的课程；现有课程：{lessons}。",
    },
    "lesson_language": {
        "en": "language must be en or zh (got {language!r}).",
        "zh-CN": "language 只能是 en 或 zh（收到的是 {language!r}）。",
    },
    "nothing_to_embed": {
        "en": "Give at least one image or one text to embed.",
        "zh-CN": "请至少给出一张图片或一段文字来计算嵌入。",
    },
}


def fields(template: str) -> set[str]:
    """The parameter names a template uses."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def render(code: str, params: Mapping | None = None, locale: str = "en") -> str:
    """The message for `code` in `locale` (English where the locale is unknown)."""
    entry = MESSAGES[code]
    loc = locale if locale in entry else "zh-CN" if locale.startswith("zh") and "zh-CN" in entry else "en"
    return entry[loc].format(**dict(params or {}))
