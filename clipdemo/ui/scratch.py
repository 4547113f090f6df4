"""Folders for the files the UI hands out (exports, CSVs, toy batches), swept when old.

Gradio copies every file a handler returns into its own cache (which `delete_cache` sweeps), so our
originals are only needed for a moment. They all live under one root, and each new folder sweeps the
root's folders older than MAX_AGE_S: a long-running classroom server's disk stays bounded.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

MAX_AGE_S = 3600
SWEEP_EVERY_S = 60
_last_sweep = 0.0
_lock = threading.Lock()


def root() -> Path:
    path = Path(tempfile.gettempdir()) / "clipdemo-files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_folder(prefix: str) -> Path:
    """A fresh folder for one request's files; sweeps old ones first (at most once a minute)."""
    sweep()
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root()))


def sweep(max_age_s: float = MAX_AGE_S, force: bool = False) -> int:
    """Delete folders under the root older than max_age_s; return how many went."""
    global _last_sweep
    now = time.time()
    with _lock:
        if not force and now - _last_sweep < SWEEP_EVERY_S:
            return 0
        _last_sweep = now
    removed = 0
    for folder in root().iterdir():
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > max_age_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:  # another request swept it first
            continue
    return removed
