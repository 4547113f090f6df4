"""Files the UI hands out live under one root and are swept when old."""

from __future__ import annotations

import os
import time

from clipdemo.ui import scratch


def test_old_folders_are_swept_and_fresh_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    old = scratch.new_folder("export-")
    (old / "figure.html").write_text("x")
    fresh = scratch.new_folder("export-")
    assert old.parent == fresh.parent == tmp_path / "clipdemo-files"
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert scratch.sweep(force=True) == 1
    assert not old.exists() and fresh.exists()


def test_sweeping_runs_at_most_once_a_minute(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    scratch.sweep(force=True)
    stale = scratch.new_folder("zs-")
    os.utime(stale, (0, 0))
    scratch.new_folder("zs-")  # within the minute: no second sweep
    assert stale.exists()
    assert scratch.sweep(force=True) == 1 and not stale.exists()
