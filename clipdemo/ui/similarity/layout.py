"""Similarity tab: the image x text matrix CLIP trains on, and where in an image a text matches.

Two linked views. The matrix view encodes several images and texts and draws their cosine
matrix (or its softmax over texts / over images at a chosen logit scale s = 1/temperature); with pairs it marks
the diagonal and shows the batch's contrastive loss. Clicking a cell of the score table (or
choosing an image and a text) sends that pair to the spatial view, which draws a relevance map
over the image. The views only draw numbers the engine (clipdemo.core.similarity / .spatial) returns.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from clipdemo.core.similarity import SimilarityMatrix
from clipdemo.core.spatial import METHODS, SpatialMap, SpatialUnavailable
from clipdemo.ui import exports as ex
from clipdemo.ui import notices as notice_view
from clipdemo.ui import overlay
from clipdemo.ui.context import USER_ERRORS, UIContext, user_error
from clipdemo.ui.i18n import locale_of, t, tr
from clipdemo.ui.inputs import image_input
from clipdemo.ui.similarity import export as sx
from clipdemo.ui.similarity import words as sim_words
from clipdemo.ui.similarity.figures import (  # noqa: F401
    MODES,
    _unique,
    bundled_photos,
    bundled_toys,
    matrix_figure,
    score_table,
    toy_batch,
    toy_click,
)
from clipdemo.ui.similarity.strings import STRINGS  # noqa: F401 - merged into the UI's i18n by name

DEFAULT_OPACITY = 0.6
PRIVATE = dict(api_visibility="private")  # internal steps: not API endpoints

# ---------------------------------------------------------------- batches


def _path(f) -> str:
    if isinstance(f, dict):
        return f.get("path") or f.get("name")
    return getattr(f, "name", f) if not isinstance(f, (str, Path)) else str(f)


# ---------------------------------------------------------------- matrix view


def compute_matrix(ctx: UIContext, files, texts: str, model_name: str | None = None, request: gr.Request = None):
    """(images, texts one per line) -> the service's JSON {images, texts, cosine, ...}, notes, state, controls."""
    given = [_path(f) for f in files or []]
    if not given:
        raise gr.Error(tr(request, "sim.no_images"))
    try:  # the service reads the pictures (once), splits the texts, and says what it skipped, cut or found odd
        result = ctx.service.similarity_matrix(given, texts or "", model_name or "",
                                               names=[Path(p).name for p in given])
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    names, paths = result.images, [given[i] for i in result.positions]
    matrix = SimilarityMatrix(result.images, result.texts, np.asarray(result.cosine), result.logit_scale,
                              result.logit_bias, result.scoring == "sigmoid")
    warning = notice_view.warnings(result.notices, request)
    notes = ([warning] if warning else []) + ["\n".join(notice_view.bullets(result.notices, request,
                                                                             skip=("out_of_world", "scoring.")))]
    if matrix.sigmoid:
        notes.append(tr(request, "sim.sigmoid_note"))
    notes.append(tr(request, "sim.model_t", t=matrix.logit_scale, tau=1 / matrix.logit_scale))
    state = {"matrix": matrix, "paths": dict(zip(names, paths, strict=True)),
             "session": ex.session(ctx.service.describe(model_name or ""), "similarity", model_name)}  # settings are added at export
    return (result.to_json(), "\n\n".join(notes), state, gr.update(value=round(matrix.logit_scale, 2)),
            gr.update(choices=names, value=names[0]), gr.update(choices=matrix.texts, value=matrix.texts[0]))


def render_matrix(state: dict | None, mode: str, logit_scale: float | None, request: gr.Request = None):
    """Re-draw from stored numbers (no model): figure, loss / pairing notes, clickable table."""
    if not state:
        return None, "", None
    matrix: SimilarityMatrix = state["matrix"]
    scale = float(logit_scale) if logit_scale else matrix.logit_scale
    values = matrix.view(mode or "cosine", scale)
    if not matrix.paired:
        note = tr(request, "sim.unpaired", n=len(matrix.images), m=len(matrix.texts))
    elif matrix.sigmoid:
        note = tr(request, "sim.paired_siglip", t=scale, b=matrix.logit_bias, loss=matrix.siglip_loss(scale))
    else:
        loss = matrix.losses(scale)
        note = tr(request, "sim.paired", t=scale, tau=1 / scale, i2t=loss.image_to_text, t2i=loss.text_to_image, mean=loss.mean,
                  n=len(matrix.images), chance=loss.chance)
    return (matrix_figure(matrix, values, mode or "cosine", state.get("paths")), note,
            score_table(matrix, values, mode or "cosine", tr(request, "sim.col_image")))


def pick_cell(state: dict | None, evt: gr.SelectData):
    """A click on the table -> (image name, text) of that cell; the image-name column picks the diagonal."""
    if not state or evt is None or evt.index is None:
        return gr.update(), gr.update()
    matrix: SimilarityMatrix = state["matrix"]
    row, col = int(evt.index[0]), int(evt.index[1])
    if not 0 <= row < len(matrix.images):
        return gr.update(), gr.update()
    j = col - 1 if col >= 1 else min(row, len(matrix.texts) - 1)
    return matrix.images[row], matrix.texts[min(j, len(matrix.texts) - 1)]


CELL_CLICK_JS = """() => {
  const hook = () => {
    const plot = document.querySelector('#sim-matrix .js-plotly-plot');
    if (!plot || plot.__cellHooked || !plot.on) return;
    plot.__cellHooked = true;
    plot.on('plotly_click', (ev) => {
      const p = ev.points && ev.points[0];
      const box = document.querySelector('#sim-cell-click textarea, #sim-cell-click input');
      if (!p || !box || p.data.type !== 'heatmap') return;
      box.value = `${p.y},${p.x}`;
      box.dispatchEvent(new Event('input', {bubbles: true}));
      setTimeout(() => document.querySelector('#sim-cell-go').click(), 50);
    });
  };
  new MutationObserver(hook).observe(document.body, {childList: true, subtree: true});
  hook();
}"""


def pick_clicked_cell(state: dict | None, clicked: str | None):
    """A click on the heatmap ("row,col" from CELL_CLICK_JS) -> (image name, text) of that cell."""
    try:
        row, col = (int(float(v)) for v in (clicked or "").split(",")[:2])
    except ValueError:
        return gr.update(), gr.update()
    if not state or not (0 <= row < len(state["matrix"].images) and 0 <= col < len(state["matrix"].texts)):
        return gr.update(), gr.update()
    return state["matrix"].images[row], state["matrix"].texts[col]


def pair_inputs(state: dict | None, image_name: str | None, text: str | None, request: gr.Request = None):
    """(image path, text) for the spatial view from the chosen batch pair."""
    if not state or image_name not in state["paths"]:
        raise gr.Error(tr(request, "sim.no_batch"))
    return state["paths"][image_name], text or ""


# ---------------------------------------------------------------- spatial view


def compute_spatial(ctx: UIContext, image, text: str, method: str, model_name: str | None = None,
                    request: gr.Request = None):
    """(image, text, method) -> overlay, raw map, the service's JSON with the relevance grid, notes, state."""
    try:
        heat = ctx.service.spatial_heatmap(image, text, method or "gradcam", model_name or "")
        img = ctx.service.picture(image)  # the one the service just decoded, kept for this request
    except SpatialUnavailable as e:
        raise gr.Error(tr(request, "sim.unavailable", reason=str(e)), title=tr(request, "msg.unavailable")) from e
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    smap = SpatialMap(heat.method, heat.text, np.asarray(heat.relevance), np.asarray(heat.raw), tuple(heat.box),
                      tuple(heat.image_size), heat.score, tuple(heat.patch_grid))
    warning = notice_view.warnings(heat.notices, request)
    notes = ([warning] if warning else []) + [tr(request, "sim.map_notes", score=smap.score, method=smap.method,
                patches="×".join(str(v) for v in smap.patches), grid="×".join(str(v) for v in smap.grid.shape))]
    w, h = smap.image_size
    if smap.box != (0.0, 0.0, float(w), float(h)):
        notes.append(tr(request, "sim.map_cropped"))
    state = {"image": img, "map": smap, "session": ex.session(ctx.service.describe(model_name or ""), "similarity", model_name)}
    return (overlay.with_scale(overlay.overlay(img, smap, DEFAULT_OPACITY)), overlay.with_scale(overlay.raw_map(smap)),
            heat.to_json(), "\n\n".join(notes), state)


def reblend(state: dict | None, opacity: float):
    if not state:
        return gr.update()
    return overlay.with_scale(overlay.overlay(state["image"], state["map"], opacity))


# ---------------------------------------------------------------- layout


def build(ctx: UIContext, model_name: gr.State) -> None:
    gr.Markdown(t("sim.intro"))
    mstate, sstate = gr.State(None), gr.State(None)
    batch, pending = gr.State(None), gr.State(None)  # which batch the buttons made; a restored logit scale
    with gr.Row():
        with gr.Column(scale=1):
            files = gr.File(label=t("sim.images"), file_count="multiple", file_types=["image"], type="filepath",
                            height=150)
            texts = gr.Textbox(label=t("sim.texts"), lines=6)
            with gr.Row():
                toy = gr.Button(t("sim.toy"), variant="secondary", size="sm", elem_id="sim-toy-batch")
                toys = gr.Button(t("sim.toy_files"), size="sm")
                photos = gr.Button(t("sim.photos"), size="sm")
            run = gr.Button(t("sim.run"), variant="primary")
            mode = gr.Radio([(t(f"sim.mode_{m}"), m) for m in MODES], value="cosine", label=t("sim.mode"))
            logit_scale = gr.Slider(1, 100, value=round(ctx.service.describe().logit_scale, 2), step=0.5,
                                    label=t("sim.scale"), info=t("sim.scale_info"))
            notes = gr.Markdown()
        with gr.Column(scale=2):
            figure = gr.Plot(show_label=False, elem_id="sim-matrix")
            # a click on a heatmap cell lands here (see CELL_CLICK_JS); hidden, not a control of its own
            cell = gr.Textbox(elem_id="sim-cell-click", show_label=False, container=False, lines=1, visible="hidden")
            cell_go = gr.Button(elem_id="sim-cell-go", visible="hidden")
            loss = gr.Markdown()
            table = gr.Dataframe(label=t("sim.table"), interactive=False, wrap=True, max_height=320, elem_id="sim-table")
            with gr.Accordion(t("sim.numbers"), open=False):
                numbers = gr.JSON()
        with gr.Column(scale=1, min_width=240):  # the linked view, beside the matrix: the clicked pair's map
            shown = gr.Image(label=t("sim.overlay"), interactive=False, height=300, elem_id="sim-overlay")
            gr.Markdown(t("sim.linked_hint"))
            map_notes = gr.Markdown()
    gr.Markdown("### " + t("sim.spatial"))
    gr.Markdown(t("sim.spatial_intro"))
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Row():
                pair_image = gr.Dropdown([], label=t("sim.pair_image"), interactive=True)
                pair_text = gr.Dropdown([], label=t("sim.pair_text"), interactive=True)
            image = image_input(label=t("sim.image"), sources=["upload", "clipboard"], height=220, elem_id="sim-image")
            text = gr.Textbox(label=t("sim.text"), lines=1, elem_id="sim-text")
            method = gr.Radio([(t(f"sim.method_{m}"), m) for m in METHODS], value="gradcam", label=t("sim.method"))
            run_map = gr.Button(t("sim.run_map"), variant="primary", elem_id="sim-run-map")
            opacity = gr.Slider(0, 1, value=DEFAULT_OPACITY, step=0.05, label=t("sim.opacity"))
        with gr.Column(scale=2):
            raw = gr.Image(label=t("sim.raw"), interactive=False, height=360)
            with gr.Accordion(t("sim.map_numbers"), open=False):
                grid_json = gr.JSON()
    with gr.Row():  # the text side: which words of the caption carry the match (clipdemo.core.attribution)
        with gr.Column():
            gr.Markdown("#### " + t("words.title"))
            run_words = gr.Button(t("words.run"), size="sm", elem_id="sim-run-words")
            words_shaded = gr.HTML(elem_id="sim-words")
            with gr.Accordion(t("sim.map_numbers"), open=False):
                words_json = gr.JSON()
    restore = ex.Restore([texts, mode, logit_scale, method, text, files, pending], sx.restore_inputs,
                         model=model_name)
    export = ex.export_box("similarity", restore=restore)

    # Named functions with a gr.Request parameter (a lambda would hide it): messages follow the visitor's language.
    def matrix_fn(images, texts, model_name, request: gr.Request):  # API parameter names: images, texts
        return compute_matrix(ctx, images, texts, model_name, request)

    def spatial_fn(image, text, method, model_name, request: gr.Request):
        shown_map, *rest = compute_spatial(ctx, image, text, method, model_name, request)
        # the overlay names the pair it shows (a clicked cell, a chosen pair, or the boxes below)
        label = tr(request, "sim.overlay_pair", image=Path(_path(image)).name if image else "", text=text or "")
        return gr.update(value=shown_map, label=label), *rest

    def redraw_fn(mstate, sstate, mode, logit_scale, method, batch, image, request: gr.Request):
        fig, note, cells = render_matrix(mstate, mode, logit_scale, request)
        return fig, note, cells, sx.payload(mstate, sstate, mode, logit_scale, method, batch, image, fig)

    limits = dict(concurrency_limit=ctx.concurrency, concurrency_id="encode")
    view_now = [mstate, sstate, mode, logit_scale, method, batch, image]
    redraw = dict(fn=redraw_fn, inputs=view_now, outputs=[figure, loss, table, export], show_progress="hidden",
                  **PRIVATE)
    keep = dict(fn=sx.keep_logit_scale, inputs=[pending], outputs=[logit_scale, pending], show_progress="hidden",
                **PRIVATE)
    refresh = dict(fn=sx.payload, inputs=view_now, outputs=[export], show_progress="hidden", **PRIVATE)
    matrix_event = dict(fn=matrix_fn, inputs=[files, texts, model_name],
                        outputs=[numbers, notes, mstate, logit_scale, pair_image, pair_text], **limits)
    map_event = dict(fn=spatial_fn, inputs=[image, text, method, model_name],
                     outputs=[shown, raw, grid_json, map_notes, sstate], **PRIVATE, **limits)
    after_map = dict(fn=reblend, inputs=[sstate, opacity], outputs=[shown], show_progress="hidden", **PRIVATE)
    to_pair = dict(fn=pair_inputs, inputs=[mstate, pair_image, pair_text], outputs=[image, text], **PRIVATE)

    def show_pair(event):  # the linked view: a chosen pair goes to the spatial map
        event.then(**to_pair).then(**map_event).then(**after_map).then(**refresh)

    show_pair(run.click(**PRIVATE, **matrix_event).then(**keep).then(**redraw))
    def toy_in_locale(request: gr.Request):  # the toy batch captioned in the visitor's language
        return toy_click(locale=locale_of(request))

    makers = ((toy, toy_in_locale), (toys, lambda: (*bundled_toys(), {"kind": "bundled_toys"})),
              (photos, lambda: (*bundled_photos(), {"kind": "photos"})))
    for button, maker in makers:
        show_pair(button.click(maker, None, [files, texts, batch], **PRIVATE).then(**PRIVATE, **matrix_event)
                  .then(**keep).then(**redraw))
    files.upload(lambda: None, None, [batch], **PRIVATE)  # the user's own files: no longer a known batch
    mode.change(**redraw)
    # .change, not .release: the number box (typing + Enter, blur) and the arrow keys never fire release, so the
    # matrix kept its old logit scale; always_last: a drag redraws once for where it stopped, not per step
    logit_scale.change(**redraw, trigger_mode="always_last")
    logit_scale.input(lambda: None, None, [pending], **PRIVATE)  # moved by hand: forget a restored value

    def words_fn(image, text, model_name, request: gr.Request):
        return sim_words.explain_words(ctx, image, text, model_name, request)

    words_event = dict(fn=words_fn, inputs=[image, text, model_name], outputs=[words_shaded, words_json],
                       **PRIVATE, **limits)
    run_map.click(**map_event).then(**after_map).then(**refresh).then(**words_event)
    run_words.click(**words_event)
    method.input(**map_event).then(**after_map).then(**refresh)
    opacity.release(**after_map)
    show_pair(table.select(pick_cell, [mstate], [pair_image, pair_text], **PRIVATE))
    show_pair(cell_go.click(pick_clicked_cell, [mstate, cell], [pair_image, pair_text], **PRIVATE))
    demo = gr.context.Context.root_block
    if demo is not None:
        demo.load(None, None, None, js=CELL_CLICK_JS)
    for dd in (pair_image, pair_text):
        dd.input(**to_pair).then(**map_event).then(**after_map).then(**refresh)
