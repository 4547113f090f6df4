"""Launch the real app (`python app.py --model bundled`) on loopback for tests that go through its HTTP API.

One server per test module: start-up (imports, model load) costs far more than any request, and the
battery must stay fast on a 2-core machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(*extra_args: str, log_path: Path | None = None, start_timeout: float = 240.0,
                env: dict | None = None, netguard_log: Path | None = None, launcher: list[str] | None = None,
                cwd: Path = ROOT):
    """Yield (url, process) of a freshly started app; stop it afterwards whatever happened.

    With `netguard_log`, every non-loopback connection the app tries is refused and written there. `launcher`
    replaces `python app.py` (e.g. an installed `clipdemo app`), run in `cwd`."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **(env or {})}
    env.pop("PYTEST_CURRENT_TEST", None)  # the app must behave as it does for real visitors
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    argv = ["--model", "bundled", "--port", str(port), *extra_args]
    cmd = [*(launcher or [sys.executable, "app.py"]), *argv]
    if netguard_log is not None:
        here = str(Path(__file__).resolve().parent)
        cmd = [sys.executable, "-c", f"import sys; sys.path[:0] = [{here!r}, {str(ROOT)!r}]; import netguard; "
                                     f"netguard.run_app({str(netguard_log)!r}, {argv!r})"]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + start_timeout
        while True:
            try:
                urllib.request.urlopen(url + "config", timeout=3)
                break
            except Exception:  # noqa: BLE001 - not up yet
                if proc.poll() is not None:
                    raise RuntimeError(f"the app exited during start-up (code {proc.returncode})") from None
                if time.time() > deadline:
                    raise RuntimeError(f"the app did not start within {start_timeout:.0f} s") from None
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if log_path:
            log.close()
