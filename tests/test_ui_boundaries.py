"""Views get plain data from the service layer: no view reads a model's internals or anyone's private fields.

Built from the source with `ast`. The allowed exceptions are named here with the reason each stays."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parent.parent / "clipdemo" / "ui"
MODEL_INTERNALS = {"loaded", "image_cache", "text_cache", "backend"}  # an Encoder's parts: ModelDetails has their facts
ALLOWED_PRIVATE = {
    # Gradio's internals (the queue, its events, private helpers): read only through the one adapter.
    *(("gradio_adapter.py", name) for name in ("_id", "_queue", "_parse_file_size", "_compatibility", "_applied")),
    ("app.py", "_clipdemo_budget"),  # our own mark on a wrapped handler
}


# Launch options that share a name with an encoder's part (`--backend`): the parsed option, not a model.
LAUNCH_OPTIONS = {("launch.py", "backend")}
# The fast preprocessing path reads whether a processor keeps transformers' own `_preprocess` (a processor with
# steps of its own falls back to itself): a check on a class, not another object's state.
ENGINE_ALLOWED_PRIVATE = {("core/preprocess.py", "_preprocess")}


def offences(path: Path, root: Path = UI) -> list[str]:
    rel = path.relative_to(root).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value.id if isinstance(node.value, ast.Name) else None
        private = node.attr.startswith("_") and not node.attr.startswith("__") and owner not in ("self", "cls")
        if private and (path.name, node.attr) not in ALLOWED_PRIVATE:
            found.append(f"{rel}:{node.lineno} {ast.unparse(node)}")
        if node.attr in MODEL_INTERNALS and (path.name, node.attr) not in LAUNCH_OPTIONS:
            found.append(f"{rel}:{node.lineno} {ast.unparse(node)}")
        if owner == "ctx" and node.attr in ("encoder", "registry") and rel != "app.py":  # app.py: housekeeping
            found.append(f"{rel}:{node.lineno} ctx.encoder (ask ctx.service)")
    return found


def test_no_engine_module_reads_another_objects_private_fields():
    engine = [p for p in UI.parent.rglob("*.py") if UI not in p.parents]
    found = []
    for path in engine:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")) \
                    and (path.relative_to(UI.parent).as_posix(), node.attr) not in ENGINE_ALLOWED_PRIVATE:
                found.append(f"{path.relative_to(UI.parent)}:{node.lineno} {ast.unparse(node)}")
    assert len(engine) > 50 and not found, found


def test_no_view_reads_model_internals_or_private_fields():
    views = sorted(UI.rglob("*.py"))
    assert len(views) > 30
    found = [o for p in views for o in offences(p)]
    assert not found, found


@pytest.mark.parametrize("source", ["def f(ctx):\n    return ctx.registry.get().loaded.logit_scale\n",
                                    "def f(evt):\n    return evt._data\n",
                                    "def f(ctx):\n    return ctx.encoder(None)\n",
                                    "def f(encoder):\n    return encoder.image_cache.misses\n"])
def test_the_check_catches_what_the_issue_found(tmp_path, source):
    view = tmp_path / "zeroshot" / "layout.py"
    view.parent.mkdir()
    view.write_text(source)
    assert offences(view, tmp_path)
    view.write_text("def f(ctx, image):\n    return ctx.service.describe().logit_scale\n")
    assert not offences(view, tmp_path)


# Gradio modules whose contents are not a public API: only the adapter, which checks them at start-up, imports them.
GRADIO_INTERNAL_MODULES = ("gradio.queueing", "gradio.processing_utils", "gradio.networking", "gradio.context",
                           "gradio.utils", "gradio.routes", "gradio.blocks", "gradio_client.utils")


def internal_gradio_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found += [f"{path.name}:{node.lineno} {n}" for n in names if n.startswith(GRADIO_INTERNAL_MODULES)]
    return found


def test_only_the_adapter_imports_gradio_internals():
    offenders = [hit for p in sorted(UI.rglob("*.py")) if p.name != "gradio_adapter.py"
                 for hit in internal_gradio_imports(p)]
    assert not offenders, offenders
    assert internal_gradio_imports(UI / "gradio_adapter.py")  # the check looks where the internals are


def test_the_internal_import_check_sees_both_import_forms(tmp_path):
    source = tmp_path / "view.py"
    source.write_text("from gradio import queueing\nimport gradio.processing_utils as pu\nfrom gradio import Blocks\n")
    assert internal_gradio_imports(source) == ["view.py:1 gradio.queueing", "view.py:2 gradio.processing_utils"]
