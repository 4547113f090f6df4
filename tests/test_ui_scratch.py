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
    monkeypatch.setattr(scratch, "_app_root", None)
    old = scratch.new_folder("export-")
    (old / "figure.html").write_text("x")
    fresh = scratch.new_folder("export-")
    assert old.parent == fresh.parent == scratch.root() and scratch.app_root().parent == tmp_path
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


# ---------------------------------------------------------------- the disk sweeper (issue #11)


def _file(path, size: int, age_s: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_sweeper_removes_partial_uploads_old_files_and_the_oldest_over_the_cap(tmp_path):
    cache = tmp_path / "gradio"
    example = _file(cache / "ex" / "example.png", 10, 99999)  # there before start: kept
    sweeper = scratch.DiskSweeper([cache], cap_bytes=1000, max_age_s=3600, partial_after_s=120)
    partial = _file(cache / "tmpabc123", 50, 300)  # an upload nobody wrote to for 5 minutes
    writing = _file(cache / "tmpdef456", 50, 5)  # an upload still arriving
    old = _file(cache / "h1" / "old.png", 10, 7200)
    oldest_fresh = _file(cache / "h2" / "a.png", 400, 600)
    newer = _file(cache / "h3" / "b.png", 400, 300)
    newest = _file(cache / "h4" / "c.png", 400, 10)
    report = scratch.DiskSweeper.sweep_once(sweeper, now=None)
    assert report == {"partial": 1, "old": 1, "over_cap": 2, "bytes_left": 450}
    assert example.exists() and writing.exists() and newest.exists()
    assert not partial.exists() and not old.exists() and not oldest_fresh.exists() and not newer.exists()


def test_sweeper_runs_on_its_schedule(tmp_path):
    cache = tmp_path / "gradio"
    cache.mkdir()
    sweeper = scratch.DiskSweeper([cache], max_age_s=1, every_s=0.05).start()
    try:
        stale = _file(cache / "h" / "late.png", 10, 10)
        deadline = time.time() + 10
        while stale.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert not stale.exists()
    finally:
        sweeper.stop()


def test_the_sweeper_keeps_out_of_gradios_shared_temp_folder(tmp_path, monkeypatch):
    """/tmp/gradio is every Gradio app's: a 2-hour-old file of another app there was deleted within ~22 s."""
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(scratch, "_app_root", None)
    shared = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(shared))
    theirs = _file(shared / "h" / "another-apps.png", 10, 7200)
    sweeper = scratch.DiskSweeper(max_age_s=3600)
    assert all(f.resolve().is_relative_to(scratch.app_root()) for f in sweeper.folders)
    mine = _file(scratch.root() / "zs-1" / "old.csv", 10, 7200)
    sweeper.sweep_once()
    assert theirs.exists() and not mine.exists()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(scratch.app_root() / "gradio"))  # what the launch sets
    assert scratch.app_root() / "gradio" in scratch.DiskSweeper().folders


def test_shutdown_removes_the_apps_own_folder_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(scratch, "_app_root", None)
    (scratch.new_folder("export-") / "a.csv").write_text("x")
    scratch.remove_app_root()
    assert list(tmp_path.iterdir()) == []
