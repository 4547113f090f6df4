"""Lessons tab: one-click experiments a teacher can run in class, each with the model's real answers."""

from __future__ import annotations

import gradio as gr

from clipdemo.teach import lessons
from clipdemo.ui.context import USER_ERRORS, UIContext
from clipdemo.ui.i18n import locale_of, t, tr
from clipdemo.ui.lessons import export as lessons_export
from clipdemo.ui.lessons import figures as lessons_plots
from clipdemo.ui.lessons import languages as lesson_languages
from clipdemo.ui.lessons.shared import _flat_note, _model_line, _shares_block, _table, _words
from clipdemo.ui.locale_defaults import defaults_for

STRINGS = {
    "en": {
        "lessons.tab": "Lessons",
        "lessons.intro": "Short experiments to run in class. Each one puts generated pictures to the **active "
                         "model** (the one picked at the top, or the one you trained in the Learn tab) and shows its "
                         "actual answers — nothing here is scripted, so another model can answer differently.",
        "lessons.run": "Run the experiment",
        "lessons.model": "Model: `{model}`",
        "lessons.right": "✓",
        "lessons.wrong": "✗",
        "lessons.answer": "{mark} {answer} ({p:.0%})",
        "lessons.answer_truth": "{mark} {answer} ({p:.0%}) · true: {truth}",
        "lessons.chance": "guessing: {v:.1%}",
        "lessons.chance_marker": "guessing",
        "lessons.accuracy": "right answers",
        "lessons.col.answer": "model says",
        "lessons.col.p": "probability",
        "lessons.col.truth": "right answer",
        "lessons.col.group": "question",
        "lessons.col.chance": "guessing",
        "lessons.flat": "**Nothing to show on this model:** it answers all {n} questions right (guessing: "
                        "{chance:.0%}), so this experiment finds no limit here. Try another model, such as a real "
                        "CLIP, or the one you trained in the Learn tab.",
        "lessons.share": "{label}: **{v:.0%}** ({k}/{n}; 95% interval {lo:.0%}–{hi:.0%})",
        "lessons.verdict.above": "above guessing ({chance:.0%})",
        "lessons.verdict.below": "below guessing ({chance:.0%})",
        "lessons.verdict.guessing": "**indistinguishable from guessing** ({chance:.0%}): the interval covers it",
        "lessons.verdict_short.above": "above guessing",
        "lessons.verdict_short.below": "below guessing",
        "lessons.verdict_short.guessing": "= guessing",
        "lessons.interval_name": "95% interval",
        "lessons.interval_rule": "<small>The 95% interval (Wilson) is where the true rate probably lies given so few "
                                 "pictures. Only a result whose whole interval lies above the guessing line shows the "
                                 "model can do it; one whose interval covers guessing is indistinguishable from "
                                 "coin flips, however tall its bar.</small>",
        "lessons.confidence": "The model's probability for its own answer ranged from {lo:.0%} to {hi:.0%} "
                              "(guessing between two: 50%).",
        "lessons.templates.tab": "1 · Prompt templates",
        "lessons.templates.about": "CLIP learned from captions, not from single words, so how a label is written "
                                   "changes its answer. Here every picture is named among all 64 colour–shape pairs, "
                                   "with the labels written four ways: bare (*red circle*), in a sentence (*a photo "
                                   "of a red circle.*), in 80 sentences whose embeddings are averaged (OpenAI's "
                                   "ensemble), and in a sentence that counts (*a photo of three red circles.*). Half "
                                   "the pictures show one object, half show three. **Look at** how the counting "
                                   "template helps where it describes the picture and misleads where it does not.",
        "lessons.templates.title": "Same pictures, four ways to write the labels",
        "lessons.templates.set.three": "'a photo of three {}.'",
        "lessons.templates.group.one": "pictures of one object",
        "lessons.templates.group.three": "pictures of three objects",
        "lessons.templates.col.group": "picture holds",
        "lessons.templates.flat": "**Nothing to show on this model:** every way of writing the labels scores the "
                                  "same on both kinds of picture.",
        "lessons.templates.true_prob": "mean probability of the right label",
        "lessons.templates.set.bare": "bare label",
        "lessons.templates.set.single": "'a photo of a {}.'",
        "lessons.templates.set.imagenet80": "80-template ensemble",
        "lessons.templates.col.truth": "picture shows",
        "lessons.templates.summary": "{n} pictures, each named among {k} labels (guessing: {chance:.1%}). Prompts "
                                     "encoded: bare {bare}, one template {single}, ensemble {imagenet80}, counting "
                                     "{three}.",
        "lessons.temperature.tab": "2 · Logit scale and temperature",
        "lessons.temperature.about": "The model only measures cosine similarities, and they are close together "
                                     "(see the table). Before the softmax CLIP multiplies them by a learned **logit "
                                     "scale** s — the same as dividing by a **temperature** τ = 1/s (CLIP learns "
                                     "τ ≈ 0.01, i.e. s ≈ 100). **Look at** how the same cosines give a flat guess at "
                                     "s = 1 (τ = 1) and a confident answer at s = 100 (τ = 0.01): a higher logit scale, "
                                     "i.e. a lower temperature, sharpens the softmax.",
        "lessons.temperature.title": "The same cosines as probabilities at several logit scales s = 1/τ",
        "lessons.temperature.temp": "s = {s:g} (τ = {tau:.3g})",
        "lessons.temperature.own": "s = {s:g} (τ = {tau:.3g}, the model's own)",
        "lessons.temperature.y": "probability",
        "lessons.temperature.col.label": "label",
        "lessons.temperature.col.cos": "cosine",
        "lessons.temperature.summary": "The picture shows a **{truth}**. Cosines range from {lo:+.3f} to {hi:+.3f}; "
                                       "the model's learned logit scale is s = {own:.1f} (temperature τ = {tau:.3f}).",
        "lessons.gap.tab": "3 · Two clouds",
        "lessons.gap.about": "Pictures and captions live in one space, yet in real CLIP models they do not mix: the "
                             "pictures form one cloud and the captions another (the **modality gap**). Matching still "
                             "works because what counts is which caption is *relatively* closest. **Look at** whether "
                             "this model shows two clouds, how far apart their centres are, and the grey lines "
                             "joining each picture to its own caption.",
        "lessons.gap.title": "{n} pictures and their captions, flattened to 2-D (PCA)",
        "lessons.gap.images": "pictures",
        "lessons.gap.retrieval": "picture finds its own caption",
        "lessons.gap.texts": "captions",
        "lessons.gap.summary": "- distance between the two clouds' centres: **{gap:.2f}** (0 = no gap, 2 = opposite)\n"
                               "- picture with picture: mean cosine **{ii:+.2f}**; caption with caption: **{tt:+.2f}**\n"
                               "- picture with its own caption: **{matched:+.2f}**; with another caption: "
                               "**{mismatched:+.2f}**\n"
                               "- picture finds its own caption among the {n}: **{retrieval:.0%}** (guessing: "
                               "{chance:.0%})",
        "lessons.heldout.tab": "4 · Never-seen pairs",
        "lessons.heldout.about": "The toy model never saw eight colour–shape pairs (for example a blue circle), "
                                 "though it saw blue things and circles. Can it name them? Each picture must pick its "
                                 "pair among all 64. **Look at** the held-out bar next to the seen one: anything "
                                 "well above guessing is compositional zero-shot.",
        "lessons.heldout.title": "Naming colour–shape pairs among all 64",
        "lessons.heldout.group.heldout": "held-out pairs",
        "lessons.heldout.group.seen": "seen pairs",
        "lessons.heldout.summary": "Whole pair right (guessing: {chance:.1%}): held-out **{hp:.0%}**, seen "
                                   "**{sp:.0%}**. Held-out pairs: colour right **{hc:.0%}**, shape right **{hs:.0%}**. "
                                   "Seen pairs: colour right **{sc:.0%}**, shape right **{ss:.0%}** (guessing a colour "
                                   "or a shape: {part:.1%}).",
        "lessons.counting.tab": "5 · Counting",
        "lessons.counting.about": "CLIP is known to be poor at counting. Here each picture holds one, two or three "
                                  "identical shapes and the model picks between *one …*, *two …* and *three …*. "
                                  "**Look at** the diagonal of the table: those are the right counts. (The toy model's "
                                  "captions often say how many, so it may count better than a real CLIP.)",
        "lessons.counting.title": "How many? (rows: true count, columns: the model's answer)",
        "lessons.counting.n1": "one",
        "lessons.counting.n2": "two",
        "lessons.counting.n3": "three",
        "lessons.counting.answer": "model says",
        "lessons.counting.truth": "picture has",
        "lessons.counting.summary": "Right answers: **{acc:.0%}** (guessing: {chance:.0%}).",
        "lessons.leftright.tab": "6 · Left and right",
        "lessons.leftright.about": "CLIP is also known to mix up where things are. Each picture is offered the true "
                                   "sentence and its mirror image, in three phrasings: one shape *on the left / on the "
                                   "right*; two shapes named in left-to-right order (*a red circle and a blue square*, "
                                   "the order the toy captions use) or reversed; and *to the left of / to the right "
                                   "of* (never in the toy captions). In every phrasing the right answer says *left* "
                                   "as often as *right* and stands first as often as second, so a model that just "
                                   "prefers one word scores 50%. **Look at** the intervals, not the bars: a phrasing counts only if its "
                                   "whole 95% interval lies above the guessing line (50%), and the probabilities "
                                   "the model gave its answers show how sure it was. The toy model never read *to the "
                                   "left of*, so expect guessing there.",
        "lessons.leftright.title": "Where is it? Right answers per phrasing",
        "lessons.leftright.group.single": "one shape: on the left / right",
        "lessons.leftright.group.order": "two shapes: order of mention",
        "lessons.leftright.group.relation": "two shapes: to the left of",
        "lessons.leftright.summary": "{n} pictures, {per} per phrasing, each a choice between two sentences.",
    },
    "zh-CN": {
        "lessons.tab": "课堂实验",
        "lessons.intro": "可以在课堂上运行的小实验。每个实验都把生成的图片交给**当前模型**（页面顶部选中的模型，"
                         "或你在“学习”标签页中训练的模型），并展示它真实的回答——这里没有任何预先写好的结果，"
                         "换一个模型可能得到不同的答案。",
        "lessons.run": "运行实验",
        "lessons.model": "模型：`{model}`",
        "lessons.right": "✓",
        "lessons.wrong": "✗",
        "lessons.answer": "{mark} {answer}（{p:.0%}）",
        "lessons.answer_truth": "{mark} {answer}（{p:.0%}）· 正确答案：{truth}",
        "lessons.chance": "随机猜测：{v:.1%}",
        "lessons.chance_marker": "随机猜测",
        "lessons.accuracy": "答对的比例",
        "lessons.col.answer": "模型的回答",
        "lessons.col.p": "概率",
        "lessons.col.truth": "正确答案",
        "lessons.col.group": "问题",
        "lessons.col.chance": "随机猜测",
        "lessons.flat": "**这个模型上没有可展示的现象**：它答对了全部 {n} 个问题（随机猜测：{chance:.0%}），所以这个实验"
                        "在这里找不到局限。试试别的模型，比如真正的 CLIP，或你在“学习”标签页中训练的模型。",
        "lessons.share": "{label}：**{v:.0%}**（{k}/{n}；95% 区间 {lo:.0%}–{hi:.0%}）",
        "lessons.verdict.above": "高于随机猜测（{chance:.0%}）",
        "lessons.verdict.below": "低于随机猜测（{chance:.0%}）",
        "lessons.verdict.guessing": "**与随机猜测无法区分**（{chance:.0%}）：区间包含了它",
        "lessons.verdict_short.above": "高于随机猜测",
        "lessons.verdict_short.below": "低于随机猜测",
        "lessons.verdict_short.guessing": "= 随机猜测",
        "lessons.interval_name": "95% 区间",
        "lessons.interval_rule": "<small>95% 区间（Wilson）是在图片这么少的情况下真实正确率大概所在的范围。只有整个区间都"
                                 "高于随机猜测线的结果，才说明模型真的会；区间包含随机猜测的结果，无论柱子多高，都和"
                                 "抛硬币无法区分。</small>",
        "lessons.confidence": "模型给自己答案的概率在 {lo:.0%} 到 {hi:.0%} 之间（二选一随机猜测：50%）。",
        "lessons.templates.tab": "1 · 提示模板",
        "lessons.templates.about": "CLIP 是从句子般的描述中学习的，而不是从单个词，所以标签的写法会改变它的回答。这里"
                                   "每张图片都要在全部 64 种颜色与形状的组合中被命名，标签有四种写法：直接写"
                                   "（*红色圆形*），写进一句话（*一张红色圆形的照片。*），写进 OpenAI 模板的 43 句中文译文再把"
                                   "向量取平均（模板集成），以及写进一句数数的话（*一张三个红色圆形的照片。*）。"
                                   "一半图片只有一个物体，另一半有三个。**注意观察**：数数的模板在描述对了图片时有帮助，"
                                   "描述错了时会误导模型。",
        "lessons.templates.title": "同样的图片，四种写标签的方式",
        "lessons.templates.set.three": "'一张三个{}的照片。'",
        "lessons.templates.group.one": "一个物体的图片",
        "lessons.templates.group.three": "三个物体的图片",
        "lessons.templates.col.group": "图中物体",
        "lessons.templates.flat": "**这个模型上没有可展示的现象**：无论标签怎么写，两类图片上的得分都一样。",
        "lessons.templates.true_prob": "正确标签的平均概率",
        "lessons.templates.set.bare": "只有标签",
        "lessons.templates.set.single": "'一张{}的照片。'",
        "lessons.templates.set.imagenet80": "中文模板集成",
        "lessons.templates.col.truth": "图片内容",
        "lessons.templates.summary": "{n} 张图片，每张都在 {k} 个标签中命名（随机猜测：{chance:.1%}）。编码的提示语数量："
                                     "只有标签 {bare}，单个模板 {single}，模板集成 {imagenet80}，数数模板 {three}。",
        "lessons.temperature.tab": "2 · logit 缩放与温度",
        "lessons.temperature.about": "模型只计算余弦相似度，而这些值彼此很接近（见表格）。在 softmax 之前，CLIP 会把它们"
                                     "乘以一个学到的 **logit 缩放** s——也就是除以**温度** τ = 1/s（CLIP 学到 τ ≈ 0.01，"
                                     "即 s ≈ 100）。**注意观察**：同样的余弦值，在 s = 1（τ = 1）时几乎是平均猜测，"
                                     "在 s = 100（τ = 0.01）时却给出很自信的答案：logit 缩放越大，也就是温度越低，"
                                     "softmax 越尖锐。",
        "lessons.temperature.title": "同样的余弦相似度在不同 logit 缩放 s = 1/τ 下变成的概率",
        "lessons.temperature.temp": "s = {s:g}（τ = {tau:.3g}）",
        "lessons.temperature.own": "s = {s:g}（τ = {tau:.3g}，模型自己的）",
        "lessons.temperature.y": "概率",
        "lessons.temperature.col.label": "标签",
        "lessons.temperature.col.cos": "余弦相似度",
        "lessons.temperature.summary": "图片内容是 **{truth}**。余弦相似度从 {lo:+.3f} 到 {hi:+.3f}；"
                                       "模型学到的 logit 缩放是 s = {own:.1f}（温度 τ = {tau:.3f}）。",
        "lessons.gap.tab": "3 · 两团点云",
        "lessons.gap.about": "图片和文字位于同一个空间，但在真正的 CLIP 模型里它们并不混在一起：图片形成一团，"
                             "文字形成另一团（**模态鸿沟**）。匹配仍然有效，因为关键在于哪条描述*相对*最近。"
                             "**注意观察**这个模型是否也分成两团、两团中心相距多远，以及把每张图片和它自己的描述"
                             "连起来的灰线。",
        "lessons.gap.title": "{n} 张图片及其描述，用 PCA 压缩到二维",
        "lessons.gap.images": "图片",
        "lessons.gap.retrieval": "图片找到自己的描述",
        "lessons.gap.texts": "描述",
        "lessons.gap.summary": "- 两团点中心之间的距离：**{gap:.2f}**（0 = 没有鸿沟，2 = 完全相反）\n"
                               "- 图片与图片：平均余弦 **{ii:+.2f}**；描述与描述：**{tt:+.2f}**\n"
                               "- 图片与它自己的描述：**{matched:+.2f}**；与其他描述：**{mismatched:+.2f}**\n"
                               "- 图片在 {n} 条描述中找到自己的描述：**{retrieval:.0%}**（随机猜测：{chance:.0%}）",
        "lessons.heldout.tab": "4 · 从未见过的组合",
        "lessons.heldout.about": "玩具模型从未见过八种颜色与形状的组合（例如蓝色圆形），虽然它见过蓝色的东西，也见过圆形。"
                                 "它能说出这些组合吗？每张图片都要在全部 64 种组合中选出自己的组合。**注意观察**"
                                 "留出组合的柱子和见过组合的柱子：明显高于随机猜测就是组合式零样本。",
        "lessons.heldout.title": "在全部 64 种组合中说出颜色与形状",
        "lessons.heldout.group.heldout": "留出的组合",
        "lessons.heldout.group.seen": "见过的组合",
        "lessons.heldout.summary": "整个组合正确（随机猜测：{chance:.1%}）：留出的 **{hp:.0%}**，见过的 **{sp:.0%}**。"
                                   "留出的组合：颜色正确 **{hc:.0%}**，形状正确 **{hs:.0%}**。"
                                   "见过的组合：颜色正确 **{sc:.0%}**，形状正确 **{ss:.0%}**（随机猜一个颜色或形状："
                                   "{part:.1%}）。",
        "lessons.counting.tab": "5 · 数数",
        "lessons.counting.about": "众所周知，CLIP 不擅长数数。这里每张图片有一个、两个或三个相同的图形，模型要在"
                                  "*一个……*、*两个……* 和 *三个……* 之间选择。**注意观察**表格的对角线：那些是数对的情况。"
                                  "（玩具模型的训练描述经常说出数量，所以它可能比真正的 CLIP 数得更好。）",
        "lessons.counting.title": "有几个？（行：真实数量，列：模型的回答）",
        "lessons.counting.n1": "一个",
        "lessons.counting.n2": "两个",
        "lessons.counting.n3": "三个",
        "lessons.counting.answer": "模型的回答",
        "lessons.counting.truth": "图片中的数量",
        "lessons.counting.summary": "答对的比例：**{acc:.0%}**（随机猜测：{chance:.0%}）。",
        "lessons.leftright.tab": "6 · 左和右",
        "lessons.leftright.about": "CLIP 也常常分不清东西的位置。每张图片会得到正确的句子和它的镜像版本，共三种说法："
                                   "一个图形 *左边有… / 右边有…*；两个图形按从左到右的顺序说出"
                                   "（*一个红色圆形和一个蓝色正方形*，玩具描述使用的顺序）或顺序颠倒；以及 "
                                   "*…在…的左边 / 右边*（玩具描述中从未出现）。每种说法中，正确答案说"
                                   "“左”和说“右”的次数一样多，排在前面和后面的次数也一样多，所以只偏爱某个词的模型"
                                   "正好得 50%。**注意观察**区间而不是柱子：只有整个 95% 区间都高于随机猜测线（50%）的说法才算"
                                   "数；模型给答案的概率说明它有多确定。玩具模型从未读过 *…在…的左边*，所以那里应当"
                                   "是随机猜测。",
        "lessons.leftright.title": "它在哪里？每种说法的正确率",
        "lessons.leftright.group.single": "一个图形：在左边 / 右边",
        "lessons.leftright.group.order": "两个图形：提到的顺序",
        "lessons.leftright.group.relation": "两个图形：在……的左边",
        "lessons.leftright.summary": "{n} 张图片，每种说法 {per} 张，每张在两个句子中二选一。",
    },
}
for _loc, _strings in lesson_languages.STRINGS.items():  # the English-vs-Chinese lesson keeps its own strings
    STRINGS[_loc].update(_strings)


def _language(request) -> str:
    """The lessons ask in the UI's language (a Chinese UI: Chinese labels, captions and templates)."""
    return defaults_for(locale_of(request)).language


def _caption(request, item: lessons.ProbeItem, with_truth: bool = True) -> str:
    mark = tr(request, "lessons.right" if item.correct else "lessons.wrong")
    answer, p = item.options[item.answer], item.probs[item.answer]
    if item.correct or not with_truth:
        return tr(request, "lessons.answer", mark=mark, answer=answer, p=p)
    return tr(request, "lessons.answer_truth", mark=mark, answer=answer, p=p, truth=item.options[item.truth])


def _gallery(request, probe: lessons.Probe, group: str | None = None) -> list:
    return [(it.image, f"{i + 1}. {_caption(request, it, with_truth=False)}") for i, it in enumerate(probe.items)
            if group is None or it.group == group]


# ---------------------------------------------------------------- one view per lesson
# Each draws the experiment's result (service.ClipService.lesson: plain numbers and pictures) and returns
# (summary, figure, table, pictures, the result); the result feeds the export box.


def run_templates(res, request):
    sets = list(res.predictions)
    words = _words(request, "templates", ("title", "true_prob", *[f"set.{n}" for n in sets],
                                          *[f"group.{g}" for g in lessons.TEMPLATE_GROUPS]))
    headers = ["#", tr(request, "lessons.templates.col.truth"), tr(request, "lessons.templates.col.group"),
               *[words[f"set.{n}"] for n in sets]]
    rows = []
    for i, truth in enumerate(res.truth):
        cells = []
        for n in sets:
            pred = res.predictions[n][i]
            mark = tr(request, "lessons.right" if pred == truth else "lessons.wrong")
            cells.append(f"{mark} {pred} ({res.confidence[n][i]:.0%})")
        rows.append([i + 1, truth, words[f"group.{res.groups[i]}"], *cells])
    summary = tr(request, "lessons.templates.summary", n=len(res.images), k=len(res.labels), chance=res.chance,
                 **res.n_prompts)
    summary += "\n\n" + _shares_block(request, [(f"{words[f'set.{n}']}, {words[f'group.{g}']}", res.share(n, g))
                                                 for n in sets for g in lessons.TEMPLATE_GROUPS])
    if res.flat:
        summary += "\n\n" + tr(request, "lessons.templates.flat")
    gallery = [(im, f"{i + 1}. {truth}") for i, (im, truth) in enumerate(zip(res.images, res.truth, strict=True))]
    return (_model_line(request, res.model) + "\n\n" + summary, lessons_plots.templates_figure(res, words),
            gr.update(value=rows, headers=headers), gallery, res)


def run_temperature(res, request):
    words = _words(request, "temperature", ("title", "temp", "own", "y"))
    rows = [[lab, round(c, 4)] for lab, c in zip(res.labels, res.cosine, strict=True)]
    headers = [tr(request, "lessons.temperature.col.label"), tr(request, "lessons.temperature.col.cos")]
    summary = tr(request, "lessons.temperature.summary", truth=res.labels[res.truth], lo=min(res.cosine),
                 hi=max(res.cosine), own=res.model_scale, tau=1 / res.model_scale)
    return (_model_line(request, res.model) + "\n\n" + summary, lessons_plots.temperature_figure(res, words),
            gr.update(value=rows, headers=headers), res.image, res)


def run_gap(res, request):
    words = _words(request, "gap", ("images", "texts"), n=len(res.images))
    summary = tr(request, "lessons.gap.summary", gap=res.centroid_distance, ii=res.cos_image_image,
                 tt=res.cos_text_text, matched=res.cos_matched, mismatched=res.cos_mismatched, n=len(res.images),
                 retrieval=res.retrieval, chance=res.retrieval_chance)
    summary += "\n\n" + _shares_block(request, [(tr(request, "lessons.gap.retrieval"), res.retrieval_share)])
    gallery = [(im, cap) for im, cap in zip(res.images, res.captions, strict=True)]
    return (_model_line(request, res.model) + "\n\n" + summary, lessons_plots.gap_figure(res, words), gr.skip(),
            gallery, res)


def run_heldout(probe, request):
    words = _words(request, "heldout", ("title", "group.heldout", "group.seen"))
    n = probe.notes
    summary = tr(request, "lessons.heldout.summary", hc=n["heldout_colour"], hs=n["heldout_shape"],
                 sc=n["seen_colour"], ss=n["seen_shape"], hp=probe.accuracy("heldout"), sp=probe.accuracy("seen"),
                 chance=probe.chance(), part=n["part_chance"])
    summary += "\n\n" + _shares_block(request, [(words[f"group.{g}"], probe.share(g)) for g in probe.groups()])
    return (_model_line(request, probe.model) + "\n\n" + summary, lessons_plots.probe_figure(probe, words),
            _table(request, probe, "heldout", "heldout"), _gallery(request, probe, "heldout"), probe)


def run_counting(probe, request):
    words = _words(request, "counting", ("title", "n1", "n2", "n3", "answer", "truth"))
    summary = tr(request, "lessons.counting.summary", acc=probe.accuracy(), chance=probe.chance())
    summary += "\n\n" + _shares_block(request, [(words[f"n{g}"], probe.share(g)) for g in probe.groups()] +
                                       [(tr(request, "lessons.accuracy"), probe.share())])
    summary += _flat_note(request, probe)
    return (_model_line(request, probe.model) + "\n\n" + summary, lessons_plots.counting_figure(probe, words),
            _table(request, probe, ""), _gallery(request, probe), probe)


def run_leftright(probe, request):
    words = _words(request, "leftright", ("title", "group.single", "group.order", "group.relation"))
    groups = probe.groups()
    summary = tr(request, "lessons.leftright.summary", n=len(probe.items), per=len(probe.items) // len(groups))
    summary += "\n\n" + _shares_block(request, [(words[f"group.{g}"], probe.share(g)) for g in groups])
    lo, hi = probe.confidence_range()
    summary += "\n\n" + tr(request, "lessons.confidence", lo=lo, hi=hi)
    summary += _flat_note(request, probe)
    return (_model_line(request, probe.model) + "\n\n" + summary, lessons_plots.probe_figure(probe, words),
            _table(request, probe, "leftright"), _gallery(request, probe), probe)


GALLERY_ROW_PX = 150
LESSONS = (  # (key, handler, shows a table, shows one picture instead of a gallery)
    ("templates", run_templates, True, False),
    ("temperature", run_temperature, True, True),
    ("gap", run_gap, False, False),
    ("heldout", run_heldout, True, False),
    ("counting", run_counting, True, False),
    ("leftright", run_leftright, True, False),
    ("languages", lesson_languages.run_languages, True, False),
)


def build(ctx: UIContext, model_name: gr.State) -> None:
    gr.Markdown(t("lessons.intro"))
    with gr.Tabs(overflow_behavior="wrap") as tabs:
        for key, handler, has_table, one_picture in LESSONS:
            with gr.Tab(t(f"lessons.{key}.tab"), id=f"lesson-{key}"):
                gr.Markdown(t(f"lessons.{key}.about"))
                run = gr.Button(t("lessons.run"), variant="primary")
                with gr.Row():
                    with gr.Column(scale=3):
                        plot = gr.Plot(show_label=False)
                    with gr.Column(scale=2):
                        summary = gr.Markdown()
                        if one_picture:
                            visual = gr.Image(show_label=False, height=200, interactive=False)
                table = gr.Dataframe(interactive=False, wrap=True, visible=has_table, max_height=320,
                                     show_label=False)
                if not one_picture:
                    visual = gr.Gallery(show_label=False, columns=8, height="auto", object_fit="contain",
                                        allow_preview=True, elem_classes=["lesson-gallery"])
                export = lessons_export.box(key, tabs, model_name)

                def fn(name, request: gr.Request, _handler=handler, _one=one_picture, _key=key):
                    try:
                        *out, pictures, result = _handler(ctx.service.lesson(_key, name or "", language=_language(request)), request)
                    except USER_ERRORS as e:  # anything else is a bug: Gradio logs it and says so
                        raise gr.Error(tr(request, "err.generic", error=e)) from e
                    if not _one:  # as tall as its rows, no empty band below
                        pictures = gr.update(value=pictures, height=GALLERY_ROW_PX * -(-len(pictures) // 8) + 24)
                    return (*out, pictures, lessons_export.payload(_key, ctx.service.describe(name or ""), name, out[1], result))

                # `export` is a gr.State: the endpoint's outputs stay (summary, plot, table, pictures)
                run.click(fn, [model_name], [summary, plot, table, visual, export], api_visibility="private",
                          concurrency_limit=ctx.concurrency, concurrency_id="encode")
