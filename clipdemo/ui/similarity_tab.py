"""Similarity tab: the image x text matrix CLIP trains on, and where in an image a text matches.

Two linked views. The matrix view encodes several images and texts and draws their cosine
matrix (or its softmax over texts / over images at a chosen temperature); with pairs it marks
the diagonal and shows the batch's contrastive loss. Clicking a cell of the score table (or
choosing an image and a text) sends that pair to the spatial view, which draws a relevance map
over the image. The views only draw numbers the engine (clipdemo.similarity / .spatial) returns.
"""

from __future__ import annotations

import random
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from clipdemo import overlay, toyworld
from clipdemo.images import load_image
from clipdemo.locale_defaults import toy_caption
from clipdemo.templates import is_chinese
from clipdemo.similarity import SimilarityMatrix, similarity_matrix
from clipdemo.spatial import METHODS, SpatialUnavailable, spatial_map
from clipdemo.ui import exports as ex
from clipdemo.ui import scratch
from clipdemo.ui.context import ASSETS, USER_ERRORS, UIContext, example_photos, user_error
from clipdemo.ui.i18n import locale_of, t, tr
from clipdemo.ui.inputs import image_input
from clipdemo.ui.similarity_strings import STRINGS  # noqa: F401 - merged into the UI's i18n by name

MODES = ("cosine", "softmax_texts", "softmax_images")
PHOTO_TEXTS = {"astronaut": "an astronaut", "camera": "a man with a camera", "chelsea": "a cat",
               "coffee": "a cup of coffee", "horse": "a horse", "rocket": "a rocket"}
DEFAULT_OPACITY = 0.6
MAX_IMAGES, MAX_TEXTS = 24, 24
PRIVATE = dict(api_visibility="private")  # internal steps: not API endpoints

# ---------------------------------------------------------------- batches


def _path(f) -> str:
    if isinstance(f, dict):
        return f.get("path") or f.get("name")
    return getattr(f, "name", f) if not isinstance(f, (str, Path)) else str(f)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def load_batch(files) -> tuple[list, list[str], list[str], list[str]]:
    """(images, names, paths, problems) from uploaded files; unreadable files are skipped, not fatal."""
    images, names, paths, problems = [], [], [], []
    for f in (files or [])[:MAX_IMAGES]:
        p = _path(f)
        try:
            images.append(load_image(p, name=Path(p).name))
            names.append(Path(p).name)
            paths.append(p)
        except USER_ERRORS as e:
            problems.append(str(e))
    return images, _unique(names), paths, problems


def toy_click(request: gr.Request = None, n: int = 6) -> tuple[list[str], str, dict]:
    """The toy button: a new random batch, captioned in the visitor's language, and its seed (for the session file)."""
    seed = random.randrange(10**6)
    return (*toy_batch(n, seed, locale_of(request)), {"kind": "toy", "n": n, "seed": seed})


def toy_batch(n: int = 6, seed: int | None = None, locale: str = "en") -> tuple[list[str], str]:
    """n toy scenes written to PNG files, and their captions (text i for image i) in the locale's language."""
    seed = random.randrange(10**6) if seed is None else seed
    out = scratch.new_folder("sim-")
    paths, captions = [], []
    for i, (img, _, scene) in enumerate(toyworld.generate(n, seed=seed, size=224)):
        path = out / f"toy_{i + 1}.png"
        img.save(path)
        paths.append(str(path))
        captions.append(toy_caption(scene, locale))
    return paths, "\n".join(captions)


def bundled_toys() -> tuple[list[str], str]:
    files = sorted((ASSETS / "toy").glob("*.png"))[:6]
    return [str(p) for p in files], "\n".join(p.stem.split("_", 1)[1].replace("_", " ") for p in files)


def bundled_photos() -> tuple[list[str], str]:
    files = example_photos()
    return files, "\n".join(PHOTO_TEXTS.get(Path(p).stem, Path(p).stem) for p in files)


# ---------------------------------------------------------------- matrix view


def compute_matrix(ctx: UIContext, files, texts: str, model_name: str | None = None, request: gr.Request = None):
    """The `similarity_matrix` API: (images, texts one per line) -> JSON {images, texts, cosine}, notes, ..."""
    encoder = ctx.encoder(model_name)
    images, names, paths, problems = load_batch(files)
    if not images:
        raise gr.Error(tr(request, "sim.no_images") + "".join(f" {p}" for p in problems[:3]))
    lines = [s.strip() for s in (texts or "").splitlines() if s.strip()]
    try:
        matrix = similarity_matrix(encoder, images, lines[:MAX_TEXTS], names)
    except USER_ERRORS as e:
        raise user_error(e) from e
    notes = [tr(request, "sim.skipped", problem=p) for p in problems]
    if len(files or []) > MAX_IMAGES or len(lines) > MAX_TEXTS:
        notes.append(tr(request, "sim.too_many", n=MAX_IMAGES))
    if matrix.sigmoid:
        notes.append(tr(request, "sim.sigmoid_note"))
    notes.append(tr(request, "sim.model_t", t=matrix.logit_scale))
    state = {"matrix": matrix, "paths": dict(zip(names, paths, strict=True)),
             "session": ex.session(encoder, "similarity", model_name)}  # settings are added at export
    return (matrix.as_json(), "\n\n".join(notes), state, gr.update(value=round(matrix.logit_scale, 2)),
            gr.update(choices=names, value=names[0]), gr.update(choices=matrix.texts, value=matrix.texts[0]))


def _wrap(s: str, width: int = 18) -> str:
    # Chinese has no spaces and each character is about two Latin letters wide: cut it into pieces
    step = max(1, width // 2)
    words = [w[i:i + step] if is_chinese(w) else w for w in s.split()
             for i in (range(0, len(w), step) if is_chinese(w) else (0,))]
    lines, cur = [], ""
    for w in words:
        if cur and len(cur) + len(w) + 1 > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines = [*lines, cur]
    if len(lines) > 4:  # keep the axis readable; the full text is in the hover and the table
        lines = [*lines[:3], lines[3] + " …"]
    return "<br>".join(lines)


def _thumbnail(path: str):
    try:
        img = load_image(path)
    except USER_ERRORS:
        return None
    img.thumbnail((96, 96))
    return img


def matrix_figure(matrix: SimilarityMatrix, values: np.ndarray, mode: str, paths: dict | None = None) -> go.Figure:
    n, m = values.shape
    is_prob = mode != "cosine"
    text = [[f"{v:.0%}" if is_prob else f"{v:+.3f}" for v in row] for row in values]
    fig = go.Figure(go.Heatmap(
        z=values, x=list(range(m)), y=list(range(n)), text=text, texttemplate="%{text}",
        colorscale="Viridis", zmin=0 if is_prob else None, zmax=1 if is_prob else None,
        customdata=[[[matrix.images[i], matrix.texts[j]] for j in range(m)] for i in range(n)],
        hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>%{text}<extra></extra>",
        colorbar=dict(title=dict(text="p" if is_prob else "cos", side="right"), thickness=12)))
    thumbs = paths is not None and n <= 12
    for i, name in enumerate(matrix.images):
        img = _thumbnail(paths[name]) if thumbs and name in paths else None
        if img is not None:
            fig.add_layout_image(source=img, xref="x", yref="y", x=-0.55, y=i, sizex=0.9, sizey=0.9,
                                 xanchor="right", yanchor="middle", layer="above")
    if matrix.paired:
        for i in range(n):
            fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, y0=i - 0.5, y1=i + 0.5,
                          line=dict(color="#ff3d7f", width=3))
    ticks = [_wrap(s, 14 if m > 4 else 20) for s in matrix.texts]
    fig.update_xaxes(tickvals=list(range(m)), ticktext=ticks,
                     side="top", tickangle=0, tickfont=dict(size=11),
                     range=[-1.5 if thumbs else -0.5, m - 0.5], showgrid=False, zeroline=False)
    fig.update_yaxes(tickvals=list(range(n)), ticktext=[_wrap(s, 16) for s in matrix.images], autorange="reversed",
                     showgrid=False, zeroline=False, scaleanchor="x" if thumbs else None)
    fig.update_layout(height=min(900, 90 + 78 * n + 15 * max(t.count("<br>") + 1 for t in ticks)),
                      margin=dict(l=10, r=10, t=20, b=10), template="plotly_white")
    return ex.png_ready(fig)


def score_table(matrix: SimilarityMatrix, values: np.ndarray, mode: str):
    """The clickable table: image names down, texts across, cells coloured like the heatmap."""
    is_prob = mode != "cosine"
    cells = pd.DataFrame([[round(float(v), 3) for v in row] for row in values], columns=_unique(matrix.texts))
    cells.insert(0, "image", matrix.images)
    lo, hi = (0.0, 1.0) if is_prob else (float(values.min()), float(values.max()))
    rgb = overlay.colourise((values - lo) / (hi - lo) if hi > lo else np.zeros_like(values))

    def colour(frame):
        css = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for j, col in enumerate(frame.columns[1:]):
            for i in range(len(frame)):
                r, g, b = rgb[i, j]
                ink = "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"
                css.iloc[i, css.columns.get_loc(col)] = f"background-color: rgb({r},{g},{b}); color: {ink}"
        return css

    fmt = "{:.0%}" if is_prob else "{:+.3f}"
    return cells.style.apply(colour, axis=None).format({c: fmt.format for c in cells.columns[1:]})


def render_matrix(state: dict | None, mode: str, temperature: float | None, request: gr.Request = None):
    """Re-draw from stored numbers (no model): figure, loss / pairing notes, clickable table."""
    if not state:
        return None, "", None
    matrix: SimilarityMatrix = state["matrix"]
    temp = float(temperature) if temperature else matrix.logit_scale
    values = matrix.view(mode or "cosine", temp)
    if not matrix.paired:
        note = tr(request, "sim.unpaired", n=len(matrix.images), m=len(matrix.texts))
    elif matrix.sigmoid:
        note = tr(request, "sim.paired_siglip", t=temp, b=matrix.logit_bias, loss=matrix.siglip_loss(temp))
    else:
        loss = matrix.losses(temp)
        note = tr(request, "sim.paired", t=temp, i2t=loss.image_to_text, t2i=loss.text_to_image, mean=loss.mean,
                  n=len(matrix.images), chance=loss.chance)
    return matrix_figure(matrix, values, mode or "cosine", state.get("paths")), note, score_table(matrix, values,
                                                                                                   mode or "cosine")


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


def pair_inputs(state: dict | None, image_name: str | None, text: str | None, request: gr.Request = None):
    """(image path, text) for the spatial view from the chosen batch pair."""
    if not state or image_name not in state["paths"]:
        raise gr.Error(tr(request, "sim.no_batch"))
    return state["paths"][image_name], text or ""


# ---------------------------------------------------------------- spatial view


def compute_spatial(ctx: UIContext, image, text: str, method: str, model_name: str | None = None,
                    request: gr.Request = None):
    """The `spatial_heatmap` API: (image, text, method) -> overlay, raw map, JSON with the relevance grid, notes."""
    encoder = ctx.encoder(model_name)
    try:
        img = load_image(image)
        smap = spatial_map(encoder, img, text, method or "gradcam")
    except SpatialUnavailable as e:
        raise gr.Error(tr(request, "sim.unavailable", reason=str(e)), title="Unavailable") from e
    except USER_ERRORS as e:
        raise user_error(e) from e
    notes = [tr(request, "sim.map_notes", score=smap.score, method=smap.method,
                patches="×".join(str(v) for v in smap.patches), grid="×".join(str(v) for v in smap.grid.shape))]
    w, h = smap.image_size
    if smap.box != (0.0, 0.0, float(w), float(h)):
        notes.append(tr(request, "sim.map_cropped"))
    state = {"image": img, "map": smap, "session": ex.session(encoder, "similarity", model_name)}
    return (overlay.overlay(img, smap, DEFAULT_OPACITY), overlay.raw_map(smap), smap.as_json(), "\n\n".join(notes),
            state)


def reblend(state: dict | None, opacity: float):
    if not state:
        return gr.update()
    return overlay.overlay(state["image"], state["map"], opacity)


# ---------------------------------------------------------------- layout


def build(ctx: UIContext, model_name: gr.State) -> None:
    from clipdemo.ui import similarity_export as sx  # here, not at the top: it imports this module

    gr.Markdown(t("sim.intro"))
    mstate, sstate = gr.State(None), gr.State(None)
    batch, pending = gr.State(None), gr.State(None)  # which batch the buttons made; a restored temperature
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
            temperature = gr.Slider(1, 100, value=round(ctx.registry.get().loaded.logit_scale, 2), step=0.5,
                                    label=t("sim.temperature"), info=t("sim.temperature_info"))
            notes = gr.Markdown()
        with gr.Column(scale=2):
            figure = gr.Plot(label=t("sim.matrix"), elem_id="sim-matrix")
            loss = gr.Markdown()
            table = gr.Dataframe(label=t("sim.table"), interactive=False, wrap=True, max_height=320, elem_id="sim-table")
            with gr.Accordion(t("sim.numbers"), open=False):
                numbers = gr.JSON()
    gr.Markdown("### " + t("sim.spatial"))
    gr.Markdown(t("sim.spatial_intro"))
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Row():
                pair_image = gr.Dropdown([], label=t("sim.pair_image"), interactive=True)
                pair_text = gr.Dropdown([], label=t("sim.pair_text"), interactive=True)
            image = image_input(label=t("sim.image"), sources=["upload", "clipboard"], height=220, elem_id="sim-image")
            text = gr.Textbox(label=t("sim.text"), lines=1, elem_id="sim-text")
            method = gr.Radio(list(METHODS), value="gradcam", label=t("sim.method"))
            run_map = gr.Button(t("sim.run_map"), variant="primary", elem_id="sim-run-map")
            opacity = gr.Slider(0, 1, value=DEFAULT_OPACITY, step=0.05, label=t("sim.opacity"))
        with gr.Column(scale=2):
            with gr.Row():
                shown = gr.Image(label=t("sim.overlay"), interactive=False, height=360, elem_id="sim-overlay")
                raw = gr.Image(label=t("sim.raw"), interactive=False, height=360)
            map_notes = gr.Markdown()
            with gr.Accordion(t("sim.map_numbers"), open=False):
                grid_json = gr.JSON()
    restore = ex.Restore([texts, mode, temperature, method, text, files, pending], sx.restore_inputs,
                         model=model_name)
    export = ex.export_box("similarity", restore=restore)

    # Named functions with a gr.Request parameter (a lambda would hide it): messages follow the visitor's language.
    def matrix_fn(images, texts, model_name, request: gr.Request):  # API parameter names: images, texts
        return compute_matrix(ctx, images, texts, model_name, request)

    def spatial_fn(image, text, method, model_name, request: gr.Request):
        return compute_spatial(ctx, image, text, method, model_name, request)

    def redraw_fn(mstate, sstate, mode, temperature, method, batch, image, request: gr.Request):
        fig, note, cells = render_matrix(mstate, mode, temperature, request)
        return fig, note, cells, sx.payload(mstate, sstate, mode, temperature, method, batch, image, fig)

    limits = dict(concurrency_limit=ctx.concurrency, concurrency_id="encode")
    view_now = [mstate, sstate, mode, temperature, method, batch, image]
    redraw = dict(fn=redraw_fn, inputs=view_now, outputs=[figure, loss, table, export], show_progress="hidden",
                  **PRIVATE)
    keep = dict(fn=sx.keep_temperature, inputs=[pending], outputs=[temperature, pending], show_progress="hidden",
                **PRIVATE)
    refresh = dict(fn=sx.payload, inputs=view_now, outputs=[export], show_progress="hidden", **PRIVATE)
    matrix_event = dict(fn=matrix_fn, inputs=[files, texts, model_name],
                        outputs=[numbers, notes, mstate, temperature, pair_image, pair_text], **limits)
    map_event = dict(fn=spatial_fn, inputs=[image, text, method, model_name],
                     outputs=[shown, raw, grid_json, map_notes, sstate], **PRIVATE, **limits)
    after_map = dict(fn=reblend, inputs=[sstate, opacity], outputs=[shown], show_progress="hidden", **PRIVATE)
    to_pair = dict(fn=pair_inputs, inputs=[mstate, pair_image, pair_text], outputs=[image, text], **PRIVATE)

    def show_pair(event):  # the linked view: a chosen pair goes to the spatial map
        event.then(**to_pair).then(**map_event).then(**after_map).then(**refresh)

    show_pair(run.click(api_name="similarity_matrix", **matrix_event).then(**keep).then(**redraw))
    makers = ((toy, toy_click), (toys, lambda: (*bundled_toys(), {"kind": "bundled_toys"})),
              (photos, lambda: (*bundled_photos(), {"kind": "photos"})))
    for button, maker in makers:
        show_pair(button.click(maker, None, [files, texts, batch], **PRIVATE).then(**PRIVATE, **matrix_event)
                  .then(**keep).then(**redraw))
    files.upload(lambda: None, None, [batch], **PRIVATE)  # the user's own files: no longer a known batch
    mode.change(**redraw)
    temperature.release(**redraw)
    temperature.input(lambda: None, None, [pending], **PRIVATE)  # moved by hand: forget a restored value

    spatial_api = {**map_event, "api_visibility": "public"}
    run_map.click(api_name="spatial_heatmap", **spatial_api).then(**after_map).then(**refresh)
    method.input(**map_event).then(**after_map).then(**refresh)
    opacity.release(**after_map)
    show_pair(table.select(pick_cell, [mstate], [pair_image, pair_text], **PRIVATE))
    for dd in (pair_image, pair_text):
        dd.input(**to_pair).then(**map_event).then(**after_map).then(**refresh)
