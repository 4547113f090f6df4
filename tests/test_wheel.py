"""`pip wheel .` gives a wheel that declares its dependencies and carries the bundled model, the toy pictures and
the photos; installed into a fresh venv it provides `clipdemo`, which labels a picture and serves the app from a
folder outside the checkout. Nothing is downloaded: the venv sees the already-installed dependencies
(--system-site-packages) and the wheel is installed with --no-deps."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from app_server import running_app
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
RED_CIRCLE = ROOT / "assets" / "toy" / "00_a_small_red_circle_on_the_left.png"


def _source_copy(to: Path) -> Path:
    """The checkout's files as git would ship them (tracked, or new and not ignored): a build in a copy leaves no
    build/ or egg-info behind in the working tree, and runs beside other tests."""
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                                capture_output=True, timeout=60).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist)
        shutil.copytree(ROOT, to, ignore=shutil.ignore_patterns("__pycache__", ".git", "*.egg-info", "build"))
        return to
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, to / name)
    return to


def _env() -> dict:
    """The environment of the installed command: nothing that would import the checkout instead of the venv."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    for var in ("PYTHONPATH", "PYTEST_CURRENT_TEST", "CLIPDEMO_MODEL"):
        env.pop(var, None)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, venv's bin folder, a work folder outside the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    src = _source_copy(base / "src")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(base / "dist")], check=True, capture_output=True, timeout=600, env=_env())
    built = time.perf_counter()
    wheel = next((base / "dist").glob("clipdemo-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True,
                   timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=600, env=_env())
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size / 2**20:.2f} MiB, built in {built - started:.1f} s, "
          f"installed in {time.perf_counter() - built:.1f} s")
    work = base / "elsewhere"
    work.mkdir()
    return wheel, venv / "bin", work


def test_the_wheel_declares_its_dependencies_extras_and_command(installed):
    wheel = installed[0]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(info).decode())
        entry_points = z.read(info.replace("METADATA", "entry_points.txt")).decode()
    requires = {Requirement(r).name.lower() for r in meta.get_all("Requires-Dist")}
    assert {"torch", "transformers", "gradio", "safetensors", "umap-learn", "plotly", "pillow"} <= requires
    assert {"openvino", "ray", "mcp", "dev", "spaces"} <= set(meta.get_all("Provides-Extra"))
    assert "clipdemo = clipdemo.serve.cli:main" in entry_points
    for packaged in ("clipdemo/py.typed", "clipdemo/bundled/toy-clip/model.safetensors",
                     "clipdemo/bundled/toy-clip/tokenizer.json", "clipdemo/bundled/toy-clip/config.json",
                     "clipdemo/bundled/photos/LICENSE.md", "clipdemo/bundled/photos/astronaut.jpg",
                     "clipdemo/bundled/toy/00_a_small_red_circle_on_the_left.png", "clipdemo/ui/launch.py"):
        assert packaged in names, packaged
    assert not [n for n in names if n.startswith(("tests/", "scripts/", "assets/")) or "__pycache__" in n]


def test_installed_clipdemo_has_every_subcommand(installed):
    _, bin_dir, work = installed
    out = subprocess.run([str(bin_dir / "clipdemo"), "--help"], cwd=work, env=_env(), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    listed = set(re.findall(r"^ {4}(\w+)", out.stdout, re.M))  # argparse's sub-command lines
    assert {"app", "label", "embed", "collection", "train", "eval", "bench", "quantize", "download"} <= listed, listed


def test_installed_clipdemo_labels_a_red_circle_from_another_folder(installed):
    _, bin_dir, work = installed
    shutil.copy(RED_CIRCLE, work / "picture.png")
    where = subprocess.run([str(bin_dir / "python"), "-c", "import clipdemo.core.assets as a; print(a.BUNDLED_MODEL_DIR)"],
                           cwd=work, env=_env(), capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr[-2000:]
    assert Path(where.stdout.strip()).is_relative_to(bin_dir.parent)  # the venv's copy, not the checkout's
    out = subprocess.run([str(bin_dir / "clipdemo"), "label", "picture.png", "--labels",
                          "blue square, red circle, green triangle, yellow star", "--model", "bundled", "--json"],
                         cwd=work, env=_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    top = json.loads(out.stdout)["results"][0]["top"]
    assert top[0]["label"] == "red circle", top


def test_installed_clipdemo_app_serves(installed, tmp_path):
    _, bin_dir, work = installed
    assert "PYTHONPATH" not in os.environ  # else the app could import the checkout, not the venv's copy
    with running_app(launcher=[str(bin_dir / "clipdemo"), "app"], cwd=work,
                     log_path=tmp_path / "app.log") as (url, _):
        config = json.loads(urllib.request.urlopen(url + "config", timeout=30).read())
        page = urllib.request.urlopen(url, timeout=30).read().decode()
    assert config["components"] and "<html" in page.lower()


def test_readmes_library_example_runs_on_the_installed_package(installed):
    _, bin_dir, work = installed
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Use it as a library", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "from clipdemo import ClipService" in example and len(example.strip().splitlines()) <= 5
    shutil.copy(RED_CIRCLE, work / "photo.jpg")  # the example's file name; Pillow reads the PNG inside
    code = example.replace("red circle, blue square, yellow star", "blue square, red circle, yellow star")
    out = subprocess.run([str(bin_dir / "python"), "-c", code], cwd=work, env=_env(), capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1].startswith("red circle ")
