"""The Similarity tab's "which words carry the match": the caption with each word shaded by how much it adds to
the image-text cosine (service.token_attribution), by both measures, with what each means."""

from __future__ import annotations

import html

import gradio as gr

from clipdemo.core.images import load_image
from clipdemo.ui.context import USER_ERRORS, UIContext, user_error
from clipdemo.ui.i18n import tr

STRINGS = {
    "en": {
        "words.title": "Which words carry the match",
        "words.run": "Shade the words",
        "words.gradient": "Gradient × input",
        "words.gradient_note": "how much the cosine would drop, to first order, if the word's token embeddings "
                               "were zeroed (one backward pass)",
        "words.loo": "Leave one word out",
        "words.loo_note": "the cosine minus the cosine of the text without that word (exact for that edit, but the "
                          "shortened sentence is a new sentence)",
        "words.legend": "Green: the word raises the match; red: it lowers it; the stronger the shade, the larger "
                        "the share. Cosine of the picture with the whole text: {score:.3f}. Where the two measures "
                        "disagree on a word, read neither alone.",
        "words.none": "Choose a picture and write a text first.",
    },
    "zh-CN": {
        "words.title": "哪些词决定了匹配",
        "words.run": "给词语着色",
        "words.gradient": "梯度 × 输入",
        "words.gradient_note": "一阶近似：如果把这个词的词元嵌入置零，余弦相似度会下降多少（一次反向传播）",
        "words.loo": "逐词删除",
        "words.loo_note": "整句的余弦相似度减去删掉这个词之后的余弦相似度（对这一改动是精确的，但删词后的句子已是另一句话）",
        "words.legend": "绿色：这个词提高匹配；红色：降低匹配；颜色越深，作用越大。图片与整段文字的余弦相似度：{score:.3f}。"
                        "两种度量对某个词看法不一致时，不要只看其中一个。",
        "words.none": "请先选择一张图片并输入一段文字。",
    },
}


def shade(value: float, scale: float) -> str:
    """A background for a word: green for positive, red for negative, opacity by share of the largest."""
    alpha = min(1.0, abs(value) / scale) * 0.75 if scale > 0 else 0.0
    rgb = "46,160,67" if value >= 0 else "215,48,39"
    return f"rgba({rgb},{alpha:.2f})"


def shaded_line(words: list[str], values: list[float]) -> str:
    scale = max((abs(v) for v in values), default=0.0)
    spans = [f'<span class="word-shade" style="background:{shade(v, scale)}" title="{v:+.4f}">{html.escape(w)}</span>'
             for w, v in zip(words, values, strict=True)]
    return " ".join(spans)


def words_html(result: dict, request: gr.Request | None = None) -> str:
    """Both measures, one shaded line each, for a token_attribution result (its JSON)."""
    rows = []
    for key, values in (("gradient", result["word_attribution"]), ("loo", result["word_leave_one_out"])):
        rows.append(f'<div class="words-row"><b>{html.escape(tr(request, f"words.{key}"))}</b> '
                    f'<small>({html.escape(tr(request, f"words.{key}_note"))})</small>'
                    f'<div class="words-line" style="font-size:1.25em;line-height:2">'
                    f'{shaded_line(result["words"], values)}</div></div>')
    legend = html.escape(tr(request, "words.legend", score=result["score"]))
    return f'<div id="sim-words-shaded">{"".join(rows)}<p><small>{legend}</small></p></div>'


def explain_words(ctx: UIContext, image, text: str, model_name: str | None, request: gr.Request = None):
    """(picture, text) -> the shaded caption (HTML) and the numbers (JSON)."""
    if not image or not (text or "").strip():
        raise gr.Error(tr(request, "words.none"))
    try:
        result = ctx.service.token_attribution(load_image(image), text, model_name or "").to_json()
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    return words_html(result, request), result
