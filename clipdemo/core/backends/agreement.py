"""How closely a backend reproduces torch fp32: the numbers shown beside any faster or smaller variant.

The check set is the project's own pictures (the bundled photos, the toy examples and a fixed set of
generated toy scenes) against 70 labels (8 colours x 8 shapes, and the photos' subjects). Two numbers:
the lowest cosine between a variant's embedding and torch fp32's over every image and prompt, and the
share of images whose top zero-shot label stays the same.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from clipdemo.core.assets import ASSETS_DIR

PHOTO_LABELS = ("astronaut", "camera", "cat", "cup of coffee", "horse", "rocket")
CHECK_TEMPLATE = "a photo of a {}."
N_GENERATED = 49  # with the 6 photos and 9 toy examples: 64 images


@dataclass(frozen=True)
class Agreement:
    image_min_cos: float
    text_min_cos: float
    top1: float  # share of check images whose top label matches torch fp32's
    n_images: int
    n_labels: int

    @property
    def min_cos(self) -> float:
        return min(self.image_min_cos, self.text_min_cos)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> Agreement | None:
        try:
            return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls)}) if d else None
        except (KeyError, TypeError):
            return None

    def describe(self) -> str:
        return (f"agreement with torch fp32: top-1 {self.top1:.1%} of {self.n_images} images, "
                f"min cos {self.min_cos:.5f}")


def image_files(paths) -> list[Path]:
    # only when an agreement is measured; encoding imports the backends, so not at module level (a cycle)
    from clipdemo.core.images import IMAGE_SUFFIXES

    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES) if p.is_dir() else [p]
    return files


def check_images() -> list[Image.Image]:
    # only when an agreement is measured; encoding imports the backends, so not at module level (a cycle)
    from clipdemo.core import toyworld
    from clipdemo.core.images import load_image

    files = image_files([ASSETS_DIR / "photos", ASSETS_DIR / "toy"])
    return [load_image(f) for f in files] + [im for im, _, _ in toyworld.generate(N_GENERATED, seed=2024, size=224)]


def check_labels() -> list[str]:
    # only when an agreement is measured; encoding imports the backends, so not at module level (a cycle)
    from clipdemo.core import toyworld

    return [f"{c} {s}" for c in toyworld.COLOURS for s in toyworld.SHAPES] + list(PHOTO_LABELS)


def fp32_reference(loaded):
    """The loaded model as torch fp32 on the CPU (a copy only when it was loaded otherwise)."""
    # only when an agreement is measured; encoding imports the backends, so not at module level (a cycle)
    from clipdemo.core.backends.torch_backend import TorchBackend

    if loaded.dtype == torch.float32 and loaded.device.type == "cpu":
        return TorchBackend(loaded)
    ref = dataclasses.replace(loaded, model=copy.deepcopy(loaded.model).to("cpu", torch.float32),
                              dtype=torch.float32, device=torch.device("cpu"))
    return TorchBackend(ref)


def embeddings(backend, images, prompts) -> tuple[np.ndarray, np.ndarray]:
    # only when an agreement is measured; encoding imports the backends, so not at module level (a cycle)
    from clipdemo.core.encoding import Encoder

    enc = Encoder(backend.loaded, image_cache=1, text_cache=1, backend=backend)
    return enc.encode_images(images), enc.encode_texts(prompts)


def measure(candidate, reference, images=None, labels=None) -> Agreement:
    images = check_images() if images is None else images
    labels = check_labels() if labels is None else labels
    prompts = [CHECK_TEMPLATE.format(lab) for lab in labels]
    img_c, txt_c = embeddings(candidate, images, prompts)
    img_r, txt_r = embeddings(reference, images, prompts)
    top_c = (img_c @ txt_c.T).argmax(axis=1)
    top_r = (img_r @ txt_r.T).argmax(axis=1)
    return Agreement(image_min_cos=float((img_c * img_r).sum(1).min()), text_min_cos=float((txt_c * txt_r).sum(1).min()),
                     top1=float((top_c == top_r).mean()), n_images=len(images), n_labels=len(labels))
