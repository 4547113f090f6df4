"""Drive the real app in headless Chromium and write the README screenshots (docs/screenshots/*.png).

    python scripts/screenshots.py [--out docs/screenshots] [--port 7887] [--lang en]
    python scripts/screenshots.py --all --out /tmp/shots      # every tab, 1440×900 and 390×844, en and zh-CN

Starts `python app.py` on the bundled model, with a second, tiny random-weight checkpoint in the picker
(built here in a temporary folder), then for each view: opens its tab, runs it the way a visitor would
and takes a picture. Uses Debian's Chromium (`/usr/bin/chromium`, or CHROMIUM=...); never downloads a
browser. Re-run it whenever the UI changes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 900}  # a classroom laptop; --all adds a phone


def build_second_model(out: Path) -> Path:
    """A tiny random-weight CLIP in standard HF format: a second local checkpoint for the picker."""
    from transformers import AutoTokenizer

    from clipdemo.core.loading import BUNDLED_MODEL_DIR
    from clipdemo.teach.trainer import TrainConfig, build_model, save_checkpoint

    tokenizer = AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR)
    cfg = TrainConfig(width=64, vision_layers=2, text_layers=2, heads=2, image_size=64, patch_size=8,
                      projection_dim=64, seed=1)
    save_checkpoint(build_model(cfg, tokenizer), tokenizer, out, cfg.image_size, fp16=False)
    for name in ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"):
        if (BUNDLED_MODEL_DIR / name).exists() and not (out / name).exists():
            shutil.copy(BUNDLED_MODEL_DIR / name, out / name)
    return out


def free_port(start: int) -> int:
    for port in range(start, start + 20):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {start}-{start + 19}")


def start_app(port: int, allow_folder: Path, log: Path, patience_s: float = 480) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    cmd = [sys.executable, "app.py", "--model", "bundled", "--port", str(port), "--allow-folder", str(allow_folder),
           "--device", "cpu", "--dtype", "fp32"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + patience_s  # a first OpenVINO conversion on a loaded 2-core machine takes minutes
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited; see {log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2)
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"the app did not answer within {patience_s:.0f} s; see {log}")


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Until Gradio shows no progress indicator (the run has finished)."""
    page.wait_for_timeout(500)
    # only visible indicators count: a training run in another tab keeps its own going
    page.wait_for_function("() => ![...document.querySelectorAll('.progress-text, .eta-bar, .progress-level')]"
                           ".some(e => e.offsetParent !== null)", timeout=timeout_ms)
    page.wait_for_timeout(800)


def open_tab(page, index: int) -> None:
    """By position (zero-shot, similarity, map, learn, lessons), so it works in every UI language."""
    page.get_by_role("tab").nth(index).click()
    page.wait_for_timeout(600)


def run_visible_tab(page, timeout_ms: int = 120_000) -> bool:
    """Press the first primary button of the open tab; False if it has none."""
    button = page.locator("[role='tabpanel']:visible button.primary:visible").first
    if not button.count():
        return False
    button.click()
    wait_idle(page, timeout_ms)
    return True


SUFFIX = {"value": ""}  # "-zh-CN" for a Chinese run: docs/screenshots/similarity-zh-CN.png beside similarity.png


def named(file: str) -> str:
    stem, ext = file.rsplit(".", 1)
    return f"{stem}{SUFFIX['value']}.{ext}"


def shot_zero_shot(page, out: Path) -> None:
    open_tab(page, 0)
    page.locator("[role='tabpanel']:visible img[src*='00_a_small']").first.click()  # the first toy example
    page.wait_for_timeout(800)
    run_visible_tab(page)
    page.locator(".export-box").first.locator("button").first.click()  # open the Export accordion
    page.locator("#export-zero_shot").click()
    wait_idle(page)
    page.locator(".js-plotly-plot:visible").first.hover()  # shows plotly's toolbar (its camera = PNG export)
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / named("zero-shot.png")), full_page=True)


def shot_generic(page, tab: int, file: str, out: Path, run_timeout_ms: int = 120_000, prepare: str = "",
                 settle_ms: int = 0) -> None:
    """Other views: open the tab, press `prepare` (a button's CSS selector, so any UI language works) if
    given, then its first primary button, wait, take the picture."""
    open_tab(page, tab)
    if prepare:
        page.locator(prepare).first.click()
        wait_idle(page)
    try:
        run_visible_tab(page, run_timeout_ms)
    except Exception:  # noqa: BLE001 - a long view (training) is pictured mid-way
        pass
    page.wait_for_timeout(settle_ms)  # e.g. let a live training run draw a few steps
    page.screenshot(path=str(out / named(file)), full_page=True)


def shot_picker(page, out: Path, second_label: str) -> None:
    """Switch to the second local checkpoint in the picker and picture the header."""
    open_tab(page, 0)
    page.locator("#model-picker input").click()
    page.get_by_role("option", name=second_label).first.click()
    page.wait_for_function(f"() => document.querySelector('#model-summary')?.innerText.includes('{second_label}')",
                           timeout=120_000)
    wait_idle(page)
    run_visible_tab(page)
    page.screenshot(path=str(out / named("model-picker.png")), clip={"x": 0, "y": 0, "width": VIEWPORT["width"],
                                                              "height": 900})


SIZES = {"wide": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
TAB_FILES = ("zero-shot", "similarity", "map", "learn", "lessons", "few-shot", "video")  # the order of ui.app.TABS


def click_plot_point(page, selector: str, point: dict) -> None:
    """Fire plotly's click event on a plot, as a visitor's click on that point would (no pixel hunting)."""
    page.evaluate("([sel, pt]) => { const gd = document.querySelector(sel + ' .js-plotly-plot');"
                  " gd.emit('plotly_click', {points: [Object.assign({data: gd.data[0]}, pt)]}); }", [selector, point])


def shoot_every_tab(browser, port: int, out: Path, lang: str, size: str) -> None:
    """One visitor (language, screen size): the first screen, then each tab run once, as files
    `{lang}-{size}-{n}-{view}.png` (full page) and `...-top.png` (only what the screen shows)."""
    page = browser.new_page(viewport=SIZES[size], locale=lang)
    page.set_default_timeout(300_000)
    stem = f"{lang}-{size}"

    def snap(n: int, view: str, top: bool = True) -> None:
        # scroll through once: images below the fold load lazily and a full-page picture would show them blank
        height = page.evaluate("document.body.scrollHeight")
        for y in range(0, height, SIZES[size]["height"]):
            page.evaluate(f"window.scrollTo(0, {y})")
            page.wait_for_timeout(150)
        page.wait_for_timeout(400)
        page.screenshot(path=str(out / f"{stem}-{n}-{view}.png"), full_page=True)
        if top:
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out / f"{stem}-{n}-{view}-top.png"))

    page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
    page.wait_for_function("() => (document.querySelector('#model-summary')?.innerText || '').length > 20")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(out / f"{stem}-first-screen.png"))
    steps = {
        "zero-shot": lambda: (page.locator("[role='tabpanel']:visible img[src*='00_a_small']").first.click(),
                              page.wait_for_timeout(800), run_visible_tab(page)),
        "similarity": lambda: (page.locator("#sim-toy-batch").first.click(), wait_idle(page),
                               click_plot_point(page, "#sim-matrix", {"x": 2, "y": 2}), wait_idle(page)),
        "map": lambda: (run_visible_tab(page), click_plot_point(page, "#clipdemo-map-plot", {"customdata": [3]}),
                        wait_idle(page), page.locator("#clipdemo-map-plot").scroll_into_view_if_needed()),
        "learn": lambda: (page.locator("[role='tabpanel']:visible button.primary:visible").first.click(),
                          page.wait_for_function("() => /[0-9]+ ?\\/ ?[0-9]+/.test(document.querySelector("
                                                 "'#learn-status')?.innerText || '')", timeout=90_000),
                          page.wait_for_timeout(15_000)),
        "lessons": lambda: run_visible_tab(page),
        "few-shot": lambda: run_visible_tab(page),
        "video": lambda: (page.locator("#vid-example").click(), wait_idle(page, 120_000),
                          page.locator("#vid-timeline").scroll_into_view_if_needed()),
    }
    for n, view in enumerate(TAB_FILES):
        t = time.time()
        try:
            open_tab(page, n)
            snap(n, view + "-before", top=False) if view == "map" else None
            steps[view]()
            snap(n, view)
            print(f"{stem} {view}: {time.time() - t:.1f} s")
        except Exception as e:  # noqa: BLE001 - one view failing must not lose the others
            page.screenshot(path=str(out / f"{stem}-{n}-{view}-FAILED.png"), full_page=True)
            print(f"{stem} {view}: FAILED ({type(e).__name__}: {str(e).splitlines()[0]})")
    page.close()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--port", type=int, default=7887)
    p.add_argument("--lang", default="en", help="browser language: en or zh-CN")
    # the picker last: every other view is pictured with the bundled model
    p.add_argument("--views", nargs="+", default=["zero-shot", "similarity", "map", "learn", "lessons", "picker"])
    p.add_argument("--all", action="store_true", help="every tab at 1440×900 and 390×844 in English and Chinese "
                                                       "(into --out), instead of the README's pictures")
    p.add_argument("--sizes", nargs="+", default=list(SIZES), help="with --all: wide and/or phone")
    p.add_argument("--langs", nargs="+", default=["en", "zh-CN"], help="with --all")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="clipdemo-shots-"))
    second = build_second_model(tmp / "tiny-random-clip")
    port = free_port(args.port)
    proc = start_app(port, second, tmp / "app.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                         args=CHROMIUM_ARGS)
            if args.all:
                for lang in args.langs:
                    for size in args.sizes:
                        shoot_every_tab(browser, port, out, lang, size)
                browser.close()
                return
            SUFFIX["value"] = "" if args.lang == "en" else f"-{args.lang}"
            page = browser.new_page(viewport=VIEWPORT, locale=args.lang)
            page.set_default_timeout(300_000)  # a busy 2-core machine renders the page slowly
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            # the status line is filled by a load event: when it has text, the page is live
            page.wait_for_function("() => (document.querySelector('#model-summary')?.innerText || '').length > 20")
            steps = {
                "zero-shot": lambda: shot_zero_shot(page, out),
                "similarity": lambda: shot_generic(page, 1, "similarity.png", out, prepare="#sim-toy-batch"),
                "map": lambda: shot_generic(page, 2, "map.png", out),
                "learn": lambda: shot_generic(page, 3, "learn.png", out, run_timeout_ms=60_000, settle_ms=40_000),
                "lessons": lambda: shot_generic(page, 4, "lessons.png", out),
                "picker": lambda: shot_picker(page, out, second.name),
            }
            for view in args.views:
                t = time.time()
                try:
                    steps[view]()
                    print(f"{view}: {time.time() - t:.1f} s")
                except Exception as e:  # noqa: BLE001 - one view failing must not lose the others
                    page.screenshot(path=str(tmp / f"failed-{view}.png"), full_page=True)
                    print(f"{view}: FAILED ({type(e).__name__}: {str(e).splitlines()[0]}); "
                          f"see {tmp / f'failed-{view}.png'}")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(20)
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
