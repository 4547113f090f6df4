"""Collections at size, measured: python -m clipdemo bench_map --sizes 1000,10000,100000

Each size is a collection of a few real toy images (embedded by the model) plus random unit vectors.
Rows: embedding throughput (local engine vs Ray Data on a local instance, 1 worker), then per size
the first projection (UMAP, strategy and trustworthiness), a cached reopen (what the app's Open
button costs on a second visit), the bytes of the figure sent to the browser, time to first paint in
headless Chromium (JSON parse + WebGL draw), hover latency in the browser plus the thumbnail route's
server time, text search (query encoding + exact search over every vector) and peak RSS.
Numbers only; nothing is asserted. On a shared CPU every number scales with the load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clipdemo.bench import synthetic
from clipdemo.data.collection import embed, mapping, service, sources, store

QUERIES = ("a red circle", "two blue squares", "a large green triangle on the left", "a yellow star", "a heart")
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]


@dataclass
class SizeRow:
    n: int
    values: dict = field(default_factory=dict)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def embed_throughput(work: Path, encoder, n_images: int, ray: bool, model: str) -> list[tuple[str, str]]:
    """Images per second of each engine on the same toy folder (fresh output folders)."""
    folder = synthetic.toy_image_folder(work / f"toy-images-{n_images}", n_images)
    src = sources.open_source(folder)
    rows = []
    out = work / "embed-local"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    embed.embed_local(src, out, encoder, progress=False)
    s = time.perf_counter() - t
    rows.append((f"embed {n_images} toy images, local engine", f"{n_images / s:.1f} img/s ({s:.1f} s)"))
    if ray:
        try:
            # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
            from clipdemo.data.collection import ray_engine
        except ImportError:
            return rows + [("embed, Ray engine", "skipped: Ray is not installed (requirements-ray.txt)")]
        out = work / "embed-ray"
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        ray_engine.embed_ray(src, out, model, "cpu", _dtype(encoder), workers=1, progress=False)
        s = time.perf_counter() - t
        rows.append((f"embed {n_images} toy images, Ray Data on a local instance (1 worker)",
                     f"{n_images / s:.1f} img/s ({s:.1f} s, including Ray start-up and model load)"))
    return rows


def _dtype(encoder) -> str:
    # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
    from clipdemo.core.devices import dtype_name

    return dtype_name(encoder.loaded.dtype)


class Browser:
    """Headless Chromium with plotly.js loaded once; draws a figure and hovers it."""

    def __init__(self):
        import plotly
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        self.page = self.browser.new_page(viewport={"width": 1440, "height": 900})
        js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        self.page.set_content("<div id='plot' style='width:1000px;height:680px'></div>")
        self.page.add_script_tag(path=str(js))

    def first_paint_ms(self, fig_json: str) -> float:
        return float(self.page.evaluate("""async (raw) => {
            const div = document.getElementById('plot'); Plotly.purge(div);
            const t0 = performance.now();
            const fig = JSON.parse(raw);
            await Plotly.newPlot(div, fig.data, fig.layout);
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            window.__hoverAt = 0;
            div.on('plotly_hover', () => { window.__hoverAt = performance.now(); });
            return performance.now() - t0; }""", fig_json))

    def hover_ms(self, repeats: int = 5) -> float | None:
        """Mouse moves onto a drawn point -> plotly_hover fires (ms, median over points 0..repeats-1)."""
        times = []
        for i in range(repeats):
            pos = self.page.evaluate("""(i) => { const div = document.getElementById('plot');
                const t = div._fullData.find(d => d.type === 'scattergl'); const r = div.querySelector('.nsewdrag')
                    .getBoundingClientRect(); const xa = div._fullLayout.xaxis, ya = div._fullLayout.yaxis;
                return [r.left + xa.l2p(t.x[i]), r.top + ya.l2p(t.y[i]), r.left + 2, r.top + 2]; }""", i)
            self.page.mouse.move(pos[2], pos[3])
            self.page.evaluate("() => { window.__hoverAt = 0; }")
            start = self.page.evaluate("() => performance.now()")
            self.page.mouse.move(pos[0], pos[1])
            try:
                self.page.wait_for_function("() => window.__hoverAt > 0", timeout=5000)
            except Exception:  # noqa: BLE001 - plotly picked no point: nothing to time
                continue
            times.append(self.page.evaluate("() => window.__hoverAt") - start)
        return statistics.median(times) if times else None

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()


def measure_size(n: int, work: Path, encoder, n_real: int, browser: Browser | None) -> SizeRow:
    # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
    from clipdemo.ui.collection.figures import collection_figure

    row = SizeRow(n)
    out = work / f"collection-{n}"
    real_n = min(n_real, n)
    synthetic.demo_collection(out, work / f"toy-images-{real_n}", real_n, n, encoder, progress=False)
    shutil.rmtree(out / "map", ignore_errors=True)
    t = time.perf_counter()
    coords, report = mapping.collection_projection(store.open_collection(out))
    row.values["first projection s"] = time.perf_counter() - t
    row.values["strategy"] = f"{report['strategy']} ({report['fit_n']} fitted)"
    row.values["trust (all)"] = report["trustworthiness"]
    real = np.arange(real_n)
    row.values["trust (real)"] = mapping.trustworthiness(store.open_collection(out).vectors, coords, indices=real)
    chosen = service.CollectionSet([out])
    name = chosen.names()[0]

    def reopen():
        fresh = service.CollectionSet([out])  # as a new process would: read shards, metadata and cached map
        m = service.collection_map(name, fresh)
        return collection_figure(m["x"], m["y"], name, "auto").to_json()

    t = time.perf_counter()
    fig_json = reopen()
    row.values["cached reopen s"] = time.perf_counter() - t
    row.values["payload MB"] = len(fig_json.encode()) / 2**20
    if browser is not None:
        row.values["first paint ms"] = browser.first_paint_ms(fig_json)
        row.values["hover ms (browser)"] = browser.hover_ms()
    c = chosen.get(name)
    idx = iter(np.random.default_rng(0).choice(len(real), min(len(real), 20), replace=False))
    row.values["thumb ms (server)"] = _median_ms(lambda: service.collection_thumbnail(name, int(next(idx)), 128,
                                                                                        chosen), min(len(real), 20))
    queries = iter(QUERIES * 4)
    row.values["search ms (encode+exact)"] = _median_ms(
        lambda: service.collection_search(name, encoder, query=next(queries), k=10, collections=chosen), 10)
    q = c.vectors[0].astype(np.float32)
    row.values["exact search ms"] = _median_ms(lambda: c.search(q, 10), 10)
    row.values["peak RSS MB"] = peak_rss_mb()
    return row


def print_table(head: list[tuple[str, str]], rows: list[SizeRow]) -> None:
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"collection benchmark · {os.cpu_count()} CPUs · load average (1/5/15 min) {load}")
    for step, value in head:
        print(f"  {step}: {value}")
    keys = list(dict.fromkeys(k for r in rows for k in r.values))
    cells = [["points", *keys]] + [[f"{r.n:,}", *[_fmt(r.values.get(k)) for k in keys]] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
    for j, line in enumerate(cells):
        print(" | ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
        if j == 0:
            print("-|-".join("-" * w for w in widths))


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}" if v < 1 else f"{v:.1f}"
    return str(v)


def run(sizes: list[int], model: str = "bundled", work: str | None = None, n_real: int = 200, ray: bool = True,
        browser: bool = True, device: str = "cpu", dtype: str = "fp32") -> tuple[list, list[SizeRow]]:
    # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    tmp = None
    if work is None:
        tmp = tempfile.mkdtemp(prefix="clipdemo-bench-collections-")
    root = Path(work or tmp)
    root.mkdir(parents=True, exist_ok=True)
    encoder = Encoder(load_model(model, device, dtype))
    head = embed_throughput(root, encoder, n_real, ray, model)
    t = time.perf_counter()
    mapping.project(np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32), "full")
    head.append(("UMAP import + numba JIT (once per process, before the first projection)",
                 f"{time.perf_counter() - t:.1f} s"))
    b = None
    if browser:
        try:
            b = Browser()
        except Exception as e:  # noqa: BLE001 - no Chromium/Playwright: the other columns still count
            head.append(("browser", f"skipped ({type(e).__name__}: {e})"))
    rows = []
    try:
        for n in sizes:
            rows.append(measure_size(n, root, encoder, n_real, b))
    finally:
        if b is not None:
            b.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print_table(head, rows)
    return head, rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m clipdemo bench_map --sizes ...", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", required=True, help="points per collection, comma separated (e.g. 1000,10000,100000)")
    p.add_argument("--model", default="bundled")
    p.add_argument("--real", type=int, default=200, help="real toy images per collection (the rest are random)")
    p.add_argument("--work", default=None, help="keep the collections in this folder (default: a temporary one)")
    p.add_argument("--no-ray", action="store_true", help="skip the Ray engine row")
    p.add_argument("--no-browser", action="store_true", help="skip headless Chromium")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    run(sizes, args.model, args.work, args.real, not args.no_ray, not args.no_browser)
