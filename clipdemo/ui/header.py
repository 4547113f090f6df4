"""The header: which model is active (always visible), and the model picker."""

from __future__ import annotations

import gradio as gr

from clipdemo.loading import KNOWN_MODELS, ModelNotAvailable
from clipdemo.ui.context import UIContext
from clipdemo.ui.i18n import t

STRINGS = {
    "en": {
        "hdr.model": "Model",
        "hdr.model_info": "Switching loads the model once; the other tabs use it at once.",
        "hdr.bundled_note": "**You are using the bundled toy CLIP.** It was trained by this project on "
                            "generated pictures of coloured shapes (8 colours × 8 shapes, 1–3 objects, counts, "
                            "sizes, left/right), so it only understands that world. For real photos pick "
                            "*openai/clip-vit-base-patch32* on a machine with internet, or prepare it once: "
                            "`python -m clipdemo download openai/clip-vit-base-patch32`.",
    },
    "zh-CN": {
        "hdr.model": "模型",
        "hdr.model_info": "切换时会加载一次模型，其他标签页立即使用它。",
        "hdr.bundled_note": "**你正在使用内置的玩具 CLIP。** 它由本项目在生成的彩色图形图片上训练"
                            "（8 种颜色 × 8 种形状，1–3 个物体，数量、大小、左右位置），只认识这个世界。"
                            "要识别真实照片，请在联网的机器上选择 *openai/clip-vit-base-patch32*，或提前下载："
                            "`python -m clipdemo download openai/clip-vit-base-patch32`。",
    },
}


def status_line(ctx: UIContext, name: str) -> str:
    enc = ctx.registry.get(name)
    label = KNOWN_MODELS.get(name, name)
    return f"**Active model:** {label} — `{enc.loaded.describe()}`"


def build(ctx: UIContext, model_name: gr.State) -> None:
    with gr.Row(equal_height=True):
        picker = gr.Dropdown(ctx.registry.choices(), value=ctx.registry.default, label=t("hdr.model"),
                             info=t("hdr.model_info"), allow_custom_value=False, scale=1)
        status = gr.Markdown(status_line(ctx, ctx.registry.default))
    note = gr.Markdown(t("hdr.bundled_note"), visible=ctx.registry.get().loaded.is_bundled)

    def switch(name: str, progress=gr.Progress()):
        progress(0.1, desc=f"loading {name}")
        try:
            enc = ctx.registry.get(name)
        except ModelNotAvailable as e:
            raise gr.Error(str(e), title="Model not available") from e
        return name, status_line(ctx, name), gr.update(visible=enc.loaded.is_bundled)

    picker.change(switch, [picker], [model_name, status, note], api_name="switch_model", concurrency_limit=1,
                  concurrency_id="load_model")
