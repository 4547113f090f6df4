"""Embedding map tab: a gallery and its captions in one projected space, with the modality gap and search.

Input -> engine (gallery, embedding_map, projection, search) -> numbers -> Plotly figure. The map's
embeddings live in the session (gr.State), so changing UMAP settings, colours or lines never runs
the model again. Hover thumbnails and point clicks come from a small script (HOOK_JS) that listens
to the Plotly plot and talks back through a gr.HTML component.
"""

from __future__ import annotations

import json
import time

import gradio as gr

from clipdemo.core import projection
from clipdemo.core.search import Hit
from clipdemo.data import gallery as galleries
from clipdemo.data.embedding_map import MapData, export_files
from clipdemo.ui import exports as ex
from clipdemo.ui import notices as notice_view
from clipdemo.ui import scratch
from clipdemo.ui.collection import layout as collection_view
from clipdemo.ui.context import USER_ERRORS, UIContext, user_error
from clipdemo.ui.i18n import locale_of, t, tr
from clipdemo.ui.inputs import image_input
from clipdemo.ui.locale_defaults import defaults_for
from clipdemo.ui.map import export as map_export
from clipdemo.ui.map.figures import empty_figure, map_figure
from clipdemo.ui.map.strings import STRINGS  # noqa: F401 - merged into the UI's i18n by name

TOY_LABELS = "circle, square, triangle, star, heart, cross, diamond, crescent"
PHOTO_LABELS = "astronaut, cat, cup of coffee, rocket, horse, man with a camera"
DEFAULT_LABELS = {"toy": TOY_LABELS, "photos": PHOTO_LABELS, "upload": ""}
DEFAULT_QUERY = "a red circle"
EXTRA_TEXTS_HINT = "a red heart\ntwo blue stars"


def default_labels(source: str, request: gr.Request | None = None) -> str:
    """The zero-shot labels a gallery starts with, in the visitor's language."""
    d = defaults_for(locale_of(request))
    if d.language == "en":
        return DEFAULT_LABELS.get(source, "")
    return {"toy": d.shape_labels, "photos": d.photo_labels}.get(source, "")


def locale_inputs(labels: str, query: str, request: gr.Request):
    """At page load, in a Chinese UI: Chinese shape labels, search text and hint, while they still hold the
    English defaults (whatever the visitor typed meanwhile stays)."""
    d = defaults_for(locale_of(request))
    if d.language == "en":
        return gr.skip(), gr.skip(), gr.skip()
    return (default_labels("toy", request) if labels == TOY_LABELS else gr.skip(),
            d.query if query == DEFAULT_QUERY else gr.skip(), gr.update(placeholder=d.extra_texts_hint))
THUMB_PX = 80

HOOK_JS = """
const tip = document.createElement('div');
tip.style.cssText = 'position:fixed;display:none;z-index:10000;pointer-events:none;background:#fff;' +
  'border:1px solid #bbb;border-radius:6px;padding:4px;box-shadow:0 2px 10px rgba(0,0,0,.25)';
document.body.appendChild(tip);
let mx = 0, my = 0, raw = null, thumbs = [];
const place = () => { tip.style.left = Math.max(4, mx - tip.offsetWidth - 18) + 'px';
                      tip.style.top = Math.max(4, my - tip.offsetHeight - 18) + 'px'; };
document.addEventListener('mousemove', e => { mx = e.clientX; my = e.clientY; if (tip.style.display === 'block') place(); });
const thumbOf = i => { if (props.value !== raw) { raw = props.value;
  try { thumbs = JSON.parse(raw || '[]'); } catch (e) { thumbs = []; } } return thumbs[i]; };
const hook = () => {
  const gd = document.querySelector('#clipdemo-map-plot .js-plotly-plot');
  if (!gd || gd.__clipdemoHooked || !gd.on) return;
  gd.__clipdemoHooked = true;
  gd.on('plotly_hover', ev => {
    const p = ev && ev.points && ev.points[0]; if (!p || !p.customdata) return;
    const src = thumbOf(p.customdata[0]); if (!src) { tip.style.display = 'none'; return; }
    tip.innerHTML = ''; const img = document.createElement('img'); img.src = src;
    img.style.cssText = 'display:block;width:96px;height:auto;image-rendering:auto';
    tip.appendChild(img); tip.style.display = 'block'; place();
  });
  gd.on('plotly_unhover', () => { tip.style.display = 'none'; });
  gd.on('plotly_click', ev => { const p = ev && ev.points && ev.points[0];
    if (p && p.customdata) trigger('click', {point: p.customdata[0]}); });
};
setInterval(hook, 600);
"""


# ---------------------------------------------------------------- engine calls


def load_gallery(ctx: UIContext, source: str, files, request: gr.Request | None = None) -> galleries.Gallery:
    return ctx.service.map_gallery(source, files, defaults_for(locale_of(request)).language)


def figure_words(request: gr.Request | None) -> dict[str, str]:
    return {k: tr(request, f"map.fig_{k}") for k in ("images", "texts", "image", "text", "hits", "lines")}


HIT_COLUMNS = ("rank", "name", "caption", "cosine")


def _hits_table(hits: list[Hit], request: gr.Request | None = None) -> dict:
    """The ranked hits, with column names in the visitor's language."""
    return gr.update(value=[[h.rank, h.name, h.caption, round(h.score, 4)] for h in hits],
                     headers=[tr(request, f"map.col_{c}") for c in HIT_COLUMNS])


def _hit_gallery(data: MapData, hits: list[Hit]) -> list:
    return [(data.gallery.images[h.index], f"#{h.rank} {h.score:.2f}") for h in hits]


def gap_readout(data: MapData, request: gr.Request | None = None) -> str:
    gap = data.gap()
    if gap is None:
        return tr(request, "map.gap_none")
    text = tr(request, "map.gap_centroid", gap=gap.centroid_distance)
    if gap.paired_cosine is not None and gap.unpaired_cosine is not None:
        diff = gap.paired_cosine - gap.unpaired_cosine
        text += " " + tr(request, "map.gap_pairs", paired=gap.paired_cosine, unpaired=gap.unpaired_cosine, diff=diff)
        # the claim follows the numbers shown: a model that has not learned the pictures is said to be one
        text += " " + tr(request, "map.gap_pairs_closer" if diff > 0 else "map.gap_pairs_not_closer")
    return text


def _notes(data: MapData, proj: projection.Projection, encoded: int, seconds: float | None,
           request: gr.Request | None) -> str:
    lines = [tr(request, "map.note_points_cached" if proj.cached else "map.note_points", images=data.n_images,
                texts=len(data.texts), method=proj.method.upper(), dims=proj.dims, seconds=proj.seconds)]
    if seconds is not None:
        lines.append(tr(request, "map.note_encoded", n=encoded, seconds=seconds) if encoded
                     else tr(request, "map.note_cached"))
    warning = notice_view.warnings(data.notices, request)
    body = "\n".join([*(f"- {line}" for line in lines), *notice_view.bullets([*data.notices, *proj.notices], request)])
    return f"{warning}\n\n{body}" if warning else body


def draw(ctx: UIContext, source, files, use_captions, extra_texts, labels, label_points, method, dims,
         n_neighbors, min_dist, colour_by, lines, model_name, request: gr.Request = None,
         progress=gr.Progress()):
    try:
        progress(0, desc=tr(request, "map.progress_gallery"))
        gal = load_gallery(ctx, source, files, request)
        start = time.perf_counter()
        data, encoded = ctx.service.map_data(
            gal, extra_texts, labels, captions=bool(use_captions), label_points=bool(label_points),
            model=model_name or "",
            progress=lambda done, total: progress((done, total), desc=tr(request, "map.progress_embed"), unit="images"))
        seconds = time.perf_counter() - start
        progress(0.95, desc=tr(request, "map.progress_project"))
        proj = ctx.service.project(data, method, int(dims), n_neighbors, min_dist)
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    thumbs = json.dumps([galleries.thumbnail_uri(im, THUMB_PX) for im in gal.images])
    fig = map_figure(data, proj, colour_by, bool(lines), words=figure_words(request))
    return (fig, gap_readout(data, request), _notes(data, proj, encoded, seconds, request), data, None, thumbs,
            _hits_table([], request), [])


def redraw(ctx: UIContext, data: MapData | None, method, dims, n_neighbors, min_dist, colour_by, lines, hits,
           request: gr.Request = None):
    """New projection settings or styling: the session's embeddings, no model run."""
    if data is None:
        return gr.update(), gr.update()
    try:
        proj = ctx.service.project(data, method, int(dims), n_neighbors, min_dist)
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    return (map_figure(data, proj, colour_by, bool(lines), hits, words=figure_words(request)),
            _notes(data, proj, 0, None, request))


def run_search(ctx: UIContext, data: MapData | None, query, image, k, method, dims, n_neighbors, min_dist,
               colour_by, lines, request: gr.Request | None = None):
    if data is None:
        raise gr.Error(tr(request, "map.err_no_map"))
    try:
        hits = ctx.service.search_map(data, query, image, int(k))
    except USER_ERRORS as e:
        raise user_error(e, request) from e
    fig, _ = redraw(ctx, data, method, dims, n_neighbors, min_dist, colour_by, lines, hits, request)
    return fig, _hits_table(hits, request), _hit_gallery(data, hits), hits


def show_point(ctx: UIContext, data: MapData | None, k, method, dims, n_neighbors, min_dist, colour_by, lines,
               evt: gr.EventData, request: gr.Request = None):
    """A click: an image shows itself and its nearest texts; a text highlights its nearest images."""
    no = gr.update()
    point = getattr(evt, "point", None)  # the hook's click payload: {"point": index}
    if data is None or not isinstance(point, (int, float)):
        return no, no, no, no, no, no
    try:
        near = ctx.service.map_neighbours(data, int(point), int(k))
    except USER_ERRORS:  # a click on a point of an older drawing: nothing to show
        return no, no, no, no, no, no
    if near.kind == "image":
        i = near.index
        md = f"**{data.gallery.names[i]}**" + (f" — {data.gallery.captions[i]}" if data.gallery.captions[i] else "")
        md += "".join(f"\n- {tr(request, 'map.near_text')}: *{text}* (cos {s:+.3f})" for text, s in near.texts)
        return data.gallery.images[i], md, no, no, no, no
    j, hits = near.index, near.hits
    fig, _ = redraw(ctx, data, method, dims, n_neighbors, min_dist, colour_by, lines, hits, request)
    return None, f"**{tr(request, 'map.text_point')}:** {data.texts[j]}", fig, _hits_table(hits, request), \
        _hit_gallery(data, hits), hits


def export(ctx: UIContext, data: MapData | None, method, dims, n_neighbors, min_dist, request: gr.Request = None):
    if data is None:
        raise gr.Error(tr(request, "map.err_no_map"))
    proj = ctx.service.project(data, method, int(dims), n_neighbors, min_dist)
    paths = export_files(data, proj, scratch.new_folder("map-"))
    return [str(p) for p in paths.values()]


# ---------------------------------------------------------------- layout


def build(ctx: UIContext, model_name: gr.State) -> None:
    gr.Markdown(t("map.intro"))
    collection_view.build(ctx, model_name)  # only when the app was started with --collection DIR
    data_state = gr.State(None)
    hits_state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            source = gr.Radio([(t("map.src_toy"), "toy"), (t("map.src_photos"), "photos"),
                               (t("map.src_upload"), "upload")], value="toy", label=t("map.source"))
            files = gr.File(label=t("map.files"), file_count="multiple", visible=False,
                            file_types=["image", ".zip", ".csv"])
            use_captions = gr.Checkbox(True, label=t("map.captions"))
            extra_texts = gr.Textbox(label=t("map.extra_texts"), lines=2, placeholder=EXTRA_TEXTS_HINT)
            labels = gr.Textbox(TOY_LABELS, label=t("map.labels"), lines=2)
            label_points = gr.Checkbox(True, label=t("map.label_points"))
            with gr.Row():
                method = gr.Radio([("UMAP", "umap"), ("PCA", "pca"), ("t-SNE", "tsne")], value="umap",
                                  label=t("map.method"))
                dims = gr.Radio([("2D", 2), ("3D", 3)], value=2, label=t("map.dims"))
            n_neighbors = gr.Slider(2, 100, value=15, step=1, label=t("map.n_neighbors"), info=t("map.nn_info"))
            min_dist = gr.Slider(0.0, 0.99, value=0.1, step=0.01, label=t("map.min_dist"), info=t("map.md_info"))
            colour_by = gr.Radio([(t("map.by_modality"), "modality"), (t("map.by_label"), "label"),
                                  (t("map.by_group"), "group")], value="modality", label=t("map.colour_by"))
            lines = gr.Checkbox(False, label=t("map.lines"))
            run = gr.Button(t("map.run"), variant="primary")
        with gr.Column(scale=3):
            plot = gr.Plot(empty_figure("…"), label=t("map.plot"), elem_id="clipdemo-map-plot")
            hook = gr.HTML("[]", html_template="<div class='clipdemo-map-hook'></div>", js_on_load=HOOK_JS,
                           padding=False)
            gap_md = gr.Markdown()
            gr.Markdown(t("map.gap_explain"))
            notes = gr.Markdown()
        # beside the map, so a clicked point's answer is in view (1440×900) without scrolling
        with gr.Column(scale=1, min_width=220, elem_id="map-clicked"):
            gr.Markdown("### " + t("map.clicked"))
            point_image = gr.Image(label=t("map.clicked_image"), height=160, interactive=False)
            point_md = gr.Markdown(t("map.click_hint"))
    with gr.Row():
        with gr.Column(scale=1):
            gr.Markdown("### " + t("map.search"))
            query = gr.Textbox(label=t("map.query"), value=DEFAULT_QUERY)
            query_image = image_input(label=t("map.query_image"), height=160)
            k = gr.Slider(1, 30, value=8, step=1, label=t("map.k"))
            search_btn = gr.Button(t("map.search_btn"))
        with gr.Column(scale=2):
            hit_gallery = gr.Gallery(label=t("map.hits"), columns=8, height=170, object_fit="contain")
            hit_table = gr.Dataframe(headers=list(HIT_COLUMNS), label=t("map.hits_table"),
                                     interactive=False, max_height=260, column_widths=["12%", "22%", "50%", "16%"])
    restore = ex.Restore([source, files, use_captions, extra_texts, labels, label_points, method, dims, n_neighbors,
                          min_dist, colour_by, lines], map_export.restore_inputs, model=model_name)
    data_files = {}

    def data_exports():  # the embeddings and coordinates, in the view's one export box
        gr.Markdown("**" + t("map.export") + "**")
        data_files["button"] = gr.Button(t("map.export_btn"), size="sm")
        data_files["files"] = gr.File(label=t("map.export_files"), file_count="multiple")

    export_state = ex.export_box("map", restore=restore, extra=data_exports)
    export_btn, export_files_out = data_files["button"], data_files["files"]

    view = [method, dims, n_neighbors, min_dist, colour_by, lines]

    def hit_headers(request: gr.Request):  # the empty table's column names in the visitor's language
        return _hits_table([], request)

    root = gr.context.Context.root_block
    if root is not None:
        root.load(hit_headers, None, [hit_table], api_visibility="undocumented", show_progress="hidden")

    # Closures with explicit parameters: gradio finds gr.Request / gr.Progress by position and annotation.
    def on_draw(source, files, use_captions, extra_texts, labels, label_points, method, dims, n_neighbors,
                min_dist, colour_by, lines, model, request: gr.Request, progress=gr.Progress()):
        out = draw(ctx, source, files, use_captions, extra_texts, labels, label_points, method, dims, n_neighbors,
                   min_dist, colour_by, lines, model, request=request, progress=progress)
        drawn = map_export.MapSource(source, bool(use_captions), bool(label_points))
        view = map_export.MapView.of(method, dims, n_neighbors, min_dist, colour_by, lines)
        return (*out, map_export.after_draw(ctx.service.describe(model or ""), model, out[3], out[0], drawn, view))

    def on_redraw(data, method, dims, n_neighbors, min_dist, colour_by, lines, hits, previous, request: gr.Request):
        fig, notes = redraw(ctx, data, method, dims, n_neighbors, min_dist, colour_by, lines, hits, request)
        view = map_export.MapView.of(method, dims, n_neighbors, min_dist, colour_by, lines)
        return fig, notes, map_export.after_redraw(previous, data, fig, view)

    def on_search(data, query, image, k, method, dims, n_neighbors, min_dist, colour_by, lines,
                  request: gr.Request):
        return run_search(ctx, data, query, image, k, method, dims, n_neighbors, min_dist, colour_by, lines, request)

    def on_submit(data, query, image, k, method, dims, n_neighbors, min_dist, colour_by, lines,
                  request: gr.Request):
        return run_search(ctx, data, query, None, k, method, dims, n_neighbors, min_dist, colour_by, lines, request)

    def on_source(s, request: gr.Request):
        return gr.update(visible=s == "upload"), default_labels(s, request)

    source.input(on_source, [source], [files, labels], api_visibility="private")
    root = gr.context.Context.root_block
    if root is not None:  # a Chinese UI starts from Chinese labels and search text
        root.load(locale_inputs, [labels, query], [labels, query, extra_texts], api_visibility="private",
                  show_progress="hidden")
    run.click(on_draw, [source, files, use_captions, extra_texts, labels, label_points, *view, model_name],
              [plot, gap_md, notes, data_state, hits_state, hook, hit_table, hit_gallery, export_state],
              concurrency_limit=1, concurrency_id="map", api_visibility="private")
    redraw_io = dict(inputs=[data_state, *view, hits_state, export_state], outputs=[plot, notes, export_state],
                     api_visibility="private", concurrency_limit=1, concurrency_id="map_view")
    for control in (method, dims, colour_by, lines):
        control.change(on_redraw, **redraw_io)
    for control in (n_neighbors, min_dist):
        control.release(on_redraw, **redraw_io)
    search_io = dict(inputs=[data_state, query, query_image, k, *view],
                     outputs=[plot, hit_table, hit_gallery, hits_state], api_visibility="private",
                     concurrency_limit=ctx.concurrency, concurrency_id="encode")
    search_btn.click(on_search, **search_io)
    query.submit(on_submit, **search_io)
    def on_point(data, k, method, dims, n_neighbors, min_dist, colour_by, lines, evt: gr.EventData,
                 request: gr.Request):
        return show_point(ctx, data, k, method, dims, n_neighbors, min_dist, colour_by, lines, evt, request)

    def on_export(data, method, dims, n_neighbors, min_dist, request: gr.Request):
        return export(ctx, data, method, dims, n_neighbors, min_dist, request)

    hook.click(on_point, [data_state, k, *view], [point_image, point_md, plot, hit_table, hit_gallery, hits_state],
               api_visibility="private")
    export_btn.click(on_export, [data_state, method, dims, n_neighbors, min_dist], [export_files_out],
                     api_visibility="private")
