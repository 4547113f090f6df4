"""Classroom load test: N clients on one example image, a mix of views, one hostile client, one bystander.

    python scripts/load_test.py                        # 60 clients x 5 calls; launches `app.py --model bundled`
    python scripts/load_test.py --clients 20 --calls 3 --out load.md
    python scripts/load_test.py --url http://127.0.0.1:7860/ --pid 12345   # an app you started
    python scripts/load_test.py --one-address          # the class behind one address (a school's NAT)

What a class does: every client is its own gradio_client session *and its own machine* (a distinct
X-Forwarded-For address, which uvicorn trusts from loopback, as it would from a LAN), and they all
use the same bundled example for zero-shot — the case that lost requests before the cache writes
were made atomic — mixed with the similarity matrix, the spatial map and the embedding map. Every
output file is downloaded, as a browser would. With --one-address no client sends X-Forwarded-For: the
whole class is one address, as behind a school's NAT or a lab's proxy (fairness is per session then).

Phase 1 runs the class and one hostile client (the abuses of issue #11: a batch of 20 references
to a 16-megapixel 1-bit PNG, a map of 8 references to one zip of 100 7000² PNGs, imagenet80 x 1000
labels x 1000 characters, 24 similarity lines of 300 KB, lone surrogates, 100 `queue/join`s with
invented sessions that never listen, `proxy=…%00`) side by side. Phase 2 runs the hostile client
alone while a bystander makes a plain zero-shot call every second, timing it. Then the server sits
idle and its memory is read again.

Prints tables (calls, failures, p50, p95 per kind; each hostile case and what it was answered;
the bystander's worst latency; RSS at start, peak, after idle) and exits 1 if any class call
failed, any hostile case was not answered with a message, the bystander waited 5 s or more, or the
RSS after idle is more than 300 MiB above the start. Timings depend on the machine and on what
else runs on it: say which when quoting them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOYS = sorted(str(p) for p in (ROOT / "assets" / "toy").glob("*.png"))
EXAMPLE = TOYS[0]  # the example the whole class clicks
LABELS = "red circle, blue square, yellow star, green triangle, purple heart, orange cross"
KINDS = ("zero_shot_ui", "similarity_matrix", "zero_shot", "zero_shot_ui", "spatial_heatmap", "embedding_map")
BYSTANDER_LIMIT_S = 5.0
FLOOD = 100  # joins with invented sessions: more than one address may open a minute (limits.py: 90)
FLOOD_CASE = f"{FLOOD} queue/join of maps, invented sessions, never listening"
RSS_SLACK_MIB = 300


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


HTTP_TIMEOUT_S: float | None = None  # gradio_client's own default (httpx: 5 s) unless --timeout says otherwise


def client_for(url: str, address: str | None, downloads: Path, folder: str = ""):
    """A gradio_client session; `address` None: no X-Forwarded-For (the class shares the machine's address)."""
    from gradio_client import Client

    extra = {"httpx_kwargs": {"timeout": HTTP_TIMEOUT_S}} if HTTP_TIMEOUT_S else {}
    return Client(url, verbose=False, headers={"X-Forwarded-For": address} if address else None,
                  download_files=str(downloads / (folder or str(address).replace(".", "-"))), **extra)


_UI_FN: dict[str, tuple[int, int]] = {}


def ui_zero_shot_fn(url: str) -> tuple[int, int]:
    """The Zero-shot tab's "Label it" event (a browser-only event: not in the API), found in /config as the
    event that reads the picture, the labels, the template and the model and fills the "what the model sees"
    picture (other events also write that picture: the upload check, the clearing before a run).
    Returns (its fn_index, the position of that picture among its outputs)."""
    if url not in _UI_FN:
        import httpx

        config = httpx.get(url + "config", timeout=120).json()
        labels = {c["id"]: str(c.get("props", {}).get("label")) for c in config["components"]}
        for d in config["dependencies"]:
            views = [i for i, o in enumerate(d["outputs"]) if '"zs.view"' in labels.get(o, "")]
            if views and len(d["inputs"]) == 4:
                _UI_FN[url] = (d["id"], views[0])
                break
    return _UI_FN[url]


def browser_zero_shot(url: str, address: str | None, timeout: float = 60, session: str | None = None) -> int:
    """What a browser does when a student clicks the example and "Label it": upload, join the queue, read the
    result from the event stream, download the picture of what the model sees. Returns its size in bytes; a
    download shorter than its Content-Length raises (the race issue #11 was about)."""
    import httpx

    headers = {"X-Forwarded-For": address} if address else {}
    session = session or uuid.uuid4().hex  # a browser tab keeps one session for all its clicks
    with httpx.Client(timeout=timeout, headers=headers) as http:
        with open(EXAMPLE, "rb") as fh:
            path = http.post(url + "gradio_api/upload", files={"files": (Path(EXAMPLE).name, fh)}).json()[0]
        image = {"path": path, "orig_name": Path(EXAMPLE).name, "meta": {"_type": "gradio.FileData"}}
        joined = http.post(url + "gradio_api/queue/join", json={
            "data": [image, LABELS, "single", None], "fn_index": ui_zero_shot_fn(url)[0], "session_hash": session,
            "event_data": None, "trigger_id": None})
        if joined.status_code != 200:  # a refusal says why in its detail
            raise RuntimeError(f"join refused ({joined.status_code}): {joined.text[:300]}")
        output = None
        with http.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success", True) or "error" in output:
                        raise RuntimeError(f"the app answered an error: {output.get('error')}")
                    break
        if output is None:
            raise RuntimeError("the event stream ended without a result")
        view = output["data"][ui_zero_shot_fn(url)[1]]
        picture = http.get(view["url"])  # httpx raises RemoteProtocolError when the body is shorter than declared
        picture.raise_for_status()
        from PIL import Image

        Image.open(io.BytesIO(picture.content)).load()
        return len(picture.content)


def one_call(client, kind: str, rnd: random.Random, address: str | None = "10.99.9.9",
             tab_session: str | None = None) -> None:
    from gradio_client import handle_file

    image = handle_file(EXAMPLE)  # the whole class clicks the same example
    word = rnd.choice(["red", "blue", "yellow", "green", "purple", "orange"])
    if kind == "zero_shot_ui":
        assert browser_zero_shot(client.src, address, HTTP_TIMEOUT_S or 60, tab_session) > 0
    elif kind == "zero_shot":
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


def where(e: BaseException) -> str:
    """The client step that failed (upload, join, download …), from the traceback's gradio_client frames."""
    import traceback

    frames = [f for f in traceback.extract_tb(e.__traceback__) if "gradio_client" in f.filename]
    return f" (in gradio_client {frames[-1].name})" if frames else ""


def run_student(url: str, index: int, calls: int, results: list, lock: threading.Lock, downloads: Path,
                one_address: bool = False) -> None:
    """One student; `one_address`: no X-Forwarded-For, so the whole class is one address (a school's NAT)."""
    rnd = random.Random(index)
    address = None if one_address else f"10.0.{index // 250}.{index % 250 + 1}"
    try:
        client = client_for(url, address, downloads, folder=f"student{index}")
    except Exception as e:  # noqa: BLE001 - a client that cannot connect fails all its calls
        with lock:
            results += [("connect", 0.0, f"{type(e).__name__}: {e}")] * calls
        return
    tab_session = uuid.uuid4().hex  # the student's browser tab: one session for all its clicks
    for i in range(calls):
        kind = KINDS[(index + i) % len(KINDS)]
        start = time.perf_counter()
        error = None
        try:
            one_call(client, kind, rnd, address, tab_session)
        except Exception as e:  # noqa: BLE001 - every failure is counted and shown
            error = f"{type(e).__name__}: {str(e)[:200]}{where(e)}"
        with lock:
            results.append((kind, time.perf_counter() - start, error))


# ---------------------------------------------------------------- the hostile client


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def hostile_files(folder: Path) -> dict[str, Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    big = folder / "bilevel-4096.png"
    big.write_bytes(_png(Image.new("1", (4096, 4096), 1)))
    huge = _png(Image.new("1", (7000, 7000), 1))
    archive = folder / "hundred-7000px.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(100):
            zf.writestr(f"scan-{i:03d}.png", huge)
    return {"big": big, "zip": archive}


def _said_something(value) -> bool:
    return bool(str(value).strip())


def hostile_cases(url: str, files: dict[str, Path], downloads: Path) -> list[tuple]:
    """Each case -> (case, seconds, answered with a message?, what came back)."""
    from gradio_client import handle_file

    client = client_for(url, "10.66.6.6", downloads)
    out = []

    def case(name, fn):
        start = time.perf_counter()
        try:
            ok, said = fn()
        except Exception as e:  # noqa: BLE001 - an error message is an answer, a dropped connection is not
            text = f"{type(e).__name__}: {e}"
            ok = type(e).__name__ in ("AppError", "ValueError") and len(str(e)) > 10
            said = text
        out.append((name, time.perf_counter() - start, ok, " ".join(str(said).split())[:150]))

    def words(items) -> str:  # notices are {code, params, severity, message}; skips are plain text
        return " ".join(n.get("message", "") if isinstance(n, dict) else str(n) for n in items)

    def batch_of_bilevel():
        out = client.predict(images=[handle_file(str(files["big"]))] * 20, labels="red circle, blue square",
                             templates="single", api_name="/zero_shot_batch")
        said = words(out.get("skipped", []) + out.get("notices", []))
        # one picture sent 20 times is decoded and charged once per request (clipdemo.core.images): all 20 are
        # answered; 20 different such pictures would pass the request's pixel budget and be refused ("not read")
        return "not read" in said or len(out.get("results", [])) == 20, said

    def map_of_zips():
        out = client.predict(images=[handle_file(str(files["zip"]))] * 8, texts="a white square", method="pca",
                             api_name="/embedding_map")
        said = words(out["summary"].get("notices", []) + out.get("notices", [])) or str(out["summary"])
        # identical members are decoded and charged once per request, so the map may simply come back
        return "megapixels" in said or "MB" in said or bool(out.get("points")), said

    def labels_times_templates():
        labels = ", ".join(f"label{i} " + "x" * 990 for i in range(1000))
        out = client.predict(image=handle_file(EXAMPLE), labels=labels, templates="imagenet80", api_name="/zero_shot")
        notes = words(out.get("notices", []))
        return "prompts" in notes, notes

    def long_lines():
        texts = "\n".join(f"{i} " + "a red circle " * 23_000 for i in range(24))  # 7 MB: under the 8 MB body limit
        out = client.predict(images=[handle_file(p) for p in TOYS[:3]], texts=texts, api_name="/similarity_matrix")
        notes = words(out.get("notices", []))
        return "cut" in notes and len(out["texts"]) == 24, notes

    def surrogates():  # gradio_client cannot even send one; the REST route takes an escaped JSON string
        boundary = "----clipdemo-load-test"
        form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"toy.png\"\r\n"
                "Content-Type: image/png\r\n\r\n").encode() + Path(EXAMPLE).read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        headers = {"X-Forwarded-For": "10.66.6.6"}
        up = urllib.request.Request(url + "gradio_api/upload", data=form, method="POST",
                                    headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"})
        path = json.loads(urllib.request.urlopen(up, timeout=60).read())[0]
        body = json.dumps({"data": [{"path": path, "meta": {"_type": "gradio.FileData"}},
                                    "red \ud800circle, blue square", "single", ""]}).encode()  # ensure_ascii: "\ud800"
        req = urllib.request.Request(url + "gradio_api/call/zero_shot", data=body, method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
        event_id = json.loads(urllib.request.urlopen(req, timeout=60).read())["event_id"]
        stream = urllib.request.urlopen(f"{url}gradio_api/call/zero_shot/{event_id}", timeout=120).read().decode()
        return "event: complete" in stream and "probabilities" in stream, stream.split("\n")[0][:80]

    def queue_flood():
        config = json.loads(urllib.request.urlopen(url + "config", timeout=60).read())
        dep = next(d for d in config["dependencies"] if d.get("api_name") == "embedding_map")
        fn_index, n_inputs = dep["id"], len(dep["inputs"])
        codes, message = [], ""
        for i in range(FLOOD):  # maps (one lane, seconds each, a new text each time): they pile up unless bounded
            data = [None, f"flood {i}", "umap", 2] + [""] * (n_inputs - 4)  # model (and collection): the defaults
            body = json.dumps({"data": data, "fn_index": fn_index,
                               "session_hash": uuid.uuid4().hex,
                               "event_data": None, "trigger_id": None}).encode()
            req = urllib.request.Request(url + "gradio_api/queue/join", data=body, method="POST",
                                         headers={"Content-Type": "application/json", "X-Forwarded-For": "10.66.6.7"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as e:
                codes.append(e.code)
                message = json.loads(e.read() or b"{}").get("detail", "")
        refused = len(codes) - codes.count(200)
        return refused > 0 and "Try again in about" in message, \
            f"{codes.count(200)} accepted, {refused} refused ({', '.join(map(str, sorted(set(codes) - {200})))}): {message}"

    def nul_proxy():
        try:
            urllib.request.urlopen(url + "gradio_api/proxy=http%3A%2F%2Fexample.com%2Fa%00b", timeout=30)
            return False, "accepted"
        except urllib.error.HTTPError as e:
            return e.code == 400, f"{e.code} {e.read().decode(errors='replace')}"

    for name, fn in (("zero_shot_batch: 20 x one 4096² 1-bit PNG", batch_of_bilevel),
                     ("embedding_map: 8 x one zip of 100 7000² PNGs", map_of_zips),
                     ("zero_shot: imagenet80 x 1000 labels x 1000 chars", labels_times_templates),
                     ("similarity_matrix: 24 lines of 300 KB", long_lines),
                     ("zero_shot: lone surrogate in a label", surrogates),
                     (FLOOD_CASE, queue_flood),
                     ("GET proxy=…%00", nul_proxy)):
        case(name, fn)
    return out


def bystander(url: str, stop: threading.Event, times: list, errors: list, downloads: Path) -> None:
    """A plain zero-shot from another visitor, once a second, while the hostile client works."""
    from gradio_client import handle_file

    client = client_for(url, "10.77.7.7", downloads)
    while not stop.is_set():
        start = time.perf_counter()
        try:
            client.predict(image=handle_file(TOYS[1]), labels="red circle, blue square", templates="single",
                           api_name="/zero_shot")
            times.append(time.perf_counter() - start)
        except Exception as e:  # noqa: BLE001
            errors.append(f"{type(e).__name__}: {str(e)[:120]}")
        stop.wait(1.0)


# ---------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def table(results: list, wall: float) -> str:
    rows = ["| call | n | failed | p50 (s) | p95 (s) | max (s) |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind in (*dict.fromkeys(KINDS), "all"):
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
            urllib.request.urlopen(url + "config", timeout=10)
            return
        except Exception:  # noqa: BLE001 - not up yet
            if proc is not None and proc.poll() is not None:
                sys.exit(f"the app exited during start-up (code {proc.returncode})")
            if time.time() > deadline:
                sys.exit(f"the app did not answer within {timeout:.0f} s")
            time.sleep(0.5)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=60)
    p.add_argument("--calls", type=int, default=5, help="calls per client")
    p.add_argument("--no-hostile", action="store_true", help="only the class (and no bystander phase)")
    p.add_argument("--one-address", action="store_true",
                   help="the class behind one address (no X-Forwarded-For: a school's NAT), not one address each")
    p.add_argument("--idle", type=float, default=30, help="seconds of idle before the last memory reading")
    p.add_argument("--url", help="an app already running (default: launch app.py --model bundled)")
    p.add_argument("--pid", type=int, help="its server process, for the memory readings")
    p.add_argument("--port", type=int, default=7911)
    p.add_argument("--app-args", default="", help="extra app.py options when launching, e.g. '--concurrency 4'")
    p.add_argument("--out", help="also write the report (markdown) here")
    p.add_argument("--timeout", type=float, default=None,
                   help="the clients' HTTP timeout for uploads, joins and downloads in seconds (default: "
                        "gradio_client's, 5 s; a browser waits far longer)")
    p.add_argument("--with-training", action="store_true",
                   help="keep a Learn-tab training running during the class (long work next to short requests)")
    args = p.parse_args(argv)
    global HTTP_TIMEOUT_S
    HTTP_TIMEOUT_S = args.timeout

    proc = None
    url = args.url
    if url is None:
        env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        cmd = [sys.executable, "app.py", "--model", "bundled", "--port", str(args.port), *args.app_args.split()]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{args.port}/"
    url = url.rstrip("/") + "/"
    pid = server_pid(args.pid) if args.pid else (proc.pid if proc else None)
    work = Path(tempfile.mkdtemp(prefix="clipdemo-load-"))
    hostile, by_times, by_errors = [], [], []
    try:
        wait_until_up(url, proc, 300)
        warm = client_for(url, "10.99.9.9", work)  # one call of each kind first: imports and compiles are not "load"
        for kind in dict.fromkeys(KINDS):
            one_call(warm, kind, random.Random(0))
        trainer = None
        if args.with_training:  # its own session; stopped below
            trainer = client_for(url, "10.88.8.8", work)
            trainer.predict(32, 0.002, 64, "all", 3000, api_name="/learn_start")
        start_mem = memory(pid) if pid else {}
        files = hostile_files(work / "hostile") if not args.no_hostile else {}
        results: list = []
        lock = threading.Lock()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients + 1) as pool:
            futures = [pool.submit(run_student, url, i, args.calls, results, lock, work, args.one_address)
                       for i in range(args.clients)]
            if files:
                hostile_future = pool.submit(hostile_cases, url, files, work)
            for f in futures:
                f.result()
            wall = time.perf_counter() - start
            if files:
                hostile = [("with the class", *row) for row in hostile_future.result()]
        peak_mem = memory(pid) if pid else {}
        if trainer is not None:
            status = trainer.predict(api_name="/learn_pause")[0]
            trainer.predict(api_name="/learn_reset")
            print(f"training during the class: {status.splitlines()[0][:160]}")
        if files:  # phase 2: the hostile client alone, a bystander timing plain zero-shot calls
            stop = threading.Event()
            watcher = threading.Thread(target=bystander, args=(url, stop, by_times, by_errors, work))
            watcher.start()
            try:
                hostile += [("alone, bystander timed", *row) for row in hostile_cases(url, files, work)]
            finally:
                stop.set()
                watcher.join()
        time.sleep(args.idle)
        idle_mem = memory(pid) if pid else {}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    failures = [r for r in results if r[2] is not None]
    timeout = f"{args.timeout:.0f} s" if args.timeout else "gradio_client's default (5 s)"
    where_from = "one address (no X-Forwarded-For)" if args.one_address else "one address each"
    lines = [f"## Classroom load: {args.clients} clients x {args.calls} calls, {where_from}, one example image ({url}); "
             f"client HTTP timeout {timeout}", "",
             table(results, wall), ""]
    if pid:
        end_mem = max(peak_mem.get("VmHWM", 0), idle_mem.get("VmHWM", 0))
        lines += ["| server memory (MiB) | RSS |", "| --- | ---: |",
                  f"| start (after warm-up) | {start_mem.get('VmRSS')} |",
                  f"| peak (whole run) | {end_mem} |",
                  f"| after {args.idle:.0f} s idle | {idle_mem.get('VmRSS')} |", ""]
    bad_hostile = [h for h in hostile if not h[3]]
    if hostile:
        lines += ["| hostile case | phase | s | answered with a message | answer |", "| --- | --- | ---: | --- | --- |"]
        lines += [f"| {name} | {phase} | {secs:.1f} | {'yes' if ok else '**no**'} | {said.replace('|', '/')} |"
                  for phase, name, secs, ok, said in hostile]
        lines += ["", f"bystander (plain zero-shot, another visitor, during phase 2): {len(by_times)} calls, "
                      f"p50 {percentile(by_times, .5):.2f} s, max {max(by_times, default=float('nan')):.2f} s, "
                      f"{len(by_errors)} failed" + (f" ({by_errors[0]})" if by_errors else ""), ""]
    lines.append(f"failed class calls: {len(failures)}")
    for kind, _, err in failures[:20]:
        lines.append(f"- {kind}: {err}")
    if failures:
        lines.append(f"most common failure: {statistics.mode(err for _, _, err in failures)}")
    report = "\n".join(lines)
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n")
    problems = bool(failures) or len(results) != args.clients * args.calls or bool(bad_hostile) or bool(by_errors)
    problems |= bool(by_times) and max(by_times) >= BYSTANDER_LIMIT_S
    if pid and idle_mem.get("VmRSS", 0) - start_mem.get("VmRSS", 0) > RSS_SLACK_MIB:
        problems = True
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
