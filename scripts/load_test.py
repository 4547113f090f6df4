"""Load test: N concurrent gradio_client clients x M mixed calls against a launched app on loopback.

    python scripts/load_test.py                      # launches `app.py --model bundled` itself
    python scripts/load_test.py --clients 20 --calls 10 --out load.md
    python scripts/load_test.py --url http://127.0.0.1:7860/ --pid 12345   # an app you started

Each client is its own gradio_client.Client (its own session) and makes its calls one after another,
rotating through zero-shot, the similarity matrix, the spatial map and the embedding map, so every
kind of work is in flight at once. Prints a table of p50 / p95 / max latency per kind, every failed
call with its message, and the server process's memory (current RSS and peak RSS, from
/proc/PID/status) before and after the load. Exits 1 if any call failed. Not a unit test: timings
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOYS = sorted(str(p) for p in (ROOT / "assets" / "toy").glob("*.png"))
LABELS = "red circle, blue square, yellow star, green triangle, purple heart, orange cross"
KINDS = ("zero_shot", "similarity_matrix", "spatial_heatmap", "embedding_map")


def memory(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak so far) of a process, in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def server_pid(pid: int) -> int:
    """The python process itself when `pid` is a wrapper such as `timeout` (RSS of a wrapper means nothing)."""
    if b"python" in Path(f"/proc/{pid}/cmdline").read_bytes():
        return pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return server_pid(int(children[0])) if children else pid


def one_call(client, kind: str, rnd: random.Random):
    from gradio_client import handle_file

    image = handle_file(rnd.choice(TOYS))
    word = rnd.choice(["red", "blue", "yellow", "green", "purple", "orange"])
    if kind == "zero_shot":
        result = client.predict(image=image, labels=LABELS, templates=rnd.choice(["single", "imagenet7"]),
                                api_name="/zero_shot")
        assert result["probabilities"], "no probabilities"
    elif kind == "similarity_matrix":
        files = [handle_file(p) for p in rnd.sample(TOYS, 3)]
        matrix = client.predict(images=files, texts=f"a {word} circle\na {word} square\nthree {word} stars",
                                api_name="/similarity_matrix")
        assert len(matrix["cosine"]) == 3, "wrong matrix shape"
    elif kind == "spatial_heatmap":
        heat = client.predict(image=image, text=f"a {word} shape", method=rnd.choice(["surgery", "naive", "gradcam"]),
                              api_name="/spatial_heatmap")
        assert heat["relevance"], "no relevance grid"
    else:
        files = [handle_file(p) for p in rnd.sample(TOYS, 6)]
        out = client.predict(images=files, texts=f"a {word} shape number {rnd.randrange(10**6)}",
                             api_name="/embedding_map")
        assert len(out["points"]) >= 7, "too few points"


def run_client(url: str, index: int, calls: int, results: list, lock: threading.Lock) -> None:
    from gradio_client import Client

    rnd = random.Random(index)
    try:
        client = Client(url, verbose=False)
    except Exception as e:  # noqa: BLE001 - a client that cannot connect fails all its calls
        with lock:
            results += [("connect", 0.0, f"{type(e).__name__}: {e}")] * calls
        return
    for i in range(calls):
        kind = KINDS[(index + i) % len(KINDS)]
        start = time.perf_counter()
        error = None
        try:
            one_call(client, kind, rnd)
        except Exception as e:  # noqa: BLE001 - every failure is counted and shown
            error = f"{type(e).__name__}: {str(e)[:200]}"
        with lock:
            results.append((kind, time.perf_counter() - start, error))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def table(results: list, wall: float) -> str:
    rows = ["| call | n | failed | p50 (s) | p95 (s) | max (s) |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind in (*KINDS, "all"):
        mine = [r for r in results if kind == "all" or r[0] == kind]
        ok = [t for _, t, err in mine if err is None]
        rows.append(f"| {kind} | {len(mine)} | {len(mine) - len(ok)} | {percentile(ok, .5):.2f} | "
                    f"{percentile(ok, .95):.2f} | {max(ok, default=float('nan')):.2f} |")
    rows.append(f"\n{len(results)} calls in {wall:.1f} s wall ({len(results) / wall:.1f} calls/s)")
    return "\n".join(rows)


def wait_until_up(url: str, proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "config", timeout=3)
            return
        except Exception:  # noqa: BLE001 - not up yet
            if proc is not None and proc.poll() is not None:
                sys.exit(f"the app exited during start-up (code {proc.returncode})")
            if time.time() > deadline:
                sys.exit(f"the app did not answer within {timeout:.0f} s")
            time.sleep(0.5)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--calls", type=int, default=10, help="calls per client")
    p.add_argument("--url", help="an app already running (default: launch app.py --model bundled)")
    p.add_argument("--pid", type=int, help="its server process, for the memory readings")
    p.add_argument("--port", type=int, default=7911)
    p.add_argument("--app-args", default="", help="extra app.py options when launching, e.g. '--concurrency 4'")
    p.add_argument("--out", help="also write the report (markdown) here")
    p.add_argument("--with-training", action="store_true",
                   help="keep a Learn-tab training running during the load (long work next to short requests)")
    args = p.parse_args(argv)

    proc = None
    url = args.url
    if url is None:
        env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        cmd = [sys.executable, "app.py", "--model", "bundled", "--port", str(args.port), *args.app_args.split()]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{args.port}/"
    url = url.rstrip("/") + "/"
    pid = server_pid(args.pid) if args.pid else (proc.pid if proc else None)
    try:
        wait_until_up(url, proc, 300)
        from gradio_client import Client

        warm = Client(url, verbose=False)  # one call of each kind first: imports and compiles are not "load"
        for kind in KINDS:
            one_call(warm, kind, random.Random(0))
        trainer = None
        if args.with_training:  # its own session; stopped below
            trainer = Client(url, verbose=False)
            trainer.predict(32, 0.002, 64, "all", 3000, api_name="/learn_start")
        before = memory(pid) if pid else {}
        results: list = []
        lock = threading.Lock()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            for i in range(args.clients):
                pool.submit(run_client, url, i, args.calls, results, lock)
        wall = time.perf_counter() - start
        after = memory(pid) if pid else {}
        if trainer is not None:
            status = trainer.predict(api_name="/learn_pause")[0]
            trainer.predict(api_name="/learn_reset")
            print(f"training during the load: {status.splitlines()[0][:160]}")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    failures = [r for r in results if r[2] is not None]
    title = f"## Load: {args.clients} clients x {args.calls} calls ({url})"
    title += ", with a Learn-tab training running" if args.with_training else ""
    lines = [title, "", table(results, wall), ""]
    if pid:
        lines.append("| server memory | RSS now (MiB) | peak RSS (MiB) |\n| --- | ---: | ---: |")
        lines.append(f"| before the load (after warm-up) | {before.get('VmRSS')} | {before.get('VmHWM')} |")
        lines.append(f"| after the load | {after.get('VmRSS')} | {after.get('VmHWM')} |")
    lines.append("")
    lines.append(f"failed calls: {len(failures)}")
    for kind, _, err in failures[:20]:
        lines.append(f"- {kind}: {err}")
    if failures:
        common = statistics.mode(err for _, _, err in failures)
        lines.append(f"most common failure: {common}")
    report = "\n".join(lines)
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n")
    return 1 if failures or len(results) != args.clients * args.calls else 0


if __name__ == "__main__":
    sys.exit(main())
