"""Imports of clipdemo modules sit at the top of a module; one inside a function carries a one-line reason
(an optional package, a subcommand loaded only when it runs, a layer the caller may not load at start-up)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "clipdemo"


def _comment_above(lines: list[str], index: int) -> bool:
    """A comment line right above this import, or above the block of imports it belongs to."""
    i = index - 1
    while i >= 0 and lines[i].strip().startswith(("from ", "import ")):
        i -= 1
    return i >= 0 and lines[i].strip().startswith("#")


def unexplained_function_imports(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if not any(n == "clipdemo" or n.startswith("clipdemo.") for n in names):
                continue
            here = lines[node.lineno - 1]
            if "#" not in here and not _comment_above(lines, node.lineno - 1):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {here.strip()}")
    return found


def test_every_function_level_import_of_clipdemo_says_why():
    offenders = [hit for p in sorted(PACKAGE.rglob("*.py")) for hit in unexplained_function_imports(p)]
    assert not offenders, "\n".join(offenders)


def test_the_check_sees_an_unexplained_import(tmp_path):
    pkg = tmp_path / "clipdemo"
    pkg.mkdir()
    module = pkg / "m.py"
    module.write_text("def f():\n    from clipdemo import x\n\n\ndef g():\n    # optional package\n"
                      "    from clipdemo import y\n    from clipdemo import z\n    import numpy\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, pkg
    try:
        assert unexplained_function_imports(module) == ["clipdemo/m.py:2 from clipdemo import x"]
    finally:
        PACKAGE = saved
