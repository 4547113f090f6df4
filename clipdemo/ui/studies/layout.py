"""Few-shot & compare tab: how many labelled pictures a prompt is worth, and two models side by side.

The few-shot view fits the service's logistic-regression probe for k pictures per class and draws accuracy
against k with its spread over random splits, the zero-shot line of the same held-out pictures and chance. The
compare view runs one picture and one label set through two models, each scored its own way (softmax or
sigmoid), and two similarity matrices of a toy batch side by side. The views only draw the service's numbers.
"""

from __future__ import annotations

import random

import gradio as gr

from clipdemo.ui import exports as ex
from clipdemo.ui import header
from clipdemo.ui.context import USER_ERRORS, UIContext, example_toys, user_error
from clipdemo.ui.i18n import locale_of, t, tr
from clipdemo.ui.inputs import image_input
from clipdemo.ui.similarity.figures import toy_batch
from clipdemo.ui.studies import export as sx
from clipdemo.ui.studies import figures

PRIVATE = dict(api_visibility="private")  # the public endpoints are /few_shot and /compare_models (ui/api.py)
TEMPLATE_CHOICES = ("single", "imagenet7", "imagenet80", "bare")
PAPER_SHOTS = 4  # the CLIP paper: zero-shot matches a ~4-shot linear probe, averaged over its datasets

STRINGS = {
    "en": {
        "fs.tab": "Few-shot & compare",
        "fs.intro": "**How many labelled pictures is a prompt worth?** The CLIP paper compares zero-shot CLIP with a "
                    "*linear probe*: a logistic regression trained on the image embeddings of k labelled pictures per "
                    "class. Averaged over its datasets, zero-shot matched about a 4-shot probe. Run the experiment "
                    "here: on toy pictures (default), or on your own labelled pictures.",
        "fs.files": "Your labelled pictures (optional): a .zip with one folder per class, or pictures + a .csv of "
                    "path,label",
        "fs.labels": "Toy classes (colours, shapes, or both; empty: the eight shapes)",
        "fs.shots": "Pictures per class to try (k)",
        "fs.seeds": "Random splits (seeds)",
        "fs.templates": "Zero-shot prompts",
        "fs.run": "Run the experiment",
        "fs.fig_title": "Probe on k labelled pictures per class vs. the prompt",
        "fs.fig_x": "labelled pictures per class (k, log scale)",
        "fs.fig_y": "accuracy on held-out pictures",
        "fs.fig_probe": "logistic-regression probe (mean over seeds)",
        "fs.fig_spread": "± 1 standard deviation over seeds",
        "fs.fig_zero": "zero-shot {v:.0%}",
        "fs.fig_chance": "chance {v:.0%}",
        "fs.worth": "**The prompt is worth ≈ {n:.1f} labelled pictures per class here** (the paper: about {paper} on "
                    "average).",
        "fs.worth_most": "**Even {k} labelled picture(s) per class beat the prompt here**: it is worth at most {k}.",
        "fs.worth_more": "**The probe did not reach the prompt within {k} pictures per class**: the prompt is worth "
                         "more than {k} labelled pictures per class here.",
        "fs.details": "Zero-shot {zs:.1%} (± {zs_std:.1%}), chance {chance:.1%} ({n} classes). Each point: {test} "
                      "held-out pictures per class, {seeds} random splits; the zero-shot line is scored on the same "
                      "held-out pictures. Source: {source}. Classes: {classes}.",
        "fs.source_toy": "toy pictures rendered for this run",
        "fs.source_upload": "your pictures",
        "fs.numbers": "Numbers (JSON)",
        "cmp.title": "Two models side by side",
        "cmp.intro": "The same picture and labels through two models, each scored the way it was trained: a softmax "
                     "over the labels (CLIP) or a sigmoid per label (SigLIP), so SigLIP's numbers need not add up to "
                     "100%. Your Learn-tab model appears in the lists once you have trained and used it.",
        "cmp.model_a": "Model A",
        "cmp.model_b": "Model B",
        "cmp.image": "Picture",
        "cmp.labels": "Labels (comma separated)",
        "cmp.run": "Compare",
        "cmp.softmax": "softmax over the labels",
        "cmp.sigmoid": "sigmoid per label",
        "cmp.agree": "**They agree**: both pick “{top}”. Rank agreement (Spearman) {rho:+.2f}.",
        "cmp.disagree": "**They disagree**: A picks “{a}”, B picks “{b}”. Rank agreement (Spearman) {rho:+.2f}.",
        "cmp.col_label": "label",
        "cmp.matrices": "Their similarity matrices on a toy batch",
        "cmp.matrices_run": "New toy batch, both models",
        "cmp.matrices_note": "The same {n} toy pictures and captions (text i describes picture i) through both "
                             "models. Their best caption per picture agrees for {agree:.0%} of the pictures. Each "
                             "matrix has its own colour scale: cosines of two models are not on one scale.",
        "cmp.no_image": "Choose a picture first (or click an example).",
    },
    "zh-CN": {
        "fs.tab": "少样本与对比",
        "fs.intro": "**一条提示词抵得上多少张带标签的图片？** CLIP 论文把零样本 CLIP 和*线性探针*作比较：在每类 k 张带标签"
                    "图片的图像嵌入上训练一个逻辑回归。按论文各数据集平均，零样本约等于 4 张/类的探针。在这里亲手做这个"
                    "实验：用玩具图片（默认），或用你自己带标签的图片。",
        "fs.files": "你的带标签图片（可选）：每类一个文件夹的 .zip，或图片加一个 path,label 的 .csv",
        "fs.labels": "玩具类别（颜色、形状或两者；留空：八种形状）",
        "fs.shots": "每类尝试的图片数（k）",
        "fs.seeds": "随机划分次数（随机种子）",
        "fs.templates": "零样本提示词",
        "fs.run": "运行实验",
        "fs.fig_title": "每类 k 张带标签图片训练的探针 vs. 提示词",
        "fs.fig_x": "每类带标签图片数（k，对数刻度）",
        "fs.fig_y": "留出图片上的准确率",
        "fs.fig_probe": "逻辑回归探针（各随机种子的平均）",
        "fs.fig_spread": "各随机种子间 ±1 个标准差",
        "fs.fig_zero": "零样本 {v:.0%}",
        "fs.fig_chance": "随机猜测 {v:.0%}",
        "fs.worth": "**在这里，提示词约抵得上每类 {n:.1f} 张带标签图片**（论文：平均约 {paper} 张）。",
        "fs.worth_most": "**在这里，每类只要 {k} 张带标签图片就胜过提示词**：提示词最多抵得上 {k} 张。",
        "fs.worth_more": "**每类 {k} 张以内，探针都没赶上提示词**：在这里，提示词抵得上每类超过 {k} 张带标签图片。",
        "fs.details": "零样本 {zs:.1%}（± {zs_std:.1%}），随机猜测 {chance:.1%}（{n} 类）。每个点：每类 {test} 张留出图片，"
                      "{seeds} 次随机划分；零样本线在同样的留出图片上计分。来源：{source}。类别：{classes}。",
        "fs.source_toy": "本次运行生成的玩具图片",
        "fs.source_upload": "你的图片",
        "fs.numbers": "数据（JSON）",
        "cmp.title": "两个模型并排对比",
        "cmp.intro": "同一张图片、同一组标签送入两个模型，各按自己训练时的方式打分：CLIP 对各标签做 softmax，SigLIP 对每个"
                     "标签单独做 sigmoid，所以 SigLIP 的数字加起来不一定是 100%。你在“学习”标签页训练并启用的模型，也会"
                     "出现在列表里。",
        "cmp.model_a": "模型 A",
        "cmp.model_b": "模型 B",
        "cmp.image": "图片",
        "cmp.labels": "标签（用逗号分隔）",
        "cmp.run": "对比",
        "cmp.softmax": "对各标签做 softmax",
        "cmp.sigmoid": "每个标签单独 sigmoid",
        "cmp.agree": "**两者一致**：都选“{top}”。排序一致度（Spearman）{rho:+.2f}。",
        "cmp.disagree": "**两者不一致**：A 选“{a}”，B 选“{b}”。排序一致度（Spearman）{rho:+.2f}。",
        "cmp.col_label": "标签",
        "cmp.matrices": "它们在一批玩具图片上的相似度矩阵",
        "cmp.matrices_run": "换一批玩具图片，两个模型都算",
        "cmp.matrices_note": "同样的 {n} 张玩具图片和说明文字（第 i 段文字描述第 i 张图片）送入两个模型。两者给每张图片选出的"
                             "最佳文字有 {agree:.0%} 相同。两个矩阵各用自己的色阶：两个模型的余弦值不在同一尺度上。",
        "cmp.no_image": "请先选择一张图片（或点选一个示例）。",
    },
}


def _words(request, prefix: str, keys: tuple[str, ...]) -> dict[str, str]:
    return {k: tr(request, f"{prefix}{k}") for k in keys}


def worth_sentence(r: dict, request: gr.Request | None = None) -> str:
    """What the prompt is worth, in the visitor's language: ≈ N, at most the first k, or more than the last."""
    eq, ks = r["equivalent_shots"], r["shots"]
    if eq is None:
        return tr(request, "fs.worth_more", k=ks[-1])
    if eq == ks[0] and r["accuracy"][0] >= r["zero_shot_accuracy"]:
        return tr(request, "fs.worth_most", k=ks[0])
    return tr(request, "fs.worth", n=eq, paper=PAPER_SHOTS)


def run_few_shot(ctx: UIContext, files, labels: str, shots: str, seeds: float, templates: str,
                 model_name: str | None, request: gr.Request = None):
    try:
        result = ctx.service.few_shot(files or None, labels or "", shots or "1,2,4,8,16", int(seeds or 5),
                                      templates or "single", model_name or "")
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    r = result.to_json()
    fig = figures.few_shot_figure(r, {"title": tr(request, "fs.fig_title"), "x": tr(request, "fs.fig_x"),
                                      "y": tr(request, "fs.fig_y"), "probe": tr(request, "fs.fig_probe"),
                                      "spread": tr(request, "fs.fig_spread"), "zero": tr(request, "fs.fig_zero"),
                                      "chance": tr(request, "fs.fig_chance")})
    details = tr(request, "fs.details", zs=r["zero_shot_accuracy"], zs_std=r["zero_shot_std"], chance=r["chance"],
                 n=len(r["classes"]), test=r["test_per_class"], seeds=r["seeds"],
                 source=tr(request, f"fs.source_{r['source']}"), classes=", ".join(r["classes"]))
    notes = [worth_sentence(r, request), details, *[f"- {n}" for n in r["notices"]]]
    settings = {"shots": r["shots"], "seeds": r["seeds"], "source": r["source"]}
    payload = sx.few_shot_payload(result, fig, ctx.service.describe(model_name or ""), ctx.service.model_name(model_name),
                                  settings)
    return fig, "\n\n".join(notes), r, payload


def model_lists(ctx: UIContext, model_name: str | None, request: gr.Request = None):
    """Both pickers, with this session's own models; A: the active model; B: the session's Learn-tab model if
    there is one, else the first other model that loads here now (A itself when there is none)."""
    session = getattr(request, "session_hash", None)
    options = header.choices(ctx, session, locale_of(request))
    here = [m.name for m in ctx.service.models(session).models if m.availability == "local"]  # no download wait
    a = model_name or ctx.service.model_name()
    own = ctx.service.session_models(session)
    b = own[0] if own else next((n for n in here if n != a), a)
    return gr.update(choices=options, value=a), gr.update(choices=options, value=b)


def run_compare(ctx: UIContext, image, labels: str, templates: str, model_a: str, model_b: str,
                request: gr.Request = None):
    if not image:
        raise gr.Error(tr(request, "cmp.no_image"))
    try:
        result = ctx.service.compare_models(image, labels, templates or "single", model_a or "", model_b or "")
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    r = result.to_json()
    locale = locale_of(request)
    # the charts say A and B (two long names collide on a phone); the line under them names the models
    who = f"A: {header.model_label(ctx, r['model_a'], locale)} · B: {header.model_label(ctx, r['model_b'], locale)}"
    fig = figures.compare_figure(r, ("A", "B"), {"softmax": tr(request, "cmp.softmax"),
                                                 "sigmoid": tr(request, "cmp.sigmoid")})
    verdict = (tr(request, "cmp.agree", top=r["top_a"], rho=r["rank_agreement"]) if r["agree"] else
               tr(request, "cmp.disagree", a=r["top_a"], b=r["top_b"], rho=r["rank_agreement"]))
    table = [[lab, f"{pa:.3f}", f"{pb:.3f}", f"{ca:.3f}", f"{cb:.3f}"] for lab, pa, pb, ca, cb in
             zip(r["labels"], r["probabilities_a"], r["probabilities_b"], r["cosine_a"], r["cosine_b"], strict=True)]
    headers = [tr(request, "cmp.col_label"), "A", "B", "cos A", "cos B"]
    notes = "\n".join(f"- {n}" for n in r["notices"])
    payload = sx.compare_payload(result, fig, ctx.service.describe(r["model_a"]),
                                 {"templates": templates or "single"})
    return (fig, who + "\n\n" + verdict + ("\n\n" + notes if notes else ""), gr.update(value=table, headers=headers),
            r, payload)


def run_matrices(ctx: UIContext, model_a: str, model_b: str, request: gr.Request = None):
    paths, captions = toy_batch(6, random.randrange(10**6), locale_of(request))
    try:
        result = ctx.service.compare_matrices(paths, captions, model_a or "", model_b or "")
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    locale = locale_of(request)
    who = (f"A: {header.model_label(ctx, result.a['model'], locale)} · "
           f"B: {header.model_label(ctx, result.b['model'], locale)}")
    note = tr(request, "cmp.matrices_note", n=len(paths), agree=result.top1_agreement)
    return figures.matrices_figure(result.a, result.b, ("A", "B")), who + "\n\n" + note


def build(ctx: UIContext, model_name: gr.State) -> None:
    gr.Markdown(t("fs.intro"))
    with gr.Row():
        with gr.Column(scale=1):
            files = gr.File(label=t("fs.files"), file_count="multiple", file_types=[".zip", ".csv", "image"],
                            type="filepath", height=120)
            labels = gr.Textbox(label=t("fs.labels"), placeholder="circle, square, star, heart", lines=1)
            with gr.Row():
                shots = gr.Textbox(label=t("fs.shots"), value="1,2,4,8,16", lines=1)
                seeds = gr.Slider(1, 10, value=5, step=1, label=t("fs.seeds"))
            templates = gr.Dropdown(list(TEMPLATE_CHOICES), value="single", label=t("fs.templates"))
            run = gr.Button(t("fs.run"), variant="primary", elem_id="fs-run")
        with gr.Column(scale=2):
            curve = gr.Plot(show_label=False, elem_id="fs-curve")
            worth = gr.Markdown(elem_id="fs-worth")
            with gr.Accordion(t("fs.numbers"), open=False):
                numbers = gr.JSON()
            export = ex.export_box("few_shot")

    def few_shot_fn(files, labels, shots, seeds, templates, model_name, request: gr.Request):
        return run_few_shot(ctx, files, labels, shots, seeds, templates, model_name, request)

    run.click(few_shot_fn, [files, labels, shots, seeds, templates, model_name], [curve, worth, numbers, export],
              concurrency_limit=1, concurrency_id="encode_many", **PRIVATE)

    gr.Markdown("### " + t("cmp.title"))
    gr.Markdown(t("cmp.intro"))
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Row():
                model_a = gr.Dropdown([], label=t("cmp.model_a"), elem_id="cmp-model-a")
                model_b = gr.Dropdown([], label=t("cmp.model_b"), elem_id="cmp-model-b")
            image = image_input(label=t("cmp.image"), sources=["upload", "clipboard"], height=200, elem_id="cmp-image")
            gr.Examples([[p] for p in example_toys()[:6]], inputs=[image], label=None, examples_per_page=6)
            cmp_labels = gr.Textbox(label=t("cmp.labels"), value="red circle, blue square, green triangle, yellow star",
                                    lines=1)
            cmp_templates = gr.Dropdown(list(TEMPLATE_CHOICES), value="single", label=t("fs.templates"))
            compare = gr.Button(t("cmp.run"), variant="primary", elem_id="cmp-run")
        with gr.Column(scale=2):
            scores = gr.Plot(show_label=False, elem_id="cmp-scores")
            verdict = gr.Markdown(elem_id="cmp-verdict")
            table = gr.Dataframe(interactive=False, wrap=True, max_height=260)
            with gr.Accordion(t("fs.numbers"), open=False):
                cmp_numbers = gr.JSON()
            cmp_export = ex.export_box("compare_models")
    gr.Markdown("#### " + t("cmp.matrices"))
    matrices_run = gr.Button(t("cmp.matrices_run"), size="sm", elem_id="cmp-matrices-run")
    matrices = gr.Plot(show_label=False, elem_id="cmp-matrices")
    matrices_note = gr.Markdown()

    def lists_fn(model_name, request: gr.Request):
        return model_lists(ctx, model_name, request)

    def compare_fn(image, labels, templates, model_a, model_b, request: gr.Request):
        return run_compare(ctx, image, labels, templates, model_a, model_b, request)

    def matrices_fn(model_a, model_b, request: gr.Request):
        return run_matrices(ctx, model_a, model_b, request)

    root = gr.context.Context.root_block
    if root is not None:
        root.load(lists_fn, [model_name], [model_a, model_b], show_progress="hidden", **PRIVATE)
    model_name.change(lists_fn, [model_name], [model_a, model_b], show_progress="hidden", **PRIVATE)
    limits = dict(concurrency_limit=ctx.concurrency, concurrency_id="encode")
    compare.click(compare_fn, [image, cmp_labels, cmp_templates, model_a, model_b],
                  [scores, verdict, table, cmp_numbers, cmp_export], **limits, **PRIVATE)
    matrices_run.click(matrices_fn, [model_a, model_b], [matrices, matrices_note], **limits, **PRIVATE)

