"""The Lessons tab's "English vs Chinese labels" lesson: strings and handler (engine: language_lesson)."""

from __future__ import annotations

from clipdemo.ui.i18n import tr
from clipdemo.ui.lessons import figures as lessons_plots
from clipdemo.ui.lessons.shared import _flat_note, _model_line, _shares_block, _table, _words

STRINGS = {
    "en": {
        "lessons.languages.tab": "7 · English vs Chinese labels",
        "lessons.languages.about": "The same pictures, labelled twice: once in English (*a photo of a red circle.*), "
                                   "once in Chinese (*一张红色圆形的照片。*). Each picture picks its colour–shape pair "
                                   "among its own and look-alikes (the summary says how many). The bundled model was trained on captions in both languages, so both "
                                   "should score alike. OpenAI's CLIP learned from English captions and reads Chinese "
                                   "poorly (most characters become byte pieces it rarely saw); Chinese-CLIP "
                                   "(`OFA-Sys/chinese-clip-vit-base-patch16`) was trained for Chinese. **Look at** the "
                                   "two bars, then switch the model at the top and run it again.",
        "lessons.languages.title": "Same pictures: right answers with English and with Chinese labels",
        "lessons.languages.group.en": "English labels",
        "lessons.languages.group.zh": "Chinese labels",
        "lessons.languages.summary": "{n} pictures, each choosing among {k} pairs. English labels: **{en:.0%}** right (the right label gets **{pen:.0%}** on "
                                     "average). Chinese labels: **{zh:.0%}** right (**{pzh:.0%}**). Guessing: "
                                     "{chance:.0%}. Both languages give the same answer for **{same:.0%}** of the "
                                     "pictures.",
    },
    "zh-CN": {
        "lessons.languages.tab": "7 · 英文标签与中文标签",
        "lessons.languages.about": "同样的图片，标两次：一次用英文（*a photo of a red circle.*），一次用中文"
                                   "（*一张红色圆形的照片。*）。每张图片要在自己的组合和相似的组合中选出自己的那个（个数见结果）。"
                                   "内置模型用中英两种语言的描述训练过，两种标签的得分应当相近。OpenAI 的 CLIP "
                                   "是用英文描述训练的，读中文很差（大多数汉字被拆成它很少见过的字节片段）；"
                                   "Chinese-CLIP（`OFA-Sys/chinese-clip-vit-base-patch16`）是专为中文训练的。"
                                   "**注意观察**两根柱子，然后在页面顶部换一个模型再运行一次。",
        "lessons.languages.title": "同样的图片：用英文标签和用中文标签答对的比例",
        "lessons.languages.group.en": "英文标签",
        "lessons.languages.group.zh": "中文标签",
        "lessons.languages.summary": "{n} 张图片，每张在 {k} 个组合中选择。英文标签：答对 **{en:.0%}**（正确标签平均概率 **{pen:.0%}**）。中文标签：答对 "
                                     "**{zh:.0%}**（**{pzh:.0%}**）。随机猜测：{chance:.0%}。两种语言给出相同答案的"
                                     "图片占 **{same:.0%}**。",
    },
}


def run_languages(probe, request):
    """The language_lesson.language_comparison probe -> (summary, figure, table, pictures, probe), as every
    lesson's view returns."""
    words = _words(request, "languages", ("title", "group.en", "group.zh"))
    n = probe.notes
    summary = tr(request, "lessons.languages.summary", en=probe.accuracy("en"), zh=probe.accuracy("zh"),
                 pen=n["en_true_probability"], pzh=n["zh_true_probability"], chance=probe.chance("en"),
                 same=n["same_answer"], n=len(probe.items) // 2, k=len(set(probe.items[0].options)))
    summary += "\n\n" + _shares_block(request, [(words[f"group.{g}"], probe.share(g)) for g in probe.groups()])
    summary += _flat_note(request, probe)
    half = len(probe.items) // 2
    gallery = []
    for i, (en, zh) in enumerate(zip(probe.items[:half], probe.items[half:], strict=True)):
        marks = [tr(request, "lessons.right" if it.correct else "lessons.wrong") for it in (en, zh)]
        gallery.append((en.image, f"{i + 1}. {marks[0]} {en.options[en.answer]} ({en.probs[en.answer]:.0%}) · "
                                  f"{marks[1]} {zh.options[zh.answer]} ({zh.probs[zh.answer]:.0%})"))
    return (_model_line(request, probe.model) + "\n\n" + summary, lessons_plots.probe_figure(probe, words),
            _table(request, probe, "languages"), gallery, probe)
