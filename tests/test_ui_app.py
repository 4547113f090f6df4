"""The app's glue (clipdemo.ui.app): a clean stop on Ctrl-C or SIGTERM."""

from __future__ import annotations

import time

import pytest


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
        wait_for_a_trained_step(client)
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


def wait_for_a_trained_step(client, seconds: float = 180.0) -> None:
    """Until the session's training has taken a step ("Use this model" needs one), or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while client.predict(api_name="/learn_status")["step"] < 1:
        assert time.monotonic() < deadline, "the training took no step"
        time.sleep(0.5)
