"""Zero-shot tab: an image and some labels in, the label whose prompt lies closest out."""

from __future__ import annotations

import csv
from pathlib import Path

import gradio as gr
import plotly.graph_objects as go

from clipdemo.core.images import load_image
from clipdemo.core.templates import TEMPLATE_SETS
from clipdemo.core.zeroshot import parse_labels  # the labels as given, for the session
from clipdemo.ui import exports as ex
from clipdemo.ui import notices as notice_view
from clipdemo.ui import scratch
from clipdemo.ui.context import USER_ERRORS, UIContext, example_photos, example_toys, user_error
from clipdemo.ui.i18n import locale_of, t, tr
from clipdemo.ui.inputs import image_input
from clipdemo.ui.locale_defaults import defaults_for
from clipdemo.ui.messages import translate

TEMPLATE_CHOICES = list(TEMPLATE_SETS)  # single, imagenet7, imagenet80, bare, zh_single, zh_ensemble
TOY_LABELS = "red circle, blue square, yellow star, green triangle, purple heart, orange cross, pink crescent, " \
             "cyan diamond"
PHOTO_LABELS = "astronaut, cat, cup of coffee, rocket, horse, man with a camera"

STRINGS = {
    "en": {
        "zs.tab": "Zero-shot labeling",
        "zs.intro": "CLIP was never trained on your labels. It turns each label into a prompt such as "
                    "*a photo of a {label}.*, embeds the prompt with its text encoder and picks the label whose "
                    "embedding lies closest to the image's. **Look at** how the probabilities change when you "
                    "change the template or add a near-synonym.",
        "zs.image": "Image",
        "zs.labels": "Labels (comma or one per line)",
        "zs.template": "Prompt template",
        "zs.template_info": "single: 'a photo of a {}.' · imagenet7 / imagenet80: OpenAI's ensembles "
                            "(embeddings averaged per label) · bare: the label alone · zh_single: '一张{}的照片。' · "
                            "zh_ensemble: OpenAI's templates in Chinese · or type your own with {}",
        "zs.run": "Label it",
        "zs.result": "Probabilities",
        "zs.chart": "Top labels (bars: probability; text: raw cosine similarity)",
        "zs.view": "What the model sees",
        "zs.notes": "Notes",
        "zs.batch": "Several images at once",
        "zs.files": "Images",
        "zs.run_batch": "Label all",
        "zs.table": "Results",
        "zs.csv": "CSV",
        "zs.examples_toy": "Toy world (what the bundled model knows)",
        "zs.examples_photo": "Real photos (need a real CLIP such as ViT-B/32)",
        "zs.unlike": "⚠️ **This picture is unlike anything the bundled toy model was trained on** (out-of-world "
                     "score {score:.0f}; toy pictures score below {limit:.0f}). The model only knows coloured shapes, "
                     "so these labels are guesses, however confident they look. For real photos pick a real CLIP, "
                     "such as OpenAI CLIP ViT-B/32.",
        "zs.axis.softmax": "softmax probability",
        "zs.axis.sigmoid": "sigmoid probability (each label on its own)",
        "zs.kind.softmax": "softmax over the labels",
        "zs.kind.sigmoid": "sigmoid (SigLIP)",
        "zs.note.scores": "{n} labels × {m} template(s); scores: {kind} at logit scale s = {s:.1f} "
                          "(temperature τ = 1/s = {tau:.3f})",
        "zs.col.image": "image",
        "zs.col.label": "label {k}",
        "zs.col.p": "p {k}",
        "zs.col.cos": "cos {k}",
        "zs.err.no_files": "Add some images first.",
        "zs.err.no_usable": "None of the files is a usable image: {problems}",
        "zs.skipped": "skipped: {problem}",
        "zs.unlike_many": "⚠️ {n} of the pictures are unlike anything the bundled toy model was trained on "
                          "(out-of-world score above {limit:.0f}): {names}. Their labels are guesses; for real photos "
                          "pick a real CLIP, such as OpenAI CLIP ViT-B/32.",
    },
    "zh-CN": {
        "zs.tab": "零样本分类",
        "zs.intro": "CLIP 从未见过你的标签。它把每个标签写成提示语，例如 *一张{label}的照片。*，用文本编码器"
                    "得到提示语的向量，再选出与图片向量最接近的那个标签。**注意观察**：换一个模板或加一个近义词，"
                    "概率会怎样变化。",
        "zs.image": "图片",
        "zs.labels": "标签（用逗号分隔或每行一个）",
        "zs.template": "提示模板",
        "zs.template_info": "single：'a photo of a {}.' · imagenet7 / imagenet80：OpenAI 的模板集成（每个标签的"
                            "向量取平均）· bare：只用标签本身 · zh_single：'一张{}的照片。' · zh_ensemble：OpenAI "
                            "模板的中文译本集成 · 也可以输入含 {} 的自定义模板",
        "zs.run": "开始分类",
        "zs.result": "概率",
        "zs.chart": "最可能的标签（柱：概率；文字：原始余弦相似度）",
        "zs.view": "模型看到的图像",
        "zs.notes": "提示",
        "zs.batch": "一次处理多张图片",
        "zs.files": "图片",
        "zs.run_batch": "全部分类",
        "zs.table": "结果",
        "zs.csv": "CSV",
        "zs.examples_toy": "玩具世界（内置模型认识的东西）",
        "zs.examples_photo": "真实照片（需要真正的 CLIP，例如 ViT-B/32）",
        "zs.unlike": "⚠️ **这张图片和内置玩具模型训练时见过的任何东西都不一样**（世界外得分 {score:.0f}；"
                     "玩具图片的得分低于 {limit:.0f}）。这个模型只认识彩色图形，所以这些标签只是猜测，"
                     "不管看起来多么自信。要识别真实照片，请选择真正的 CLIP，例如 OpenAI CLIP ViT-B/32。",
        "zs.axis.softmax": "softmax 概率",
        "zs.axis.sigmoid": "sigmoid 概率（每个标签单独计算）",
        "zs.kind.softmax": "在各标签之间做 softmax",
        "zs.kind.sigmoid": "sigmoid（SigLIP）",
        "zs.note.scores": "{n} 个标签 × {m} 个模板；打分：{kind}，logit 缩放 s = {s:.1f}（温度 τ = 1/s = {tau:.3f}）",
        "zs.col.image": "图片",
        "zs.col.label": "标签 {k}",
        "zs.col.p": "概率 {k}",
        "zs.col.cos": "余弦 {k}",
        "zs.err.no_files": "请先添加图片。",
        "zs.err.no_usable": "没有一个文件是可用的图片：{problems}",
        "zs.skipped": "已跳过：{problem}",
        "zs.unlike_many": "⚠️ 有 {n} 张图片和内置玩具模型训练时见过的任何东西都不一样（世界外得分高于 {limit:.0f}）："
                          "{names}。它们的标签只是猜测；要识别真实照片，请选择真正的 CLIP，例如 OpenAI CLIP ViT-B/32。",
    },
}


def bar_chart(top: list[tuple[str, float, float]], sigmoid: bool, request=None) -> go.Figure:
    labels = [lab for lab, _, _ in top][::-1]
    probs = [p for _, p, _ in top][::-1]
    cos = [c for _, _, c in top][::-1]
    fig = go.Figure(go.Bar(
        x=probs, y=labels, orientation="h", marker_color="#4f7cff",
        # outside a short bar, so its cosine shows too (as the chart's title promises); inside a long one, so
        # the text fits on a phone's narrow chart
        text=[f"{p:.1%} · cos {c:+.3f}" for p, c in zip(probs, cos, strict=True)],
        textposition=["inside" if p > 0.6 else "outside" for p in probs], insidetextanchor="end",
        insidetextfont=dict(color="white"), cliponaxis=False, hovertemplate="%{y}<br>p = %{x:.3f}<br>%{text}<extra></extra>"))
    fig.update_layout(
        xaxis=dict(range=[0, 1.45], tickvals=[0, 0.25, 0.5, 0.75, 1], tickformat=".0%",
                   title=tr(request, "zs.axis.sigmoid" if sigmoid else "zs.axis.softmax")),
        height=max(250, 34 * len(labels) + 124), margin=dict(l=10, r=10, t=44, b=40), template="plotly_white")
    return ex.png_ready(fig)


def _notes(result, request=None) -> str:
    lines = notice_view.bullets(result.notices, request, skip=("out_of_world", "scoring."))  # said elsewhere
    kind = tr(request, "zs.kind.sigmoid" if result.scoring == "sigmoid" else "zs.kind.softmax")
    lines.append("- " + tr(request, "zs.note.scores", n=len(result.labels), m=len(result.templates), kind=kind,
                           s=result.logit_scale, tau=1 / result.logit_scale))
    return "\n".join(lines)


def classify(ctx: UIContext, image, labels: str, template: str, model_name: str | None = None, request=None):
    """(image, labels, template) -> {label: probability}, chart, model view, notes, an out-of-world warning
    ("" when none), and for the export box the figure, numbers and session."""
    try:
        result = ctx.service.zero_shot(image, labels, template or "single", model_name or "")
        view = ctx.service.model_view(image, model_name or "")
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    top = list(zip(result.labels, result.probabilities, result.cosine, strict=True))
    confidences = {lab: p for lab, p, _ in top}
    fig = bar_chart(top[:10], result.scoring == "sigmoid", request)
    name = Path(image).name if isinstance(image, (str, Path)) else "image"
    result.image = name
    export = ex.payload("zero_shot", figures={"chart": fig}, tables={"scores": result.rows()},
                        session=ex.session(ctx.service.describe(model_name or ""), "zero_shot", model_name, {"template": template or "single"},
                                           parse_labels(labels).labels, result.templates, images=[name]))
    warning = notice_view.warnings(result.notices, request)  # the service judged the picture it decoded
    return confidences, fig, view, _notes(result, request), warning, export


def classify_many(ctx: UIContext, files, labels: str, template: str, model_name: str | None = None, request=None):
    if not files:
        raise gr.Error(tr(request, "zs.err.no_files"))
    try:
        batch = ctx.service.zero_shot_batch([getattr(f, "name", f) for f in files], labels, template or "single",
                                            model_name or "")
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    rows = []
    for res in batch.results:
        top = list(zip(res.labels, res.probabilities, res.cosine, strict=True))[:3]
        rows.append([res.image] + [v for lab, p, c in top for v in (lab, round(p, 4), round(c, 4))])
    header = ["image"] + [h for k in range(1, 4) for h in (f"label {k}", f"p {k}", f"cos {k}")]  # the CSV's
    shown = [tr(request, "zs.col.image")] + [tr(request, f"zs.col.{h}", k=k) for k in range(1, 4)
                                             for h in ("label", "p", "cos")]
    rows = [r + [""] * (len(header) - len(r)) for r in rows]
    out = scratch.new_folder("zs-") / "zero_shot.csv"
    with out.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    first = batch.results[0]
    first.notices = batch.notices
    notes = _notes(first, request)
    warning = notice_view.warnings(batch.notices, request)  # one per picture, from the pictures the service read
    if warning:
        notes = warning + "\n\n" + notes
    names = [res.image for res in batch.results]
    export = ex.payload("zero_shot_batch", tables={"scores": [row for res in batch.results for row in res.rows()]},
                        session=ex.session(ctx.service.describe(model_name or ""), "zero_shot_batch", model_name, {"template": template or "single"},
                                           batch.labels, batch.templates, images=names))
    return gr.update(value=rows, headers=shown), str(out), notes, export


def restore_inputs(record: dict) -> tuple:
    """A zero-shot session -> (labels text, template): the labels as typed (comma separated), the template choice."""
    labels = ex.text_list(record, "labels")
    template = ex.setting(record, "template", kind=str)
    sep = "\n" if any("," in lab for lab in labels) else ", "
    return (sep.join(labels) if labels else gr.skip()), template


def locale_inputs(labels: str, template: str, request: gr.Request):
    """At page load: labels and template in the visitor's language (Chinese UI: Chinese labels, 一张{}的照片。).
    Only while they still hold the English defaults: whatever the visitor typed meanwhile stays."""
    d = defaults_for(locale_of(request))
    if d.language == "en" or (labels, template) != (TOY_LABELS, "single"):
        return gr.skip(), gr.skip()
    return d.toy_labels, d.template


def suggested_labels(kind: str):
    """An example click's labels, in the visitor's language."""
    def fn(_path, request: gr.Request):
        d = defaults_for(locale_of(request))
        return d.toy_labels if kind == "toy" else d.photo_labels
    return fn


def check_upload(image, request: gr.Request = None):
    """Right at upload: a file that is no usable image is named and removed (no broken sliver), and the old
    result goes with it."""
    if image is None:
        return (gr.skip(),) * 6
    try:
        load_image(image)
    except USER_ERRORS as e:
        gr.Warning(translate(str(e), locale_of(request)), title=tr(request, "msg.bad_upload"))
        return None, *cleared()
    return (gr.skip(),) * 6


def cleared() -> tuple:
    """Empty result views: a failed or new run never leaves the last result's numbers and notes standing."""
    return None, None, None, "", ""


def build(ctx: UIContext, model_name: gr.State) -> None:
    gr.Markdown(t("zs.intro"))
    # Three columns, so the first screen (1440×900) holds the picture, its examples and the run button;
    # on a phone they stack in that order, the result last.
    labels = gr.Textbox(label=t("zs.labels"), value=TOY_LABELS, lines=3, render=False)
    with gr.Row():
        with gr.Column(scale=4, min_width=280):
            image = image_input(label=t("zs.image"), sources=["upload", "clipboard", "webcam"], height=230,
                                elem_id="zs-image")
            # Image-only examples render as a strip of thumbnails; a click also sets fitting labels.
            for paths, kind, key in ((example_toys()[:8], "toy", "zs.examples_toy"),
                                     (example_photos(), "photo", "zs.examples_photo")):
                gr.Examples([[p] for p in paths], [image], outputs=[labels], fn=suggested_labels(kind),
                            run_on_click=True, cache_examples=False, label=t(key), api_name=False,
                            examples_per_page=8)
        with gr.Column(scale=3, min_width=260):
            labels.render()
            template = gr.Dropdown(TEMPLATE_CHOICES, value="single", allow_custom_value=True,
                                   label=t("zs.template"), info=t("zs.template_info"))
            run = gr.Button(t("zs.run"), variant="primary", elem_id="zs-run")
        with gr.Column(scale=5, min_width=300):
            warning = gr.Markdown(elem_id="zs-unlike")  # the out-of-world warning, right above the result
            label_out = gr.Label(label=t("zs.result"), num_top_classes=5)
            chart = gr.Plot(label=t("zs.chart"))
            with gr.Row():
                # a 64 px preview: one corner button leaves room for its title; min_width puts the notes
                # below it on a phone instead of squeezing both
                view = gr.Image(label=t("zs.view"), height=160, interactive=False, show_label=True,
                                buttons=["fullscreen"], min_width=200)
                with gr.Column(min_width=160):
                    notes = gr.Markdown()
            restore = ex.Restore([labels, template], restore_inputs, views=["zero_shot_batch"], model=model_name)
            export = ex.export_box("zero_shot", restore=restore)
    root = gr.context.Context.root_block
    if root is not None:
        root.load(locale_inputs, [labels, template], [labels, template], api_visibility="undocumented",
                  show_progress="hidden")
    result_views = [label_out, chart, view, notes, warning]
    # .change, not .upload: a file dropped onto a picture already there replaces it without an upload event
    image.change(check_upload, [image], [image, *result_views], api_visibility="private", show_progress="hidden")

    def on_run(img, labs, tmpl, name, request: gr.Request):
        return classify(ctx, img, labs, tmpl, name, request)

    def on_run_many(fs, labs, tmpl, name, request: gr.Request):
        return classify_many(ctx, fs, labs, tmpl, name, request)

    # the old result is cleared first: if this run fails, no stale numbers stand under the error
    run.click(cleared, None, result_views, api_visibility="private", show_progress="hidden", queue=False).then(
        on_run, [image, labels, template, model_name], [*result_views[:4], warning, export],
        api_visibility="private", concurrency_limit=ctx.concurrency, concurrency_id="encode")
    with gr.Accordion(t("zs.batch"), open=False):
        files = gr.File(label=t("zs.files"), file_count="multiple", file_types=["image"])
        run_many = gr.Button(t("zs.run_batch"))
        table = gr.Dataframe(label=t("zs.table"), interactive=False)
        csv_out = gr.File(label=t("zs.csv"))
        batch_notes = gr.Markdown()
        batch_export = ex.export_box("zero_shot_batch", restore=ex.Restore([labels, template], restore_inputs,
                                                                           views=["zero_shot"], model=model_name))
    run_many.click(on_run_many, [files, labels, template, model_name],
                   [table, csv_out, batch_notes, batch_export], api_visibility="private", concurrency_limit=1,
                   concurrency_id="encode_many")
