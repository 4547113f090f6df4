"""clipdemo's import graph has no cycle, counting imports inside functions too (a cycle hidden in a `build()`
is still a cycle), and the engine never imports gradio. Built from the source with `ast`, nothing imported."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "clipdemo"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the clipdemo modules it imports anywhere in its source (packages' empty __init__ left out)."""
    files = {module_name(p): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's own package upwards
                    anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets.add(base)
                targets.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
        graph[name] = {t for t in targets if t in files and t != name and not files[t].name == "__init__.py"}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (depth-first search, colouring nodes)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_clipdemo_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 40 and "clipdemo.ui.similarity.export" in graph["clipdemo.ui.similarity.layout"]
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_finder_finds_cycles_including_ones_inside_functions(tmp_path):
    pkg = tmp_path / "clipdemo"
    (pkg / "ui").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "ui" / "__init__.py").write_text("")
    (pkg / "engine.py").write_text("import numpy\n")
    (pkg / "ui" / "tab.py").write_text("from clipdemo import engine\n\ndef build():\n    from . import export\n")
    (pkg / "ui" / "export.py").write_text("from clipdemo.ui import tab\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        graph = import_graph(pkg)
    finally:
        ROOT = saved
    assert graph["clipdemo.ui.tab"] == {"clipdemo.engine", "clipdemo.ui.export"}
    assert find_cycle(graph) == ["clipdemo.ui.export", "clipdemo.ui.tab", "clipdemo.ui.export"]
    graph["clipdemo.ui.export"] = set()
    assert find_cycle(graph) is None


def test_the_engine_never_imports_gradio():
    engine = [p for p in PACKAGE.rglob("*.py") if "ui" not in p.relative_to(PACKAGE).parts[:-1]]
    assert PACKAGE / "bench" / "bench.py" in engine and PACKAGE / "data" / "collection" / "service.py" in engine
    for path in engine:  # clipdemo/ui/ is the Gradio layer
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(n == "gradio" or n.startswith("gradio.") for n in names), path.name


# What `python app.py` imports: the launcher, the whole UI built on a model, the collection routes.
APP_AT_RUN_TIME = """
import json, sys
sys.path.insert(0, {root!r})
import app
from clipdemo.teach.live_training import LiveTrainingManager
from clipdemo.core.registry import ModelRegistry
from clipdemo.ui.app import build_app
from clipdemo.ui.collection import routes
from clipdemo.ui.context import UIContext

registry = ModelRegistry({model!r}, device="cpu", dtype="fp32")
build_app(UIContext(registry, extra={{"live_training": LiveTrainingManager()}}))
print(json.dumps(sorted(m for m in sys.modules if m.startswith("clipdemo"))))
"""


def test_the_app_does_not_import_the_training_and_evaluation_tools(tiny_clip_dir):
    """clipdemo.training and clipdemo.bench stay apart from the app, as open_clip
    keeps open_clip_train apart: building the whole UI loads none of it."""
    code = APP_AT_RUN_TIME.format(root=str(ROOT), model=str(tiny_clip_dir))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "clipdemo.ui.map.layout" in loaded and "clipdemo.teach.live_training" in loaded  # the app really was built
    offline = ("clipdemo.bench", "clipdemo.training")
    assert not [m for m in loaded if m.startswith(offline)]
