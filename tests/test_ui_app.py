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
