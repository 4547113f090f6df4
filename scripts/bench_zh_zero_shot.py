"""12-way zero-shot on Pillow-drawn shapes through a running app's /zero_shot, in English and in Chinese.

    python scripts/bench_zh_zero_shot.py                                   # launches `app.py --model bundled`
    python scripts/bench_zh_zero_shot.py --url http://127.0.0.1:7860/ --per-pair 5

The pictures are plain Pillow shapes (clipdemo.training.evaluate.draw_plain, the model card's "other hands"
renderer, with its own seed), 4 colours x 3 shapes = 12 labels. Each picture is sent twice, as a
client would: labels "red circle, ..." with templates "a photo of a {}.", and labels "红色圆形, ..."
with templates "一张{}的照片。". Prints a table (accuracy with chance beside it) and exits 1 when the
Chinese accuracy is more than --tolerance below the English one.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipdemo.core import toyworld  # noqa: E402
from clipdemo.training import evaluate  # noqa: E402

PAIRS = [(c, s) for c in ("red", "blue", "yellow", "green") for s in ("circle", "square", "triangle")]
LANGUAGES = {
    "English": ([f"{c} {s}" for c, s in PAIRS], "a photo of a {}."),
    "Chinese": ([toyworld.zh_colour(c) + toyworld.zh_shape(s) for c, s in PAIRS], "一张{}的照片。"),
}
SEED = 20_262  # not the model card's test seed, not a training seed


def draw_pictures(folder: Path, per_pair: int, seed: int = SEED) -> list[tuple[Path, int]]:
    """per_pair Pillow pictures of each pair, saved as PNG: [(path, index of the true pair)]."""
    rng = random.Random(seed)
    out = []
    for k, (c, s) in enumerate(PAIRS):
        for j in range(per_pair):
            path = folder / f"{k:02d}_{j}_{c}_{s}.png"
            evaluate.draw_plain(s, c, rng).save(path)
            out.append((path, k))
    return out


def measure(client, pictures: list[tuple[Path, int]]) -> dict[str, dict]:
    """Per language: accuracy, n, wrong answers, the template the server reports it used."""
    from gradio_client import handle_file

    results = {}
    for language, (labels, template) in LANGUAGES.items():
        correct, wrong, used = 0, [], None
        for path, k in pictures:
            got = client.predict(image=handle_file(str(path)), labels=", ".join(labels), templates=template,
                                 api_name="/zero_shot")
            used = got["templates"]
            if got["labels"][0] == labels[k]:
                correct += 1
            else:
                wrong.append((labels[k], got["labels"][0]))
        results[language] = {"accuracy": correct / len(pictures), "n": len(pictures), "wrong": wrong,
                             "templates": used}
    return results


def table(results: dict[str, dict]) -> str:
    rows = ["| labels | template | accuracy | chance | pictures | most common mistake |", "|---|---|---|---|---|---|"]
    for language, r in results.items():
        common = max(set(r["wrong"]), key=r["wrong"].count) if r["wrong"] else None
        mistake = f"{common[0]} → {common[1]} ({r['wrong'].count(common)}×)" if common else "—"
        rows.append(f"| {language} | `{r['templates'][0]}` | {r['accuracy']:.1%} | {1 / len(PAIRS):.1%} | {r['n']} "
                    f"| {mistake} |")
    return "\n".join(rows)


@contextmanager
def launched_app(model: str, port: int = 0):
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "app.py", "--model", model, "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 300
        while True:
            try:
                urllib.request.urlopen(url + "config", timeout=3)
                break
            except Exception:  # noqa: BLE001 - not up yet
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running app; without it one is launched")
    p.add_argument("--model", default="bundled", help="model for a launched app")
    p.add_argument("--port", type=int, default=0, help="port for a launched app (default: a free one)")
    p.add_argument("--per-pair", type=int, default=5)
    p.add_argument("--tolerance", type=float, default=0.05, help="how far Chinese may fall below English")
    args = p.parse_args(argv)
    from gradio_client import Client

    with tempfile.TemporaryDirectory() as tmp:
        pictures = draw_pictures(Path(tmp), args.per_pair)
        if args.url:
            results = measure(Client(args.url, verbose=False), pictures)
        else:
            with launched_app(args.model, args.port) as url:
                results = measure(Client(url, verbose=False), pictures)
    print(table(results))
    gap = results["English"]["accuracy"] - results["Chinese"]["accuracy"]
    print(f"Chinese − English: {-gap:+.1%} (tolerance {args.tolerance:.0%})")
    return 1 if gap > args.tolerance else 0


if __name__ == "__main__":
    sys.exit(main())
