"""README's front-matter deploys the repo as a Gradio Space as it is, and README tells the truth about launching."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SPACE_COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


@pytest.fixture(scope="module")
def front_matter() -> dict:
    match = re.match(r"---\n(.*?)\n---\n", README, re.S)
    assert match, "README.md must open with a --- YAML block (the Space configuration)"
    return yaml.safe_load(match.group(1))


def _requirement(name: str) -> Requirement:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and Requirement(line).name.lower() == name:
            return Requirement(line)
    raise AssertionError(f"{name} is not in requirements.txt")


def test_space_runs_app_py_with_gradio(front_matter):
    assert front_matter["sdk"] == "gradio"
    assert front_matter["app_file"] == "app.py" and (ROOT / "app.py").is_file()
    assert front_matter["title"] and front_matter["colorFrom"] in SPACE_COLOURS
    assert front_matter["colorTo"] in SPACE_COLOURS
    assert 0 < len(front_matter["short_description"]) <= 60  # the hub's limit


def test_gradio_version_agrees_with_requirements(front_matter):
    version = Version(str(front_matter["sdk_version"]))
    assert version in _requirement("gradio").specifier


def test_python_version_is_one_the_project_supports(front_matter):
    version = str(front_matter["python_version"])  # quoted in YAML, else 3.10 would read as 3.1
    assert re.fullmatch(r"3\.\d+(\.\d+)?", version)
    requires = re.search(r'requires-python\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert Version(version) in SpecifierSet(requires)


def test_space_preloads_the_default_model_with_what_the_loader_reads(front_matter):
    from clipdemo.core.loading import DEFAULT_HUB_MODEL

    entries = {e.split()[0]: (e.split()[1].split(",") if len(e.split()) > 1 else None)
               for e in front_matter.get("preload_from_hub", [])}
    assert DEFAULT_HUB_MODEL in entries
    files = entries[DEFAULT_HUB_MODEL]
    if files is not None:  # a file list: weights as safetensors, config, processor and tokenizer all present
        assert "model.safetensors" in files and not any(f.endswith((".bin", ".h5", ".msgpack")) for f in files)
        assert {"config.json", "preprocessor_config.json", "tokenizer_config.json"} <= set(files)


def test_app_listens_where_a_space_expects(monkeypatch):
    import app

    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")
    for var in ("CLIPDEMO_HOST", "CLIPDEMO_PORT"):
        monkeypatch.delenv(var, raising=False)
    args = app.parse_args([])
    assert (args.host, args.port) == ("0.0.0.0", 7861)


def test_readme_documents_every_launch_option_and_its_variable():
    import app

    options = ["--" + dest.replace("_", "-") for dest in vars(app.parse_args([]))]  # the real parser's options
    launcher = (ROOT / "clipdemo" / "ui" / "launch.py").read_text()  # app.py and `clipdemo app` run it
    variables = set(re.findall(r'env\("(CLIPDEMO_[A-Z_]+)"', launcher))
    assert len(options) >= 10 and len(variables) >= 10
    section = README.split("## Launch options", 1)[1].split("\n## ", 1)[0]
    for option in options:
        assert f"`{option}`" in section, option
    for variable in variables:
        assert variable in section, variable


def test_readme_has_the_sections_a_newcomer_needs():
    for heading in ("## Quick start", "## Deploy as a Space", "## Offline classroom", "## Command line",
                    "## Launch options", "## API: HTTP, Python, MCP"):
        assert heading in README, heading
    assert "pip install -r requirements.txt && python app.py" in README
    assert "bash scripts/test.sh" in README


def test_readme_screenshots_exist_or_are_made_by_the_script():
    images = re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)]+\.png)\)", README)
    assert images
    script = (ROOT / "scripts" / "screenshots.py").read_text()
    for image in images:
        assert (ROOT / image).exists() or Path(image).name in script, image
