"""Video tab: find the moment in a video (ClipService.video_search), draw its cosine timeline and best moments.

Clicking a moment shows its frame and seeks the video player there (a few lines of JavaScript: Gradio's
video component has no seek of its own). The toy example is written on the first click with PyAV, so the
tab works offline on the bundled model.
"""

from __future__ import annotations

import gradio as gr

from clipdemo.data.video import toy_video
from clipdemo.ui import scratch
from clipdemo.ui.context import USER_ERRORS, UIContext, user_error
from clipdemo.ui.i18n import t, tr
from clipdemo.ui.inputs import image_input
from clipdemo.ui.video.figures import timeline_figure
from clipdemo.ui.video.strings import STRINGS  # noqa: F401 - merged into the UI's i18n by name

PRIVATE = dict(api_visibility="private")  # the tab's own wiring; the public endpoint is /video_search
# Seek the player to the clicked moment (seconds arrive in the hidden number)
SEEK_JS = """(t) => { const v = document.querySelector('#vid-video video');
  if (v && t !== null && !isNaN(t)) { v.currentTime = t; v.pause(); } return t; }"""


def _r(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def search(ctx: UIContext, video, query: str, query_image, fps: float, model_name: str | None,
           request: gr.Request = None):
    """-> timeline figure, moment thumbnails, summary, numbers, moments (state)."""
    if not video:
        raise gr.Error(tr(request, "vid.no_video"))
    try:
        result = ctx.service.video_search(video, query or "", query_image or None, fps, model_name or "")
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    words = {k: tr(request, f"vid.{k}") for k in ("axis_time", "axis_score", "median")}
    thumbs = [(frame, f"{result.queries[m['query']][:24]} · {_r(m['start'], 1)}–{_r(m['end'], 1)} s · "
                      f"{_r(m['score'], 3)}") for m, frame in zip(result.moments, result.moment_frames, strict=True)]
    best = max(range(len(result.times)), key=lambda i: result.scores[0][i])
    summary = tr(request, "vid.summary", frames=len(result.times), fps=_r(result.fps), duration=_r(result.duration, 1),
                 query=result.queries[0], best=_r(result.best_time), score=_r(result.scores[0][best], 3),
                 baseline=_r(result.baseline[0], 3))
    notes = "\n".join(f"- {n}" for n in result.notices)
    return (timeline_figure(result, words), thumbs, summary + ("\n\n" + notes if notes else ""), result.to_json(),
            result.moments)


def pick_moment(moments, evt: gr.SelectData, request: gr.Request = None):
    """A clicked thumbnail -> its frame (the gallery's own image), a line about it, the time to seek to."""
    if not moments or evt.index is None or evt.index >= len(moments):
        return gr.skip(), "", None
    m = moments[evt.index]
    frame = (evt.value or {}).get("image", {}).get("path") if isinstance(evt.value, dict) else None
    line = tr(request, "vid.seek", start=_r(m["start"], 1), end=_r(m["end"], 1), peak=_r(m["peak_time"]),
              score=_r(m["score"], 3))
    return frame or gr.skip(), line, m["peak_time"]


def example_video() -> str:
    return str(toy_video(scratch.new_folder("video-") / "toy-world.webm"))


def build(ctx: UIContext, model_name: gr.State) -> None:
    gr.Markdown(t("vid.intro"))
    moments = gr.State([])
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            video = gr.Video(label=t("vid.video"), sources=["upload"], height=260, elem_id="vid-video")
            query = gr.Textbox(label=t("vid.query"), lines=3, elem_id="vid-query")
            query_image = image_input(label=t("vid.query_image"), sources=["upload", "clipboard"], height=140)
            fps = gr.Slider(0.5, 8, value=2, step=0.5, label=t("vid.fps"))
            with gr.Row():
                example = gr.Button(t("vid.example"), size="sm", elem_id="vid-example")
                run = gr.Button(t("vid.run"), variant="primary", elem_id="vid-run")
        with gr.Column(scale=2, min_width=300):
            summary = gr.Markdown(elem_id="vid-summary")
            figure = gr.Plot(label=t("vid.timeline"), elem_id="vid-timeline")
            gallery = gr.Gallery(label=t("vid.moments"), columns=5, height=200, allow_preview=False,
                                 object_fit="contain", elem_id="vid-moments")
            with gr.Row():
                frame = gr.Image(label=t("vid.frame"), interactive=False, height=200, elem_id="vid-frame")
                seek_note = gr.Markdown(elem_id="vid-seek-note")
            seek = gr.Number(visible="hidden", elem_id="vid-seek")
            with gr.Accordion(t("vid.numbers"), open=False):
                numbers = gr.JSON()

    def search_fn(video, query, query_image, fps, model_name, request: gr.Request):
        return search(ctx, video, query, query_image, fps, model_name, request)

    def example_fn(request: gr.Request):
        return example_video(), tr(request, "vid.example_query")

    go = dict(fn=search_fn, inputs=[video, query, query_image, fps, model_name],
              outputs=[figure, gallery, summary, numbers, moments], concurrency_limit=1,
              concurrency_id="encode_many", **PRIVATE)
    run.click(**go)
    example.click(example_fn, None, [video, query], **PRIVATE).then(**go)
    gallery.select(pick_moment, [moments], [frame, seek_note, seek], **PRIVATE).then(
        None, [seek], [seek], js=SEEK_JS, **PRIVATE)
