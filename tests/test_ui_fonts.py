"""The app's own CJK font: every Chinese character the app writes is in it, it stays small, it ships its
licence, and the page names it (the browser test tests/test_ui_first_screen.py checks it renders)."""

from fontTools.ttLib import TTFont

from clipdemo.ui import fonts
from clipdemo.ui.app import FONTS, launch_kwargs


def test_every_chinese_character_the_app_writes_is_in_its_font():
    cmap = TTFont(fonts.FONT_PATH).getBestCmap()
    needed = fonts.needed_characters()
    assert len(needed) > 500  # the UI's strings were found, not an empty scan
    missing = sorted(c for c in needed if ord(c) not in cmap)
    assert not missing, f"rebuild with scripts/build_cjk_font.py; missing: {''.join(missing)}"


def test_the_font_is_a_subset_of_a_few_hundred_kb_with_its_ofl_licence():
    path = fonts.FONT_PATH
    assert 50_000 < path.stat().st_size < 600_000
    licence = (path.parent / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Adobe" in licence
    assert "Open Font License" in TTFont(path)["name"].getDebugName(13)


def test_the_page_loads_it_for_cjk_only_and_names_it_before_system_fonts():
    kw = launch_kwargs()
    assert fonts.URL in kw["head"] and "unicode-range" in kw["head"]
    assert any(r.path == "/" + fonts.URL for r in kw["app_kwargs"]["routes"])
    names = [getattr(f, "name", f) for f in FONTS]
    assert names.index(fonts.FAMILY) < names.index("Noto Sans CJK SC")


def test_plotly_figures_name_it():
    import plotly.graph_objects as go

    fonts.use_in_plotly()
    assert fonts.FAMILY in go.Figure(layout=dict(template="plotly_white")).layout.template.layout.font.family
