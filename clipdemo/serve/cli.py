"""`python -m clipdemo`: the app's engine from the command line.

    python -m clipdemo label photo.jpg --labels "cat, dog" [--templates imagenet80] [--json]
    python -m clipdemo embed photos/ --out photos-emb/ [--engine ray]   (clip-retrieval's layout)
    python -m clipdemo train | eval | bench ...        (each has its own --help)
    python -m clipdemo download openai/clip-vit-base-patch32 --to ~/clip-models
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from clipdemo.errors import UserError

# Sub-commands that hand their arguments to another module's main(argv) untouched.
PASSTHROUGH = {
    "train": ("clipdemo.train", "train the bundled toy CLIP from scratch on the toy world"),
    "eval": ("clipdemo.tools.evaluate", "measure a toy-world CLIP and write its model card"),
    "bench": ("clipdemo.tools.bench", "print the benchmark table (throughput, zero-shot latency, vs. pipeline)"),
    "bench_map": ("clipdemo.tools.bench_map", "map benchmark; --sizes 1000,10000,100000 measures collections"),
    "collection": ("clipdemo.collection.cli", "a collection folder: size, model, search, Embedding Atlas export"),
    "quantize": ("clipdemo.backends.quantize", "write an int8 OpenVINO copy of a model and measure its agreement"),
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
    parser = argparse.ArgumentParser(prog="python -m clipdemo", description="clipdemo's engine from the command "
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

    from clipdemo.collection.cli import EMBED_HELP, add_embed_arguments

    p = sub.add_parser("embed", help="embed images into a collection (clip-retrieval's layout; --engine ray)",
                       description=EMBED_HELP)
    add_embed_arguments(p)
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
        code = module.main(argv[1:])  # some tools return their results; only an int is an exit status
        return code if isinstance(code, int) else 0
    args = build_parser().parse_args(argv)
    try:
        return {"label": cmd_label, "embed": cmd_embed, "download": cmd_download}[args.command](args)
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
    from clipdemo import exports
    from clipdemo.images import load_image
    from clipdemo.loading import default_model_name
    from clipdemo.registry import ModelRegistry
    from clipdemo.service import ClipService

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
    images, names = [], []
    for path in args.images:
        try:
            images.append(load_image(path))
            names.append(path)
        except Exception as e:  # noqa: BLE001 - report each unreadable image, go on with the rest
            print(f"skipped: {e}", file=sys.stderr)
    if not images:
        raise CLIError("none of the images could be read.")
    _quiet_transformers()
    registry = ModelRegistry(model or default_model_name(), args.device, args.dtype, max_models=1,
                             backend=args.backend, int8=args.int8)
    service = ClipService(registry)
    batch = service.zero_shot_batch(images, labels, templates)
    for notice in [*batch.notices, registry.get().backend.notice]:
        if not notice:
            continue
        print(f"note: {notice}", file=sys.stderr)
    loaded = registry.get().loaded
    if args.save_session:
        exports.write_session(args.save_session, exports.session_record(
            "zero_shot", loaded.name, {"top": args.top}, batch.labels, batch.templates,
            model_info=service.describe().session_info(), images=names))
    top = max(1, min(args.top, len(batch.labels)))
    tops = [list(zip(r.labels, r.probabilities, r.cosine, strict=True))[:top] for r in batch.results]
    sigmoid = batch.results[0].scoring == "sigmoid"
    from clipdemo.backends import backend_record, summary

    backend = registry.get().backend
    if args.json:
        out = {"model": loaded.name, "family": loaded.family, "encoding": backend_record(backend),
               "scores": batch.results[0].scoring, "labels": batch.labels, "templates": batch.templates,
               "results": [{"image": n, "top": [{"label": lab, "probability": p, "cosine": c} for lab, p, c in t]}
                           for n, t in zip(names, tops, strict=True)]}
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0
    scores = "sigmoid, each label on its own" if sigmoid else "softmax over the labels"
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


def cmd_embed(args) -> int:
    from clipdemo.collection.cli import cmd_embed as embed_collection
    from clipdemo.registry import load_encoder

    _quiet_transformers()
    return embed_collection(args, load_encoder)


# ---------------------------------------------------------------- download


def cmd_download(args) -> int:
    from clipdemo.download import download_models, folder_name

    folders = download_models(args.repo_ids, args.to, args.revision, args.convert_pickle)
    to = Path(args.to).expanduser()
    print(f"\n{len(folders)} model(s) in {to}. To teach offline:\n"
          f"  HF_HUB_OFFLINE=1 CLIPDEMO_MODEL={to} python app.py        (all of them in the picker)\n"
          f"  HF_HUB_OFFLINE=1 python -m clipdemo label IMG --labels ... --model {to / folder_name(args.repo_ids[0])}")
    return 0
