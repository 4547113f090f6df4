"""No UI or README text calls the logit scale a temperature (issue #12).

In the CLIP paper the logits are cos × s, with s the learned logit scale; the temperature is τ = 1/s
(s = 100 ↔ τ = 0.01): a higher temperature makes the softmax flatter. The texts read here are every
UI string (English and Chinese), every string literal in the UI code (plots, notes) and the README.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from clipdemo.ui import i18n

ROOT = Path(__file__).resolve().parent.parent
UI_DIR = ROOT / "clipdemo" / "ui"

TEMP = r"(?:temperature|温度)"
# the ways a text misnames the scale: a temperature of 32 or 100 (τ is below 1 for any CLIP), the scale
# given as "temperature (logit scale)", logits made by multiplying with a temperature, a higher
# temperature that sharpens
MISUSES = {
    "a temperature above 1 (that is the logit scale s)":
        re.compile(TEMP + r"\s*(?:τ\s*)?(?:=|:|：|of|at|is|为|是)?\s*(\d+(?:\.\d+)?)(?![\d.]*\s*/)", re.I),
    "a temperature filled from a value not named tau":
        re.compile(TEMP + r"\s*(?:τ\s*)?(?:=|:|：|of|at|is|为|是)?\s*\{(\w*)[^}]*\}", re.I),
    "temperature named as the logit scale": re.compile(TEMP + r"\s*[(（]\s*(?:=\s*)?(?:the\s+)?logit", re.I),
    "logit = temperature × cosine": re.compile(r"logits?\s*=\s*" + TEMP + r"\s*[×x*·]", re.I),
    "a higher temperature that sharpens": re.compile(
        r"(?:higher|larger|raise[sd]?|increas\w*|更高|越高|升高)\s*(?:the\s+)?" + TEMP + r"[^.。;；]{0,60}"
        r"(?:sharp|confident|peak|尖锐|自信|更集中)", re.I),
    "a temperature that multiplies the cosines": re.compile(TEMP + r"\s*[×x*]\s*(?:cos|余弦)", re.I),
}


def misuses(text: str) -> list[str]:
    found = []
    for what, pattern in MISUSES.items():
        for m in pattern.finditer(text):
            if what.startswith("a temperature above 1") and float(m.group(1)) < 1:
                continue
            if what.startswith("a temperature filled") and m.group(1) in ("tau", "τ"):
                continue
            found.append(f"{what}: …{text[max(0, m.start() - 30):m.end() + 30]}…")
    return found


def ui_code_strings() -> list[tuple[str, str]]:
    out = []
    for path in sorted(UI_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.value))
    return out


@pytest.mark.parametrize("text", [
    "Temperature (logit scale)", "softmax over labels at temperature 32.0", "logit = temperature × cosine",
    "a higher temperature makes the softmax sharper", "温度（logit 缩放）", "在温度 100 下做 softmax",
])
def test_the_check_catches_each_misuse(text):
    assert misuses(text), text


@pytest.mark.parametrize("text", [
    "logit scale s = 34.9 (temperature τ = 1/s = 0.029)", "Logit scale (= 1/temperature τ)",
    "a higher temperature makes the softmax flatter", "logit 缩放 s = 34.7（温度 τ = 1/s = 0.029）",
    "CLIP caps s at 100 (τ = 0.01)", "2 · Logit scale and temperature", "temperature τ = 1/s = {tau:.3f}",
])
def test_the_check_passes_right_usage(text):
    assert not misuses(text), misuses(text)


def test_no_ui_string_calls_the_logit_scale_a_temperature():
    strings = i18n.all_strings()
    found = [f"{loc}:{key}: {m}" for loc in strings for key, text in strings[loc].items() for m in misuses(text)]
    found += [f"{where}: {m}" for where, text in ui_code_strings() for m in misuses(text)]
    assert not found, "\n".join(found)


def test_the_readme_does_not_call_the_logit_scale_a_temperature():
    found = misuses((ROOT / "README.md").read_text())
    assert not found, "\n".join(found)
