"""Check the GPU path on a machine that has one (CI never does; this is an optional extra).

    python scripts/gpu_check.py [--model bundled] [--bench]

1. The same model on the GPU (auto dtype: fp16 on CUDA) and on the CPU (fp32): zero-shot on the
   bundled toy pictures must give the same top label, with probabilities close.
2. Grad-CAM and decomposition maps on the GPU peak where the CPU's do.
3. With --bench: `python -m clipdemo.bench.bench --device cuda --skip-app` (bundled and ViT-B/32 shape).
Prints a table; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipdemo.devices import dtype_name  # noqa: E402
from clipdemo.encoding import Encoder  # noqa: E402
from clipdemo.loading import load_model  # noqa: E402
from clipdemo.spatial import spatial_map  # noqa: E402
from clipdemo.tools import bench  # noqa: E402
from clipdemo.toyworld import COLOURS, SHAPES  # noqa: E402
from clipdemo.zeroshot import zero_shot  # noqa: E402

LABELS = [f"{c} {s}" for c in COLOURS for s in SHAPES]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="bundled")
    p.add_argument("--bench", action="store_true")
    p.add_argument("--device", default="auto", help="auto; 'cpu' runs the checks CPU against CPU (a dry run)")
    args = p.parse_args(argv)
    import torch

    if args.device == "auto" and not torch.cuda.is_available():
        print("no CUDA device here: nothing to check (--device cpu for a dry run)")
        return 0
    images = [Image.open(f).convert("RGB") for f in sorted((ROOT / "assets" / "toy").glob("*.png"))]
    gpu = Encoder(load_model(args.model, device=args.device, dtype="auto"))
    cpu = Encoder(load_model(args.model, device="cpu", dtype="fp32"))
    name = torch.cuda.get_device_name() if gpu.loaded.device.type == "cuda" else "none"
    print(f"GPU: {name}; model {args.model} on {gpu.loaded.device} "
          f"{dtype_name(gpu.loaded.dtype)}, reference on cpu fp32")
    rows, failed = [], False
    for templates in ("single", "imagenet80"):
        a, b = zero_shot(gpu, images, LABELS, templates), zero_shot(cpu, images, LABELS, templates)
        same = float(np.mean(a.probs.argmax(1) == b.probs.argmax(1)))
        diff = float(np.abs(a.probs - b.probs).max())
        ok = same == 1.0 and diff < 0.05
        failed |= not ok
        rows.append(("zero-shot, 64 labels, " + templates, f"same top label {same:.0%}, max |Δp| {diff:.4f}",
                     "ok" if ok else "FAIL"))
    for method in ("gradcam", "decomposition"):
        for image, text in zip(images[6:8], ("a blue circle", "a red square")):  # 2- and 3-object scenes
            g, c = spatial_map(gpu, image, text, method), spatial_map(cpu, image, text, method)
            peak_g = tuple(int(i) for i in np.unravel_index(g.raw.argmax(), g.raw.shape))
            peak_c = tuple(int(i) for i in np.unravel_index(c.raw.argmax(), c.raw.shape))
            corr = float(np.corrcoef(g.raw.ravel(), c.raw.ravel())[0, 1])
            ok = corr > 0.95
            failed |= not ok
            rows.append((f"spatial map, {method}", f"peak GPU {peak_g} / CPU {peak_c}, correlation {corr:.3f}",
                         "ok" if ok else "FAIL"))
    bench.print_table(rows, ("check", "measurement", "result"))
    if args.bench:
        bench.main(["--device", args.device, "--skip-app"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
