"""Gradio's cache writes are atomic: a file being handed out is never seen half-written.

The unit tests race a reader against writers of one content-hashed file; the launched-app test is
the classroom case from issue #11 (many clients, one example image, each downloading the "what the
model sees" picture), which lost 10–17 % of calls before the patch.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from clipdemo import limits
from clipdemo.ui import gradio_adapter

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "toy" / "00_a_small_red_circle_on_the_left.png"


def _noisy_image(side: int = 700) -> Image.Image:
    # noise does not compress: a large file makes each write take long enough to be caught mid-way
    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8))


def _partial_reads(save, cache_dir: Path, seconds: float = 4.0) -> tuple[int, int]:
    """Write one image again and again from 2 threads while a reader stats and reads it: (short reads, reads)."""
    img = _noisy_image()
    path = Path(save(img, str(cache_dir), format="png"))
    full = path.stat().st_size
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            save(img, str(cache_dir), format="png")

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for th in threads:
        th.start()
    short = reads = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and short == 0:
            try:
                size = os.stat(path).st_size
                with open(path, "rb") as fh:
                    data = fh.read()
            except FileNotFoundError:
                short += 1
                continue
            reads += 1
            short += size != full or len(data) != full
    finally:
        stop.set()
        for th in threads:
            th.join()
    return short, reads


def test_patched_cache_write_is_never_seen_partial(tmp_path):
    from gradio import processing_utils as pu

    gradio_adapter.apply()
    assert gradio_adapter.applied() and pu.save_pil_to_cache.__module__ == gradio_adapter.__name__
    short, reads = _partial_reads(pu.save_pil_to_cache, tmp_path)
    assert reads > 50 and short == 0
    assert not [p for p in tmp_path.rglob(".*")], "staging files left behind"


def _sizes_seen_by_a_reader_during_writes(save, cache_dir: Path, monkeypatch) -> list[int]:
    """Write the same picture twice; whenever a file is opened for writing, a reader looks at the cached
    file at that instant (what a concurrent download would send): the sizes it saw."""
    img = _noisy_image(64)
    target = Path(save(img, str(cache_dir), format="png"))
    seen: list[int] = []
    real_open = Path.open

    def watching_open(self, mode="r", *args, **kwargs):
        fh = real_open(self, mode, *args, **kwargs)
        if "w" in mode:
            seen.append(target.stat().st_size if target.exists() else -1)
        return fh

    monkeypatch.setattr(Path, "open", watching_open)
    save(img, str(cache_dir), format="png")
    monkeypatch.undo()
    return seen


def test_gradio_original_write_truncates_the_file_a_reader_may_be_sending(tmp_path, monkeypatch):
    """The reason for the patch: Gradio's own writer empties the cached file before writing it again, so a
    download in flight is cut short. If this starts failing after a Gradio upgrade, upstream fixed it."""
    gradio_adapter.apply()
    original = gradio_adapter._applied["save_pil_to_cache"]
    assert 0 in _sizes_seen_by_a_reader_during_writes(original, tmp_path / "theirs", monkeypatch)
    from gradio import processing_utils as pu

    ours = _sizes_seen_by_a_reader_during_writes(pu.save_pil_to_cache, tmp_path / "ours", monkeypatch)
    assert 0 not in ours  # the existing file is kept whole (same hash, same bytes)


def test_patched_writers_return_gradios_paths_and_bytes(tmp_path):
    from gradio import processing_utils as pu

    gradio_adapter.apply()
    img = Image.open(EXAMPLE)
    ours = Path(pu.save_pil_to_cache(img, str(tmp_path / "a")))
    theirs = Path(gradio_adapter._applied["save_pil_to_cache"](img, str(tmp_path / "b")))
    assert ours.relative_to(tmp_path / "a") == theirs.relative_to(tmp_path / "b")
    assert ours.read_bytes() == theirs.read_bytes()
    blob = Path(pu.save_bytes_to_cache(b"hello", "x.txt", str(tmp_path / "c")))
    assert blob.read_bytes() == b"hello" and blob.name == "x.txt" and oct(blob.stat().st_mode)[-3:] == "644"
    arr = Path(pu.save_img_array_to_cache(np.zeros((4, 4, 3), np.uint8), str(tmp_path / "d")))
    assert arr.exists() and arr.suffix == ".webp"


def test_same_example_from_many_clients_loses_nothing(tmp_path):
    """20 browsers x 5 clicks of "Label it" on one example, each downloading the picture of what the model
    sees (scripts/load_test.py's browser call): no click lost.

    Without the patch this lost 10-19 of 100 (issue #11); to see it fail, run it with
    CLIPDEMO_TEST_PATCHES=0 (the app then starts with CLIPDEMO_GRADIO_PATCHES=0)."""
    import sys

    from app_server import running_app

    sys.path.insert(0, str(ROOT / "scripts"))
    import load_test

    clients, calls = 20, 5
    failures: list[str] = []
    lock = threading.Lock()
    env = {"CLIPDEMO_GRADIO_PATCHES": os.environ.get("CLIPDEMO_TEST_PATCHES", "1")}

    with running_app("--max-queue", "256", log_path=tmp_path / "app.log", env=env) as (url, _proc):
        def one_client(i: int) -> None:
            for _ in range(calls):
                try:
                    assert load_test.browser_zero_shot(url, f"10.0.0.{i + 1}") > 0
                except Exception as e:  # noqa: BLE001 - every lost call is counted
                    with lock:
                        failures.append(f"{type(e).__name__}: {str(e)[:120]}")

        load_test.browser_zero_shot(url, "10.0.1.1")  # warm-up
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one_client, range(clients)))
    assert failures == [], f"{len(failures)} of {clients * calls} calls lost, e.g. {failures[:3]}"


def test_start_check_waits_for_a_busy_server_and_fails_fast_on_a_closed_port():
    """Gradio's own check gives up after 3 s per try; a server that answers in 4 s must still count as up."""
    import http.server
    import socket
    import threading

    from gradio import networking

    gradio_adapter.patient_start_check()
    assert networking.url_ok.__module__ == gradio_adapter.__name__

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802 - the stdlib's name
            released.wait(30)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    released = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answered = []
    checker = threading.Thread(target=lambda: answered.append(networking.url_ok(f"http://127.0.0.1:{server.server_port}/")))
    checker.start()
    checker.join(4)  # longer than Gradio's 3 s timeout: the original would have given up by now
    assert checker.is_alive() and not answered
    released.set()
    checker.join(30)
    server.shutdown()
    assert answered == [True]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert networking.url_ok(f"http://127.0.0.1:{closed}/") is False


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
        return gradio_adapter.current_event_is_abandoned()

    gone = contextvars.copy_context().run(inside_the_handler)
    assert gone is not None and gone() is False
    asyncio.run(queue.clean_events(session_hash="visitor-b"))  # someone else left: not us
    assert gone() is False
    asyncio.run(queue.clean_events(session_hash="visitor-a"))  # our visitor's stream closed
    assert gone() is True
    with limits.request_scope(limits.RequestBudget(abandoned=gone)), pytest.raises(limits.LimitError, match="left"):
        limits.check_time()


def test_outside_a_queued_event_nothing_is_abandoned():
    assert contextvars.copy_context().run(gradio_adapter.current_event_is_abandoned) is None


def test_the_installed_gradio_passes_the_check():
    found = gradio_adapter.check()
    assert found.version == gr.__version__ and found.disabled == {}


def test_a_gradio_outside_the_supported_range_refuses_to_start():
    with pytest.raises(gradio_adapter.GradioMismatch, match="7.0.0"):
        gradio_adapter.check("7.0.0")
    with pytest.raises(gradio_adapter.GradioMismatch, match="5.9"):
        gradio_adapter.check("5.9")


def test_a_changed_internal_turns_its_feature_off_with_a_warning(monkeypatch, caplog):
    from gradio import processing_utils as pu

    gradio_adapter.remove()
    monkeypatch.setattr(pu, "save_pil_to_cache", lambda picture, folder: "")  # a later Gradio's other shape
    monkeypatch.setattr(gradio_adapter, "_compatibility", None)
    with caplog.at_level("WARNING"):
        found = gradio_adapter.check()
    assert not found.enabled("atomic_cache_writes") and found.enabled("queue_fairness")
    assert "atomic_cache_writes is off" in caplog.text
    gradio_adapter.apply()
    assert not gradio_adapter.applied()  # the patch stays off rather than break at call time
    monkeypatch.undo()
    gradio_adapter._compatibility = None
    assert gradio_adapter.check().enabled("atomic_cache_writes")


def test_a_queue_class_that_lost_an_attribute_turns_fairness_off(monkeypatch):
    from gradio import queueing

    def other_init(self, *args, **kwargs):  # a Gradio whose Event no longer sets `alive`
        self._id = "x"

    monkeypatch.setattr(queueing.Event, "__init__", other_init)
    monkeypatch.setattr(gradio_adapter, "_compatibility", None)
    found = gradio_adapter.check()
    assert not found.enabled("queue_fairness") and not found.enabled("abandoned_check")
    assert "alive" in found.disabled["abandoned_check"]
    assert gradio_adapter.current_event_is_abandoned() is None
    monkeypatch.undo()
    gradio_adapter._compatibility = None


def test_file_sizes_parse_as_gradio_does_and_without_it(monkeypatch):
    assert gradio_adapter.parse_file_size("2mb") == 2 * 2**20
    monkeypatch.setattr(gradio_adapter, "_compatibility", gradio_adapter.Compatibility("6", {"file_size": "gone"}))
    assert gradio_adapter.parse_file_size("2mb") == 2 * 2**20 and gradio_adapter.parse_file_size("512kb") == 2**19
