"""Placeholder: this tab is being built (see the issue tracker)."""

from __future__ import annotations

import gradio as gr

from clipdemo.ui.context import UIContext

STRINGS: dict[str, dict[str, str]] = {"en": {}, "zh-CN": {}}


def build(ctx: UIContext, model_name: gr.State) -> None:
    gr.Markdown("Coming soon.")
