"""Average the weights of two checkpoints of one model (a "model soup", Wortsman et al. 2022; WiSE-FT).

    python scripts/average_checkpoints.py A B --out C [--weight 0.5]

A and B must share architecture and tokenizer (e.g. two phases of `python -m clipdemo.training.train --init-from`);
C gets (1 - weight) * A + weight * B, A's tokenizer and processor files, and a training_log.json that keeps both
phases' histories, so the model card lists every command.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--out", required=True)
    p.add_argument("--weight", type=float, default=0.5, help="share of B")
    args = p.parse_args(argv)
    from safetensors.torch import load_file, save_file

    a, b, out = Path(args.a), Path(args.b), Path(args.out)
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    if wa.keys() != wb.keys() or any(wa[k].shape != wb[k].shape for k in wa):
        sys.exit("the two checkpoints differ in architecture")
    out.mkdir(parents=True, exist_ok=True)
    for f in a.iterdir():
        if f.is_file() and f.name not in ("model.safetensors", "training_log.json", "README.md", "eval_results.json"):
            shutil.copy(f, out / f.name)
    mixed = {k: ((1 - args.weight) * wa[k].float() + args.weight * wb[k].float()).to(wa[k].dtype) for k in wa}
    save_file(mixed, out / "model.safetensors", metadata={"format": "pt"})
    log = json.loads((b / "training_log.json").read_text())
    log_a = json.loads((a / "training_log.json").read_text())
    cmd = f"python scripts/average_checkpoints.py {args.a} {args.b} --out {args.out} --weight {args.weight}"
    info = {"command": cmd, "config": {**log.get("config", {}), "steps": 0, "averaged": args.weight},
            "train_seconds": 0, "parameters": log.get("parameters"), "machine": log.get("machine"),
            "torch": log.get("torch"), "log": [], "previous": log, "averaged_with": log_a.get("command")}
    (out / "training_log.json").write_text(json.dumps(info, indent=1))
    print(f"wrote {out}: {1 - args.weight:g} x {a} + {args.weight:g} x {b}")


if __name__ == "__main__":
    main()
