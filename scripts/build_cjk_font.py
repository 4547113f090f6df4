"""Build assets/fonts/clipdemo-cjk.woff2: Noto Sans SC (SIL OFL 1.1) cut down to the characters the app
writes itself (every Chinese string in clipdemo/: UI strings, lessons, toy-world words, templates), so Chinese
renders on a machine with no CJK font (a lab PC, a bare Linux) at a few hundred KB.

    apt-get download fonts-noto-cjk && dpkg -x fonts-noto-cjk_*.deb noto
    python scripts/build_cjk_font.py noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

Rerun it when Chinese strings change; tests/test_ui_fonts.py fails while a character is missing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from clipdemo.ui.fonts import FONT_PATH, needed_characters  # noqa: E402 - the app's own list of characters

FAMILY = "Noto Sans CJK SC"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="NotoSansCJK-Regular.ttc (Debian fonts-noto-cjk) or NotoSansSC-Regular.otf")
    args = ap.parse_args(argv)
    fonts = TTCollection(args.source).fonts if args.source.endswith(".ttc") else None
    if fonts is None:
        from fontTools.ttLib import TTFont

        font = TTFont(args.source)
    else:
        font = next(f for f in fonts if f["name"].getDebugName(1) == FAMILY)
    chars = needed_characters()
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]  # keep the copyright and licence records (OFL: the notice travels with the font)
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(text="".join(sorted(chars)))
    sub.subset(font)
    out = FONT_PATH
    font.flavor = "woff2"
    font.save(out)
    missing = sorted(c for c in chars if ord(c) not in font.getBestCmap())
    print(f"{out.relative_to(ROOT)}: {len(chars)} characters, {out.stat().st_size / 1024:.0f} KB"
          + (f"; not in the font: {''.join(missing)}" if missing else ""))


if __name__ == "__main__":
    main()
