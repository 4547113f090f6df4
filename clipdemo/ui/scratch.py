"""The app's own temporary folder, the files the UI hands out (exports, CSVs, toy batches), and the disk sweeper.

Everything a running app writes to the temp dir lives under one folder of its own, `app_root()`
(`clipdemo-XXXX` under the temp dir, one per process, made on first use): the handed-out files
(`root()`), the Learn tab's exported checkpoints, and Gradio's uploads and outputs (the launch points
GRADIO_TEMP_DIR there unless it was set). Shutdown removes that folder whole (`remove_app_root`), and
the sweeper never touches anything outside it: Gradio's shared temp folder (/tmp/gradio) belongs to
every Gradio app on the machine.

Gradio copies every file a handler returns into its own cache (which `delete_cache` sweeps), so our
originals are only needed for a moment. Each new folder sweeps the root's folders older than MAX_AGE_S.

`DiskSweeper` keeps the whole disk footprint bounded on a short schedule: Gradio's upload/output
cache and this root together stay under a size cap (oldest files go first), nothing stays longer
than `max_age_s`, and partial uploads (the `tmp*` files Gradio's multipart parser leaves when a
client drops mid-upload) go once nobody has written to them for `partial_after_s`. Files that
existed when it started (examples Gradio copied into its cache at build time) are kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from clipdemo.core import settings

MAX_AGE_S = 3600
SWEEP_EVERY_S = 60
_last_sweep = 0.0
_lock = threading.Lock()
_app_root: Path | None = None


def app_root() -> Path:
    """This process's own folder under the temp dir (made on first use)."""
    global _app_root
    with _lock:
        if _app_root is None or not _app_root.is_dir():
            _app_root = Path(tempfile.mkdtemp(prefix="clipdemo-"))
        return _app_root


def remove_app_root() -> None:
    """Remove this process's folder and everything in it (shutdown)."""
    global _app_root
    with _lock:
        folder, _app_root = _app_root, None
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def root() -> Path:
    """Where handed-out files go: inside the app's own folder."""
    path = app_root() / "files"
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


def gradio_cache_dir() -> Path:
    return settings.gradio_temp_dir()


def _inside(path: Path, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


class DiskSweeper:
    """Every `every_s` seconds: partial uploads, files past `max_age_s`, then the oldest over `cap_bytes`."""

    def __init__(self, folders: list[Path] | None = None, cap_bytes: int = 2**30, max_age_s: float = 3600,
                 every_s: float = 60, partial_after_s: float = 120, extra=None):
        # by default this app's folder only; Gradio's cache too when it lies inside it (the launch's default)
        own = [f for f in (gradio_cache_dir(), root()) if _inside(f, app_root())]
        self.folders = [Path(f) for f in (folders or own)]
        self.cap_bytes, self.max_age_s, self.every_s, self.partial_after_s = cap_bytes, max_age_s, every_s, partial_after_s
        self.keep = {str(p) for p, _, _ in self._files()}  # built-in files (examples) from before the first visitor
        self.extra = extra  # also called on each pass (the registry's expiry of idle session models)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _files(self):
        for folder in self.folders:
            for dirpath, _dirs, names in os.walk(folder):
                for name in names:
                    path = Path(dirpath) / name
                    try:
                        st = path.stat()
                    except OSError:
                        continue
                    yield path, st.st_size, st.st_mtime  # written or handed out again (os.utime) last

    def sweep_once(self, now: float | None = None) -> dict[str, int]:
        """One pass; returns how many files went for each reason and the bytes left."""
        now = time.time() if now is None else now
        gone = {"partial": 0, "old": 0, "over_cap": 0}
        alive = []
        for path, size, stamp in self._files():
            if str(path) in self.keep:
                continue
            top_level_partial = path.parent in self.folders and path.name.startswith("tmp")
            if top_level_partial and now - stamp > self.partial_after_s:
                gone["partial"] += self._remove(path)
            elif now - stamp > self.max_age_s:
                gone["old"] += self._remove(path)
            else:
                alive.append((stamp, size, path))
        total = sum(size for _, size, _ in alive)
        if total > self.cap_bytes:  # oldest first, down to 80 % of the cap so the next pass has room
            for _stamp, size, path in sorted(alive):
                if total <= 0.8 * self.cap_bytes:
                    break
                if self._remove(path):
                    total -= size
                    gone["over_cap"] += 1
        self._remove_empty_folders()
        return {**gone, "bytes_left": total}

    @staticmethod
    def _remove(path: Path) -> int:
        try:
            path.unlink()
            return 1
        except OSError:
            return 0

    def _remove_empty_folders(self, min_age_s: float = 120) -> None:
        now = time.time()
        for folder in self.folders:
            for dirpath, dirs, files in os.walk(folder, topdown=False):
                if Path(dirpath) in self.folders or dirs or files:
                    continue
                try:  # a fresh empty folder may be one a request is about to write into
                    if now - os.stat(dirpath).st_mtime > min_age_s:
                        os.rmdir(dirpath)
                except OSError:  # a request just wrote into it
                    pass

    def start(self) -> DiskSweeper:
        def loop():
            while not self._stop.wait(self.every_s):
                try:
                    self.sweep_once()
                    if self.extra is not None:
                        self.extra()
                except Exception:  # noqa: BLE001 - a failed pass must not stop the next one
                    continue

        self._thread = threading.Thread(target=loop, name="clipdemo-disk-sweeper", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)  # a pass in progress ends before its folder is removed
