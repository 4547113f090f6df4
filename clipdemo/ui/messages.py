"""Engine messages (clipdemo.core.errors.UserError) in the visitor's language, and the toast titles.

Coded errors (clipdemo.core.errors.UserError with a code) come from the one catalogue, clipdemo.core.catalogue; the
patterns below serve only the raises that carry no code yet, and shrink as raises are converted.

The engine says what is wrong in English, for the API, the CLI and the logs. A Chinese page shows the
same message in Chinese: each known message shape is a pattern here with its translation (the file
name, sizes and limits carried over). A message with no pattern yet keeps its English text under a
Chinese title, so the visitor still learns what happened.
"""

from __future__ import annotations

import re

import gradio as gr

from clipdemo.core import catalogue
from clipdemo.ui.i18n import locale_of, tr

STRINGS = {
    "en": {
        "msg.input_problem": "Input problem",
        "msg.too_large": "Request too large",
        "msg.nested": "The input is nested too deeply to read.",
        "msg.unavailable": "Unavailable",
        "msg.bad_upload": "This file cannot be used",
    },
    "zh-CN": {
        "msg.input_problem": "输入有问题",
        "msg.too_large": "请求过大",
        "msg.nested": "输入嵌套太深，无法读取。",
        "msg.unavailable": "不可用",
        "msg.bad_upload": "这个文件无法使用",
    },
}

# (English pattern, Chinese text with the pattern's named groups)
ZH: list[tuple[re.Pattern, str]] = [(re.compile(p, re.S), z) for p, z in (
    # messages that list other messages first (their per-file parts are translated one by one)
    (r"^Add at least one usable image\.(?P<rest>.*)$", "请至少添加一张可用的图片。{rest}"),
    (r"^None of the files is a usable image: add some images\.$", "没有一个文件是可用的图片：请添加图片。"),
    (r"^None of the files is a usable image: (?P<rest>.*)$", "没有一个文件是可用的图片：{rest}"),
    (r"^No image given: upload one, paste one, or pick an example\.$", "没有图片：请上传、粘贴一张，或点选一个示例。"),
    (r"^(?P<f>.+): the file is (?P<n>[\d.]+) MB; the limit is (?P<m>\d+) MB\.$",
     "{f}：文件有 {n} MB，上限是 {m} MB。"),
    (r"^(?P<f>.+): cannot be read \((?P<why>.*)\)\.$", "{f}：无法读取（{why}）。"),
    (r"^(?P<f>.+): the file is empty \(0 bytes\)\.$", "{f}：文件是空的（0 字节）。"),
    (r"^(?P<f>.+): (?P<w>\d+)x(?P<h>\d+) pixels is too large \(limit (?P<m>\d+) megapixels\)\.$",
     "{f}：{w}×{h} 像素太大（上限 {m} 百万像素）。"),
    (r"^(?P<f>.+): not an image Pillow can read \(PNG, JPEG, WebP, GIF, BMP, TIFF …\)\.$",
     "{f}：不是可以读取的图片（支持 PNG、JPEG、WebP、GIF、BMP、TIFF 等）。"),
    (r"^(?P<f>.+): the image claims too many pixels \(a decompression bomb\?\)\.$",
     "{f}：图片声称的像素数过多（可能是“解压炸弹”）。"),
    (r"^(?P<f>.+): the image file is damaged or truncated \((?P<why>.*)\)\.$", "{f}：图片文件已损坏或不完整（{why}）。"),
    (r"^(?P<f>.+): the image has no pixels\.$", "{f}：图片没有像素。"),
    (r"^Enter at least one label \(separate labels with commas or new lines\)\.$",
     "请至少输入一个标签（用逗号或换行分隔）。"),
    (r"^template (?P<t>.+) must contain exactly one \{\} where the label goes \(it has (?P<n>\d+)\)\.$",
     "模板 {t} 必须恰好包含一个 {{}}，用来放标签（现在有 {n} 个）。"),
    (r"^Add at least one image\.$", "请至少添加一张图片。"),
    # parameters checked at the door (clipdemo.params)
    (r"^(?P<p>\w+) must be a whole number from (?P<lo>-?\d+) to (?P<hi>-?\d+) \(got (?P<v>.*)\)\.$",
     "{p} 必须是 {lo} 到 {hi} 之间的整数（收到的是 {v}）。"),
    (r"^(?P<p>\w+) must lie between (?P<lo>\S+) and (?P<hi>\S+) \(got (?P<v>.*)\)\.$",
     "{p} 必须在 {lo} 和 {hi} 之间（收到的是 {v}）。"),
    (r"^(?P<p>\w+) must be a text \(got a (?P<t>\w+): (?P<v>.*)\)\.$", "{p} 必须是文字（收到的是 {t}：{v}）。"),
    (r"^(?P<p>\w+) must be one of (?P<o>.+) \(got (?P<v>.*)\)\.$", "{p} 必须是以下之一：{o}（收到的是 {v}）。"),
    (r"^Add at least one text \(one per line\)\.$", "请至少添加一段文字（每行一段）。"),
    (r"^Give at least one image or one text to embed\.$", "请至少给出一张图片或一段文字来计算嵌入。"),
    (r"^(?P<m>\S+) is not in the local Hugging Face cache and HF_HUB_OFFLINE is set\. On a machine with internet run "
     r"`(?P<cmd>[^`]+)` first\.$", "{m} 不在本机的 Hugging Face 缓存中，且设置了 HF_HUB_OFFLINE（离线）。"
     "请先在联网的机器上运行 `{cmd}`。"),
    (r"^(?P<m>\S+) is not cached and the Hugging Face hub cannot be reached\. Use the bundled model, or a local "
     r"folder\.$", "{m} 不在本机缓存中，也连不上 Hugging Face Hub。请使用内置模型或本地文件夹。"),
)]


N_LISTS = 3  # the first patterns: messages that list others

# Whole messages with "; " inside, matched before a text is split into the several problems it may join.
ZH_WHOLE: list[tuple[re.Pattern, str]] = [(re.compile(p, re.S), z) for p, z in (
    # a collection searched with a model that cannot read its vectors (collection.store.check_model)
    (r"^collection (?P<c>'[^']*') holds (?P<d>\d+)-d vectors by (?P<by>\S+); the active model (?P<m>\S+) makes "
     r"(?P<e>\d+)-d ones\. Pick the collection's model\.$",
     "数据集合 {c} 存的是 {by} 计算的 {d} 维向量；当前模型 {m} 计算的是 {e} 维向量。请选择这个数据集合的模型。"),
    (r"^collection (?P<c>'[^']*') holds (?P<d>\d+)-d vectors \(model not recorded: a clip-retrieval folder\?\); the "
     r"active model (?P<m>\S+) makes (?P<e>\d+)-d ones\. Pick the collection's model\.$",
     "数据集合 {c} 存的是 {d} 维向量（没有记录模型：是 clip-retrieval 的文件夹？）；当前模型 {m} 计算的是 {e} 维向量。"
     "请选择这个数据集合的模型。"),
    (r"^collection (?P<c>'[^']*') was embedded by (?P<m>\S+); the active model is (?P<n>\S+)\. Vectors of two models "
     r"do not share a space: pick (?P<p>\S+)\.$",
     "数据集合 {c} 是用 {m} 计算的；当前模型是 {n}。两个模型的向量不在同一个空间里：请选择 {p}。"),
    (r"^collection (?P<c>'[^']*') was embedded by other weights of (?P<m>\S+) \(its image tower has changed since, "
     r"e\.g\. the model was retrained\): its vectors no longer match this model's texts\. Embed the collection again "
     r"with this model\.$",
     "数据集合 {c} 是用 {m} 的另一版权重计算的（此后它的图像编码器变了，例如模型重新训练过）：其中的向量已与这个模型的"
     "文本对不上。请用这个模型重新计算这个数据集合的嵌入。"),
)]


def _match(patterns, text: str) -> str | None:
    for pattern, zh in patterns:
        m = pattern.match(text)
        if m:
            return zh.format(**{k: translate(v.strip(), "zh-CN") if k == "rest" else v
                                for k, v in m.groupdict().items()})
    return None


def translate(text: str, locale: str) -> str:
    """An engine message in `locale` (English as is; Chinese where a pattern knows it)."""
    if locale != "zh-CN":
        return text
    found = _match(ZH[:N_LISTS], text)
    if found is None:
        found = _match(ZH_WHOLE, text)
    if found is not None:
        return found
    # several problems joined ("a.png: …. b.png: …" or "…; …"): each one on its own
    pieces = [p for p in re.split(r"(?<=\.) (?=\S+: )|; ", text) if p]
    if len(pieces) > 1:
        return " ".join(translate(p, locale) for p in pieces)
    found = _match(ZH[N_LISTS:], text)
    return text if found is None else found


def error_text(e: Exception, locale: str) -> str:
    """An engine error in `locale`: a coded one from clipdemo.core.catalogue (its nested engine messages through the
    patterns here), an uncoded one through the patterns."""
    code = getattr(e, "code", None)
    if code in catalogue.MESSAGES:
        params = {k: translate(v, locale) if isinstance(v, str) else v for k, v in getattr(e, "params", {}).items()}
        return catalogue.render(code, params, locale)
    return translate(str(e), locale)


def user_error(e: Exception, request: gr.Request | None = None, title_key: str = "msg.input_problem") -> gr.Error:
    """An engine error as a toast in the visitor's language (the server keeps running). No traceback in the log:
    the input was wrong, not the code."""
    return gr.Error(error_text(e, locale_of(request)), title=tr(request, title_key), print_exception=False)
