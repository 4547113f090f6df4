"""How fast does the Learn tab's diagonal appear? Runs each mode's defaults headless, as the app does.

    python -m clipdemo.bench.bench_learn                      # both modes, 150 s each
    python -m clipdemo.bench.bench_learn --modes scratch --seconds 900 --steps 5000
    python -m clipdemo.bench.bench_learn --seconds 120 --variant vit-full:mode=scratch,image_tower=vit,world=full

Each run goes through `LiveTrainingManager` (same thread count, batches and measurements as a
browser session) and the table shows, against seconds since Start, how many pictures of the fixed
batch pick their own caption (the diagonal), plus when each mode first reached 90% of it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

from clipdemo.core import settings
from clipdemo.teach.live_training import MODES, LiveConfig, LiveTrainingManager

CHECKPOINTS_S = (5, 10, 15, 20, 30, 45, 60, 90, 120, 150, 240, 360, 480, 600, 900, 1200)
GOAL = 0.9  # share of the fixed batch on the diagonal that counts as "the diagonal has appeared"


def run_mode(mode: str, seconds: float, threads: int, steps: int | None = None, **knobs) -> dict:
    """One run with the tab's defaults for `mode` (steps and any other knob overridable); its diagonal curve
    and timings."""
    manager = LiveTrainingManager(max_running=1, time_limit_s=seconds + 60, idle_timeout_s=1e9, threads=threads)
    try:
        knobs = {"mode": mode} | knobs | ({"steps": steps} if steps else {})
        manager.learn_start("bench", **knobs)
        end = time.monotonic() + seconds
        status = manager.learn_status("bench")
        while time.monotonic() < end and status["state"] == "running":
            time.sleep(0.5)
            status = manager.learn_status("bench")
        if status["state"] == "running":
            manager.stop("bench", "user")
            status = manager.learn_status("bench")
        return status
    finally:
        manager.shutdown()


def first_reaching(curve: dict, n: int, share: float = GOAL) -> tuple[float, int] | None:
    need = math.ceil(share * n)
    for sec, step, hits in zip(curve["seconds"], curve["step"], curve["diagonal_hits"], strict=True):
        if hits >= need:
            return sec, step
    return None


def hits_at(curve: dict, second: float) -> int | None:
    """Diagonal hits of the last measurement at or before `second` (None before the first one)."""
    seen = [h for s, h in zip(curve["seconds"], curve["diagonal_hits"], strict=True) if s <= second]
    return seen[-1] if seen else None


def table(results: dict[str, dict], seconds: float) -> str:
    modes = list(results)
    lines = ["| seconds since Start | " + " | ".join(f"{m}: diagonal hits (step)" for m in modes) + " |",
             "|---:|" + "---:|" * len(modes)]
    for t in (c for c in CHECKPOINTS_S if c <= seconds):
        cells = []
        for m in modes:
            curve, n = results[m]["curve"], results[m]["fixed_batch"]
            hits = hits_at(curve, t)
            step = max((st for s, st in zip(curve["seconds"], curve["step"], strict=True) if s <= t), default=None)
            cells.append("–" if hits is None else f"{hits}/{n} ({step})")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    lines.append("")
    for m in modes:
        r = results[m]
        hit = first_reaching(r["curve"], r["fixed_batch"])
        when = f"{hit[0]:.0f} s (step {hit[1]})" if hit else f"not within {seconds:.0f} s"
        cfg = r["config"]
        rate = r["step"] / r["train_seconds"] if r["train_seconds"] else 0.0
        lines.append(f"- {m}: ≥{GOAL:.0%} of the diagonal at {when}; final {r['diagonal_hits']}/{r['fixed_batch']} "
                     f"at step {r['step']}, {r['seconds']:.0f} s ({rate:.1f} steps/s); {cfg['mode']}, image tower "
                     f"{cfg['image_tower']}, world {cfg['world']}, width {cfg['width']}, {cfg['layers']} layers, "
                     f"batch {cfg['batch_size']}, lr {cfg['lr']:g}, {cfg['image_size']} px; "
                     f"{r['trained_parameters'] / 1e6:.2f}M of {r['parameters'] / 1e6:.2f}M parameters trained")
    return "\n".join(lines)


def step_curve(knobs: dict, every: int = 50) -> list[tuple[int, int]]:
    """Diagonal hits of the fixed batch every `every` steps, the run driven here in one thread: a count of steps
    does not depend on how busy the machine is (seconds do)."""
    import torch
    from transformers import AutoTokenizer

    # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
    from clipdemo.core.loading import BUNDLED_MODEL_DIR
    from clipdemo.teach.live_data import ScenePool, fixed_batch
    from clipdemo.teach.live_training import diagonal_hits, make_trainer

    given = dict(knobs)
    cfg = LiveConfig.for_mode(given.pop("mode", "scratch"))
    cfg = LiveConfig.for_mode(cfg.mode, **{k: type(getattr(cfg, k))(v) for k, v in given.items()}).validate()
    trainer = make_trainer(cfg, AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR))
    pool = ScenePool(cfg.image_size, cfg.concepts, language=cfg.language, world=cfg.world, hard=cfg.hard_batches)
    images, captions, _ = fixed_batch(cfg.concepts, cfg.image_size, language=cfg.language)
    curve = []
    for step in range(1, cfg.steps + 1):
        trainer.step(pool.batch(trainer.rng, cfg.batch_size))
        if step % every == 0:
            trainer.model.eval()
            with torch.no_grad():
                curve.append((step, diagonal_hits(trainer.logits(images, captions).float().numpy())))
            trainer.model.train()
            print(f"  step {step}: {curve[-1][1]}/{len(captions)}", flush=True)
    return curve


def parse_variant(text: str) -> tuple[str, dict]:
    """"name:knob=value,knob=value" -> (name, knobs); values stay strings (learn_start converts them)."""
    name, _, rest = text.partition(":")
    knobs = dict(item.split("=", 1) for item in rest.split(",") if item)
    return name, {"mode": "scratch"} | knobs


def torch_threads(n: int) -> None:
    import torch

    torch.set_num_threads(max(1, n))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m clipdemo.bench.bench_learn", description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--seconds", type=float, default=150, help="wall-clock limit per mode")
    p.add_argument("--steps", type=int, default=None, help="override the default step count (e.g. a long scratch run)")
    p.add_argument("--threads", type=int, default=int(settings.env("CLIPDEMO_TRAIN_THREADS", "1")),
                   help="torch threads of the training (the server's default is 1)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME:KNOB=VALUE,...",
                   help="instead of the modes' defaults, run this variant (LiveConfig knobs on top of its mode's "
                        "defaults; repeatable), e.g. cnn-single:mode=scratch,image_tower=cnn,world=single")
    p.add_argument("--by-steps", action="store_true",
                   help="drive each variant here for its step count and print diagonal hits every 50 steps (steps do "
                        "not depend on the machine's load; seconds do)")
    p.add_argument("--json", default="", help="also write the curves here")
    args = p.parse_args(argv)
    # loaded when this benchmark step runs, so the other steps (and --help) do not pay for it
    from clipdemo.training.train import machine_description

    runs = {mode: {"mode": mode} for mode in args.modes} if not args.variant else dict(map(parse_variant,
                                                                                           args.variant))
    for name, knobs in runs.items():
        print(f"{name}: {LiveConfig.for_mode(**knobs)}", flush=True)
    if args.by_steps:
        torch_threads(args.threads)
        for name, knobs in runs.items():
            curve = step_curve(knobs | ({"steps": args.steps} if args.steps else {}))
            goal = next((st for st, h in curve if h >= math.ceil(GOAL * 16)), None)
            print(f"{name}: ≥{GOAL:.0%} of the diagonal at step {goal if goal else '(not reached)'}; "
                  f"curve {curve}; load average {os.getloadavg()[0]:.1f}", flush=True)
        return
    results = {}
    for name, knobs in runs.items():
        t0 = time.monotonic()
        knobs = dict(knobs)
        steps = args.steps or knobs.pop("steps", None)
        results[name] = run_mode(threads=args.threads, seconds=args.seconds, steps=steps, **knobs)
        print(f"{name}: done in {time.monotonic() - t0:.0f} s", flush=True)
    print(f"\n{machine_description()}; training thread count {args.threads}; load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print(table(results, args.seconds))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
