"""Measure a toy-world CLIP and write the numbers into its model card.

    python -m clipdemo.evaluate --model assets/toy-clip --write-card

Test images are drawn with a seed never used in training. Two test sets:
- the toy renderer itself (varied grounds, outlines, blur), and
- "other hands": plain Pillow shapes in CSS-named colours on flat near-grey grounds at 224 px,
  drawn by code that shares nothing with the training renderer, to check the model learned
  shapes rather than one renderer's quirks.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import re
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from clipdemo import toyworld
from clipdemo.encoding import Encoder
from clipdemo.loading import load_model
from clipdemo.toyworld import COLOURS, COUNT_WORDS, HELD_OUT, SHAPES, plural

TEST_SEED = 10_007  # training draws with seeds 0/1; this one is never used there
BARS = {"colour": 0.97, "shape": 0.80, "zs64_seen": 0.80, "zs64_heldout": 0.70, "counting": 0.90,
        "recall_i2t": 0.75, "recall_t2i": 0.75}
# "Other hands": CSS colour names as a Pillow user would write them (ImageDraw fill="gold"), not the training
# renderer's colours. Names chosen so each is nearest the hue its word names.
OTHER_COLOURS = {c: ImageColor.getrgb(name) for c, name in {
    "red": "red", "orange": "darkorange", "yellow": "gold", "green": "green", "cyan": "darkturquoise",
    "blue": "blue", "purple": "darkviolet", "pink": "hotpink"}.items()}


# ---------------------------------------------------------------- the "other hands" renderer


def draw_plain(shape: str, colour: str, rng: random.Random, size: int = 224) -> Image.Image:
    """One shape drawn with Pillow primitives on a flat near-grey ground."""
    g = rng.randint(150, 225)
    ground = (g, g + rng.randint(-6, 6), g + rng.randint(-6, 6))
    img = Image.new("RGB", (size, size), ground)
    d = ImageDraw.Draw(img)
    fill = OTHER_COLOURS[colour]
    r = rng.uniform(0.14, 0.24) * size
    cx, cy = rng.uniform(r * 1.3, size - r * 1.3), rng.uniform(r * 1.3, size - r * 1.3)
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        d.rectangle([cx - 0.9 * r, cy - 0.9 * r, cx + 0.9 * r, cy + 0.9 * r], fill=fill)
    elif shape == "triangle":
        d.regular_polygon((cx, cy, 1.2 * r), 3, fill=fill)
    elif shape == "diamond":
        d.polygon([(cx, cy - 1.25 * r), (cx + 0.75 * r, cy), (cx, cy + 1.25 * r), (cx - 0.75 * r, cy)], fill=fill)
    elif shape == "star":
        pts = [(cx + (1.2 * r if k % 2 == 0 else 0.5 * r) * math.cos(-math.pi / 2 + k * math.pi / 5),
                cy + (1.2 * r if k % 2 == 0 else 0.5 * r) * math.sin(-math.pi / 2 + k * math.pi / 5)) for k in range(10)]
        d.polygon(pts, fill=fill)
    elif shape == "cross":
        a, b = 1.05 * r, 0.35 * r
        d.rectangle([cx - a, cy - b, cx + a, cy + b], fill=fill)
        d.rectangle([cx - b, cy - a, cx + b, cy + a], fill=fill)
    elif shape == "heart":  # two circles on a triangle
        q = 0.5 * r
        d.ellipse([cx - 2 * q, cy - 1.6 * q, cx, cy + 0.4 * q], fill=fill)
        d.ellipse([cx, cy - 1.6 * q, cx + 2 * q, cy + 0.4 * q], fill=fill)
        d.polygon([(cx - 1.93 * q, cy - 0.2 * q), (cx + 1.93 * q, cy - 0.2 * q), (cx, cy + 2.1 * q)], fill=fill)
    elif shape == "crescent":
        d.ellipse([cx - 1.1 * r, cy - 1.1 * r, cx + 1.1 * r, cy + 1.1 * r], fill=fill)
        d.ellipse([cx - 0.55 * r, cy - 1.3 * r, cx + 1.35 * r, cy + 0.6 * r], fill=ground)
    else:
        raise ValueError(shape)
    return img


# ---------------------------------------------------------------- metrics


def _accuracy(encoder: Encoder, images, prompts: list[str], truth: list[int]) -> float:
    img = encoder.encode_images(images)
    txt = encoder.encode_texts(prompts)
    pred = (img @ txt.T).argmax(axis=1)
    return float(np.mean(pred == np.asarray(truth)))


def single_object_set(n_per_combo: int, combos, rng: random.Random, plain: bool):
    images, truth = [], []
    for c, s in combos:
        for _ in range(n_per_combo):
            if plain:
                images.append(draw_plain(s, c, rng))
            else:
                scene = toyworld.sample_scene(rng, kind="single", combos=[(c, s)])
                images.append(toyworld.render(scene, 224))
            truth.append((c, s))
    return images, truth


def eval_single(encoder: Encoder, images, truth) -> dict:
    all_combos = [(c, s) for c in COLOURS for s in SHAPES]
    colours, shapes = list(COLOURS), list(SHAPES)
    out = {}
    idx = [all_combos.index(t) for t in truth]
    img = encoder.encode_images(images)
    zs = img @ encoder.encode_texts([f"a photo of a {c} {s}." for c, s in all_combos]).T
    pred = zs.argmax(axis=1)
    held = np.array([t in HELD_OUT for t in truth])
    correct = pred == np.array(idx)
    # The shape named by the 64-way answer: does the model know the shape when the prompt names the colour too?
    out["shape_in_64way"] = float(np.mean([all_combos[j][1] == t[1] for j, t in zip(pred, truth)]))
    out["zs64_seen"] = float(correct[~held].mean()) if (~held).any() else float("nan")
    out["zs64_heldout"] = float(correct[held].mean()) if held.any() else float("nan")
    col = img @ encoder.encode_texts([f"a photo of a {c} object." for c in colours]).T
    out["colour"] = float(np.mean(col.argmax(1) == np.array([colours.index(c) for c, _ in truth])))
    shp = img @ encoder.encode_texts([f"a photo of a {s}." for s in shapes]).T
    out["shape"] = float(np.mean(shp.argmax(1) == np.array([shapes.index(s) for _, s in truth])))
    return out


def eval_counting(encoder: Encoder, n: int, rng: random.Random) -> float:
    combos = toyworld.allowed_combos("all")
    correct = 0
    for i in range(n):
        k = 1 + i % 3
        scene = toyworld.sample_scene(rng, kind="single" if k == 1 else "count", combos=combos, n_objects=k)
        c, s = scene.objects[0].colour, scene.objects[0].shape
        prompts = [f"a photo of {COUNT_WORDS[m]} {c} {s if m == 1 else plural(s)}." for m in (1, 2, 3)]
        img = encoder.encode_images([toyworld.render(scene, 224)])
        correct += int((img @ encoder.encode_texts(prompts).T).argmax() == k - 1)
    return correct / n


def eval_recall(encoder: Encoder, n_batches: int, rng: random.Random, batch: int = 100) -> tuple[float, float]:
    i2t, t2i = [], []
    combos = toyworld.allowed_combos("all")
    for _ in range(n_batches):
        scenes = [toyworld.sample_scene(rng, combos=combos) for _ in range(batch)]
        img = encoder.encode_images([toyworld.render(s, 224) for s in scenes])
        txt = encoder.encode_texts([toyworld.full_caption(s) for s in scenes])
        sim = img @ txt.T
        target = np.arange(batch)
        i2t.append(np.mean(sim.argmax(1) == target))
        t2i.append(np.mean(sim.argmax(0) == target))
    return float(np.mean(i2t)), float(np.mean(t2i))


def evaluate(encoder: Encoder, n_per_combo: int = 4, n_heldout_per_combo: int = 16, n_count: int = 300,
             n_recall_batches: int = 5, seed: int = TEST_SEED) -> dict:
    t0 = time.time()
    rng = random.Random(seed)
    seen = toyworld.allowed_combos("train")
    held = toyworld.allowed_combos("heldout")
    results = {}
    for name, plain in (("toy", False), ("other_hands", True)):
        ims, truth = single_object_set(n_per_combo, seen, rng, plain)
        ims_h, truth_h = single_object_set(n_heldout_per_combo, held, rng, plain)
        results[name] = eval_single(encoder, ims + ims_h, truth + truth_h)
        results[name]["n_images"] = len(ims) + len(ims_h)
    results["toy"]["counting"] = eval_counting(encoder, n_count, rng)
    results["toy"]["recall_i2t"], results["toy"]["recall_t2i"] = eval_recall(encoder, n_recall_batches, rng)
    results["seconds"] = round(time.time() - t0, 1)
    return results


# ---------------------------------------------------------------- model card

_ROWS = [("colour", "colour only (8-way, 'a photo of a {colour} object.')"),
         ("shape", "shape only (8-way, 'a photo of a {shape}.')"),
         ("shape_in_64way", "shape read off the 64-way answer (no bar; for comparison)"),
         ("zs64_seen", "colour+shape, 64-way, seen combinations"),
         ("zs64_heldout", "colour+shape, 64-way, held-out combinations"),
         ("counting", "counting (one/two/three, 3-way)"),
         ("recall_i2t", "image→text recall@1 (batches of 100)"),
         ("recall_t2i", "text→image recall@1 (batches of 100)")]


def metrics_table(results: dict) -> str:
    lines = ["| metric | bar | toy renderer | other hands (plain Pillow, 224 px) |", "| --- | --- | --- | --- |"]
    for key, desc in _ROWS:
        toy = results["toy"].get(key)
        other = results["other_hands"].get(key)
        fmt = lambda v: "—" if v is None else f"{v:.1%}"  # noqa: E731
        bar = BARS.get(key)
        ok = "" if bar is None else "✅" if toy is not None and toy >= bar else "❌"
        lines.append(f"| {desc} | {'—' if bar is None else f'≥ {bar:.0%}'} | {fmt(toy)} {ok} | {fmt(other)} |")
    return "\n".join(lines)


def write_card(model_dir: Path, results: dict, command: str) -> Path:
    log_path = model_dir / "training_log.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    card_path = model_dir / "README.md"
    old = card_path.read_text() if card_path.exists() else ""
    kept = re.search(r"<!-- pointing:start -->.*?<!-- pointing:end -->", old, re.S)
    cfg = log.get("config", {})
    phases = []
    entry = log
    while entry:
        phases.insert(0, entry)
        entry = entry.get("previous")
    train_cmd = "\n".join(ph.get("command", "python -m clipdemo.train") for ph in phases)
    minutes = sum(ph.get("train_seconds", 0) for ph in phases) / 60
    steps = " + ".join(f"{ph.get('config', {}).get('steps', '?')} steps (lr {ph.get('config', {}).get('lr', '?')}, "
                       f"two-colour batches {ph.get('config', {}).get('hard_batches', 0):.0%}, "
                       f"extra shape-only captions {ph.get('config', {}).get('shape_captions', 0):.0%})"
                       for ph in phases)
    held = ", ".join(f"{c} {s}" for c, s in sorted(HELD_OUT))
    text = f"""---
license: mit
library_name: transformers
pipeline_tag: zero-shot-image-classification
tags: [clip, toy, education]
---

# clipdemo toy CLIP

A {log.get('parameters', 0) / 1e6:.1f}M-parameter CLIP (Hugging Face `CLIPModel`) trained from scratch by
[clipdemo](../../README.md) on its procedurally generated toy world: 1–3 objects per image, 8 colours
({', '.join(COLOURS)}) × 8 shapes ({', '.join(SHAPES)}), two sizes, positions, counts, varied low-saturation
grounds. It understands only that world. It exists so the app works offline; real photos need a real CLIP
(`openai/clip-vit-base-patch32`).

- Vision: ViT, {cfg.get('image_size', 64)} px input, patch {cfg.get('patch_size', 8)}, width {cfg.get('width', 128)},
  {cfg.get('vision_layers', 4)} layers. Text: Transformer, width {cfg.get('width', 128)}, {cfg.get('text_layers', 4)} layers,
  77 positions. Joint space: {cfg.get('projection_dim', 128)} dimensions. Weights stored in fp16 (safetensors).
- Objective: CLIP's symmetric cross-entropy over the N×N image–text logits with a learned logit scale s = 1/τ.
- Held out of training entirely (compositional zero-shot test): {held}.

## Tokenizer
OpenAI's real CLIP BPE (built offline from `bpe_simple_vocab_16e6.txt.gz` in open-clip-torch's MIT wheel),
truncated to its first 8000 merges. The merges are ordered by frequency, so the prefix is itself a valid BPE:
every word those merges cover is split exactly as real CLIP splits it, with the same token ids; rarer words fall
back to smaller real-CLIP pieces. The full 49k-row table would have cost ~13 MB of the 20 MB budget for rows this
model never trains.

## Training
```
{train_cmd}
```
{len(phases)} phase(s), each seeded: {steps}, batches of {cfg.get('batch_size', '?')} image–caption pairs, AdamW with
warm-up and cosine decay; {minutes:.0f} minutes in all on {log.get('machine', '?')} (torch {log.get('torch', '?')}),
while other work shared the machine's 2 cores. `--bpe` takes the open-clip-torch wheel
(`pip download --no-deps open-clip-torch==3.3.0`); each phase's `--init-from` is the previous phase's output folder.
The toy world is `clipdemo/toyworld.py`; training captions come from
`toyworld.training_caption` wrapped in OpenAI's ImageNet templates (those naming colour, size or count left out);
`--shape-captions` replaces that share of them with captions naming only the shapes (`train.shape_caption`).

## Evaluation
```
{command}
```
Test images drawn with seed {TEST_SEED}, never used in training; single-object sets hold
{results['toy']['n_images']} images, counting 300, retrieval 5 batches of 100. Evaluation took {results['seconds']:.0f} s.

{metrics_table(results)}

Limits: left/right relations were not a training goal and the model is not expected to get them (CLIP's known
weakness); it has never seen anything but coloured shapes.
"""
    text += "\n" + (kept.group(0) if kept else "<!-- pointing:start -->\n<!-- pointing:end -->") + "\n"
    card_path.write_text(text)
    (model_dir / "eval_results.json").write_text(json.dumps(results, indent=1))
    return card_path


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m clipdemo.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="assets/toy-clip")
    p.add_argument("--n-per-combo", type=int, default=4, help="test images per seen colour+shape combination")
    p.add_argument("--n-heldout", type=int, default=16, help="test images per held-out combination")
    p.add_argument("--n-count", type=int, default=300)
    p.add_argument("--recall-batches", type=int, default=5)
    p.add_argument("--write-card", action="store_true", help="write README.md (model card) into the model folder")
    p.add_argument("--dtype", default="fp32")
    args = p.parse_args(argv)
    encoder = Encoder(load_model(args.model, device="cpu", dtype=args.dtype))
    results = evaluate(encoder, args.n_per_combo, args.n_heldout, args.n_count, args.recall_batches)
    results["machine"] = f"{platform.machine()} {platform.processor()}".strip()
    print(metrics_table(results))
    print(f"({results['seconds']:.0f} s)")
    if args.write_card:
        cmd = "python -m clipdemo.evaluate " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
        print("wrote", write_card(Path(args.model), results, cmd))
    return results


if __name__ == "__main__":
    main()
