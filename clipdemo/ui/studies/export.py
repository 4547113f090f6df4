"""The Few-shot & compare tab's exports: the figure, the numbers per k (or per label), and a session naming the
settings and the model(s) that answered."""

from __future__ import annotations

from clipdemo.serve.service import ModelDetails
from clipdemo.serve.studies import FewShot, ModelComparison
from clipdemo.ui import exports as ex


def few_shot_payload(result: FewShot, fig, model: ModelDetails, model_name: str, settings: dict) -> dict:
    session = ex.session(model, "few_shot", model_name, settings, labels=result.classes, templates=result.templates)
    return ex.payload("few_shot", figures={"curve": fig}, tables={"accuracy": result.rows()}, session=session)


def compare_payload(result: ModelComparison, fig, model: ModelDetails, settings: dict) -> dict:
    session = ex.session(model, "compare_models", result.model_a, {**settings, "model_b": result.model_b},
                         labels=result.labels)
    return ex.payload("compare_models", figures={"scores": fig}, tables={"scores": result.rows()}, session=session)
