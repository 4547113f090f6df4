"""int8 on request: NNCF post-training quantisation of the OpenVINO towers, and its measured cost.

    python -m clipdemo quantize [--model NAME] [--images FILE_OR_DIR ...]

Calibrates on the images you name (default: the bundled photos, the toy examples and 120 generated
toy scenes) and on prompts built from the check labels and ImageNet templates, writes the int8 copy into
the converted-model cache (where `--int8` finds it), then measures and prints its agreement with torch
fp32 on the check set. int8 is never the default: on CPUs with VNNI it is the fastest variant, but its
answers can differ, so every place that offers it shows that agreement.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

from clipdemo.core.backends.agreement import CHECK_TEMPLATE, check_labels, image_files

N_CALIBRATION_SCENES = 120  # generated with another seed than the check set's scenes
N_CALIBRATION_PROMPTS = 300


def calibration_images(paths=None) -> list:
    # int8 is optional: loaded only when a quantised copy is built
    from clipdemo.core import toyworld
    from clipdemo.core.assets import ASSETS_DIR
    from clipdemo.core.images import load_image

    if paths:
        files = image_files(paths)
        if not files:
            raise ValueError(f"no images found in {', '.join(map(str, paths))}")
        return [load_image(f) for f in files]
    files = image_files([ASSETS_DIR / "photos", ASSETS_DIR / "toy"])
    return [load_image(f) for f in files] + [im for im, _, _ in toyworld.generate(N_CALIBRATION_SCENES, seed=7)]


def calibration_prompts() -> list[str]:
    # int8 is optional: loaded only when a quantised copy is built
    from clipdemo.core.templates import IMAGENET_TEMPLATES

    prompts = [t.format(lab) for lab in check_labels() for t in [CHECK_TEMPLATE, *IMAGENET_TEMPLATES]]
    return random.Random(0).sample(prompts, min(N_CALIBRATION_PROMPTS, len(prompts)))


def build_int8_entry(loaded, fp_folder: Path, out_folder: Path, images=None, progress=lambda _m: None) -> None:
    """Quantise the fp OpenVINO entry's two towers (weights and activations to int8) into out_folder."""
    import nncf
    import openvino as ov

    # int8 is optional: loaded only when a quantised copy is built
    from clipdemo.core.backends import openvino_backend as ovb

    if not images or not hasattr(images[0], "convert"):  # none, or paths: read them (or the defaults)
        images = calibration_images(images)
    names = tuple(ovb.read_meta(fp_folder).get("text_inputs") or ovb.text_input_names(loaded))
    ip = loaded.processor.image_processor
    pixel_items = [ip(images=[im.convert("RGB")], return_tensors="np")["pixel_values"].astype(np.float32)
                   for im in images]
    padding = "max_length" if loaded.uses_sigmoid else True
    text_items = []
    for prompt in calibration_prompts():
        tok = loaded.tokenizer([prompt], padding=padding, truncation=True, max_length=loaded.max_text_length,
                               return_tensors="np")
        text_items.append([tok[n].astype(np.int64) for n in names])
    core = ov.Core()

    def build(tmp: Path) -> None:
        for tower, items in (("image", pixel_items), ("text", text_items)):
            progress(f"quantising the {tower} tower to int8 ({len(items)} calibration samples)")
            model = core.read_model(fp_folder / f"{tower}.xml")
            quantised = nncf.quantize(model, nncf.Dataset(items), model_type=nncf.ModelType.TRANSFORMER,
                                      subset_size=len(items))
            ov.save_model(quantised, tmp / f"{tower}.xml")

    meta = {**ovb.read_meta(fp_folder), "precision": "int8", "agreement": {}, "auto": {},
            "calibration": {"images": len(pixel_items), "prompts": len(text_items)}}
    ovb.write_entry(out_folder, build, meta)


def quantize(loaded, images=None, progress=lambda _m: None):
    """(Re)build the int8 copy of `loaded` from `images` (paths or PIL images); return its backend."""
    import shutil

    # int8 is optional: loaded only when a quantised copy is built
    from clipdemo.core.backends import openvino_backend as ovb
    from clipdemo.core.backends import openvino_backend_for

    shutil.rmtree(ovb.model_cache_dir(loaded, "int8"), ignore_errors=True)  # a new calibration replaces the old
    return openvino_backend_for(loaded, "int8", progress, calibration=images)


def main(argv=None) -> int:
    # int8 is optional: loaded only when a quantised copy is built
    from clipdemo.core.backends import openvino_available, stderr_progress
    from clipdemo.core.loading import default_model_name, load_model

    p = argparse.ArgumentParser(prog="python -m clipdemo quantize", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="'bundled', a hub id or a local folder (default as the app)")
    p.add_argument("--images", nargs="+", metavar="PATH", help="calibration images (files or folders); "
                   "default: the bundled photos and toy pictures")
    args = p.parse_args(argv)
    missing = [m for m in ("openvino", "nncf") if not _importable(m)]
    if missing or not openvino_available():
        print(f"error: quantising needs {' and '.join(missing or ['openvino'])}: "
              "pip install -r requirements-openvino.txt", file=sys.stderr)
        return 2
    loaded = load_model(args.model or default_model_name(), device="cpu", dtype="fp32")
    backend = quantize(loaded, args.images, stderr_progress(str(loaded.name)))
    print(f"{loaded.name}: int8 copy in {backend.folder}\n{backend.agreement.describe()} "
          f"(image min cos {backend.agreement.image_min_cos:.5f}, text min cos {backend.agreement.text_min_cos:.5f})\n"
          f"use it with: python app.py --model {args.model or loaded.name} --int8")
    return 0


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
