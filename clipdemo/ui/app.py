"""Assemble the tabs into one Gradio Blocks app, and what makes it safe to share (issue #11).

Shared use: every event handler runs inside one request budget (`clipdemo.limits`), a session's own
models are freed when its tab closes, Gradio's cache writes are atomic (`gradio_adapter`), the queue
is fair per client (`guard.FairQueue`) and the disk is swept on a short schedule (`scratch.DiskSweeper`).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import inspect

import gradio as gr
from starlette.middleware import Middleware

from clipdemo import limits
from clipdemo.ui import api, gradio_adapter, header, messages
from clipdemo.ui.context import UIContext
from clipdemo.ui.guard import ConfigCache, FairQueue, NoRemoteFiles
from clipdemo.ui.i18n import build_i18n, t, tr
from clipdemo.ui.learn import layout as learn_tab
from clipdemo.ui.lessons import layout as lessons_tab
from clipdemo.ui.map import layout as map_tab
from clipdemo.ui.no_fetch import NoRemoteInputs
from clipdemo.ui.scratch import DiskSweeper
from clipdemo.ui.similarity import layout as similarity_tab
from clipdemo.ui.zeroshot import layout as zeroshot_tab

CSS = """
.gradio-container {max-width: 1400px !important}
#app-title h2 {margin: 0}
#app-subtitle p {margin-top: 0}
#model-header {align-items: flex-start}
#model-status {font-size: var(--text-sm)}
#bundled-note {align-items: center; gap: 8px}
#bundled-note .bundled-text {flex: 3 1 400px}
#bundled-note .bundled-offline {flex: 1 1 220px}
/* a phone (390 px): the header stacks, nothing is cut */
@media (max-width: 720px) {
  .gradio-container {padding-left: 6px !important; padding-right: 6px !important}
  #model-header, #bundled-note {flex-direction: column}
  #model-header > *, #bundled-note > * {width: 100% !important; min-width: 0 !important; flex: none !important}
  .tab-container button {padding: 0 10px !important}
  #app-subtitle {display: none}  /* the tabs come sooner; each tab's own intro says what it shows */
  #model-status {font-size: 13px}
}
"""

# Local fonts only, Latin first, then CJK: no web font to fetch offline, and none that draws "Ƶero-shot"
# (Gradio's bundled Montserrat) or Chinese in a mismatched fallback
FONTS = ["Inter", "Segoe UI", "Helvetica Neue", "Arial", "Noto Sans", "Liberation Sans", "DejaVu Sans",
         "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
         "WenQuanYi Micro Hei", "sans-serif"]
THEME = gr.themes.Soft(font=FONTS, font_mono=["DejaVu Sans Mono", "Menlo", "Consolas", "Liberation Mono",
                                               "WenQuanYi Micro Hei Mono", "monospace"])
# Words Gradio's page writes itself, in English whatever the language (toast titles, "processing | 1.2s"):
# in a Chinese browser they are replaced as they appear.
GRADIO_WORDS_JS = """() => {
  if (!(navigator.language || '').toLowerCase().startsWith('zh')) return;
  const words = {Warning: '警告', Error: '错误', Info: '提示', Success: '成功', processing: '处理中'};
  const swap = (node) => {
    const text = node.nodeValue; if (!text) return;
    const out = text.replace(/\\b(Warning|Error|Info|Success|processing)\\b/g, w => words[w]);
    if (out !== text) node.nodeValue = out;
  };
  const walk = (root) => {
    const scope = root.nodeType === 3 ? [root] : [];
    if (root.querySelectorAll) for (const el of root.querySelectorAll('.toast-title, .toast-title *, .progress-text, .meta-text, .meta-text-center, .error'))
      for (const n of el.childNodes) if (n.nodeType === 3) scope.push(n);
    scope.forEach(swap);
  };
  new MutationObserver(ms => ms.forEach(m => { if (m.type === 'characterData') { const el = m.target.parentElement;
      if (el && el.closest('.toast-title, .progress-text, .meta-text, .meta-text-center, .error')) swap(m.target); }
    m.addedNodes.forEach(n => walk(n.parentElement || n)); }))
    .observe(document.body, {childList: true, subtree: true, characterData: true});
  walk(document.body);
}"""
CACHE_SWEEP = (900, 3600)  # (every, older than) seconds: Gradio's own sweep; DiskSweeper adds a size cap
SESSION_STATES = 1000  # sessions whose gr.State (embeddings, maps) the server keeps; Gradio's default is 10000

TABS = (("zs.tab", zeroshot_tab), ("sim.tab", similarity_tab), ("map.tab", map_tab), ("learn.tab", learn_tab),
        ("lessons.tab", lessons_tab))


def build_app(ctx: UIContext, gradio_patches: bool = True) -> gr.Blocks:
    gradio_adapter.check()  # a Gradio this app was not written for refuses to start here, not at call time
    # Gradio's cache writes made atomic (see gradio_adapter); off (app.py --no-gradio-patches) only for the
    # test that shows the race they prevent
    if gradio_patches:
        gradio_adapter.apply()
    gradio_adapter.patient_start_check()  # a busy machine must not make the app refuse to start
    # no telemetry or version check: nothing leaves the machine at run time (offline classrooms);
    # uploads and outputs older than 6 h are swept hourly, so a long-running server's disk stays bounded
    with gr.Blocks(title="clipdemo", analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown("## " + t("app.title"), elem_id="app-title")
        gr.Markdown(t("app.subtitle"), elem_id="app-subtitle")
        model_name = gr.State(ctx.registry.default)
        header.build(ctx, model_name)
        with gr.Tabs(overflow_behavior="wrap"):  # on a phone every tab stays in sight (not behind "…")
            for key, module in TABS:
                with gr.Tab(t(key), id=key.split(".")[0]):
                    module.build(ctx, model_name)
        def free_session_models(request: gr.Request):  # the tab closed: free them now (idle ones expire anyway)
            ctx.registry.drop_session(getattr(request, "session_hash", None))

        demo.unload(free_session_models)
        demo.load(None, None, None, js=GRADIO_WORDS_JS)
        api.publish(ctx.service, ctx.concurrency)  # the public API: named endpoints on the service layer
    for block_fn in demo.fns.values():
        block_fn.fn = within_budget(block_fn.fn)
    return demo


def within_budget(fn):
    """Run an event handler inside one request budget (clipdemo.limits): every image, byte and second it
    spends counts against one request. A limit's refusal reaches the visitor as a message."""
    if fn is None or getattr(fn, "_clipdemo_budget", False) or not callable(fn) or \
            inspect.iscoroutinefunction(fn) or inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        return fn  # generators step through several threads: a context variable cannot span them

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with limits.request_scope(limits.RequestBudget(abandoned=gradio_adapter.current_event_is_abandoned())):
            try:
                return fn(*args, **kwargs)
            except limits.LimitError as e:
                raise messages.user_error(e, _request_in(args, kwargs), "msg.too_large") from e
            except RecursionError as e:  # a pathologically nested input must not look like a crash
                request = _request_in(args, kwargs)
                raise gr.Error(tr(request, "msg.nested"), title=tr(request, "msg.input_problem")) from e

    run._clipdemo_budget = True
    return run


def _request_in(args, kwargs) -> gr.Request | None:
    """The handler's gr.Request, if it takes one: messages then follow the visitor's language."""
    return next((a for a in (*args, *kwargs.values()) if isinstance(a, gr.Request)), None)


def release_memory() -> None:
    """Give freed memory back to the system. After a burst (a class of 60 decoding pictures at once) glibc
    keeps the freed heap in its arenas, so the server's RSS stays at its peak; malloc_trim returns it."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        pass


def start_housekeeping(ctx: UIContext, disk_cap_bytes: int, every_s: float = 30) -> DiskSweeper:
    """Every `every_s` seconds: sweep the disk (uploads, outputs, partial uploads; size cap), expire idle
    session models, give freed memory back."""
    def also():
        ctx.registry.expire()
        release_memory()

    return DiskSweeper(cap_bytes=disk_cap_bytes, every_s=every_s, extra=also).start()


def launch_kwargs(max_file_size: str = "25mb", max_pending_per_client: int = 8,
                  behind_space_proxy: bool = False) -> dict:
    """`behind_space_proxy`: on a Hugging Face Space, where each visitor is named by HF's proxy."""
    middleware = [Middleware(NoRemoteFiles), Middleware(NoRemoteInputs),
                  Middleware(FairQueue, max_pending=max_pending_per_client, behind_space_proxy=behind_space_proxy),
                  Middleware(ConfigCache)]
    return dict(i18n=build_i18n(), css=CSS, theme=THEME, max_file_size=max_file_size,
                footer_links=["api", "settings"], app_kwargs={"middleware": middleware},
                state_session_capacity=SESSION_STATES)
