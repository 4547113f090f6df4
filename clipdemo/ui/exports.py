"""A small export box any tab can add: the figure as HTML, the numbers as CSV/JSON, a session JSON.

Use in a tab's build():

    from clipdemo.ui import exports as ex
    export = ex.export_box("zero_shot")          # an "Export" accordion; returns a gr.State
    run.click(handler, inputs, [..., export])    # the handler's last output:
        return ..., ex.payload("zero_shot", figures={"chart": fig}, tables={"scores": records},
                               session=ex.session(encoder, "zero_shot", model_name, settings, labels, templates))

Files are written only when the user presses the button (the HTML inlines plotly.js, ~4 MB, so it
opens offline). PNG: the camera icon on every chart is plotly's own PNG export; `png_ready(fig)` trims
the chart's toolbar so the camera stays in sight.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import gradio as gr

from clipdemo import exports
from clipdemo.ui.i18n import t, tr

STRINGS = {
    "en": {
        "ex.title": "Export",
        "ex.help": "The figure as HTML (interactive, opens offline), the numbers behind it as CSV and JSON, and a "
                   "session file (model, settings, labels, templates, seed) to reproduce the result. "
                   "For a PNG of a chart, use the camera icon above the chart.",
        "ex.make": "Make export files",
        "ex.files": "Files",
        "ex.nothing": "Nothing to export yet: run this view first.",
    },
    "zh-CN": {
        "ex.title": "导出",
        "ex.help": "把图表导出为 HTML（可交互、离线可打开），把背后的数据导出为 CSV 和 JSON，并导出一个会话文件"
                   "（模型、设置、标签、模板、随机种子），以便复现结果。要得到图表的 PNG，请点击图表上方的相机图标。",
        "ex.make": "生成导出文件",
        "ex.files": "文件",
        "ex.nothing": "还没有可导出的结果：请先运行这个视图。",
    },
}


def payload(view: str, figures: Mapping | None = None, tables: Mapping[str, Sequence[Mapping]] | None = None,
            session: Mapping | None = None) -> dict:
    """What a handler hands to its export box: named plotly figures, named tables (lists of flat dicts)."""
    return {"view": view, "figures": dict(figures or {}), "tables": dict(tables or {}), "session": session}


def session(encoder, view: str, model_name: str | None, settings: Mapping | None = None,
            labels: Sequence[str] = (), templates: Sequence[str] = (), seed: int | None = None, **extra) -> dict:
    """The session record for the model in use (see clipdemo.exports.session_record)."""
    return exports.session_record(view, model_name or encoder.loaded.name, settings, labels, templates, seed,
                                  loaded=encoder.loaded, **extra)


# Plotly's toolbar shows on hover at the chart's top right, where Gradio's label can cover its left end; keeping
# only the camera (PNG download) and full-view buttons leaves the camera in sight.
MODEBAR_REMOVE = ["zoom", "pan", "select", "lasso", "zoomIn", "zoomOut", "autoScale", "toggleSpikelines",
                  "hoverClosestCartesian", "hoverCompareCartesian", "zoom3d", "pan3d", "orbitRotation",
                  "tableRotation", "resetCameraLastSave3d", "hoverClosest3d"]


def png_ready(fig):
    """Trim a figure's toolbar to the PNG camera (and reset view); returns the figure."""
    fig.update_layout(modebar=dict(remove=MODEBAR_REMOVE))
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "export"


def has_content(data: Mapping | None) -> bool:
    return bool(data) and any(data.get(k) for k in ("figures", "tables", "session"))


def write_files(data: Mapping | None, out_dir: str | Path | None = None) -> list[str]:
    """Write everything in a payload; return the file paths (figures HTML, tables CSV+JSON, session JSON)."""
    if not has_content(data):
        raise ValueError("nothing to export")
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="clipdemo-export-"))
    view = _slug(data["view"])
    files: list[Path] = []
    for name, fig in data.get("figures", {}).items():
        if fig is not None:
            files.append(exports.write_figure_html(fig, out / f"{view}-{_slug(name)}.html"))
    meta = {"view": data["view"], "model": (data.get("session") or {}).get("model")}
    for name, records in data.get("tables", {}).items():
        if records:
            files.append(exports.write_records_csv(out / f"{view}-{_slug(name)}.csv", records))
            files.append(exports.write_records_json(out / f"{view}-{_slug(name)}.json", records, meta))
    if data.get("session"):
        files.append(exports.write_session(out / f"{view}-session.json", data["session"]))
    return [str(f) for f in files]


def export_box(view: str) -> gr.State:
    """Add the export accordion here; return the gr.State the tab's handler fills with `payload(...)`."""
    state = gr.State(None)
    with gr.Accordion(t("ex.title"), open=False, elem_classes=["export-box"]):
        gr.Markdown(t("ex.help"))
        button = gr.Button(t("ex.make"), size="sm", elem_id=f"export-{_slug(view)}")
        files = gr.File(label=t("ex.files"), file_count="multiple", interactive=False)

    def on_click(data, request: gr.Request):
        if not has_content(data):
            raise gr.Error(tr(request, "ex.nothing"), title=tr(request, "ex.title"))
        return write_files(data)

    button.click(on_click, [state], [files], api_name=False, concurrency_limit=2, concurrency_id="export")
    return state
