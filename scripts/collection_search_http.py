"""Time `/search` over a launch-time collection through the public HTTP API, as a script or agent calls it.

    python scripts/collection_search_http.py --collection /data/toy100k            # launches app.py
    python scripts/collection_search_http.py --collection /data/toy100k --queries 40 --limit 1.0
    python scripts/collection_search_http.py --url http://127.0.0.1:7860/ --collection /data/toy100k

Two kinds of query, spread over the collection's first shard (its real images):
- by picture: the image file itself as `/search(query_image=…, collection=…, k=5)` (image -> image);
  right when the first result is that very image (its row in the collection);
- by caption: the image's caption as `/search(query=…, collection=…, k=5)` (text -> image); right when
  the first result carries that caption. Toy captions that differ only in "left"/"right"/"center"
  are often confused: CLIP is weak at spatial relations, the bundled model too (Lesson 6).
Prints a table per kind (calls, right first, p50, p95, max) and exits 1 if any call is slower than
--limit seconds or any picture query does not find itself first. The timings include the
HTTP round trip and Gradio's queue; they depend on the machine and its load: say which when quoting.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def samples(folder: Path, n: int) -> list[tuple[int, str, Path]]:
    """(row, caption, image file) of n real images spread over the first shard."""
    import json

    import pandas as pd

    source = Path(json.loads((folder / "clipdemo_collection.json").read_text())["source"])
    first = sorted((folder / "metadata").glob("metadata_*.parquet"))[0]
    meta = pd.read_parquet(first, columns=["image_path", "caption"])
    step = max(1, len(meta) // n)
    return [(int(i), str(meta["caption"].iat[i]), source / meta["image_path"].iat[i])
            for i in range(0, len(meta), step)][:n]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--collection", required=True, help="the collection folder (the app offers it by folder name)")
    p.add_argument("--url", help="an app already started with this --collection (default: launch one)")
    p.add_argument("--queries", type=int, default=20)
    p.add_argument("--limit", type=float, default=1.0, help="seconds a call may take")
    args = p.parse_args(argv)
    folder = Path(args.collection).resolve()
    name = folder.name
    queries = samples(folder, args.queries)

    from contextlib import nullcontext

    from app_server import running_app  # tests/app_server.py: one way to launch the app and wait for it

    launched = running_app("--collection", str(folder)) if args.url is None else nullcontext((args.url, None))
    with launched as (url, _):
        url = url.rstrip("/") + "/"
        from gradio_client import Client, handle_file

        client = Client(url, verbose=False, download_files=tempfile.mkdtemp(prefix="clipdemo-search-"))
        client.predict(query=queries[0][1], collection=name, k=5, api_name="/search")  # opens the vectors once
        times: dict[str, list[float]] = {"picture": [], "caption": []}
        wrong: dict[str, list] = {"picture": [], "caption": []}
        for row, caption, image in queries:
            for kind, kw in (("picture", {"query_image": handle_file(str(image))}), ("caption", {"query": caption})):
                start = time.perf_counter()
                out = client.predict(collection=name, k=5, api_name="/search", **kw)
                times[kind].append(time.perf_counter() - start)
                first = out["results"][0] if out["results"] else {}
                right = first.get("index") == row if kind == "picture" else first.get("caption") == caption
                if not right:
                    wrong[kind].append((caption, first.get("caption"), first.get("index"), row))
    print(f"## /search over HTTP on collection {name!r} ({url})\n")
    print("| query | calls | right image first | p50 (s) | p95 (s) | max (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind, rows in times.items():
        q95 = sorted(rows)[max(0, int(round(0.95 * (len(rows) - 1))))]
        print(f"| {kind} | {len(rows)} | {len(rows) - len(wrong[kind])}/{len(rows)} | {statistics.median(rows):.3f} | "
              f"{q95:.3f} | {max(rows):.3f} |")
    print(f"\nlimit {args.limit:.1f} s per call")
    for kind, misses in wrong.items():
        for caption, got, index, row in misses:
            print(f"{kind} query of row {row} ({caption!r}): first result row {index} ({got!r})")
    slow = max(max(r) for r in times.values()) > args.limit
    return 1 if slow or wrong["picture"] else 0


if __name__ == "__main__":
    sys.exit(main())
