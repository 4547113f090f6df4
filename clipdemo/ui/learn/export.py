"""The Learn tab's export box: the training's figures, its history and logits, and a session with its knobs.

The numbers live in a background training, so the files are made from a snapshot taken when the button
is pressed (the export box's `make=`). The session's settings are the whole training config (batch size,
learning rate, width, concepts, steps, seed, ...); loading it back sets the tab's knobs.
"""

from __future__ import annotations

import gradio as gr

from clipdemo.serve import exports
from clipdemo.teach.live_training import (
    CONCEPTS,
    IMAGE_TOWERS,
    LANGUAGES,
    LR_CHOICES,
    MODES,
    SLIDERS,
    WIDTH_CHOICES,
    WORLDS,
)
from clipdemo.ui import exports as ex
from clipdemo.ui.learn.figures import figures

VIEW = "learn"
# no checkpoint id: the model is the training the settings describe
MODEL = {"locked": "learn:locked-image-tower", "scratch": "learn:from-scratch"}  # + the tower in the settings
SOURCE = {"locked": "trained in the Learn tab: the bundled model's image tower, frozen, and a new text tower (LiT)",
          "scratch": "trained from scratch in the Learn tab"}
BATCH_RANGE, STEPS_RANGE = SLIDERS["batch_size"][:2], SLIDERS["steps"][:2]  # the tab's sliders


def history_records(snap: dict) -> list[dict]:
    """One row per training step: step, loss (mean and both directions), learned logit scale s (= 1/τ)."""
    h = snap["history"]
    return [{k: h[k][i] for k in h} for i in range(len(h["step"]))]


def accuracy_records(snap: dict) -> list[dict]:
    a = snap["accuracy"]
    return [{"step": a["step"][i], "seen": a["seen"][i], "heldout": a["heldout"][i]} for i in range(len(a["step"]))]


def diagonal_records(snap: dict) -> list[dict]:
    """Pictures of the fixed batch that pick their own caption, against step and seconds since Start."""
    d, n = snap["diagonal"], len(snap["captions"])
    return [{"step": st, "seconds": sec, "diagonal_hits": h, "fixed_batch": n}
            for st, sec, h in zip(d["step"], d["seconds"], d["hits"], strict=True)]


def logits_records(snap: dict) -> list[dict]:
    """The fixed batch's logit matrix, one row per (picture, caption); picture i's own caption is caption i."""
    caps = snap["captions"]
    return [{"step": snap["logits_step"], "picture": i, "own_caption": caps[i], "caption_index": j,
             "caption": caps[j], "logit": v} for i, row in enumerate(snap["logits"]) for j, v in enumerate(row)]


def session_record(snap: dict) -> dict:
    cfg = dict(snap["config"])
    mode = snap.get("mode", cfg.get("mode", "scratch"))
    return exports.session_record(
        VIEW, MODEL[mode], cfg, labels=(), templates=(), seed=cfg.get("seed"), step=snap["step"], state=snap["state"],
        captions=list(snap["captions"]),
        model_info={"family": "clip", "source": SOURCE[mode], "parameters": snap["n_params"],
                    "trained_parameters": snap["n_trained"]})


def payload(snap: dict | None, request: gr.Request | None = None) -> dict | None:
    if snap is None:
        return None
    matrix, loss, logit_scale, accuracy = (ex.png_ready(f) for f in figures(request, snap))
    tables = {"history": history_records(snap), "accuracy": accuracy_records(snap), "diagonal": diagonal_records(snap),
              "logits": logits_records(snap)}
    return ex.payload(VIEW, figures={"logits": matrix, "loss": loss, "logit_scale": logit_scale,
                                     "accuracy": accuracy}, tables=tables, session=session_record(snap))


def restore_inputs(record: dict) -> tuple:
    """A Learn session -> (mode, batch size, learning rate, width, concepts, steps, caption language, image tower,
    training world)."""
    s = ex.setting
    return (s(record, "mode", choices=MODES), s(record, "batch_size", lo=BATCH_RANGE[0], hi=BATCH_RANGE[1]), s(record, "lr", choices=LR_CHOICES),
            s(record, "width", choices=WIDTH_CHOICES), s(record, "concepts", choices=CONCEPTS),
            s(record, "steps", lo=STEPS_RANGE[0], hi=STEPS_RANGE[1]), s(record, "language", choices=LANGUAGES),
            s(record, "image_tower", choices=IMAGE_TOWERS), s(record, "world", choices=WORLDS))


def box(manager, knobs: list) -> gr.State:
    """The export accordion for this session's training; `knobs` are the inputs a session fills."""

    def make(request: gr.Request):
        sid = getattr(request, "session_hash", None)
        return payload(manager.snapshot(sid), request) if sid else None

    return ex.export_box(VIEW, restore=ex.Restore(knobs, restore_inputs), make=make)
