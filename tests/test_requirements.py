"""pyproject.toml is the one place for dependencies: requirements*.txt are written from it and cannot drift."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _script():
    spec = importlib.util.spec_from_file_location("requirements_from_pyproject",
                                                  ROOT / "scripts" / "requirements_from_pyproject.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_files_are_what_pyproject_says():
    for name, text in _script().render(PYPROJECT).items():
        assert (ROOT / name).read_text() == text, f"{name} differs: run python scripts/requirements_from_pyproject.py"


def test_a_change_in_pyproject_changes_the_files():
    changed = {**PYPROJECT, "project": {**PYPROJECT["project"],
                                         "dependencies": [*PYPROJECT["project"]["dependencies"], "rich>=13"]}}
    texts = _script().render(changed)
    assert "rich>=13" in texts["requirements.txt"] and texts != _script().render(PYPROJECT)


def test_an_extra_that_needs_an_uncovered_extra_is_refused():
    extras = {**PYPROJECT["project"]["optional-dependencies"], "dev": ["clipdemo[ray]", "pytest>=8"]}
    broken = {**PYPROJECT, "project": {**PYPROJECT["project"], "optional-dependencies": extras}}
    with pytest.raises(ValueError, match="ray"):
        _script().render(broken)


def test_every_line_is_a_requirement_or_an_include():
    for path in ROOT.glob("requirements*.txt"):
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                assert line.startswith("-r ") and (ROOT / line[3:]).is_file() or Requirement(line), line


def test_the_package_declares_what_the_app_imports_and_the_issue_names():
    names = {Requirement(r).name.lower() for r in PYPROJECT["project"]["dependencies"]}
    assert {"torch", "transformers", "gradio", "safetensors", "pillow", "umap-learn", "plotly"} <= names
    assert {"openvino", "ray", "mcp", "dev", "spaces"} <= set(PYPROJECT["project"]["optional-dependencies"])
    assert PYPROJECT["project"]["scripts"]["clipdemo"] == "clipdemo.serve.cli:main"


def test_the_version_lives_in_one_place():
    import clipdemo

    assert "version" in PYPROJECT["project"]["dynamic"] and "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "clipdemo.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", clipdemo.__version__)
