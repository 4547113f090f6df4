"""A small export box any tab can add: the figure as HTML, the numbers as CSV/JSON, a session JSON.

Use in a tab's build():

    from clipdemo.ui import exports as ex
    export = ex.export_box("zero_shot", restore=ex.Restore([labels, template], apply, model=model_name))
    run.click(handler, inputs, [..., export])    # the handler's last output:
        return ..., ex.payload("zero_shot", figures={"chart": fig}, tables={"scores": records},
                               session=ex.session(encoder, "zero_shot", model_name, settings, labels, templates))

Files are written only when the user presses the button (the HTML inlines plotly.js, ~4 MB, so it
opens offline). PNG: the camera icon on every chart is plotly's own PNG export; `png_ready(fig)` trims
the chart's toolbar so the camera stays in sight. A view whose numbers live elsewhere (a training in
a background thread) passes `make=fn(request) -> payload` instead of filling the state.

With `restore=`, the box also takes a session file back: `apply(record)` turns the record into one
value (or gr.update / gr.skip()) per input it fills. A file that is not a session, or a session of
another view, leaves the inputs alone and says why (a warning, never an error that stops the server).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from clipdemo.serve import exports
from clipdemo.serve.service import ModelDetails
from clipdemo.ui import scratch
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
        "ex.load": "Load a session file (.json) to fill in this view's settings",
        "ex.restored": "Settings restored from {name} ({view}, made {created}). Run the view to reproduce "
                       "the result.",
        "ex.other_model": "It was made with the model {model}, but the active model is {current}: pick that model "
                          "at the top to get the same numbers.",
        "ex.err_title": "Session file",
        "ex.err_unreadable": "{name} cannot be read as a session file (it is not JSON text).",
        "ex.err_not_session": "{name} is not a clipdemo session file. Session files are the *-session.json files "
                              "that “Make export files” writes.",
        "ex.err_newer": "{name} was written by a newer clipdemo; update this app to load it.",
        "ex.err_view": "{name} is a session of another view ({view}); load it in that view. This box takes "
                       "sessions of: {here}.",
        "ex.err_damaged": "{name} is a session file of this view, but its settings cannot be used ({error}).",
        "ex.view.zero_shot": "Zero-shot labeling",
        "ex.view.zero_shot_batch": "Zero-shot labeling, several images",
        "ex.view.similarity": "Similarity",
        "ex.view.map": "Embedding map",
        "ex.view.learn": "Learn: train a CLIP",
    },
    "zh-CN": {
        "ex.title": "导出",
        "ex.help": "把图表导出为 HTML（可交互、离线可打开），把背后的数据导出为 CSV 和 JSON，并导出一个会话文件"
                   "（模型、设置、标签、模板、随机种子），以便复现结果。要得到图表的 PNG，请点击图表上方的相机图标。",
        "ex.make": "生成导出文件",
        "ex.files": "文件",
        "ex.nothing": "还没有可导出的结果：请先运行这个视图。",
        "ex.load": "载入一个会话文件（.json），用它填写这个视图的设置",
        "ex.restored": "已从 {name} 恢复设置（{view}，生成于 {created}）。运行这个视图即可复现结果。",
        "ex.other_model": "它是用模型 {model} 得到的，而当前模型是 {current}：请在页面顶部选择那个模型，"
                          "才能得到相同的数字。",
        "ex.err_title": "会话文件",
        "ex.err_unreadable": "{name} 无法作为会话文件读取（它不是 JSON 文本）。",
        "ex.err_not_session": "{name} 不是 clipdemo 的会话文件。会话文件是“生成导出文件”写出的 *-session.json 文件。",
        "ex.err_newer": "{name} 由更新版本的 clipdemo 写出；请更新本应用后再载入。",
        "ex.err_view": "{name} 是另一个视图（{view}）的会话；请在那个视图中载入。这里接受以下视图的会话：{here}。",
        "ex.err_damaged": "{name} 是这个视图的会话文件，但其中的设置无法使用（{error}）。",
        "ex.view.zero_shot": "零样本分类",
        "ex.view.zero_shot_batch": "零样本分类（多张图片）",
        "ex.view.similarity": "相似度",
        "ex.view.map": "嵌入地图",
        "ex.view.learn": "学习：训练一个 CLIP",
    },
}


def payload(view: str, figures: Mapping | None = None, tables: Mapping[str, Sequence[Mapping]] | None = None,
            session: Mapping | None = None) -> dict:
    """What a handler hands to its export box: named plotly figures, named tables (lists of flat dicts)."""
    return {"view": view, "figures": dict(figures or {}), "tables": dict(tables or {}), "session": session}


def session(model: ModelDetails, view: str, model_name: str | None, settings: Mapping | None = None,
            labels: Sequence[str] = (), templates: Sequence[str] = (), seed: int | None = None, **extra) -> dict:
    """The session record for the model in use, described by the service (see clipdemo.serve.exports.session_record)."""
    return exports.session_record(view, model_name or model.name, settings, labels, templates, seed,
                                  model_info=model.session_info(), **extra)


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
    out = Path(out_dir) if out_dir else scratch.new_folder("export-")
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


# ---------------------------------------------------------------- sessions back in


@dataclass
class Restore:
    """How a view takes a session file back: the inputs it fills and `apply(record)` -> one value per input."""

    outputs: Sequence
    apply: Callable[[dict], Sequence]
    views: Sequence[str] = ()  # views whose sessions also fit, besides the box's own
    model: gr.State | None = None  # the active model's name, to say when a session used another
    then: Sequence[Mapping] = ()  # events (keyword arguments of .then) to run after a session is loaded


def _code(value, limit: int = 120) -> str:
    """A value from a file, shown as inline code (no Markdown or HTML of its own)."""
    text = " ".join(str(value).split())
    return "`" + (text[:limit] + "…" if len(text) > limit else text).replace("`", "'") + "`"


def view_name(request: gr.Request | None, view) -> str:
    view = str(view)
    if view.startswith("lesson_"):
        key = f"lessons.{view.removeprefix('lesson_')}.tab"
        text = tr(request, key)
    else:
        key = f"ex.view.{view}"
        text = tr(request, key)
    return text if text != key else _code(view)


def _refuse(request, message: str, skip: tuple) -> tuple:
    toast = re.sub(r"`([^`]*)`", r"“\1”", message)  # the toast shows plain text, the box below Markdown
    gr.Warning(toast, title=tr(request, "ex.err_title"))
    return (message, *skip)


def restore_session(path, views: Sequence[str], apply: Callable[[dict], Sequence], n_outputs: int,
                    current_model: str | None = None, request: gr.Request | None = None) -> tuple:
    """A session file -> (message, one update per input). Never raises: a file that cannot be used leaves
    the inputs as they are (gr.skip()) and the message (also a warning) says why."""
    skip = tuple(gr.skip() for _ in range(n_outputs))
    if path is not None and not isinstance(path, (str, Path)):  # a file object (Gradio's older upload form)
        path = getattr(path, "name", None)
    if not path:
        return ("", *skip)
    name = _code(Path(path).name)
    try:
        record = exports.read_session(path)
    except exports.SessionError as e:
        return _refuse(request, tr(request, f"ex.err_{e.code}", name=name), skip)
    view = record.get("view")
    if not isinstance(view, str) or view not in views:
        here = ", ".join(view_name(request, v) for v in dict.fromkeys(views))
        return _refuse(request, tr(request, "ex.err_view", name=name, view=view_name(request, view), here=here), skip)
    try:
        updates = tuple(apply(record))
        if len(updates) != n_outputs:
            raise ValueError(f"{len(updates)} values for {n_outputs} inputs")
    except Exception as e:  # noqa: BLE001 - whatever a hand-edited file holds, the server carries on
        return _refuse(request, tr(request, "ex.err_damaged", name=name, error=_code(e)), skip)
    message = tr(request, "ex.restored", name=name, view=view_name(request, view),
                 created=_code(record.get("created") or "?", 40))
    model = record.get("model")
    if current_model and model and model != current_model:
        message += " " + tr(request, "ex.other_model", model=_code(model), current=_code(current_model))
    return (message, *updates)


# ---------------------------------------------------------------- reading a session's fields safely


def text_list(record: Mapping, key: str) -> list[str]:
    """A list of strings from the record (or its settings); anything else is refused."""
    value = record.get(key, (record.get("settings") or {}).get(key))
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key!r} is not a list of texts")
    return value


def is_skip(value) -> bool:
    return isinstance(value, dict) and value == gr.skip()


def setting(record: Mapping, key: str, choices: Sequence | None = None, lo: float | None = None,
            hi: float | None = None, kind: type | None = None):
    """One setting, checked (a choice, a number in range, a type); gr.skip() where the session has none."""
    settings = record.get("settings")
    if not isinstance(settings, Mapping):
        raise ValueError("'settings' is not a mapping")
    if key not in settings or settings[key] is None:
        return gr.skip()
    value = settings[key]
    if choices is not None and value not in choices:
        raise ValueError(f"{key} = {value!r} is not one of {list(choices)}")
    if lo is not None or hi is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{key} = {value!r} is not a number")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"{key} = {value!r} lies outside {lo}..{hi}")
    if kind is not None and not isinstance(value, kind):
        raise ValueError(f"{key} = {value!r} is not {kind.__name__}")
    return value


# ---------------------------------------------------------------- the box


def export_box(view: str, restore: Restore | None = None,
               make: Callable[[gr.Request], dict | None] | None = None,
               extra: Callable[[], None] | None = None) -> gr.State:
    """Add the export accordion here; return the gr.State the tab's handler fills with `payload(...)`.

    restore: also offer to load a session file back into the view's inputs (see Restore).
    make: build the payload when the button is pressed, from the request, instead of reading the state.
    extra: builds a view's own further exports inside the same accordion (one export place per view)."""
    state = gr.State(None)
    with gr.Accordion(t("ex.title"), open=False, elem_classes=["export-box"]):
        if extra is not None:
            extra()
        gr.Markdown(t("ex.help"))
        button = gr.Button(t("ex.make"), size="sm", elem_id=f"export-{_slug(view)}")
        files = gr.File(label=t("ex.files"), file_count="multiple", interactive=False)
        if restore is not None:
            upload = gr.File(label=t("ex.load"), file_count="single", file_types=[".json"], type="filepath",
                             height=130, elem_id=f"session-{_slug(view)}")
            message = gr.Markdown()

    def on_click(data, request: gr.Request):
        if make is not None:
            data = make(request)
        if not has_content(data):
            raise gr.Error(tr(request, "ex.nothing"), title=tr(request, "ex.title"))
        return write_files(data)

    button.click(on_click, [state], [files], api_name=False, concurrency_limit=2, concurrency_id="export")
    if restore is not None:
        views = (view, *restore.views)
        model = restore.model if restore.model is not None else gr.State(None)

        def on_upload(path, current, request: gr.Request):  # the upload is cleared: ready for the next file
            return None, *restore_session(path, views, restore.apply, len(restore.outputs), current, request)

        event = upload.upload(on_upload, [upload, model], [upload, message, *restore.outputs], api_name=False,
                              show_progress="hidden")
        for step in restore.then:
            event = event.then(**{"api_name": False, **step})
    return state
