"""What every lesson's view shares: its words, its per-picture table, the note against a flat 100%, and each
count with its 95% interval and verdict (never a finding on an interval that covers guessing)."""

from __future__ import annotations

import gradio as gr

from clipdemo.teach import lessons
from clipdemo.teach.stats import Share
from clipdemo.ui.i18n import locale_of, tr


def _words(request, prefix: str, keys: tuple[str, ...], **extra_fmt) -> dict[str, str]:
    words = {k: tr(request, f"lessons.{prefix}.{k}") for k in keys}
    words.update(accuracy=tr(request, "lessons.accuracy"), chance=tr(request, "lessons.chance"),
                 chance_marker=tr(request, "lessons.chance_marker"), interval=tr(request, "lessons.interval_name"),
                 **{f"verdict.{v}": tr(request, f"lessons.verdict_short.{v}") for v in VERDICTS})
    if extra_fmt:
        words["title"] = tr(request, f"lessons.{prefix}.title", **extra_fmt)
    return words


def _table(request, probe: lessons.Probe, prefix: str, group: str | None = None):
    """One row per picture: the model's answer, its probability, the right answer, the guessing rate."""
    headers = ["#", tr(request, "lessons.col.group"), tr(request, "lessons.col.answer"), tr(request, "lessons.col.p"),
               tr(request, "lessons.col.truth"), tr(request, "lessons.col.chance")]
    rows = []
    for i, it in enumerate(probe.items):
        if group is None or it.group == group:
            mark = tr(request, "lessons.right" if it.correct else "lessons.wrong")
            rows.append([i + 1, tr(request, f"lessons.{prefix}.group.{it.group}") if prefix else it.group,
                         f"{mark} {it.options[it.answer]}", round(it.probs[it.answer], 3), it.options[it.truth],
                         f"{1 / len(it.options):.0%}"])
    return gr.update(value=rows, headers=headers)


def _flat_note(request, probe: lessons.Probe) -> str:
    """Said instead of letting a flat 100% pass for a finding."""
    if not probe.all_right:
        return ""
    return "\n\n" + tr(request, "lessons.flat", n=len(probe.items), chance=probe.chance())


def _model_line(request, name: str) -> str:
    # the service imports the lessons' engine; importing it lazily keeps this view module light
    from clipdemo.serve.service import display_name
    from clipdemo.ui.header import localized_name  # the header's names for models, in the visitor's language

    return tr(request, "lessons.model", model=localized_name(display_name(name), name, locale_of(request)))


VERDICTS = ("above", "below", "guessing")


def _share_line(request, label: str, s: Share) -> str:
    """"held-out pairs: **88%** (14/16; 95% interval 64–97%) · above guessing (2%)"."""
    return tr(request, "lessons.share", label=label, v=s.value, k=s.right, n=s.n, lo=s.low, hi=s.high) + " · " + \
        tr(request, f"lessons.verdict.{s.verdict}", chance=s.chance)


def _shares_block(request, rows: list[tuple[str, Share]]) -> str:
    """One line per count, and the rule the verdicts follow."""
    return "\n".join(f"- {_share_line(request, label, s)}" for label, s in rows) + "\n\n" + \
        tr(request, "lessons.interval_rule")
