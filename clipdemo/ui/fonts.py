"""The app's own Chinese font: a Noto Sans SC subset (SIL OFL 1.1, assets/fonts/OFL.txt) served at
/clipdemo/font/… and named first for CJK characters, so the Chinese UI renders on a machine with no Chinese
font installed (a bare Linux lab PC drew empty boxes). Only CJK code points load it (unicode-range): an
English page never fetches it. Plotly's charts draw their own SVG text; they are pointed at it too."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.io as pio
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route

from clipdemo.core.assets import ASSETS_DIR

ROOT = Path(__file__).resolve().parent.parent.parent
FONT_PATH = ASSETS_DIR / "fonts" / "clipdemo-cjk.woff2"  # a checkout's assets/, or the installed package's copy
FAMILY = "clipdemo CJK"
URL = "clipdemo/font/clipdemo-cjk.woff2"  # relative: resolves under a proxy's path prefix too
CJK = re.compile("[\u2e80-\u2fff\u3000-\u303f\u3100-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
UNICODE_RANGE = "U+2E80-2FFF, U+3000-303F, U+3100-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF"
HEAD = (f'<link rel="preload" href="{URL}" as="font" type="font/woff2" crossorigin>'
        f'<style>@font-face {{font-family: "{FAMILY}"; src: url("{URL}") format("woff2"); '
        f'unicode-range: {UNICODE_RANGE}; font-display: swap}}</style>')
# Plotly's own default stack, with the app's font before the generic fallback
PLOTLY_FAMILY = f'"Open Sans", verdana, arial, "{FAMILY}", sans-serif'


def needed_characters(source: Path = ROOT / "clipdemo") -> set[str]:
    """Every CJK character the app writes itself: its strings, lessons, toy-world words and templates."""
    return {c for path in source.rglob("*.py") for c in CJK.findall(path.read_text(encoding="utf-8"))}


async def _font(request) -> FileResponse | PlainTextResponse:
    path = FONT_PATH  # one fixed file: nothing in the request names a path
    if not path.is_file():
        return PlainTextResponse("font not built (scripts/build_cjk_font.py)", status_code=404)
    return FileResponse(path, media_type="font/woff2", headers={"Cache-Control": "public, max-age=86400"})


def routes() -> list[Route]:
    return [Route("/" + URL, _font, methods=["GET", "HEAD"])]


def use_in_plotly() -> None:
    """Plotly templates are process-wide: the ones the figures name get the CJK font in their stack."""
    for name in ("plotly", "plotly_white"):
        pio.templates[name].layout.font.family = PLOTLY_FAMILY
