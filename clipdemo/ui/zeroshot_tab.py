"""Zero-shot tab: an image and some labels in, the label whose prompt lies closest out."""

from __future__ import annotations

import csv
from pathlib import Path

import gradio as gr
import plotly.graph_objects as go

from clipdemo.templates import TEMPLATE_SETS
from clipdemo.ui import exports as ex
from clipdemo.ui import scratch
from clipdemo.ui.context import USER_ERRORS, UIContext, example_photos, example_toys, user_error
from clipdemo.ui.i18n import t
from clipdemo.ui.inputs import image_input
from clipdemo.zeroshot import parse_labels  # the labels as given, for the session

TEMPLATE_CHOICES = list(TEMPLATE_SETS)  # single, imagenet7, imagenet80, bare
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
                            "(embeddings averaged per label) · bare: the label alone · or type your own with {}",
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
    },
    "zh-CN": {
        "zs.tab": "零样本分类",
        "zs.intro": "CLIP 从未见过你的标签。它把每个标签写成提示语，例如 *a photo of a {label}.*，用文本编码器"
                    "得到提示语的向量，再选出与图片向量最接近的那个标签。**注意观察**：换一个模板或加一个近义词，"
                    "概率会怎样变化。",
        "zs.image": "图片",
        "zs.labels": "标签（用逗号分隔或每行一个）",
        "zs.template": "提示模板",
        "zs.template_info": "single：'a photo of a {}.' · imagenet7 / imagenet80：OpenAI 的模板集成（每个标签的"
                            "向量取平均）· bare：只用标签本身 · 也可以输入含 {} 的自定义模板",
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
    },
}


def bar_chart(top: list[tuple[str, float, float]], sigmoid: bool) -> go.Figure:
    labels = [lab for lab, _, _ in top][::-1]
    probs = [p for _, p, _ in top][::-1]
    cos = [c for _, _, c in top][::-1]
    fig = go.Figure(go.Bar(
        x=probs, y=labels, orientation="h", marker_color="#4f7cff",
        text=[f"{p:.1%} · cos {c:+.3f}" for p, c in zip(probs, cos, strict=True)], textposition="auto",
        hovertemplate="%{y}<br>p = %{x:.3f}<br>%{text}<extra></extra>"))
    fig.update_layout(
        xaxis=dict(range=[0, 1], tickformat=".0%",
                   title="sigmoid probability (each label on its own)" if sigmoid else "softmax probability"),
        height=max(250, 34 * len(labels) + 124), margin=dict(l=10, r=10, t=44, b=40), template="plotly_white")
    return ex.png_ready(fig)


def _notes(result) -> str:
    lines = [f"- {n}" for n in result.notices]
    kind = "sigmoid (SigLIP)" if result.scoring == "sigmoid" else "softmax over the labels"
    lines.append(f"- {len(result.labels)} labels × {len(result.templates)} template(s); scores: {kind} at "
                 f"logit scale s = {result.logit_scale:.1f} (temperature τ = 1/s = {1 / result.logit_scale:.3f})")
    return "\n".join(lines)


def classify(ctx: UIContext, image, labels: str, template: str, model_name: str | None = None):
    """(image, labels, template) -> {label: probability}, chart, model view, notes, and the export box's payload."""
    encoder = ctx.encoder(model_name)
    try:
        result = ctx.service.zero_shot(image, labels, template or "single", model_name or "")
        view = ctx.service.model_view(image, model_name or "")
    except USER_ERRORS as e:
        raise user_error(e) from e
    top = list(zip(result.labels, result.probabilities, result.cosine, strict=True))
    confidences = {lab: p for lab, p, _ in top}
    fig = bar_chart(top[:10], result.scoring == "sigmoid")
    name = Path(image).name if isinstance(image, (str, Path)) else "image"
    result.image = name
    export = ex.payload("zero_shot", figures={"chart": fig}, tables={"scores": result.rows()},
                        session=ex.session(encoder, "zero_shot", model_name, {"template": template or "single"},
                                           parse_labels(labels).labels, result.templates, images=[name]))
    return confidences, fig, view, _notes(result), export


def classify_many(ctx: UIContext, files, labels: str, template: str, model_name: str | None = None):
    encoder = ctx.encoder(model_name)
    if not files:
        raise gr.Error("Add some images first.")
    try:
        batch = ctx.service.zero_shot_batch([getattr(f, "name", f) for f in files], labels, template or "single",
                                            model_name or "")
    except USER_ERRORS as e:
        raise user_error(e) from e
    rows = []
    for res in batch.results:
        top = list(zip(res.labels, res.probabilities, res.cosine, strict=True))[:3]
        rows.append([res.image] + [v for lab, p, c in top for v in (lab, round(p, 4), round(c, 4))])
    header = ["image"] + [h for k in range(1, 4) for h in (f"label {k}", f"p {k}", f"cos {k}")]
    rows = [r + [""] * (len(header) - len(r)) for r in rows]
    out = scratch.new_folder("zs-") / "zero_shot.csv"
    with out.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    first = batch.results[0]
    first.notices = batch.notices
    notes = _notes(first) + "".join(f"\n- skipped: {p}" for p in batch.skipped)
    names = [res.image for res in batch.results]
    export = ex.payload("zero_shot_batch", tables={"scores": [row for res in batch.results for row in res.rows()]},
                        session=ex.session(encoder, "zero_shot_batch", model_name, {"template": template or "single"},
                                           batch.labels, batch.templates, images=names))
    return gr.update(value=rows, headers=header), str(out), notes, export


def restore_inputs(record: dict) -> tuple:
    """A zero-shot session -> (labels text, template): the labels as typed (comma separated), the template choice."""
    labels = ex.text_list(record, "labels")
    template = ex.setting(record, "template", kind=str)
    sep = "\n" if any("," in lab for lab in labels) else ", "
    return (sep.join(labels) if labels else gr.skip()), template


def build(ctx: UIContext, model_name: gr.State) -> None:
    gr.Markdown(t("zs.intro"))
    with gr.Row():
        with gr.Column(scale=1):
            image = image_input(label=t("zs.image"), sources=["upload", "clipboard", "webcam"], height=300)
            labels = gr.Textbox(label=t("zs.labels"), value=TOY_LABELS, lines=3)
            template = gr.Dropdown(TEMPLATE_CHOICES, value="single", allow_custom_value=True,
                                   label=t("zs.template"), info=t("zs.template_info"))
            run = gr.Button(t("zs.run"), variant="primary")
        with gr.Column(scale=1):
            label_out = gr.Label(label=t("zs.result"), num_top_classes=5)
            chart = gr.Plot(label=t("zs.chart"))
            with gr.Row():
                view = gr.Image(label=t("zs.view"), height=160, interactive=False, show_label=True)
                notes = gr.Markdown()
            restore = ex.Restore([labels, template], restore_inputs, views=["zero_shot_batch"], model=model_name)
            export = ex.export_box("zero_shot", restore=restore)
    # Image-only examples render as a strip of thumbnails (no table headers); a click also sets fitting labels.
    for paths, suggested, key in ((example_toys()[:8], TOY_LABELS, "zs.examples_toy"),
                                  (example_photos(), PHOTO_LABELS, "zs.examples_photo")):
        gr.Examples([[p] for p in paths], [image], outputs=[labels], fn=lambda _path, s=suggested: s,
                    run_on_click=True, cache_examples=False, label=t(key), api_name=False)
    run.click(lambda *a: classify(ctx, *a), [image, labels, template, model_name],
              [label_out, chart, view, notes, export], api_visibility="private", concurrency_limit=ctx.concurrency,
              concurrency_id="encode")
    with gr.Accordion(t("zs.batch"), open=False):
        files = gr.File(label=t("zs.files"), file_count="multiple", file_types=["image"])
        run_many = gr.Button(t("zs.run_batch"))
        table = gr.Dataframe(label=t("zs.table"), interactive=False)
        csv_out = gr.File(label=t("zs.csv"))
        batch_notes = gr.Markdown()
        batch_export = ex.export_box("zero_shot_batch", restore=ex.Restore([labels, template], restore_inputs,
                                                                           views=["zero_shot"], model=model_name))
    run_many.click(lambda *a: classify_many(ctx, *a), [files, labels, template, model_name],
                   [table, csv_out, batch_notes, batch_export], api_visibility="private", concurrency_limit=1,
                   concurrency_id="encode_many")
