"""The Lessons tab's export boxes: each lesson's figure, its numbers (from the experiment, not the translated
table), and a session naming the lesson, its fixed settings and seed, and the model that answered.

Loading a lesson's session back opens that lesson (the experiments take no other input).
"""

from __future__ import annotations

import inspect

import gradio as gr

from clipdemo.serve.service import ModelDetails
from clipdemo.teach import lessons
from clipdemo.teach.language_lesson import language_comparison
from clipdemo.ui import exports as ex

FUNCTIONS = {"templates": lessons.template_comparison, "temperature": lessons.temperature_lesson,
             "gap": lessons.modality_gap, "heldout": lessons.compositional, "counting": lessons.counting_probe,
             "leftright": lessons.left_right_probe, "languages": language_comparison}


def view_of(key: str) -> str:
    return f"lesson_{key}"


def lesson_settings(key: str) -> dict:
    """The experiment's fixed parameters (picture counts, logit scales, seed), read from its signature."""
    params = inspect.signature(FUNCTIONS[key]).parameters
    return {"lesson": key, **{n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty}}


def template_records(res: lessons.TemplateComparison) -> list[dict]:
    return [{"picture": i + 1, "truth": truth, "group": res.groups[i], "templates": name,
             "answer": res.predictions[name][i],
             "probability": res.confidence[name][i], "true_probability": res.true_prob[name][i],
             "correct": res.predictions[name][i] == truth}
            for name in res.predictions for i, truth in enumerate(res.truth)]


def temperature_records(res: lessons.TemperatureLesson) -> list[dict]:
    return [{"logit_scale": scale, "temperature": round(1 / scale, 6), "label": label, "cosine": res.cosine[j],
             "probability": probs[j], "truth": j == res.truth}
            for scale, probs in zip(res.scales, res.probs, strict=True)
            for j, label in enumerate(res.labels)]


def gap_records(res: lessons.ModalityGap) -> list[dict]:
    rows = [{"kind": "image", "index": i, "caption": cap, "x": xy[0], "y": xy[1]}
            for i, (cap, xy) in enumerate(zip(res.captions, res.image_xy, strict=True))]
    return rows + [{"kind": "text", "index": i, "caption": cap, "x": xy[0], "y": xy[1]}
                   for i, (cap, xy) in enumerate(zip(res.captions, res.text_xy, strict=True))]


def gap_numbers(res: lessons.ModalityGap) -> dict:
    return {k: getattr(res, k) for k in ("centroid_distance", "cos_image_image", "cos_text_text", "cos_matched",
                                         "cos_mismatched", "retrieval")}


def probe_records(probe: lessons.Probe) -> list[dict]:
    return [{"picture": i + 1, "group": it.group, "answer": it.options[it.answer], "probability": it.probs[it.answer],
             "truth": it.options[it.truth], "correct": it.correct, "options": " | ".join(it.options)}
            for i, it in enumerate(probe.items)]


def records(key: str, result) -> list[dict]:
    if key == "templates":
        return template_records(result)
    if key == "temperature":
        return temperature_records(result)
    if key == "gap":
        return gap_records(result)
    return probe_records(result)


def payload(key: str, model: ModelDetails, model_name: str | None, fig, result) -> dict:
    settings = lesson_settings(key)
    extra = {"results": gap_numbers(result)} if key == "gap" else {}
    if isinstance(result, lessons.Probe):
        extra = {"results": {"accuracy": result.accuracy(), **result.notes}}
    session = ex.session(model, view_of(key), model_name, settings, seed=settings.get("seed"), **extra)
    return ex.payload(view_of(key), figures={key: ex.png_ready(fig)}, tables={key: records(key, result)},
                      session=session)


def restore_inputs(record: dict) -> tuple:
    """A lesson's session -> the lesson tab to open."""
    key = ex.setting(record, "lesson", choices=list(FUNCTIONS))
    if ex.is_skip(key):
        key = str(record["view"]).removeprefix("lesson_")
    return (gr.Tabs(selected=f"lesson-{key}"),)


def box(key: str, tabs: gr.Tabs, model_name: gr.State) -> gr.State:
    others = [view_of(k) for k in FUNCTIONS if k != key]
    return ex.export_box(view_of(key), restore=ex.Restore([tabs], restore_inputs, views=others, model=model_name))
