"""Learn tab: train a tiny CLIP on the toy world and watch the diagonal emerge.

Two modes: a locked image tower (LiT, the default: the diagonal appears in seconds) and both towers
from scratch (the honest, slow curve). The engine (`clipdemo.teach.live_training`) trains in a background
thread; this tab starts, pauses and stops it, and a gr.Timer polls its snapshot (plain numbers) to
redraw the figures. `learn_start` / `learn_status` are the service's, published with the other endpoints (clipdemo.ui.api).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import gradio as gr

from clipdemo.core.loading import BUNDLED, ModelNotAvailable
from clipdemo.teach.live_training import (
    CONCEPTS,
    IMAGE_TOWERS,
    LANGUAGES,
    LR_CHOICES,
    MODES,
    SLIDERS,
    WIDTH_CHOICES,
    WORLDS,
    LiveConfig,
    LiveTrainingError,
    LiveTrainingManager,
)
from clipdemo.ui import header
from clipdemo.ui.context import UIContext
from clipdemo.ui.i18n import locale_of, t, tr
from clipdemo.ui.learn import export as learn_export
from clipdemo.ui.learn.figures import figures  # noqa: F401 - the tab's figures, drawn apart from its layout
from clipdemo.ui.locale_defaults import defaults_for

POLL_S = 1.5  # how often the browser asks for a new snapshot while a run is active
DEFAULTS = LiveConfig()


def caption_language(request: gr.Request | None) -> str:
    """The Learn tab's caption language until the visitor picks one: the UI's (中文 UI: Chinese captions)."""
    return defaults_for(locale_of(request)).language

STRINGS = {
    "en": {
        "learn.tab": "Learn: train a CLIP",
        "learn.intro": "Train a tiny CLIP here on the server, on pictures of coloured shapes. Each step shows the "
                       "model a batch of N pictures with their captions. It embeds all of them, scores every picture "
                       "against every caption (an N×N matrix) and is pushed to make each picture's own caption — the "
                       "**diagonal** — win its row and its column.",
        "learn.mode": "How to train",
        "learn.mode.locked": "Locked image tower (LiT): fast",
        "learn.mode.scratch": "Both towers from scratch: slow",
        "learn.mode_info": "Locked: the picture encoder is the bundled model's, frozen, and only a new text encoder "
                           "learns to meet it (LiT, Zhai et al. 2022); 15 of the 16 diagonal cells lit up within "
                           "4–38 s here. From scratch: both encoders start random, as CLIP's did (by default a "
                           "small CNN sees the pictures, in a smaller world); colours come first, shapes later. "
                           "With a tiny ViT the shapes had still not separated after 15 minutes in our measurement.",
        "learn.why.title": "Why does a locked image tower learn so fast?",
        "learn.why.body": "A CLIP trained from scratch must learn two things at once: to *see* (which pixels make a circle rather "
                          "than a square) and to *read* (which words go with which picture), and each side only gets a "
                          "useful signal once the other is partly right. Colour is easy to see, so a from-scratch run "
                          "first sorts the pictures by colour — the 2×2 blocks — and shape comes much later.\n\n"
                          "With a **locked image tower** the seeing is already done: the bundled model's image encoder "
                          "was trained for hours on hundreds of thousands of toy pictures, so pictures of different "
                          "colour–shape pairs already lie in different places of the joint space. Training only has to "
                          "move each caption next to its pictures: a smaller problem (the text tower's "
                          "parameters only) aimed at a target that does not move. That is the finding of LiT "
                          "(Zhai et al., *LiT: Zero-Shot Transfer with Locked-image text Tuning*, CVPR 2022): with a "
                          "good pretrained image encoder locked, training only the text side gives strong zero-shot "
                          "models with far less data and compute than training both.\n\n"
                          "Measured on this 2-core server with one training thread "
                          "(`python -m clipdemo.bench.bench_learn`, while the server was busy with other work): **locked image tower** — "
                          "15/16 pictures picked their own caption after 4 s (step 30) in a quiet run and after 38 s "
                          "in a busy one, 16/16 after 10–90 s; **from scratch** — 4–9/16 (the colour blocks) for the "
                          "whole 15 minutes, shapes not yet learned.",
        "learn.tower": "Image encoder (from scratch)",
        "learn.tower.cnn": "small CNN (4 convolutions)",
        "learn.tower.vit": "ViT, like the bundled model",
        "learn.tower_info": "The CLIP paper trained both ResNet (convolutional) and ViT image encoders. From random "
                            "weights on a small CPU, four convolutions learn the shapes within minutes; a tiny ViT "
                            "sorts the colours but not yet the shapes. A locked image tower is always the bundled ViT.",
        "learn.world": "Training pictures",
        "learn.world.pairs": "one object each, of the 16 pairs shown",
        "learn.world.single": "one object each, of any of the 56 seen pairs",
        "learn.world.full": "the whole toy world (counts, pairs, places)",
        "learn.world_info": "A smaller world is learned sooner. Either way the 8 held-out colour–shape pairs never "
                            "appear in training: the red curve measures them honestly.",
        "learn.err.no_folder": "A model with the convolutional image tower cannot be saved as a Hugging Face CLIP "
                               "folder (its image tower is not a ViT). Use it in the other tabs instead.",
        "learn.knobs": "Settings",
        "learn.batch": "Batch size (N pairs per step)",
        "learn.lr": "Learning rate",
        "learn.width": "Width (text encoder; from scratch: both encoders)",
        "learn.concepts": "What the captions mention",
        "learn.concepts_info": "colours and shapes: 'a small red circle'; colours only: 'a photo of something red'; "
                               "shapes only: 'a photo of a circle'",
        "learn.concepts.all": "colours and shapes",
        "learn.concepts.colour": "colours only",
        "learn.concepts.shape": "shapes only",
        "learn.language": "Caption language",
        "learn.language.en": "English",
        "learn.language.zh": "Chinese (中文)",
        "learn.language_info": "the language the captions are written in (the bundled tokenizer reads both)",
        "learn.steps": "Training steps",
        "learn.start": "Start",
        "learn.pause": "Pause",
        "learn.resume": "Resume",
        "learn.reset": "Reset",
        "learn.use": "Use this model in the other tabs",
        "learn.back": "Back to the bundled model",
        "learn.idle": "Press **Start** to train a tiny CLIP. Nothing runs until you do.",
        "learn.status": "**{state}** · {mode} · step {step} / {steps} · {secs:.0f} s since Start · "
                        "{hits}/{n} on the diagonal · {trained:.2f}M of {params:.2f}M parameters trained",
        "learn.status_reason": " · {reason}",
        "learn.state.running": "Training",
        "learn.state.paused": "Paused",
        "learn.state.finished": "Finished",
        "learn.state.stopped": "Stopped",
        "learn.state.error": "Failed",
        "learn.reason.time_limit": "the time limit for one training was reached",
        "learn.reason.idle": "nobody was watching, so it stopped to free the server",
        "learn.reason.user": "stopped by you",
        "learn.reason.reset": "reset",
        "learn.reason.session_end": "the browser tab was closed",
        "learn.reason.error": "error: {error}",
        "learn.reason.done": "all steps done",
        "learn.err.busy": "{running} trainings are already running on this server (the limit is {limit}). "
                          "Try again when one has finished.",
        "learn.err.no_run": "There is no training in this session yet: press Start first.",
        "learn.err.no_model": "This training was reset; start a new one first.",
        "learn.err.bad_knob": "{knob} must lie between {lo} and {hi}.",
        "learn.err.title": "Training",
        "learn.err.untrained": "There is no trained model yet: press Start, let it train a few steps, then use it.",
        "learn.using": "The other tabs now use the model you trained (step {step}). "
                       "*Back to the bundled model* switches back.",
        "learn.using_bundled": "The other tabs use the bundled model.",
        "learn.waiting": "The matrix appears after the first steps.",
        "learn.note.matrix": "**What to look at:** each row is one picture of the fixed batch, each column one "
                             "caption; bright means a high score. At the start the matrix is noise. As training "
                             "goes on, the **diagonal** (each picture with its own caption) lights up and the rest "
                             "darkens. The pictures come in pairs of one colour: colours are learned first, so the "
                             "diagonal first shows as 2×2 squares, which split as the model learns shapes. The "
                             "circles mark the caption each picture picks. With *colours only* the two pictures of "
                             "a colour get the same caption, so their square never splits.",
        "learn.note.loss": "**Loss:** the cross-entropy of picking the right caption for each picture "
                           "(image→text, rows) and the right picture for each caption (text→image, columns). "
                           "Guessing gives ln N (dotted line); the loss falls as the diagonal wins.",
        "learn.note.temperature": "**Logit scale s:** the model learns how much to sharpen its cosines before the "
                                  "softmax: logit = s × cosine, and the temperature is τ = 1/s. A higher s (a lower "
                                  "τ) makes the softmax sharper. CLIP starts at s = 1/0.07 ≈ 14.3 (τ = 0.07) and caps "
                                  "s at 100 (τ = 0.01).",
        "learn.note.accuracy": "**Held-out pairs:** eight colour–shape pairs (e.g. a blue circle) never appear in "
                               "training. The red curve asks the model to name pictures of them among all 64 pairs; "
                               "the green curve does the same for pairs it has seen. Any red success is compositional "
                               "zero-shot: it combines a colour and a shape it learned apart.",
        "learn.note.use": "*Use this model* saves the trained weights and loads them the same way as any other "
                          "model, so Zero-shot, Similarity and Map then show what *your* model learned (in this "
                          "browser tab only).",
        "learn.note.limits": "One training per browser tab and at most {limit} at once on this server; "
                             "a training stops after {minutes:.0f} minutes or when its tab is closed.",
        "learn.fig.matrix.title": "Logits of one fixed batch · step {step} · {hits}/{n} pictures pick their caption",
        "learn.fig.matrix.x": "captions",
        "learn.fig.matrix.y": "pictures",
        "learn.fig.matrix.logit": "logit",
        "learn.fig.matrix.choice": "picked caption",
        "learn.fig.matrix.hover": "picture %{y} · %{customdata}<br>logit %{z:.2f}",
        "learn.fig.loss.title": "Loss, both directions",
        "learn.fig.loss.i2t": "image → text",
        "learn.fig.loss.t2i": "text → image",
        "learn.fig.loss.chance": "guessing: ln N = {v:.2f}",
        "learn.fig.loss.y": "cross-entropy",
        "learn.fig.x": "step",
        "learn.fig.temp.title": "Learned logit scale s = 1/τ",
        "learn.fig.temp.y": "logit scale s",
        "learn.fig.acc.title": "Fixed batch and naming pairs among all 64",
        "learn.fig.acc.diagonal": "fixed batch: picks its own caption (guessing: {v:.0%})",
        "learn.fig.acc.seen": "pairs seen in training",
        "learn.fig.acc.heldout": "held-out pairs (never seen)",
        "learn.fig.acc.chance": "guessing: {v:.1%}",
        "learn.fig.acc.y": "accuracy",
        "learn.fig.empty": "Press Start",
    },
    "zh-CN": {
        "learn.tab": "学习：训练一个 CLIP",
        "learn.intro": "在服务器上训练一个小小的 CLIP，训练数据是彩色图形的图片。每一步给模型看一批 N 张"
                       "图片及其描述。模型把它们全部编码成向量，为每张图片和每条描述打分（一个 N×N 矩阵），并被推动着"
                       "让每张图片自己的描述——也就是**对角线**——在所在的行和列中胜出。",
        "learn.mode": "训练方式",
        "learn.mode.locked": "锁定图像塔（LiT）：快",
        "learn.mode.scratch": "两个塔都从零开始：慢",
        "learn.mode_info": "锁定：图像编码器取自内置模型并冻结，只训练一个新的文本编码器去对准它（LiT，Zhai 等，2022）；"
                           "在这台机器上16 个对角线格子中有 15 个在 4–38 秒内亮起。从零开始：两个编码器都从随机权重开始，就像 CLIP "
                           "本身那样（默认由一个小型 CNN 看图，并使用更小的世界）；先学会颜色，形状较晚。"
                           "在我们的测量中，用小 ViT 时 15 分钟后形状仍未分开。",
        "learn.why.title": "为什么锁定图像塔学得这么快？",
        "learn.why.body": "从零开始训练的 CLIP 必须同时学会两件事：*看*（哪些像素构成圆形而不是正方形）和*读*（哪些词对应哪张图片），"
                          "而每一边只有在另一边部分正确之后才能得到有用的信号。颜色很容易看出来，所以从零开始的训练先按颜色"
                          "把图片分开——也就是那些 2×2 的方块——形状要晚得多才学会。\n\n"
                          "**锁定图像塔**时，“看”的部分已经完成了：内置模型的图像编码器已经在几十万张玩具图片上训练了几个小时，"
                          "不同颜色与形状组合的图片在联合空间中已经处于不同的位置。训练只需要把每条描述移到它的图片旁边："
                          "这是一个更小的问题（只训练文本塔的参数），而且目标不会移动。这正是 LiT 的发现（Zhai 等，"
                          "*LiT: Zero-Shot Transfer with Locked-image text Tuning*，CVPR 2022）：锁定一个好的预训练图像"
                          "编码器、只训练文本一侧，用少得多的数据和算力就能得到很强的零样本模型。\n\n"
                          "在这台 2 核服务器上用一个训练线程测得（`python -m clipdemo.bench.bench_learn`，当时服务器还在忙别的工作）："
                          "**锁定图像塔**——较空闲时 4 秒（第 30 步）后 16 张图片中有 15 张选中了自己的描述，"
                          "很忙时是 38 秒，10–90 秒后达到 16/16；**从零开始**——整整 15 分钟都停留在 4–9/16"
                          "（颜色方块），还没有学会形状。",
        "learn.tower": "图像编码器（从零开始时）",
        "learn.tower.cnn": "小型 CNN（4 个卷积层）",
        "learn.tower.vit": "ViT，与内置模型相同",
        "learn.tower_info": "CLIP 论文同时训练过 ResNet（卷积）和 ViT 两种图像编码器。在小小的 CPU 上从随机权重开始，"
                            "四个卷积层几分钟内就能学会形状；小 ViT 能分开颜色，却还学不会形状。锁定图像塔时总是使用内置的 ViT。",
        "learn.world": "训练图片",
        "learn.world.pairs": "每张一个物体，只用上面显示的 16 个组合",
        "learn.world.single": "每张一个物体，任意 56 个见过的组合",
        "learn.world.full": "整个玩具世界（数量、组合、位置）",
        "learn.world_info": "世界越小，学得越快。无论哪种，8 个留出的颜色–形状组合都不会出现在训练中：红色曲线如实地衡量它们。",
        "learn.err.no_folder": "使用卷积图像塔的模型无法保存为 Hugging Face CLIP 文件夹（它的图像塔不是 ViT）。"
                               "请直接在其他标签页中使用它。",
        "learn.knobs": "设置",
        "learn.batch": "批大小（每步 N 对图文）",
        "learn.lr": "学习率",
        "learn.width": "宽度（文本编码器；从零开始时为两个编码器）",
        "learn.concepts": "描述里提到什么",
        "learn.concepts_info": "颜色和形状：'小的红色圆形'；只有颜色：'一张有红色的东西的照片'；"
                               "只有形状：'一张圆形的照片'（英文描述时：'a small red circle' 等）",
        "learn.concepts.all": "颜色和形状",
        "learn.concepts.colour": "只有颜色",
        "learn.concepts.shape": "只有形状",
        "learn.language": "描述的语言",
        "learn.language.en": "英文",
        "learn.language.zh": "中文",
        "learn.language_info": "训练用的描述用哪种语言书写（内置分词器两种都能读）",
        "learn.steps": "训练步数",
        "learn.start": "开始",
        "learn.pause": "暂停",
        "learn.resume": "继续",
        "learn.reset": "重置",
        "learn.use": "在其他标签页中使用这个模型",
        "learn.back": "换回内置模型",
        "learn.idle": "点击**开始**来训练一个小小的 CLIP。在你点击之前什么也不会运行。",
        "learn.status": "**{state}** · {mode} · 第 {step} / {steps} 步 · 开始后 {secs:.0f} 秒 · "
                        "对角线 {hits}/{n} · 训练了 {params:.2f}M 个参数中的 {trained:.2f}M 个",
        "learn.status_reason": " · {reason}",
        "learn.state.running": "训练中",
        "learn.state.paused": "已暂停",
        "learn.state.finished": "已完成",
        "learn.state.stopped": "已停止",
        "learn.state.error": "失败",
        "learn.reason.time_limit": "达到了单次训练的时间上限",
        "learn.reason.idle": "没有人在看，为了释放服务器资源已停止",
        "learn.reason.user": "你停止了训练",
        "learn.reason.reset": "已重置",
        "learn.reason.session_end": "浏览器标签页已关闭",
        "learn.reason.error": "错误：{error}",
        "learn.reason.done": "所有步骤已完成",
        "learn.err.busy": "这台服务器上已经有 {running} 个训练在运行（上限为 {limit} 个）。请等其中一个结束后再试。",
        "learn.err.no_run": "这个会话里还没有训练：请先点击开始。",
        "learn.err.no_model": "这次训练已被重置；请先开始新的训练。",
        "learn.err.bad_knob": "{knob} 必须在 {lo} 到 {hi} 之间。",
        "learn.err.title": "训练",
        "learn.err.untrained": "还没有训练好的模型：先点击“开始”，训练几步之后再使用它。",
        "learn.using": "其他标签页现在使用你训练的模型（第 {step} 步）。点击*换回内置模型*可以切换回去。",
        "learn.using_bundled": "其他标签页使用内置模型。",
        "learn.waiting": "训练几步之后矩阵就会出现。",
        "learn.note.matrix": "**注意观察**：每一行是固定批次中的一张图片，每一列是一条描述；越亮表示分数越高。"
                             "一开始矩阵只是噪声。随着训练进行，**对角线**（每张图片与它自己的描述）逐渐变亮，"
                             "其余部分变暗。图片按颜色两两成对：模型先学会颜色，所以对角线起初是一个个 2×2 的方块，"
                             "等模型学会形状后方块才会分开。圆圈标出每张图片选中的描述。选择*只有颜色*时，同一颜色"
                             "的两张图片得到相同的描述，所以它们的方块永远不会分开。",
        "learn.note.loss": "**损失**：为每张图片选出正确描述（图像→文本，按行）以及为每条描述选出正确图片"
                           "（文本→图像，按列）的交叉熵。随机猜测的损失是 ln N（虚线）；对角线胜出时损失下降。",
        "learn.note.temperature": "**logit 缩放 s**：模型学习在 softmax 之前把余弦相似度放大多少：logit = s × 余弦"
                                  "相似度，温度 τ = 1/s。s 越大（τ 越小），softmax 越尖锐。CLIP 从 s = 1/0.07 ≈ 14.3"
                                  "（τ = 0.07）开始，s 的上限为 100（τ = 0.01）。",
        "learn.note.accuracy": "**留出的组合**：有八种颜色与形状的组合（例如蓝色圆形）从不出现在训练中。红色曲线让模型"
                               "在全部 64 种组合中说出这些图片是什么；绿色曲线对训练中见过的组合做同样的测试。"
                               "红色曲线上的任何成功都是组合式零样本：模型把分别学到的颜色和形状组合了起来。",
        "learn.note.use": "*使用这个模型*会保存训练好的权重，并像加载其他模型一样加载它，"
                          "这样零样本、相似度和地图标签页就会显示*你的*模型学到了什么（仅在这个浏览器标签页中）。",
        "learn.note.limits": "每个浏览器标签页只能有一个训练，这台服务器同时最多 {limit} 个；"
                             "训练在 {minutes:.0f} 分钟后或标签页关闭时停止。",
        "learn.fig.matrix.title": "一个固定批次的 logits · 第 {step} 步 · {hits}/{n} 张图片选中了自己的描述",
        "learn.fig.matrix.x": "描述",
        "learn.fig.matrix.y": "图片",
        "learn.fig.matrix.logit": "logit",
        "learn.fig.matrix.choice": "选中的描述",
        "learn.fig.matrix.hover": "图片 %{y} · %{customdata}<br>logit %{z:.2f}",
        "learn.fig.loss.title": "两个方向的损失",
        "learn.fig.loss.i2t": "图像 → 文本",
        "learn.fig.loss.t2i": "文本 → 图像",
        "learn.fig.loss.chance": "随机猜测：ln N = {v:.2f}",
        "learn.fig.loss.y": "交叉熵",
        "learn.fig.x": "步数",
        "learn.fig.temp.title": "学到的 logit 缩放 s = 1/τ",
        "learn.fig.temp.y": "logit 缩放 s",
        "learn.fig.acc.title": "固定批次，以及在全部 64 种组合中说出组合",
        "learn.fig.acc.diagonal": "固定批次：选中自己的描述（随机猜测：{v:.0%}）",
        "learn.fig.acc.seen": "训练中见过的组合",
        "learn.fig.acc.heldout": "留出的组合（从未见过）",
        "learn.fig.acc.chance": "随机猜测：{v:.1%}",
        "learn.fig.acc.y": "准确率",
        "learn.fig.empty": "点击开始",
    },
}


def manager_of(ctx: UIContext) -> LiveTrainingManager:
    """One manager per server, kept in the context (app.py puts the configured one there first)."""
    if "live_training" not in ctx.extra:  # not setdefault: that would build (and drop) one every time
        ctx.extra["live_training"] = LiveTrainingManager()
    return ctx.extra["live_training"]


def session_of(request: gr.Request | None) -> str:
    sid = getattr(request, "session_hash", None)
    if not sid:
        raise gr.Error("No browser session.")
    return sid


def training_error(request, e: LiveTrainingError) -> gr.Error:
    return gr.Error(tr(request, f"learn.err.{e.code}", **e.info), title=tr(request, "learn.err.title"))


def status_text(request, snap: dict | None) -> str:
    if snap is None:
        return tr(request, "learn.idle")
    hits = snap["diagonal"]["hits"]
    text = tr(request, "learn.status", state=tr(request, f"learn.state.{snap['state']}"),
              mode=tr(request, f"learn.mode.{snap['mode']}"), step=snap["step"], steps=snap["steps"],
              secs=snap["wall_s"], hits=hits[-1] if hits else 0, n=len(snap["captions"]),
              trained=snap["n_trained"] / 1e6, params=snap["n_params"] / 1e6)
    if snap["reason"] and snap["state"] != "running":
        reason = tr(request, f"learn.reason.{snap['reason']}", error=snap["error"])
        text += tr(request, "learn.status_reason", reason=reason)
    return text


def figure_keys(snap: dict | None) -> list | None:
    """What each figure shows, to skip redrawing the ones that did not change."""
    if snap is None:
        return None
    return [[snap["session"], snap["logits_step"]], [snap["session"], snap["step"]], [snap["session"], snap["step"]],
            [snap["session"], len(snap["accuracy"]["step"]), len(snap["diagonal"]["step"])]]


def build(ctx: UIContext, model_name: gr.State) -> None:
    manager = manager_of(ctx)
    gr.Markdown(t("learn.intro"))
    with gr.Accordion(t("learn.why.title"), open=False):
        gr.Markdown(t("learn.why.body"))
    # Holds this session's id once it trains, so Gradio's state clean-up can stop the run as well.
    def forget(sid) -> None:  # the run stops and this session's trained model is freed with it (issue #11)
        ctx.service.drop_session(sid)  # first: the run's release below then collects the model too
        manager.reset(sid)

    session = gr.State(None, delete_callback=lambda sid: forget(sid) if sid else None)
    marker = gr.State(None)  # what the figures show now (figure_keys)
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            with gr.Group():
                mode = gr.Radio([(t(f"learn.mode.{m}"), m) for m in MODES], value=DEFAULTS.mode, label=t("learn.mode"),
                                info=t("learn.mode_info"), elem_id="learn-mode")
                tower = gr.Radio([(t(f"learn.tower.{k}"), k) for k in IMAGE_TOWERS], value=DEFAULTS.image_tower,
                                 label=t("learn.tower"), info=t("learn.tower_info"), elem_id="learn-tower")
                world = gr.Radio([(t(f"learn.world.{k}"), k) for k in WORLDS], value=DEFAULTS.world,
                                 label=t("learn.world"), info=t("learn.world_info"), elem_id="learn-world")
                batch = gr.Slider(*SLIDERS["batch_size"][:2], value=DEFAULTS.batch_size, step=SLIDERS["batch_size"][2], label=t("learn.batch"))
                lr = gr.Dropdown(LR_CHOICES, value=DEFAULTS.lr, label=t("learn.lr"))
                width = gr.Dropdown(WIDTH_CHOICES, value=DEFAULTS.width, label=t("learn.width"))
                concepts = gr.Radio([(t(f"learn.concepts.{c}"), c) for c in CONCEPTS], value=DEFAULTS.concepts,
                                    label=t("learn.concepts"), info=t("learn.concepts_info"))
                language = gr.Radio([(t(f"learn.language.{k}"), k) for k in LANGUAGES], value=DEFAULTS.language,
                                    label=t("learn.language"), info=t("learn.language_info"), elem_id="learn-language")
                steps = gr.Slider(*SLIDERS["steps"][:2], value=DEFAULTS.steps, step=SLIDERS["steps"][2], label=t("learn.steps"))
            with gr.Row():
                start = gr.Button(t("learn.start"), variant="primary", min_width=80)
                pause = gr.Button(t("learn.pause"), min_width=80)
            with gr.Row():
                resume = gr.Button(t("learn.resume"), min_width=80)
                reset = gr.Button(t("learn.reset"), variant="stop", min_width=80)
            status = gr.Markdown(t("learn.idle"), elem_id="learn-status")
            gr.Markdown(t("learn.note.matrix"))
            use = gr.Button(t("learn.use"), variant="primary", interactive=False)  # enabled once there is a model
            back = gr.Button(t("learn.back"))
            using = gr.Markdown()
            gr.Markdown(t("learn.note.use"))
            limits = gr.Markdown()  # filled on page load, in the visitor's language
        with gr.Column(scale=2):
            matrix = gr.Plot(show_label=False)
    with gr.Row():
        with gr.Column():
            loss = gr.Plot(show_label=False)
            gr.Markdown(t("learn.note.loss"))
        with gr.Column():
            temperature = gr.Plot(show_label=False)
            gr.Markdown(t("learn.note.temperature"))
        with gr.Column():
            accuracy = gr.Plot(show_label=False)
            gr.Markdown(t("learn.note.accuracy"))
    learn_export.box(manager, [mode, batch, lr, width, concepts, steps, language, tower, world])  # files from a snapshot when asked
    timer = gr.Timer(POLL_S, active=False)
    plots = [matrix, loss, temperature, accuracy]

    def trained(snap: dict | None) -> dict:  # "Use this model" only once there is one to use
        return gr.update(interactive=bool(snap and snap.get("step")))

    def redraw(request: gr.Request, snap: dict | None):
        active = snap is not None and snap["state"] in ("running", "paused")
        return (status_text(request, snap), *figures(request, snap), gr.Timer(active=active), figure_keys(snap),
                trained(snap))

    def on_start(m, b, rate, w, c, n, lang, tw, wo, request: gr.Request):
        sid = session_of(request)
        mode_defaults = LiveConfig.for_mode(m or DEFAULTS.mode)  # what the tab has no knob for (layers, ...)
        cfg = replace(mode_defaults, batch_size=int(b), lr=float(rate), width=int(w), concepts=c or "all",
                      steps=int(n), language=lang or caption_language(request),
                      image_tower=tw or mode_defaults.image_tower, world=wo or mode_defaults.world)
        try:
            snap = manager.start(sid, cfg)
        except LiveTrainingError as e:
            raise training_error(request, e) from e
        return sid, *redraw(request, snap)

    def control(action: str):
        def handler(request: gr.Request):
            try:
                snap = getattr(manager, action)(session_of(request))
            except LiveTrainingError as e:
                raise training_error(request, e) from e
            return redraw(request, snap)
        return handler

    def on_tick(last, request: gr.Request):
        snap = manager.snapshot(session_of(request))
        keys = figure_keys(snap)
        if snap is None or last is None or len(last) != len(keys):
            return redraw(request, snap)
        # Redraw only the figures whose numbers changed: building figures holds the GIL the training needs.
        stale = [k != old for k, old in zip(keys, last, strict=True)]
        drawn = figures(request, snap, which=stale)
        active = snap["state"] in ("running", "paused")
        return (status_text(request, snap), *drawn, gr.Timer(active=active), keys, trained(snap))

    def on_reset(current: str | None, request: gr.Request):
        sid = session_of(request)
        mine = {str(f.resolve()) for f in manager.exported_folders(sid)} | set(ctx.service.session_models(sid))
        forget(sid)
        name = BUNDLED if current in mine else current
        return (*redraw(request, None), name, "" if name == current else tr(request, "learn.using_bundled"))

    def on_use(request: gr.Request):
        sid = session_of(request)
        if not (manager.snapshot(sid) or {}).get("step"):  # the button is disabled then; an API call still gets here
            raise gr.Error(tr(request, "learn.err.untrained"), title=tr(request, "learn.err.title"))
        try:
            # private to this session, named for people (clipdemo.core.registry; issue #11)
            label = header.session_model_label(locale_of(request), manager.snapshot(sid)["step"])
            name = ctx.service.add_session_trained(sid, partial(manager.trained_model, sid), label)
        except LiveTrainingError as e:
            raise training_error(request, e) from e
        except ModelNotAvailable as e:
            raise gr.Error(str(e), title=tr(request, "learn.err.title")) from e
        return name, tr(request, "learn.using", step=manager.snapshot(sid)["step"])

    outputs = [status, *plots, timer, marker, use]
    start.click(on_start, [mode, batch, lr, width, concepts, steps, language, tower, world], [session, *outputs], api_name="learn_start_ui",
                api_visibility="undocumented", concurrency_limit=2, concurrency_id="learn_control")
    ctx.service.attach_training(manager)  # /learn_start and /learn_status: published by clipdemo.ui.api

    def on_mode(m):  # each mode's own defaults (from scratch: its own image tower, world, steps)
        cfg = LiveConfig.for_mode(m or DEFAULTS.mode)
        return cfg.lr, cfg.width, cfg.steps, cfg.image_tower, cfg.world, cfg.batch_size

    mode.input(on_mode, [mode], [lr, width, steps, tower, world, batch], api_visibility="private", show_progress="hidden")
    # the buttons return the tab's own components: callable (the tests drive them) but not documented API;
    # API clients use learn_start / learn_status
    pause.click(control("pause"), None, outputs, api_name="learn_pause", api_visibility="undocumented", concurrency_id="learn_control")
    resume.click(control("resume"), None, outputs, api_name="learn_resume", api_visibility="undocumented", concurrency_id="learn_control")
    reset.click(on_reset, [model_name], [*outputs, model_name, using], api_name="learn_reset", api_visibility="undocumented",
                concurrency_id="learn_control")
    timer.tick(on_tick, [marker], outputs, show_progress="hidden", concurrency_limit=8, concurrency_id="learn_poll",
               api_visibility="undocumented", trigger_mode="always_last")
    use.click(on_use, None, [model_name, using], api_name="learn_use_model", api_visibility="undocumented", concurrency_limit=1,
              concurrency_id="load_model")
    def on_back(request: gr.Request):
        return BUNDLED, tr(request, "learn.using_bundled")

    def on_unload(request: gr.Request):  # the tab closed: stop the run and free its memory at once
        forget(request.session_hash)

    def on_load(request: gr.Request):
        note = tr(request, "learn.note.limits", limit=manager.max_running, minutes=manager.time_limit_s / 60)
        return (*figures(request, None), note, caption_language(request))

    back.click(on_back, None, [model_name, using], api_name="learn_use_bundled", api_visibility="undocumented")
    demo = gr.context.Context.root_block
    if demo is not None:
        demo.load(on_load, None, [*plots, limits, language], api_visibility="undocumented", show_progress="hidden")
        demo.unload(on_unload)
