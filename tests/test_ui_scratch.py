"""Files the UI hands out live under one root, and making a new folder sweeps the old ones."""

from __future__ import annotations

import os
import time

from clipdemo.ui import scratch


def _age(folder, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(folder, (then, then))


def test_a_new_folder_sweeps_old_folders_and_keeps_fresh_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    old = scratch.new_folder("export-")
    (old / "figure.html").write_text("x")
    fresh = scratch.new_folder("export-")
    assert old.parent == fresh.parent == tmp_path / "clipdemo-files"
    _age(old, 2 * 3600)
    monkeypatch.setattr(scratch, "_last_sweep", 0.0)  # the once-a-minute gate is open
    newest = scratch.new_folder("export-")  # no explicit sweep: making a folder does it
    assert not old.exists() and fresh.exists() and newest.exists()


def test_sweeping_runs_at_most_once_a_minute(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(scratch, "_last_sweep", 0.0)
    scratch.new_folder("zs-")  # sweeps now
    stale = scratch.new_folder("zs-")
    _age(stale, 2 * 3600)
    scratch.new_folder("zs-")  # within the minute: no second sweep
    assert stale.exists()
    monkeypatch.setattr(scratch, "_last_sweep", time.time() - scratch.SWEEP_EVERY_S - 1)
    scratch.new_folder("zs-")
    assert not stale.exists()
    _age(scratch.new_folder("zs-"), 2 * 3600)
    assert scratch.sweep(force=True) == 1  # the explicit sweep counts what it removed
