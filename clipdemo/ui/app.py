"""Assemble the tabs into one Gradio Blocks app."""

from __future__ import annotations

import gradio as gr
from starlette.middleware import Middleware

from clipdemo.ui import api, header, learn_tab, lessons_tab, map_tab, similarity_tab, zeroshot_tab
from clipdemo.ui.context import UIContext
from clipdemo.ui.guard import NoRemoteFiles
from clipdemo.ui.i18n import build_i18n, t
from clipdemo.ui.no_fetch import NoRemoteInputs

CSS = """
.gradio-container {max-width: 1400px !important}
"""

CACHE_SWEEP = (3600, 6 * 3600)  # (every, older than) seconds: Gradio's upload/output cache
SESSION_STATES = 1000  # sessions whose gr.State (embeddings, maps) the server keeps; Gradio's default is 10000

TABS = (("zs.tab", zeroshot_tab), ("sim.tab", similarity_tab), ("map.tab", map_tab), ("learn.tab", learn_tab),
        ("lessons.tab", lessons_tab))


def build_app(ctx: UIContext) -> gr.Blocks:
    # no telemetry or version check: nothing leaves the machine at run time (offline classrooms);
    # uploads and outputs older than 6 h are swept hourly, so a long-running server's disk stays bounded
    with gr.Blocks(title="clipdemo", analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown("## " + t("app.title"))
        gr.Markdown(t("app.subtitle"))
        model_name = gr.State(ctx.registry.default)
        header.build(ctx, model_name)
        with gr.Tabs():
            for key, module in TABS:
                with gr.Tab(t(key), id=key.split(".")[0]):
                    module.build(ctx, model_name)
        api.publish(ctx.service, ctx.concurrency)  # the public API: named endpoints on the service layer
    return demo


def launch_kwargs(max_file_size: str = "25mb") -> dict:
    return dict(i18n=build_i18n(), css=CSS, theme=gr.themes.Soft(), max_file_size=max_file_size,
                footer_links=["api", "settings"], app_kwargs={"middleware": [Middleware(NoRemoteFiles), Middleware(NoRemoteInputs)]},
                state_session_capacity=SESSION_STATES)
