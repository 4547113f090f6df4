"""Train a small CLIP from scratch on the toy world, with CLIP's own objective (the bundled model's recipe).

    python -m clipdemo.training.train --out assets/toy-clip --steps 5000

The model, the batches and the training step are clipdemo.teach.trainer (the Learn tab drives the same `Trainer`);
this module is the command line around them: tokenizer, phases (--init-from), checkpoints and the training log.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from clipdemo.teach.trainer import ImagePool, TrainConfig, Trainer, prefetched_batches, save_checkpoint
from clipdemo.training.tokenizer_build import write_bilingual_tokenizer, write_tokenizer


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch using {torch.get_num_threads()} thread(s)"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m clipdemo.training.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="assets/toy-clip")
    p.add_argument("--bpe", default=None, help="open-clip-torch wheel or bpe_simple_vocab_16e6.txt.gz")
    p.add_argument("--merges", type=int, default=8000, help="how many of OpenAI's BPE merges to keep")
    for f in ("steps", "batch_size", "seed", "width", "vision_layers", "text_layers", "heads", "image_size",
              "patch_size", "projection_dim", "warmup", "log_every"):
        p.add_argument("--" + f.replace("_", "-"), type=int, default=getattr(TrainConfig, f))
    p.add_argument("--lr", type=float, default=TrainConfig.lr)
    p.add_argument("--hard-batches", type=float, default=0.0, help="share of two-colour batches (see TrainConfig)")
    p.add_argument("--shape-captions", type=float, default=0.0, help="share of shape-only captions")
    p.add_argument("--init-from", default="", help="checkpoint folder to continue from")
    p.add_argument("--zh-captions", type=float, default=0.0, help="share of captions in Chinese (0.5 = balanced)")
    p.add_argument("--lock-image", action="store_true", help="train the text side only (LiT)")
    p.add_argument("--lock-text", action="store_true",
                   help="train the image tower only (text towers, projection and logit scale stay)")
    p.add_argument("--varied-scenes", type=float, default=0.0,
                   help="share of scenes drawn with domain randomisation (toyworld.sample_scene(varied=True))")
    p.add_argument("--colour-captions", type=float, default=0.0, help="share of colour-only captions")
    p.add_argument("--image-pool", type=int, default=0,
                   help="with --lock-image: embed this many batches of pictures once and train on them")
    p.add_argument("--zh-vocab", action="store_true",
                   help="tokenizer: the --init-from folder's, extended with Chinese character tokens "
                        "(tokenizer_build.extend_with_chinese); without it, OpenAI's BPE from --bpe")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--save-every", type=int, default=0)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = TrainConfig(**{k: getattr(args, k) for k in TrainConfig.__dataclass_fields__ if hasattr(args, k)})
    if cfg.lock_image and cfg.lock_text:
        p.error("--lock-image and --lock-text together leave nothing to train")
    if args.zh_vocab:
        if not args.init_from:
            p.error("--zh-vocab extends the tokenizer of --init-from")
        tokenizer = write_bilingual_tokenizer(args.out, args.init_from)
    else:
        tokenizer = write_tokenizer(args.out, args.bpe, args.merges)
    trainer = Trainer(cfg, tokenizer)
    n_params = sum(p.numel() for p in trainer.model.parameters())
    print(f"training {n_params / 1e6:.2f}M parameters for {cfg.steps} steps of {cfg.batch_size}", flush=True)
    t0 = time.time()
    log = []
    pool = None
    if args.image_pool:
        if not cfg.lock_image:
            p.error("--image-pool needs --lock-image (pictures' embeddings only stay fixed when the tower is locked)")
        pool = ImagePool(cfg, trainer.model, args.image_pool, log=lambda m: print(m, flush=True))
        print(f"{len(pool) * cfg.batch_size} pictures embedded in {time.time() - t0:.0f}s", flush=True)
    batches = prefetched_batches(cfg) if pool is None else None
    for _ in range(cfg.steps):
        rec = trainer.step(next(batches)) if pool is None else trainer.step(pool=pool)
        if rec["step"] % cfg.log_every == 0 or rec["step"] == cfg.steps:
            rec["elapsed_s"] = round(time.time() - t0, 1)
            log.append(rec)
            eta = (time.time() - t0) / rec["step"] * (cfg.steps - rec["step"])
            print(f"step {rec['step']:5d}/{cfg.steps}  loss {rec['loss']:.3f} (i2t {rec['loss_i2t']:.3f} "
                  f"t2i {rec['loss_t2i']:.3f})  s {rec['logit_scale']:.1f}  {rec['elapsed_s']:.0f}s  "
                  f"eta {eta / 60:.1f} min", flush=True)
        if args.save_every and rec["step"] % args.save_every == 0:
            save_checkpoint(trainer.model, tokenizer, args.out, cfg.image_size)
    save_checkpoint(trainer.model, tokenizer, args.out, cfg.image_size)
    info = {"command": "python -m clipdemo.training.train " + " ".join(sys.argv[1:] if argv is None else argv),
            "config": asdict(cfg), "train_seconds": round(time.time() - t0, 1), "parameters": n_params,
            "machine": machine_description(),
            "torch": torch.__version__, "log": log}
    previous = Path(cfg.init_from) / "training_log.json" if cfg.init_from else None
    if previous and previous.exists():  # keep the whole history: every phase's command, time and curve
        info["previous"] = json.loads(previous.read_text())
    (Path(args.out) / "training_log.json").write_text(json.dumps(info, indent=1))
    print(f"saved to {args.out} in {info['train_seconds']:.0f}s", flush=True)


if __name__ == "__main__":
    main()
