"""The one module that reads the process environment (issue #14: one owner per concept).

The app's launch options default to CLIPDEMO_* variables: app.py asks `env` / `env_paths` for them and passes
the values down. The engine asks here, never `os.environ`, for the few things the environment decides for the
whole process: the Hugging Face hub's own variables, where caches go, Gradio's upload folder, whether it runs
on a Hugging Face Space. tests/test_settings.py fails when another module in clipdemo/ reads the environment.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TRUE = ("1", "true", "yes", "on")

# Set by the app from --cache-dir (default $CLIPDEMO_CACHE); None: $CLIPDEMO_CACHE, else the user's cache folder.
CACHE_DIR: Path | None = None


def env(name: str, default: str = "") -> str:
    """A variable's text, `default` when unset."""
    return os.environ.get(name, default)


def env_flag(name: str) -> bool:
    return env(name).strip().lower() in TRUE


def env_paths(name: str) -> list[str]:
    """A list of folders from one variable, os.pathsep-separated (':' on Linux and macOS)."""
    return [f for f in env(name).split(os.pathsep) if f]


def cache_dir() -> Path:
    """clipdemo's own cache (toy galleries, converted OpenVINO models, collection maps): --cache-dir, else
    $CLIPDEMO_CACHE, else $XDG_CACHE_HOME/clipdemo, else ~/.cache/clipdemo."""
    if CACHE_DIR is not None:
        return CACHE_DIR
    if env("CLIPDEMO_CACHE"):
        return Path(env("CLIPDEMO_CACHE")).expanduser()
    return Path(env("XDG_CACHE_HOME") or Path.home() / ".cache") / "clipdemo"


def hub_offline() -> bool:
    """HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE: the hub libraries will not go online, so neither do we."""
    return env_flag("HF_HUB_OFFLINE") or env_flag("TRANSFORMERS_OFFLINE")


def hub_endpoint() -> str:
    """The hub's address (HF_ENDPOINT: a mirror), as huggingface_hub reads it."""
    return env("HF_ENDPOINT", "https://huggingface.co")


def backend() -> str:
    """CLIPDEMO_BACKEND: what computes embeddings where no one chose (the CLI, tests); empty: auto."""
    return env("CLIPDEMO_BACKEND")


def gradio_temp_dir() -> Path:
    """Where Gradio keeps uploads and outputs (GRADIO_TEMP_DIR, as Gradio reads it)."""
    return Path(env("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")


def on_hf_space() -> bool:
    """SPACE_ID is set on a Hugging Face Space: every request then comes through HF's proxy."""
    return bool(env("SPACE_ID"))


def child_env(**extra: str) -> dict[str, str]:
    """The environment handed to a process this one starts (a benchmarked app, a Ray worker), plus `extra`."""
    return {**os.environ, **extra}
