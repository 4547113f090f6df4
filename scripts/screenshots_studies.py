"""Screenshots of issue 24's views: the few-shot curve, two models side by side, and the Similarity tab's shaded
words, in English and Chinese, at 1440×900 and 390×844 (a phone).

    python scripts/screenshots_studies.py [--out docs/screenshots] [--langs en zh-CN] [--sizes wide phone]

Uses scripts/screenshots.py's app start-up (the bundled model, plus a tiny random CLIP as a second model) and
Debian's Chromium. Wide English pictures go to --out as few-shot.png, compare-models.png, words.png; the others
get a -{lang}-{size} suffix.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screenshots as base  # noqa: E402 - the README screenshots' helpers

SIZES = {"wide": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
STUDIES_TAB = 5  # zero-shot, similarity, map, learn, lessons, few-shot & compare


def name(view: str, lang: str, size: str) -> str:
    return f"{view}.png" if (lang, size) == ("en", "wide") else f"{view}-{lang}-{size}.png"


def shoot(browser, port: int, out: Path, lang: str, size: str, few_shot: bool = True) -> None:
    page = browser.new_page(viewport=SIZES[size], locale=lang)
    page.set_default_timeout(300_000)  # a loaded 2-core machine
    page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
    page.wait_for_function("() => (document.querySelector('#model-status')?.innerText || '').length > 20")
    base.open_tab(page, STUDIES_TAB)
    if few_shot:
        page.locator("#fs-run").click()
        page.wait_for_function("() => document.querySelector('#fs-curve .js-plotly-plot')?.data?.length > 0")
        base.wait_idle(page, 300_000)
        page.locator("#fs-curve").scroll_into_view_if_needed()
        page.screenshot(path=str(out / name("few-shot", lang, size)), full_page=False)
    # model B is the second model of the picker (the tiny random CLIP): it loads here, the hub ones do not
    page.locator("#cmp-image input[type=file]").set_input_files(str(base.ROOT / "assets/toy/00_a_small_red_circle_on_the_left.png"))
    page.wait_for_timeout(1500)
    page.locator("#cmp-run").click()
    page.wait_for_function("() => document.querySelector('#cmp-scores .js-plotly-plot')?.data?.length > 0")
    page.locator("#cmp-matrices-run").click()
    page.wait_for_function("() => document.querySelector('#cmp-matrices .js-plotly-plot')?.data?.length > 0")
    base.wait_idle(page, 300_000)
    page.locator("#cmp-model-a").scroll_into_view_if_needed()
    page.screenshot(path=str(out / name("compare-models", lang, size)), full_page=size == "phone")
    base.open_tab(page, 1)
    page.locator("#sim-toy-batch").first.click()
    base.wait_idle(page, 300_000)
    page.locator("#sim-run-words").click()
    page.wait_for_function("() => !!document.querySelector('#sim-words-shaded')")
    base.wait_idle(page, 300_000)
    page.locator("#sim-text").scroll_into_view_if_needed()
    page.screenshot(path=str(out / name("words", lang, size)), full_page=False)
    page.close()


def start_app(port: int, allow_folder: Path, log: Path, patience_s: float = 600):
    """scripts/screenshots.py's start, with more patience: a loaded machine imports the app slowly."""
    return base.start_app(port, allow_folder, log, patience_s)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(base.ROOT / "docs" / "screenshots"))
    p.add_argument("--port", type=int, default=7897)
    p.add_argument("--langs", nargs="+", default=["en", "zh-CN"])
    p.add_argument("--sizes", nargs="+", default=list(SIZES))
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="clipdemo-shots-"))
    second = base.build_second_model(tmp / "tiny-random-clip")
    port = base.free_port(args.port)
    proc = start_app(port, second, tmp / "app.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                         args=base.CHROMIUM_ARGS)
            for lang in args.langs:
                for size in args.sizes:
                    try:
                        shoot(browser, port, out, lang, size)
                        print(f"{lang} {size}: done", flush=True)
                    except Exception as e:  # noqa: BLE001 - one visitor failing must not lose the others
                        print(f"{lang} {size}: FAILED ({type(e).__name__}: {str(e).splitlines()[0]})", flush=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
