"""The map tab's collection view: a prepared collection of 10k-1M images, mapped, searched, selected.

Shown only when the app was started with --collection DIR (or CLIPDEMO_COLLECTIONS). The engine is
clipdemo.data.collection.service; this module turns its numbers into a figure and tables. The browser
gets coordinates once per open or search (typed arrays); thumbnails and captions come one by one on
hover from the collection's own routes (collection_routes), so nothing per point is sent up front.
"""

from __future__ import annotations

import io

import gradio as gr
from PIL import Image

from clipdemo.core.images import ImageError
from clipdemo.data.collection import service
from clipdemo.data.collection.insight import write_table
from clipdemo.data.collection.layout import CollectionError
from clipdemo.ui import scratch
from clipdemo.ui.collection.figures import HITS_META, POINTS_UID, add_insight_layer, collection_figure
from clipdemo.ui.collection.strings import STRINGS  # noqa: F401 - merged into the map tab's strings
from clipdemo.ui.context import USER_ERRORS, UIContext, user_error
from clipdemo.ui.i18n import t, tr
from clipdemo.ui.inputs import image_input
from clipdemo.ui.map.figures import empty_figure

ERRORS = (*USER_ERRORS, CollectionError, ImageError)
ROUTE = "clipdemo/collection"  # relative to the page, so the app also works under a path prefix

HOOK_JS = """
const tip = document.createElement('div');
tip.style.cssText = 'position:fixed;display:none;z-index:10000;pointer-events:none;background:#fff;max-width:220px;' +
  'border:1px solid #bbb;border-radius:6px;padding:4px;box-shadow:0 2px 10px rgba(0,0,0,.25);font-size:12px';
document.body.appendChild(tip);
let mx = 0, my = 0, shown = -1;
const captions = new Map();
const place = () => { tip.style.left = Math.max(4, mx - tip.offsetWidth - 18) + 'px';
                      tip.style.top = Math.max(4, my - tip.offsetHeight - 18) + 'px'; };
document.addEventListener('mousemove', e => { mx = e.clientX; my = e.clientY; if (tip.style.display === 'block') place(); });
const base = name => new URL('ROUTE/' + encodeURIComponent(name) + '/', window.location.href).href;
const hook = () => {
  const gd = document.querySelector('#clipdemo-collection-plot .js-plotly-plot');
  if (!gd || gd.__clipdemoHooked || !gd.on) return;
  gd.__clipdemoHooked = true;
  gd.on('plotly_hover', ev => {
    const p = ev && ev.points && ev.points[0];
    const name = gd.layout && gd.layout.meta && gd.layout.meta.collection;
    const i = !p ? -1 : p.data.meta === 'UID' ? p.pointNumber : p.data.meta === 'HITS' ? p.customdata[0] : -1;
    if (!name || i < 0) return;
    shown = i;
    tip.innerHTML = '';
    const img = document.createElement('img'); img.style.cssText = 'display:block;width:128px;min-height:8px';
    img.onerror = () => { img.remove(); };
    img.src = base(name) + 'thumb/' + i;
    const cap = document.createElement('div'); cap.textContent = '#' + i;
    tip.appendChild(img); tip.appendChild(cap); tip.style.display = 'block'; place();
    const key = name + '/' + i;
    const show = d => { if (shown === i) { cap.textContent = '#' + i + ' ' + d.image_path + (d.caption ? ' — ' + d.caption : ''); place(); } };
    if (captions.has(key)) show(captions.get(key));
    else fetch(base(name) + 'point/' + i).then(r => r.ok ? r.json() : null).then(d => { if (d) { captions.set(key, d); show(d); } });
  });
  gd.on('plotly_unhover', () => { tip.style.display = 'none'; shown = -1; });
  gd.on('plotly_click', ev => { const p = ev && ev.points && ev.points[0];
    if (p && p.data.meta === 'UID') trigger('click', {point: p.pointNumber}); });
  gd.on('plotly_selected', ev => {
    const idx = ((ev && ev.points) || []).filter(p => p.data.meta === 'UID').map(p => p.pointNumber);
    trigger('select', {indices: idx});
  });
};
setInterval(hook, 600);
""".replace("ROUTE", ROUTE).replace("UID", POINTS_UID).replace("HITS", HITS_META)


def _words(request) -> dict[str, str]:
    return {k: tr(request, f"coll.fig_{k}") for k in ("points", "density", "hits")}


def _collections(ctx: UIContext) -> service.CollectionSet:
    return ctx.extra.get("collections") or service.active()


def info_text(m: dict, request=None) -> str:
    rep = m["projection"]
    if str(rep.get("strategy")).startswith("sample"):
        how = tr(request, "coll.how_sample", fit=rep.get("fit_n", 0), pca=rep.get("pca_dims", "?"))
    else:
        how = tr(request, "coll.how_full", pca=rep.get("pca_dims", "?"))
    return tr(request, "coll.info", name=m["name"], count=m["count"], dim=m["dim"], model=m["model"] or "?", how=how,
              seconds=rep.get("total_seconds", "?"), cached=tr(request, "coll.cached") if rep.get("cached") else "",
              trust=rep.get("trustworthiness", "?"), sample=rep.get("trust_sample", 0))


def open_map(ctx: UIContext, name, view, request: gr.Request = None, progress=gr.Progress()):
    collections = _collections(ctx)
    if not name:  # a view change before any collection was opened
        return (gr.update(),) * 7
    try:
        progress(0, desc=tr(request, "coll.progress_open"))
        m = service.collection_map(name, collections,
                                   progress=lambda msg: progress(0.5, desc=f"{tr(request, 'coll.progress_map')}: {msg}"))
    except ERRORS as e:
        raise user_error(e, request) from e
    fig = collection_figure(m["x"], m["y"], name, view, words=_words(request))
    return fig, info_text(m, request), [], [], [], tr(request, "coll.select_hint"), name


def _hit_outputs(ctx, name, result, view, request):
    collections = _collections(ctx)
    m = service.collection_map(name, collections)
    fig = collection_figure(m["x"], m["y"], name, view, result["hits"], words=_words(request))
    table = [[h["rank"], h["image_path"], h["caption"], h["score"]] for h in result["hits"]]
    gallery = []
    for h in result["hits"]:
        try:
            data = service.collection_thumbnail(name, h["index"], 160, collections)
        except ERRORS:
            continue  # a row without a readable image (e.g. a synthetic vector) stays in the table only
        gallery.append((Image.open(io.BytesIO(data)), f"#{h['rank']} {h['score']:.2f}"))
    return fig, table, gallery


def search(ctx: UIContext, name, opened, query, image, k, view, model_name, request: gr.Request = None):
    if not opened:
        raise gr.Error(tr(request, "coll.none_open"))
    try:
        result = ctx.service.collection_hits(opened, query, image, int(k), model_name or "", _collections(ctx))
        fig, table, gallery = _hit_outputs(ctx, opened, result, view, request)
    except ERRORS as e:
        raise user_error(e, request) from e
    s = result["seconds"]
    note = tr(request, "coll.searched", n=len(result["hits"]), count=result["count"], encode=s["encode"] * 1000,
              search=s["search"] * 1000)
    return fig, table, gallery, "\n".join(["- " + x for x in [note, *result["notices"]]])


def event_value(evt: gr.EventData | None, key: str):
    """A value the page's hook sent with the event: gr.EventData's documented attribute access (evt.point);
    None when the event carries no such value."""
    try:
        return getattr(evt, key)
    except (AttributeError, TypeError):  # no such key, or an event without data
        return None


def clicked(ctx: UIContext, opened, k, view, evt: gr.EventData, request: gr.Request = None):
    no = gr.update()
    point = event_value(evt, "point")
    if not opened or point is None:
        return no, no, no, no
    try:
        result = service.nearest_to_point(opened, int(point), int(k), _collections(ctx))
        fig, table, gallery = _hit_outputs(ctx, opened, result, view, request)
    except (*ERRORS, TypeError) as e:
        raise user_error(e, request) from e
    path = result["hits"][0]["image_path"] if result["hits"] else ""
    return fig, table, gallery, tr(request, "coll.clicked", index=int(point), path=path)


def selected(opened, evt: gr.EventData, request: gr.Request = None):
    indices = event_value(evt, "indices")
    if not opened or not isinstance(indices, list):
        return [], tr(request, "coll.select_hint")
    return indices, tr(request, "coll.selected", n=len(indices))


def export_selection(ctx: UIContext, opened, indices, request: gr.Request = None):
    if not opened:
        raise gr.Error(tr(request, "coll.none_open"))
    try:
        path = service.export_selection(opened, indices or [], scratch.new_folder("collection-"), _collections(ctx))
    except ERRORS as e:
        raise user_error(e, request) from e
    return [str(path)]


def export_atlas(ctx: UIContext, opened, request: gr.Request = None):
    if not opened:
        raise gr.Error(tr(request, "coll.none_open"))
    try:
        path = service.export_atlas(opened, scratch.new_folder("collection-"), _collections(ctx))
    except ERRORS as e:
        raise user_error(e, request) from e
    return [str(path)]


TABLE_ROWS = 200  # rows shown; the file holds them all


def _layer_encoder(ctx: UIContext, c, model_name):
    """The collection's own model (it names clusters); None when it cannot be loaded here (then a caption names)."""
    try:
        return ctx.service.encoder(c.model or model_name or "")
    except Exception:  # noqa: BLE001 - a missing model only costs the zero-shot names
        return None


def show_layer(ctx: UIContext, opened, layer, view, model_name, request: gr.Request = None):
    """An insight layer on the map, its table (first TABLE_ROWS rows) and the whole table as a parquet file."""
    if not opened:
        raise gr.Error(tr(request, "coll.none_open"))
    collections = _collections(ctx)
    try:
        m = service.collection_map(opened, collections)
        if layer == "none":
            return collection_figure(m["x"], m["y"], opened, view, words=_words(request)), None, [], ""
        c = collections.get(opened)
        table, labels, params = service.collection_insight(opened, layer, _layer_encoder(ctx, c, model_name),
                                                           collections)
    except ERRORS as e:
        raise user_error(e, request) from e
    fig = add_insight_layer(collection_figure(m["x"], m["y"], opened, view, words=_words(request)), m["x"], m["y"],
                            layer, table, labels)
    path = write_table(table, scratch.new_folder("insight-") / f"{opened}-{layer}.parquet", params)
    note = tr(request, f"coll.layer_{layer}_note", n=len(table), groups=int(table["group"].nunique())
              if layer == "duplicates" and len(table) else 0, threshold=params.get("threshold", ""),
              k=params.get("n_clusters", params.get("k", "")))
    return fig, table.head(TABLE_ROWS).round(4), [str(path)], note


def build(ctx: UIContext, model_name: gr.State) -> bool:
    """The collection section of the map tab; nothing when no collection was given at launch."""
    collections = _collections(ctx)
    if not collections.names():
        return False
    with gr.Accordion(t("coll.title"), open=True, elem_id="clipdemo-collection"):
        gr.Markdown(t("coll.intro"))
        opened = gr.State(None)
        selection = gr.State([])
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                name = gr.Dropdown(collections.names(), value=collections.names()[0], label=t("coll.name"))
                view = gr.Radio([(t("coll.view_auto"), "auto"), (t("coll.view_points"), "points"),
                                 (t("coll.view_density"), "density")], value="auto", label=t("coll.view"))
                open_btn = gr.Button(t("coll.open"), variant="primary", elem_id="clipdemo-collection-open")
                query = gr.Textbox(label=t("coll.query"), value="a red circle", elem_id="clipdemo-collection-query")
                query_image = image_input(label=t("coll.query_image"), height=140)
                k = gr.Slider(1, 50, value=12, step=1, label=t("coll.k"))
                search_btn = gr.Button(t("coll.search"), elem_id="clipdemo-collection-search")
            with gr.Column(scale=3):
                plot = gr.Plot(empty_figure("…", height=680), label=t("coll.plot"), elem_id="clipdemo-collection-plot")
                hook = gr.HTML("", html_template="<div class='clipdemo-collection-hook'></div>", js_on_load=HOOK_JS,
                               padding=False)
                info = gr.Markdown(elem_id="clipdemo-collection-info")
        with gr.Row():
            with gr.Column(scale=2):
                hit_gallery = gr.Gallery(label=t("coll.hits"), columns=8, height=190, object_fit="contain")
            with gr.Column(scale=2):
                hit_table = gr.Dataframe(headers=["rank", "image_path", "caption", "cosine"],
                                         label=t("coll.hits_table"), interactive=False, max_height=260)
        with gr.Row():
            with gr.Column(scale=1):
                sel_md = gr.Markdown(t("coll.select_hint"))
                export_sel_btn = gr.Button(t("coll.export_sel"))
                export_atlas_btn = gr.Button(t("coll.export_atlas"))
                gr.Markdown(t("coll.atlas_help"))
            with gr.Column(scale=2):
                files = gr.File(label=t("coll.files"), file_count="multiple")
                search_md = gr.Markdown()
        gr.Markdown("#### " + t("coll.insight"))
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                layer = gr.Radio([(t("coll.layer_none"), "none"), (t("coll.layer_clusters"), "clusters"),
                                  (t("coll.layer_duplicates"), "duplicates"),
                                  (t("coll.layer_mismatched"), "mismatched"), (t("coll.layer_outliers"), "outliers")],
                                 value="clusters", label=t("coll.layer"), elem_id="clipdemo-collection-layer")
                layer_btn = gr.Button(t("coll.layer_show"), elem_id="clipdemo-collection-layer-show")
                layer_md = gr.Markdown(elem_id="clipdemo-collection-layer-note")
                layer_file = gr.File(label=t("coll.layer_file"), file_count="multiple")
            with gr.Column(scale=3):
                layer_table = gr.Dataframe(label=t("coll.layer_table"), interactive=False, max_height=320, wrap=True,
                                           elem_id="clipdemo-collection-layer-table")

    def on_open(name, view, request: gr.Request, progress=gr.Progress()):
        return open_map(ctx, name, view, request, progress)

    def on_search(name, opened, query, image, k, view, model, request: gr.Request):
        return search(ctx, name, opened, query, image, k, view, model, request)

    def on_submit(name, opened, query, k, view, model, request: gr.Request):
        return search(ctx, name, opened, query, None, k, view, model, request)

    def on_click(opened, k, view, evt: gr.EventData, request: gr.Request):
        return clicked(ctx, opened, k, view, evt, request)

    def on_select(opened, evt: gr.EventData, request: gr.Request):
        return selected(opened, evt, request)

    def on_export_sel(opened, indices, request: gr.Request):
        return export_selection(ctx, opened, indices, request)

    def on_export_atlas(opened, request: gr.Request):
        return export_atlas(ctx, opened, request)

    def on_layer(opened, layer, view, model, request: gr.Request):
        return show_layer(ctx, opened, layer, view, model, request)

    private = dict(api_visibility="private")
    layer_btn.click(on_layer, [opened, layer, view, model_name], [plot, layer_table, layer_file, layer_md],
                    concurrency_limit=1, concurrency_id="collection_map", **private)
    open_btn.click(on_open, [name, view], [plot, info, hit_table, hit_gallery, selection, sel_md, opened],
                   concurrency_limit=1, concurrency_id="collection_map", **private)
    view.change(on_open, [opened, view], [plot, info, hit_table, hit_gallery, selection, sel_md, opened],
                concurrency_limit=1, concurrency_id="collection_map", **private)
    search_out = [plot, hit_table, hit_gallery, search_md]
    search_btn.click(on_search, [name, opened, query, query_image, k, view, model_name], search_out,
                     concurrency_limit=ctx.concurrency, concurrency_id="encode", **private)
    query.submit(on_submit, [name, opened, query, k, view, model_name], search_out,
                 concurrency_limit=ctx.concurrency, concurrency_id="encode", **private)
    hook.click(on_click, [opened, k, view], [plot, hit_table, hit_gallery, search_md], **private)
    hook.select(on_select, [opened], [selection, sel_md], **private)
    export_sel_btn.click(on_export_sel, [opened, selection], [files], **private)
    export_atlas_btn.click(on_export_atlas, [opened], [files], **private)
    return True
