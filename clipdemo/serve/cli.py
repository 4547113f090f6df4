"""`python -m clipdemo`: the app's engine from the command line.

    clipdemo app [--model NAME] [--port 7860] ...      (the web app: what `python app.py` does, same options)
    python -m clipdemo label photo.jpg --labels "cat, dog" [--templates imagenet80] [--json]
    python -m clipdemo embed photos/ --out photos-emb/ [--engine ray]   (clip-retrieval's layout)
    python -m clipdemo video clip.mp4 --query "a red circle" [--json]  (when in the video it appears)
    python -m clipdemo train | eval | bench ...        (each has its own --help)
    python -m clipdemo download openai/clip-vit-base-patch32 --to ~/clip-models
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from clipdemo.core.errors import UserError

# Sub-commands that hand their arguments to another module's main(argv) untouched.
PASSTHROUGH = {
    "app": ("clipdemo.ui.launch", "serve the web app (what `python app.py` does, same options)"),
    "train": ("clipdemo.training.train", "train the bundled toy CLIP from scratch on the toy world"),
    "eval": ("clipdemo.training.evaluate", "measure a toy-world CLIP and write its model card"),
    "bench": ("clipdemo.bench.bench", "print the benchmark table (throughput, zero-shot latency, vs. pipeline)"),
    "bench_map": ("clipdemo.bench.bench_map", "map benchmark; --sizes 1000,10000,100000 measures collections"),
    "collection": ("clipdemo.serve.collection_cli", "a collection folder: size, model, search, Embedding Atlas export"),
    "quantize": ("clipdemo.core.backends.quantize", "write an int8 OpenVINO copy of a model and measure its agreement"),
}


class CLIError(UserError):
    """A problem the user can fix; printed without a traceback."""


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="'bundled', a hub id or a local folder (default: "
                                                 "else OpenAI ViT-B/32 when available, else bundled)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--dtype", default="auto", help="auto, fp32, bf16, fp16")
    p.add_argument("--backend", default=None, choices=("auto", "torch", "openvino"),
                   help="what computes embeddings (default: CLIPDEMO_BACKEND, else auto = OpenVINO on a CPU where "
                        "it is installed and measured faster)")
    p.add_argument("--int8", action="store_true", help="encode with the int8 OpenVINO copy (see `quantize`)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clipdemo", description="clipdemo's engine from the command "
                                     "line (same code as the app).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("label", help="zero-shot label images; prints a table or JSON",
                       description="Zero-shot labeling: which label's prompt lies closest to each image?")
    p.add_argument("images", nargs="+", metavar="IMG", help="image files")
    p.add_argument("--labels", help="labels, comma or newline separated (or @file.txt)")
    p.add_argument("--templates", default=None, help="single (default), imagenet7, imagenet80, bare, or your own "
                                                      "templates with {} (one per line, or @file.txt)")
    p.add_argument("--top", type=int, default=5, help="labels shown per image (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--session", metavar="FILE", help="reuse model, labels and templates from a session JSON")
    p.add_argument("--save-session", metavar="FILE", help="write a session JSON to redo this result")
    _model_options(p)

    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.serve.collection_cli import EMBED_HELP, add_embed_arguments

    p = sub.add_parser("embed", help="embed images into a collection (clip-retrieval's layout; --engine ray)",
                       description=EMBED_HELP)
    add_embed_arguments(p)
    _model_options(p)

    p = sub.add_parser("video", help="find the moments of a video that match a text or a picture",
                       description="Video search: sample frames, score each against the queries (cosine), print the "
                                   "best moments. --make-example writes the toy-world example video to FILE first.")
    p.add_argument("video", metavar="FILE", help="a video file (MP4, WebM, MOV ...)")
    p.add_argument("--query", action="append", default=[], help="what to look for, in any language the model "
                                                                 "reads; repeat for several curves")
    p.add_argument("--image", default=None, metavar="IMG", help="a picture to look for instead (or as well)")
    p.add_argument("--fps", type=float, default=2.0, help="frames sampled per second (default 2)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (what /video_search returns)")
    p.add_argument("--make-example", action="store_true",
                   help="first write the toy-world example (a red circle from 4 s to 6 s) to FILE")
    _model_options(p)

    p = sub.add_parser("download", help="fetch hub checkpoints into a folder for offline use",
                       description="Prepare an offline classroom: download checkpoints (safetensors, JSON, "
                                   "tokenizer files only) into DIR/<org>--<name>.")
    p.add_argument("repo_ids", nargs="+", metavar="ID", help="hub ids, e.g. openai/clip-vit-base-patch32")
    p.add_argument("--to", required=True, metavar="DIR")
    p.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    p.add_argument("--convert-pickle", action="store_true",
                   help="for repos without safetensors: fetch pytorch_model.bin and convert it (weights only)")

    for name, (_, text) in PASSTHROUGH.items():
        sub.add_parser(name, help=text + f" (see `python -m clipdemo {name} --help`)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASSTHROUGH:
        module = importlib.import_module(PASSTHROUGH[argv[0]][0])
        # a collection's --search goes through the service, like every other command's model work
        code = module.main(argv[1:], open_service) if argv[0] == "collection" else module.main(argv[1:])  # some tools return their results; only an int is an exit status
        return code if isinstance(code, int) else 0
    args = build_parser().parse_args(argv)
    try:
        return {"label": cmd_label, "embed": cmd_embed, "download": cmd_download,
                "video": cmd_video}[args.command](args)
    except UserError as e:  # anything else is a bug: Python prints its traceback
        print(f"error: {e}", file=sys.stderr)
        return 2


# ---------------------------------------------------------------- label


def _text_arg(value: str | None) -> str | None:
    """'@file.txt' reads the file (labels or templates one per line)."""
    if value and value.startswith("@"):
        try:
            return Path(value[1:]).read_text(encoding="utf-8")
        except OSError as e:
            raise CLIError(f"cannot read {value[1:]}: {e.strerror or e}") from e
    return value


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars would bury the command's own output


def cmd_label(args) -> int:
    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.core import limits
    from clipdemo.core.errors import InputError
    from clipdemo.core.notices import scoring as scoring_notice
    from clipdemo.serve import exports

    session = {}
    if args.session:
        try:
            session = exports.read_session(args.session)
        except ValueError as e:
            raise CLIError(str(e)) from e
    labels = _text_arg(args.labels) or ", ".join(session.get("labels", []))
    if not labels.strip():
        raise CLIError("give --labels (comma separated) or a --session file that holds labels.")
    templates = _text_arg(args.templates) or session.get("templates") or "single"
    model = args.model or session.get("model")
    _quiet_transformers()
    service = open_service(model, args.device, args.dtype, args.backend, args.int8)
    registry = service.registry
    # The service reads the pictures (one image loader) in batches of at most limits.MAX_BATCH_IMAGES, so any
    # number of files can be labelled; each result is matched to its file by position, never by zip.
    results, names, skipped, notices = [], [], [], []
    for start in range(0, len(args.images), limits.MAX_BATCH_IMAGES):
        chunk = args.images[start:start + limits.MAX_BATCH_IMAGES]
        try:
            batch = service.zero_shot_batch(chunk, labels, templates, names=chunk)
        except InputError as e:  # none of this chunk's files is a usable image: say why, go on with the rest
            skipped += e.params.get("skipped") or [str(e)]
            continue
        results += batch.results
        names += [r.image for r in batch.results]
        skipped += batch.skipped
        # skips are printed as such, and the scoring rule heads the table
        notices += [n for n in batch.notices if n.code != "image_skipped" and not n.code.startswith("scoring.")
                    and n not in notices]
    for problem in skipped:
        print(f"skipped: {problem}", file=sys.stderr)
    if not results:
        raise CLIError("none of the images could be read.")
    for notice in notices:
        print(f"note: {notice}", file=sys.stderr)
    loaded = registry.get().loaded
    if args.save_session:
        exports.write_session(args.save_session, exports.session_record(
            "zero_shot", loaded.name, {"top": args.top}, batch.labels, batch.templates,
            model_info=service.describe().session_info(), images=names))
    top = max(1, min(args.top, len(batch.labels)))
    tops = [list(zip(r.labels, r.probabilities, r.cosine, strict=True))[:top] for r in results]
    sigmoid = results[0].scoring == "sigmoid"
    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.core.backends import backend_record, summary

    backend = registry.get().backend
    if args.json:
        out = {"model": loaded.name, "family": loaded.family, "encoding": backend_record(backend),
               "scores": results[0].scoring, "labels": batch.labels, "templates": batch.templates,
               "results": [{"image": n, "top": [{"label": lab, "probability": p, "cosine": c} for lab, p, c in t]}
                           for n, t in zip(names, tops, strict=True)]}
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    scores = scoring_notice(sigmoid).message.removeprefix("scores: ")  # the catalogue's words, the app's
    print(f"model: {loaded.describe()}\nencoding: {summary(backend)}\n"
          f"prompts: {len(batch.labels)} labels x {len(batch.templates)} template(s); "
          f"p = {scores}; cos = raw cosine similarity\n")
    print(format_table(names, tops))
    return 0


def format_table(names: list[str], tops: list[list[tuple[str, float, float]]]) -> str:
    rows = [("image", "label", "p", "cos")]
    for name, top in zip(names, tops, strict=True):
        for k, (label, p, c) in enumerate(top):
            rows.append((Path(name).name if k == 0 else "", label, f"{p:.3f}", f"{c:+.3f}"))
    widths = [max(_width(r[i]) for r in rows) for i in range(4)]
    lines = []
    for r in rows:
        cells = [r[0] + " " * (widths[0] - _width(r[0])), r[1] + " " * (widths[1] - _width(r[1])),
                 r[2].rjust(widths[2]), r[3].rjust(widths[3])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)


# ---------------------------------------------------------------- embed


def open_service(model: str | None, device: str = "auto", dtype: str = "auto", backend: str | None = None,
                 int8: bool = False):
    """The service over one model, as every command that runs a model uses it (the backend's notice, if any, is
    printed to stderr once)."""
    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.core.loading import default_model_name
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService

    registry = ModelRegistry(model or default_model_name(), device, dtype, max_models=1, backend=backend, int8=int8)
    service = ClipService(registry)
    if registry.get().backend.notice:
        print(f"note: {registry.get().backend.notice}", file=sys.stderr)
    return service


def cmd_embed(args) -> int:
    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.serve.collection_cli import cmd_embed as embed_collection

    _quiet_transformers()
    return embed_collection(args, lambda model, device, dtype: open_service(model, device, dtype, args.backend,
                                                                             args.int8).encoder())


# ---------------------------------------------------------------- video


def cmd_video(args) -> int:
    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.core.loading import default_model_name
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.data.video import toy_video
    from clipdemo.serve.service import ClipService

    if args.make_example:
        toy_video(args.video)
        print(f"wrote the toy-world example to {args.video}", file=sys.stderr)
    if not Path(args.video).is_file():
        raise CLIError(f"{args.video}: no such file")
    if not any(q.strip() for q in args.query) and not args.image:
        raise CLIError("give --query \"a red circle\" (repeat for several) or --image IMG.")
    _quiet_transformers()
    registry = ModelRegistry(args.model or default_model_name(), args.device, args.dtype, max_models=1,
                             backend=args.backend, int8=args.int8)
    result = ClipService(registry).video_search(args.video, args.query, args.image, args.fps)
    for notice in result.notices:
        print(f"note: {notice}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), indent=1, ensure_ascii=False))
        return 0
    print(f"{result.video}: {result.duration:.1f} s, {len(result.times)} frames sampled at {result.fps:g}/s; "
          f"model {result.model}; score = cosine of frame and query\n")
    for k, query in enumerate(result.queries):
        print(f"{query!r}: median frame {result.baseline[k]:+.3f} (an unrelated frame scores about this)")
        for m in (m for m in result.moments if m["query"] == k):
            print(f"  {m['start']:7.2f} s - {m['end']:7.2f} s   peak {m['score']:+.3f} at {m['peak_time']:.2f} s")
    print(f"\nbest time: {result.best_time:.2f} s")
    return 0


# ---------------------------------------------------------------- download


def cmd_download(args) -> int:
    # each subcommand loads only what it runs: `clipdemo --help` answers without torch
    from clipdemo.serve.download import download_models, folder_name

    folders = download_models(args.repo_ids, args.to, args.revision, args.convert_pickle)
    to = Path(args.to).expanduser()
    print(f"\n{len(folders)} model(s) in {to}. To teach offline:\n"
          f"  HF_HUB_OFFLINE=1 CLIPDEMO_MODEL={to} python app.py        (all of them in the picker)\n"
          f"  HF_HUB_OFFLINE=1 python -m clipdemo label IMG --labels ... --model {to / folder_name(args.repo_ids[0])}")
    return 0
