"""The tree shows its plan: packages by layer, and a lower layer never imports a higher one.

core < data < teach < (training, serve) < ui; bench sits above them all. The running app never imports
training/ or bench/ (checked on the live import list in test_imports). Built from the source with `ast`."""

from __future__ import annotations

import ast

import pytest
from test_imports import PACKAGE, import_graph

# What each layer may import (besides itself).
ALLOWED = {
    "core": set(),
    "data": {"core"},
    "teach": {"core", "data"},
    "training": {"core", "data", "teach"},
    "serve": {"core", "data", "teach"},
    "bench": {"core", "data", "teach", "training", "serve", "ui"},  # measures the app itself (a map's first paint)
    "ui": {"core", "data", "teach", "serve"},
}
# The command line runs the offline tools on request: its subcommands may reach training/ and bench/.
CLI_MODULES = {"clipdemo.serve.cli", "clipdemo.serve.collection_cli"}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


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
            if there in ALLOWED[here] or (module in CLI_MODULES and there in {"training", "bench"}):
                continue
            found.append(f"{module} ({here}) imports {target} ({there})")
    return found


def test_every_module_lives_in_a_layer():
    loose = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.glob("*.py")
                   if p.name not in {"__init__.py", "__main__.py"})
    assert not loose, f"modules outside the layers: {loose}"
    for layer in ALLOWED:
        init = PACKAGE / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc, f"{layer}/__init__.py must say what it may import"


def test_no_layer_imports_a_higher_one():
    problems = upward_imports(import_graph())
    assert not problems, "\n".join(problems)


def test_the_check_finds_an_upward_import():
    graph = {"clipdemo.core.encoding": {"clipdemo.serve.service"}, "clipdemo.ui.app": {"clipdemo.core.loading"},
             "clipdemo.serve.cli": {"clipdemo.training.train"}, "clipdemo.serve.service": {"clipdemo.bench.bench"},
             "clipdemo.bench.bench_map": {"clipdemo.ui.collection.figures"}}
    assert upward_imports(graph) == ["clipdemo.core.encoding (core) imports clipdemo.serve.service (serve)",
                                     "clipdemo.serve.service (serve) imports clipdemo.bench.bench (bench)"]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_package_exists(layer):
    assert (PACKAGE / layer / "__init__.py").is_file()
