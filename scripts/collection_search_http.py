"""Time `/search` over a launch-time collection through the public HTTP API, as a script or agent calls it.

    python scripts/collection_search_http.py --collection /data/toy100k            # launches app.py
    python scripts/collection_search_http.py --collection /data/toy100k --queries 40 --limit 1.0
    python scripts/collection_search_http.py --url http://127.0.0.1:7860/ --collection /data/toy100k

Each query is the caption of one of the collection's real images (spread over its first shard), sent
to `/search(query=…, collection=…, k=5)` with gradio_client. A query is right when the first result
carries that caption (toy captions describe one picture; a caption shared by several pictures counts
any of them). Prints a table (calls, right first, p50, p95, max, the server's own encode/search
split) and exits 1 if any call is wrong or slower than --limit seconds. The timings include the
HTTP round trip and Gradio's queue; they depend on the machine and its load: say which when quoting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def captions(folder: Path, n: int) -> list[str]:
    import pandas as pd

    first = sorted((folder / "metadata").glob("metadata_*.parquet"))[0]
    meta = pd.read_parquet(first, columns=["caption"])
    real = meta["caption"].fillna("").astype(str)
    real = real[real.str.strip() != ""]
    step = max(1, len(real) // n)
    return real.iloc[::step].head(n).tolist()


def wait_until_up(url: str, proc, timeout: float) -> None:
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
    p.add_argument("--collection", required=True, help="the collection folder (the app offers it by folder name)")
    p.add_argument("--url", help="an app already started with this --collection (default: launch one)")
    p.add_argument("--port", type=int, default=7912)
    p.add_argument("--queries", type=int, default=20)
    p.add_argument("--limit", type=float, default=1.0, help="seconds a call may take")
    args = p.parse_args(argv)
    folder = Path(args.collection).resolve()
    name = folder.name
    queries = captions(folder, args.queries)

    proc = None
    url = args.url
    if url is None:
        env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        cmd = [sys.executable, "app.py", "--model", "bundled", "--port", str(args.port), "--collection", str(folder)]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{args.port}/"
    url = url.rstrip("/") + "/"
    try:
        wait_until_up(url, proc, 300)
        from gradio_client import Client

        client = Client(url, verbose=False, download_files=tempfile.mkdtemp(prefix="clipdemo-search-"))
        client.predict(query=queries[0], collection=name, k=5, api_name="/search")  # opens the vectors once
        rows, wrong = [], []
        for q in queries:
            start = time.perf_counter()
            out = client.predict(query=q, collection=name, k=5, api_name="/search")
            rows.append(time.perf_counter() - start)
            if not out["results"] or out["results"][0]["caption"] != q:
                wrong.append((q, out["results"][0]["caption"] if out["results"] else None))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    q95 = sorted(rows)[max(0, int(round(0.95 * (len(rows) - 1))))]
    print(f"## /search over HTTP on collection {name!r} ({url})\n")
    print("| calls | right image first | p50 (s) | p95 (s) | max (s) | limit (s) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {len(rows)} | {len(rows) - len(wrong)}/{len(rows)} | {statistics.median(rows):.3f} | {q95:.3f} | "
          f"{max(rows):.3f} | {args.limit:.1f} |")
    for q, got in wrong:
        print(f"wrong first result for {q!r}: {got!r}")
    return 1 if wrong or max(rows) > args.limit else 0


if __name__ == "__main__":
    sys.exit(main())
