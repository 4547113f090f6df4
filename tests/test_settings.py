"""clipdemo.settings is the one module that reads the environment; the app passes launch values down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from clipdemo import settings

PACKAGE = Path(settings.__file__).resolve().parents[1]  # clipdemo/, above core/
ENV_READERS = {"environ", "environb", "getenv", "getenvb"}


def environment_reads(source: str) -> list[int]:
    """Lines that read the process environment: os.environ / os.getenv, or those names imported from os."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ENV_READERS:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and \
                any(a.name in ENV_READERS for a in node.names):
            lines.append(node.lineno)
    return lines


def test_only_settings_reads_the_environment():
    readers = {str(p.relative_to(PACKAGE.parent)): environment_reads(p.read_text(encoding="utf-8"))
               for p in PACKAGE.rglob("*.py") if p != PACKAGE / "core" / "settings.py"}
    assert len(readers) > 60  # every module of the package, its subpackages too
    offenders = {path: lines for path, lines in readers.items() if lines}
    assert not offenders, f"read the environment through clipdemo.settings: {offenders}"


@pytest.mark.parametrize("source", ["import os\nx = os.environ.get('A')\n", "import os\nx = os.getenv('A')\n",
                                    "from os import environ\n", "import os as o\nx = o.environ['A']\n"])
def test_the_check_sees_every_way_of_reading_it(source):
    assert environment_reads(source)
    assert not environment_reads("import os\nx = os.pathsep\n")


def test_cache_dir_follows_the_launch_option_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "CACHE_DIR", None)
    monkeypatch.setenv("CLIPDEMO_CACHE", str(tmp_path / "env"))
    assert settings.cache_dir() == tmp_path / "env"
    monkeypatch.delenv("CLIPDEMO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert settings.cache_dir() == tmp_path / "xdg" / "clipdemo"
    monkeypatch.setattr(settings, "CACHE_DIR", tmp_path / "option")  # app.py --cache-dir
    assert settings.cache_dir() == tmp_path / "option"


def test_the_engine_caches_share_one_root(monkeypatch, tmp_path):
    from clipdemo import gallery
    from clipdemo.backends import openvino_backend

    monkeypatch.setattr(settings, "CACHE_DIR", tmp_path)
    assert gallery.cache_root() == tmp_path and openvino_backend.cache_root() == tmp_path / "openvino"


def test_hub_variables(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "yes")
    assert settings.hub_offline()
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    assert not settings.hub_offline()
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.example")
    assert settings.hub_endpoint() == "http://mirror.example"


def test_the_app_passes_its_launch_settings_down(monkeypatch):
    import app

    monkeypatch.setenv("CLIPDEMO_GRADIO_PATCHES", "0")
    monkeypatch.setenv("CLIPDEMO_COLLECTIONS", "/a:/b")
    args = app.parse_args([])
    assert args.no_gradio_patches is True and args.collection == ["/a", "/b"]
    monkeypatch.delenv("CLIPDEMO_GRADIO_PATCHES")
    assert app.parse_args([]).no_gradio_patches is False
    assert app.parse_args(["--no-gradio-patches"]).no_gradio_patches is True


def test_the_space_proxy_names_the_visitor_only_when_told():
    from clipdemo.ui.guard import client_key

    scope = {"client": ("10.0.0.1", 1), "headers": [(b"x-forwarded-for", b"203.0.113.9, 10.0.0.1")]}
    assert client_key(scope) == "10.0.0.1"
    assert client_key(scope, behind_space_proxy=True) == "203.0.113.9"
