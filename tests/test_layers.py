"""The tree shows its plan: packages by layer, and a lower layer never imports a higher one.

core < data < teach < (training, serve) < ui; bench sits beside serve. The running app never imports
training/ or bench/ (checked on the live import list in test_imports). Built from the source with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from test_imports import PACKAGE, ROOT, import_graph

# What each layer may import (besides itself).
ALLOWED = {
    "core": set(),
    "data": {"core"},
    "teach": {"core", "data"},
    "training": {"core", "data", "teach"},
    "serve": {"core", "data", "teach"},
    "bench": {"core", "data", "teach", "training", "serve"},
    "ui": {"core", "data", "teach", "serve"},
}
# Upward imports still being taken apart (the Learn tab's trainer lives in training/train.py for now);
# each entry is removed with its import, and a new upward import fails the test.
KNOWN_UPWARD = {
    ("clipdemo.teach.live_data", "training"),
    ("clipdemo.teach.live_training", "training"),
    ("clipdemo.bench.collection_bench", "ui"),
}
# The command line runs the offline tools on request: its subcommands may reach training/ and bench/.
CLI_MODULES = {"clipdemo.serve.cli", "clipdemo.serve.collection_cli"}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def real_name(module: str) -> str:
    try:
        from clipdemo._moved import MOVED  # noqa: PLC0415 - present only while old names are being retired
    except ImportError:
        return module
    for old in sorted(MOVED, key=len, reverse=True):
        if module == old or module.startswith(old + "."):
            return MOVED[old] + module[len(old):]
    return module


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        here = layer_of(module)
        if here is None:
            continue
        for target in sorted(targets):
            there = layer_of(target)
            if there is None or there == here:
                continue
            if (module, there) in KNOWN_UPWARD:
                continue
            if there in ALLOWED[here] or (module in CLI_MODULES and there in {"training", "bench"}):
                continue
            found.append(f"{module} ({here}) imports {target} ({there})")
    return found


def resolved_graph() -> dict[str, set[str]]:
    files = {p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in files:
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(real_name(a.name) for a in node.names if a.name.startswith("clipdemo"))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("clipdemo"):
                base = real_name(node.module)
                targets.add(base)
                targets.update(real_name(f"{node.module}.{a.name}") for a in node.names)
        graph[name] = {t for t in targets if layer_of(t)}
    return graph


def test_every_module_lives_in_a_layer():
    loose = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.glob("*.py")
                   if p.name not in {"__init__.py", "__main__.py", "_moved.py"})
    assert not loose, f"modules outside the layers: {loose}"
    for layer in ALLOWED:
        init = PACKAGE / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc or layer == "ui", f"{layer}/__init__.py must say what it may import"


def test_no_layer_imports_a_higher_one():
    problems = upward_imports(resolved_graph())
    assert not problems, "\n".join(problems)


def test_the_check_finds_an_upward_import():
    graph = {"clipdemo.core.encoding": {"clipdemo.serve.service"}, "clipdemo.ui.app": {"clipdemo.core.loading"},
             "clipdemo.serve.cli": {"clipdemo.training.train"}, "clipdemo.serve.service": {"clipdemo.bench.bench"}}
    assert upward_imports(graph) == ["clipdemo.core.encoding (core) imports clipdemo.serve.service (serve)",
                                     "clipdemo.serve.service (serve) imports clipdemo.bench.bench (bench)"]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_package_exists(layer):
    assert (PACKAGE / layer / "__init__.py").is_file()
