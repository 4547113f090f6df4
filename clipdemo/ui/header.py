"""The header: the model picker, and which model is active (always visible).

The picker offers the bundled model, the well-known hub checkpoints and the local folders allowed at
launch (`--allow-folder`). Choosing one loads it once (with a progress indicator, no restart) into the
registry, which keeps at most `--max-models` in memory; the choice is per browser session. The status
line names the active model, its device, dtype and size, and how it scores (softmax or SigLIP's sigmoid).
A model trained in this session's Learn tab appears here under a name for people ("Your model from the
Learn tab …"); no other session's picker or "in memory" line ever shows it.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from clipdemo.core.loading import BUNDLED, KNOWN_MODELS, ModelNotAvailable
from clipdemo.core.registry import is_private
from clipdemo.serve import service
from clipdemo.ui.context import UIContext
from clipdemo.ui.i18n import locale_of, t

STRINGS = {
    "en": {
        "hdr.model": "Model",
        "hdr.model_info": "Loads once, no restart; every tab then uses it. "
                          "● on this machine · ⤓ downloads on first use · ✗ not downloaded (offline)",
        "hdr.details": "Model details: backend, precision, agreement, memory",
        "hdr.summary": "**Active model:** {name} · scores: {scoring}",
        "hdr.scoring.softmax": "softmax over labels",
        "hdr.scoring.sigmoid": "sigmoid per label",
        "hdr.bundled_note": "**The bundled toy CLIP** knows only generated pictures of coloured shapes (8 colours × "
                            "8 shapes): try *red circle* or *three blue squares*; for real photos pick *OpenAI CLIP "
                            "ViT-B/32*.",
        "hdr.offline_title": "A real CLIP without internet",
        "hdr.offline_body": "Prepare it once on a machine with internet: "
                            "`python -m clipdemo download openai/clip-vit-base-patch32 --to models`, then start "
                            "with `CLIPDEMO_MODEL=models python app.py`.",
        "hdr.sigmoid_note": "**SigLIP scores with a sigmoid, not a softmax.** Each label gets its own "
                            "probability that it matches the image, so the numbers need not add up to 100 %, and "
                            "adding a label does not lower the others. Every view uses the sigmoid for this model.",
        "hdr.chinese_note": "**Chinese-CLIP reads Chinese.** Write labels and templates in Chinese, "
                            "e.g. the template `一张{}的照片。`",
        "hdr.status": "**Active model:** {name}{where}  \n{family} · {size} · device **{device}** · dtype **{dtype}** · "
                      "{px} px input · scores: {scores}  \n<small>in memory: {kept} (at most {max})</small>",
        "hdr.size": "{params} parameters, {mb} MB in memory",
        "hdr.softmax": "softmax over labels, logit scale s = {t} (temperature τ = 1/s = {tau})",
        "hdr.sigmoid": "sigmoid per label (scale {s}, bias {b})",
        "hdr.loading": "loading {name} …",
        "hdr.unavailable": "Model not available",
        "hdr.session_model": "Your model from the Learn tab (step {step}, only you see it)",
        "hdr.encoding": "<small>embeddings computed by **{backend}**{agreement}{notice}</small>",
        "hdr.agreement": " · agreement with torch fp32 on {n} check images: same top label {top1}, lowest cosine {cos}",
    },
    "zh-CN": {
        "hdr.model": "模型",
        "hdr.model_info": "只加载一次，无需重启；之后所有标签页都使用它。"
                          "● 本机已有 · ⤓ 首次使用时下载 · ✗ 未下载（离线）",
        "hdr.details": "模型详情：后端、精度、一致性、内存",
        "hdr.summary": "**当前模型**：{name} · 打分：{scoring}",
        "hdr.scoring.softmax": "各标签之间的 softmax",
        "hdr.scoring.sigmoid": "每个标签单独的 sigmoid",
        "hdr.bundled_note": "**内置的玩具 CLIP** 只认识生成的彩色图形图片（8 种颜色 × 8 种形状）：试试 *红色圆形* 或 "
                            "*三个蓝色正方形*；要识别真实照片，请选择 *OpenAI CLIP ViT-B/32*。",
        "hdr.offline_title": "没有网络时使用真正的 CLIP",
        "hdr.offline_body": "在联网的机器上提前下载一次："
                            "`python -m clipdemo download openai/clip-vit-base-patch32 --to models`，"
                            "然后用 `CLIPDEMO_MODEL=models python app.py` 启动。",
        "hdr.sigmoid_note": "**SigLIP 用 sigmoid 而不是 softmax 打分。** 每个标签单独得到一个与图片匹配的概率，"
                            "所以这些数字加起来不必等于 100%，增加一个标签也不会压低其他标签。"
                            "对这个模型，所有视图都使用 sigmoid。",
        "hdr.chinese_note": "**Chinese-CLIP 读中文。** 请用中文写标签和模板，例如模板 `一张{}的照片。`",
        "hdr.status": "**当前模型：** {name}{where}  \n{family} · {size} · 设备 **{device}** · 精度 **{dtype}** · "
                      "输入 {px} 像素 · 打分：{scores}  \n<small>内存中：{kept}（最多 {max} 个）</small>",
        "hdr.size": "{params} 参数，占内存 {mb} MB",
        "hdr.softmax": "在各标签之间做 softmax，logit 缩放 s = {t}（温度 τ = 1/s = {tau}）",
        "hdr.sigmoid": "每个标签单独用 sigmoid（缩放 {s}，偏置 {b}）",
        "hdr.loading": "正在加载 {name} …",
        "hdr.unavailable": "模型不可用",
        "hdr.session_model": "你在“训练”页训练的模型（第 {step} 步，只有你能看到）",
        "hdr.encoding": "<small>嵌入由 **{backend}** 计算{agreement}{notice}</small>",
        "hdr.agreement": " · 在 {n} 张检查图片上与 torch fp32 的一致性：最高标签相同 {top1}，最低余弦 {cos}",
    },
}


# ---------------------------------------------------------------- what the picker offers


# Gradio's dropdown list marks the chosen option with its own ✓; a ✓ of ours read "✓ ✓ clipdemo …"
MARKS = {"local": "●", "download": "⤓", "unavailable": "✗"}


def availability(name: str) -> str:
    """● can load here now, ⤓ will download on first use, ✗ cannot be had (offline and not cached)."""
    return MARKS[service.availability(name)]


# Model names in Chinese: the descriptive part translated, the proper names (CLIP, ViT-B/32) kept
NAMES_ZH = {
    "bundled": "clipdemo 玩具 CLIP（内置）",
    "laion/CLIP-ViT-B-32-laion2B-s34B-b79K": "LAION CLIP ViT-B/32（LAION-2B 数据集）",
    "google/siglip-base-patch16-224": "Google SigLIP B/16（sigmoid 打分）",
    "OFA-Sys/chinese-clip-vit-base-patch16": "Chinese-CLIP ViT-B/16（中文标签）",
    "facebook/metaclip-2-worldwide-b32": "MetaCLIP 2 ViT-B/32（300 多种语言）",
    "google/siglip2-base-patch16-naflex": "SigLIP 2 B/16 NaFlex（sigmoid 打分，任意宽高比）",
}
LOCAL_FOLDER = {"en": " (local folder)", "zh-CN": "（本地文件夹）"}


def model_label(ctx: UIContext, name: str, locale: str = "en") -> str:
    """The service's name for a model, in the visitor's language."""
    return localized_name(ctx.service.display_name(name), name, locale)


def localized_name(text: str, name: str, locale: str = "en") -> str:
    """`text`, the English display name of model `name`, in `locale`."""
    if locale != "zh-CN" or is_private(name):  # a session's own model was named in its language already
        return text
    if name in KNOWN_MODELS and name in NAMES_ZH:
        text = text.replace(KNOWN_MODELS[name], NAMES_ZH[name])
    return text.replace(LOCAL_FOLDER["en"], LOCAL_FOLDER["zh-CN"])


def session_model_label(locale: str, step: int) -> str:
    """What a session's own Learn-tab model is called in its picker and header."""
    return _s(locale, "hdr.session_model", step=step)


def choices(ctx: UIContext, session: str | None = None, locale: str = "en") -> list[tuple[str, str]]:
    return [(f"{MARKS[m.availability]} {localized_name(m.display, m.name, locale)}", m.name)
            for m in ctx.service.models(session).models]


# ---------------------------------------------------------------- what the header says


def _s(locale: str, key: str, **fmt) -> str:
    return STRINGS.get(locale, STRINGS["en"])[key].format(**fmt)


def size_text(n_params: int, n_bytes: int, locale: str = "en") -> str:
    params = f"{n_params / 1e9:.2f}B" if n_params >= 1e9 else f"{n_params / 1e6:.1f}M"
    return _s(locale, "hdr.size", params=params, mb=f"{n_bytes / 2**20:.0f}")


def status_markdown(ctx: UIContext, name: str, locale: str = "en", session: str | None = None) -> str:
    """Active model, family, size, device, dtype, input size, how it scores, what the registry holds
    (for this session: the shared models and its own, never another session's)."""
    m = ctx.service.describe(name, session)
    scores = (_s(locale, "hdr.sigmoid", s=f"{m.logit_scale:.1f}", b=f"{m.logit_bias:+.1f}") if m.scoring == "sigmoid"
              else _s(locale, "hdr.softmax", t=f"{m.logit_scale:.1f}", tau=f"{1 / m.logit_scale:.3f}"))
    kept = ", ".join(f"`{model_label(ctx, n, locale) if is_private(n) or n == BUNDLED else n if n in KNOWN_MODELS else Path(n).name}`"
                     for n in ctx.service.models_in_memory(session))
    private = is_private(name)  # a session model's folder is a server path: not shown
    where = f" — `{m.source}`" if not private and not m.bundled and Path(m.source).is_dir() else ""
    return _s(locale, "hdr.status", name=model_label(ctx, name, locale), where=where, family=m.family,
              size=size_text(m.parameters, m.bytes, locale), device=m.device, dtype=m.dtype,
              px=m.image_size, scores=scores, kept=kept, max=ctx.service.max_models) + \
        "  \n" + encoding_text(m.encoding, locale)


def summary_markdown(ctx: UIContext, name: str, locale: str = "en", session: str | None = None) -> str:
    """The one line on the first screen: which model, how it scores; the rest is one click away."""
    m = ctx.service.describe(name, session)
    return _s(locale, "hdr.summary", name=model_label(ctx, name, locale), scoring=_s(locale, f"hdr.scoring.{m.scoring}"))


def encoding_text(record: dict, locale: str = "en") -> str:
    """Which backend computes embeddings; for any variant of the model, its measured agreement with fp32."""
    names = {"torch": "torch", "openvino": "OpenVINO"}
    found = record.get("agreement")
    agreement = _s(locale, "hdr.agreement", n=found["n_images"], top1=f"{found['top1']:.1%}",
                   cos=f"{min(found['image_min_cos'], found['text_min_cos']):.5f}") if found else ""
    notice = f" · ⚠ {record['notice']}" if record.get("notice") else ""
    return _s(locale, "hdr.encoding", backend=f"{names.get(record['backend'], record['backend'])} "
              f"{record['precision']}", agreement=agreement, notice=notice)


def notes_visibility(ctx: UIContext, name: str) -> tuple[dict, dict, dict]:
    m = ctx.service.describe(name)
    return (gr.update(visible=m.bundled), gr.update(visible=m.scoring == "sigmoid"),
            gr.update(visible=m.family == "chinese_clip"))


def switch_model(ctx: UIContext, name: str, current: str, progress=None, locale: str = "en",
                 session: str | None = None):
    """Load `name` (or find it loaded); on failure stay on `current` and say why."""
    if progress is not None:
        progress(0.05, desc=_s(locale, "hdr.loading", name=model_label(ctx, name, locale)))
    try:
        ctx.service.describe(name, session or "")  # loads it; "" is nobody: a private name needs its own session
    except ModelNotAvailable as e:
        from clipdemo.ui.messages import translate  # messages -> i18n -> header: imported when needed

        gr.Warning(translate(str(e), locale), title=_s(locale, "hdr.unavailable"))
        name = current
    if progress is not None:
        progress(1.0)
    return (name, gr.update(value=name, choices=choices(ctx, session, locale)),
            status_markdown(ctx, name, locale, session),
            *notes_visibility(ctx, name), summary_markdown(ctx, name, locale, session))


def build(ctx: UIContext, model_name: gr.State) -> None:
    default = ctx.service.model_name()

    def current_status(name, request: gr.Request):
        return status_markdown(ctx, name or default, locale_of(request), request.session_hash)

    def current_summary(name, request: gr.Request):
        return summary_markdown(ctx, name or default, locale_of(request), request.session_hash)

    # The first screen is for a class: the picker and one line; engineering detail (device, dtype, backend,
    # agreement with fp32, memory) folds away one click down, so the tabs stay in sight on a phone too.
    with gr.Row(equal_height=False, elem_id="model-header"):
        picker = gr.Dropdown(choices(ctx), value=default, label=t("hdr.model"), allow_custom_value=False, scale=2,
                             elem_id="model-picker")
        with gr.Column(scale=3, elem_id="model-side"):
            # filled at page load, in the visitor's language (an English line would flash on a Chinese page)
            summary = gr.Markdown("", elem_id="model-summary")
            with gr.Accordion(t("hdr.details"), open=False, elem_id="model-details"):
                gr.Markdown(t("hdr.model_info"), elem_classes=["model-marks"])
                status = gr.Markdown("", elem_id="model-status")
                with gr.Accordion(t("hdr.offline_title"), open=False):
                    gr.Markdown(t("hdr.offline_body"))
    visible = notes_visibility(ctx, default)
    with gr.Row(visible=visible[0]["visible"], elem_id="bundled-note", equal_height=False) as bundled_note:
        gr.Markdown(t("hdr.bundled_note"), elem_classes=["bundled-text"])
    sigmoid_note = gr.Markdown(t("hdr.sigmoid_note"), visible=visible[1]["visible"], elem_id="sigmoid-note")
    chinese_note = gr.Markdown(t("hdr.chinese_note"), visible=visible[2]["visible"])

    def on_pick(name, current, request: gr.Request, progress=gr.Progress()):
        return switch_model(ctx, name, current, progress, locale_of(request), request.session_hash)

    def on_model_state(name, request: gr.Request):
        name = name or default
        return (gr.update(value=name, choices=choices(ctx, request.session_hash, locale_of(request))),
                current_status(name, request),
                *notes_visibility(ctx, name), current_summary(name, request))

    root = gr.context.Context.root_block
    if root is not None:  # at page load, say it again in the visitor's language (status and names are made here)
        root.load(on_model_state, [model_name],
                  [picker, status, bundled_note, sigmoid_note, chinese_note, summary],
                  api_visibility="undocumented", show_progress="hidden")

    # Another tab (the Learn tab's "use this model") may switch this session's model: keep the header true,
    # and the picker listing this session's own model (and only its own).
    model_name.change(on_model_state, [model_name],
                      [picker, status, bundled_note, sigmoid_note, chinese_note, summary],
                      api_visibility="undocumented", show_progress="hidden")

    # .select, not .change: putting the picker back after a failed load must not fire another switch; and not
    # .input, which the dropdown fires twice for one choice (on the click and again when it loses focus), so a
    # model that cannot load was refused twice ("Warning (2)")
    picker.select(on_pick, [picker, model_name], [model_name, picker, status, bundled_note, sigmoid_note,
                                                 chinese_note, summary],
                 api_name="switch_model", api_visibility="private", concurrency_limit=1, concurrency_id="load_model",
                 show_progress="full")
