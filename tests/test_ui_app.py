"""The app's glue around every handler (clipdemo.ui.app): request budgets and abandoned work."""

from __future__ import annotations

import asyncio
import contextvars

import gradio as gr
import pytest

from clipdemo import limits
from clipdemo.ui import app as ui_app


def test_a_running_job_whose_client_left_is_seen_as_abandoned():
    """Gradio's own disconnect path (queue.clean_events) marks the job; the budget's check reads that mark."""
    from gradio.context import LocalContext
    from gradio.queueing import Event

    with gr.Blocks() as demo:
        gr.Button().click(lambda: None)
    demo.queue()
    queue = demo._queue
    event = Event("visitor-a", demo.fns[0], None, None)
    other = Event("visitor-b", demo.fns[0], None, None)
    queue.active_jobs = [[event], [other]]

    def inside_the_handler():
        LocalContext.event_id.set(event._id)
        LocalContext.blocks.set(demo)
        return ui_app.abandoned_check()

    gone = contextvars.copy_context().run(inside_the_handler)
    assert gone is not None and gone() is False
    asyncio.run(queue.clean_events(session_hash="visitor-b"))  # someone else left: not us
    assert gone() is False
    asyncio.run(queue.clean_events(session_hash="visitor-a"))  # our visitor's stream closed
    assert gone() is True
    with limits.request_scope(limits.RequestBudget(abandoned=gone)), pytest.raises(limits.LimitError, match="left"):
        limits.check_time()


def test_outside_a_queued_event_nothing_is_abandoned():
    assert contextvars.copy_context().run(ui_app.abandoned_check) is None


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_stopping_during_a_training_exits_0_and_leaves_nothing_in_the_temp_dir(tmp_path, signum):
    """Ctrl-C during a training aborted the server (SIGABRT, "terminate called without an active exception");
    every launch left clipdemo-learned-* folders and visitors' checkpoints behind."""
    import signal
    import subprocess

    from app_server import running_app
    from gradio_client import Client

    temp = tmp_path / "tmp"
    temp.mkdir()
    log = tmp_path / "app.log"
    with running_app(log_path=log, env={"TMPDIR": str(temp)}) as (url, proc):
        client = Client(url, verbose=False, download_files=str(tmp_path / "dl"))
        client.predict(batch_size=8, steps=3000, api_name="/learn_start")
        client.predict(api_name="/learn_use_model")  # exports a checkpoint into the app's folder
        assert [p.name for p in temp.iterdir() if p.name.startswith("clipdemo")], list(temp.iterdir())
        proc.send_signal(getattr(signal, signum))
        try:
            code = proc.wait(180)  # a loaded machine: Gradio closing its server took 15-20 s at load 26
        except subprocess.TimeoutExpired:
            code = None
    said = log.read_text(errors="replace")
    assert code == 0, said[-2000:]
    assert "terminate called" not in said
    assert [p.name for p in temp.iterdir() if "clipdemo" in p.name] == [], list(temp.iterdir())
