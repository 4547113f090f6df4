"""The encoding backends side by side, in one process, interleaved, medians of >= 3 rounds.

    python -m clipdemo bench --only-backends [--models bundled vitb32] [--backends torch-fp32 openvino ...]

Variants: torch fp32 (transformers' default), torch bf16, OpenVINO (its own compute precision for this
CPU) and OpenVINO int8 (NNCF, where installed). Every round runs each measurement on every variant in
turn (starting with a different variant each round), so load from other work on a shared machine slows
all alike; the table gives the median round. Agreement is each variant's against torch fp32 on the check
set (clipdemo.backends.agreement): lowest cosine over images and prompts, and the share of images whose
top label is the same.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import time
from collections.abc import Callable

from clipdemo import toyworld
from clipdemo.backends import agreement as agreement_mod
from clipdemo.backends.torch_backend import TorchBackend
from clipdemo.devices import cpu_features, cpu_name
from clipdemo.encoding import Encoder
from clipdemo.images import load_image
from clipdemo.loading import load_model
from clipdemo.templates import IMAGENET_TEMPLATES
from clipdemo.zeroshot import zero_shot

VARIANTS = ("torch-fp32", "torch-bf16", "openvino", "openvino-int8")
LABELS = ["red circle", "blue square", "yellow star", "green triangle", "purple heart", "orange cross",
          "pink crescent", "cyan diamond", "red star", "blue heart"]
HEAD = ("model", "variant", "img/s b1", "img/s b1 +prep", "img/s b32", "img/s b32 +prep", "prompts/s",
        "zero-shot warm ms", "min cos vs fp32", "top-1 vs fp32")


def machine_rows() -> list[tuple[str, str]]:
    feats = set(cpu_features())
    have = ", ".join(f"{f} {'yes' if f in feats else 'no'}" for f in ("AMX", "avx512_bf16", "VNNI"))
    import torch

    rows = [("CPU", f"{cpu_name()} · {os.cpu_count()} cores · {have} · torch {torch.get_num_threads()} threads")]
    try:
        import openvino as ov

        core = ov.Core()
        rows.append(("OpenVINO", f"{ov.__version__} · {core.get_property('CPU', 'INFERENCE_NUM_THREADS') or 'all'} "
                                 f"threads · capabilities {', '.join(core.get_property('CPU', 'OPTIMIZATION_CAPABILITIES'))}"))
    except Exception as e:  # noqa: BLE001 - not installed: the row says so
        rows.append(("OpenVINO", f"not available ({type(e).__name__})"))
    return rows


def build_variant(kind: str, source: str, fp32, progress) -> Encoder | str:
    """An Encoder for the variant, or a string saying why it cannot run here."""
    from clipdemo.backends import openvino_available, openvino_backend_for

    if kind == "torch-fp32":
        return Encoder(fp32, backend=TorchBackend(fp32))
    if kind == "torch-bf16":
        bf16 = load_model(source, device="cpu", dtype="bf16")
        backend = TorchBackend(bf16)
        backend.agreement = agreement_mod.measure(backend, TorchBackend(fp32))
        return Encoder(bf16, backend=backend)
    if not openvino_available():
        return "OpenVINO not installed"
    if kind == "openvino-int8":
        import importlib.util

        if importlib.util.find_spec("nncf") is None:
            return "nncf not installed"
    return Encoder(fp32, backend=openvino_backend_for(fp32, "int8" if kind.endswith("int8") else "fp", progress))


def jpeg_batch(n: int = 32, size=(640, 480)) -> list[bytes]:
    """n toy scenes as 640x480 JPEG files (bytes): what an upload of photos looks like to the decoder."""
    out = []
    for i in range(n):
        # rendered small and enlarged: the decoder's work depends on the file's size, not on its content
        im = toyworld.render(toyworld.sample_scene(random.Random(1000 + i)), 224, supersample=1).resize(size)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def bench_backends(name: str, source: str, variants=VARIANTS, rounds: int = 3, n_prompts: int = 800,
                   progress=lambda _m: None) -> tuple[list[tuple], list[tuple[str, str]]]:
    """(table rows, notes) for one model."""
    fp32 = load_model(source, device="cpu", dtype="fp32")
    built = {v: build_variant(v, source, fp32, progress) for v in variants}
    encoders = {v: e for v, e in built.items() if isinstance(e, Encoder)}
    images = [toyworld.render(toyworld.sample_scene(random.Random(i)), 224) for i in range(32 + 5 * rounds + 8)]
    fresh_images = iter(images[32:])
    prompts = [t.format(lab) for lab in LABELS for t in IMAGENET_TEMPLATES][:n_prompts]
    pixels = {v: {bs: e.preprocess(images[:bs], e.backend.pixel_dtype) for bs in (1, 32)} for v, e in encoders.items()}
    warm = {}
    for v, e in encoders.items():  # warm-up: first calls allocate; labels cached for the warm zero-shot
        e.image_features_from_pixels(pixels[v][1])
        e.image_features_from_pixels(pixels[v][32])
        warm[v] = Encoder(e.loaded, backend=e.backend)
        zero_shot(warm[v], [images[0]], LABELS, "imagenet80")

    def fresh(e: Encoder) -> Encoder:
        return Encoder(e.loaded, image_cache=1, text_cache=1, backend=e.backend)

    reps_b1 = 8
    measures: dict[str, Callable[[str, Encoder], float]] = {
        "b1": lambda v, e: _per_call(lambda: e.image_features_from_pixels(pixels[v][1]), reps_b1),
        "b1p": lambda v, e: _per_call(lambda: fresh(e).encode_images(images[40:41]), reps_b1),
        "b32": lambda v, e: _per_call(lambda: e.image_features_from_pixels(pixels[v][32]), 1),
        "b32p": lambda v, e: _per_call(lambda: fresh(e).encode_images(images[:32]), 1),
        "text": lambda v, e: _per_call(lambda: fresh(e).encode_texts(prompts), 1),
        "zs": lambda v, e: _per_call(lambda: zero_shot(warm[v], [next(fresh_images)], LABELS, "imagenet80"), 1),
    }
    jpegs = jpeg_batch()
    times: dict[tuple[str, str], list[float]] = {}
    order = list(encoders)
    for r in range(rounds):
        progress(f"round {r + 1} of {rounds}")
        turn = order[r % len(order):] + order[:r % len(order)]
        for key, fn in measures.items():
            for v in turn:
                times.setdefault((v, key), []).append(fn(v, encoders[v]))
        times.setdefault(("decode", "jpeg32"), []).append(_per_call(lambda: [load_image(b) for b in jpegs], 1))
    med = {k: statistics.median(t) for k, t in times.items()}
    rows = []
    for v in variants:
        e = built[v]
        if not isinstance(e, Encoder):
            rows.append((name, v, *[f"— ({e})"] + [""] * (len(HEAD) - 3)))
            continue
        found = e.backend.agreement
        rows.append((name, f"{v} ({e.backend.describe()})", f"{1 / med[v, 'b1']:.1f}", f"{1 / med[v, 'b1p']:.1f}",
                     f"{32 / med[v, 'b32']:.1f}", f"{32 / med[v, 'b32p']:.1f}", f"{len(prompts) / med[v, 'text']:.0f}",
                     f"{med[v, 'zs'] * 1000:.1f}",
                     "reference" if v == "torch-fp32" else (f"{found.min_cos:.5f}" if found else "?"),
                     "reference" if v == "torch-fp32" else (f"{found.top1:.1%}" if found else "?")))
    notes = [(name, f"decode 32 JPEGs of 640×480 (images.load_image): {med['decode', 'jpeg32'] * 1000:.0f} ms")]
    notes += ratio_notes(name, med, [v for v in ("openvino", "openvino-int8") if v in encoders],
                         [v for v in ("torch-fp32", "torch-bf16") if v in encoders])
    return rows, notes


def ratio_notes(name: str, med: dict, fast: list[str], torch_variants: list[str]) -> list[tuple[str, str]]:
    """Each OpenVINO variant against torch's best dtype for that measurement."""
    notes = []
    if not torch_variants:
        return notes
    best = {k: min(med[v, k] for v in torch_variants) for k in ("b1", "b32", "text", "zs")}
    best_of = {k: min(torch_variants, key=lambda v, k=k: med[v, k]) for k in best}
    for v in fast:
        notes.append((name, f"{v} vs torch's best dtype: batch-1 latency ×{med[v, 'b1'] / best['b1']:.2f} "
                            f"(of {best_of['b1']}), batch-32 throughput ×{best['b32'] / med[v, 'b32']:.2f} "
                            f"(of {best_of['b32']}), text throughput ×{best['text'] / med[v, 'text']:.2f} "
                            f"(of {best_of['text']}), warm zero-shot latency ×{med[v, 'zs'] / best['zs']:.2f}"))
    return notes


def _per_call(fn: Callable[[], object], reps: int) -> float:
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def _load() -> str:
    try:
        return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def run(models: list[tuple[str, str]], variants=VARIANTS, rounds: int = 3, n_prompts: int = 800) -> list:
    """Print the machine, the side-by-side table and the ratios; return the table rows."""
    from clipdemo.tools.bench_table import print_table

    notes = [(k, v) for k, v in machine_rows()] + [("load before", _load())]
    rows = []
    for name, source in models:
        r, n = bench_backends(name, source, variants, rounds, n_prompts,
                              progress=lambda m, name=name: print(f"[bench] {name}: {m}", flush=True))
        rows += r
        notes += n
    notes.append(("load after", _load()))
    print(f"\nEncoding backends side by side ({rounds} interleaved rounds, medians; b1 = batch 1, +prep = from "
          f"PIL images incl. preprocessing; prompts/s over {n_prompts} prompts; zero-shot warm = 10 labels × 80 "
          "templates cached, a new image)\n")
    print_table(rows, HEAD)
    print()
    print_table(notes, ("", "note"))
    return rows
