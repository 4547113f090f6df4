"""Out-of-world check for the bundled toy model: is this picture like the toy world it was trained on?

The bundled model only knows coloured shapes, yet it labels a cat photo as confidently as a red circle.
The score is a Mahalanobis distance (Lee et al., NeurIPS 2018) of the picture's vision-tower features
from the features of seeded toy-world renders: per layer, the mean and the spread of the patch tokens,
all layers concatenated, with a Ledoit-Wolf covariance. Toy pictures score low, photos high.

Measured on the bundled model (`python -m clipdemo.teach.ood`, fp32): 400 fresh toy renders at 64-300 px
score 25.8 (median), 44.1 (99.5th percentile), 52.8 (the single highest); the 9 bundled toy examples
22.6-34.2; the 6 bundled photos 63.2-238.6. THRESHOLD sits in the gap between the two.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import torch

from clipdemo.core import toyworld

THRESHOLD = 58.0
REFERENCE_IMAGES = 512
REFERENCE_SEED = 5
REFERENCE_SIZES = (None, 128, 224)  # None: the model's own input size; uploads come at any size


def _features(tower, processor, images, batch: int = 64) -> np.ndarray:
    """Per layer: mean and standard deviation of the patch tokens, concatenated (float64)."""
    out = []
    for i in range(0, len(images), batch):
        pixels = processor(images=[im.convert("RGB") for im in images[i:i + batch]],
                           return_tensors="pt")["pixel_values"].float()
        with torch.no_grad():
            hidden = tower(pixel_values=pixels, output_hidden_states=True).hidden_states[1:]
        parts = [torch.cat([h[:, 1:].float().mean(1), h[:, 1:].float().std(1)], dim=1) for h in hidden]
        out.append(torch.cat(parts, dim=1).cpu().numpy().astype(np.float64))
    return np.concatenate(out)


class ToyWorldCheck:
    """The toy world's feature distribution under one model, and distances from it."""

    def __init__(self, loaded, n: int = REFERENCE_IMAGES, seed: int = REFERENCE_SEED):
        import copy

        from sklearn.covariance import LedoitWolf

        # A private fp32 copy of the (small) vision tower on the CPU: the same scores whatever dtype and
        # device the app runs the model in, so one measured threshold holds everywhere.
        self.tower = copy.deepcopy(loaded.model.vision_model).float().cpu().eval()
        self.processor = loaded.processor
        rng = random.Random(seed)
        sizes = [s or int(loaded.image_size) for s in REFERENCE_SIZES]
        images = [toyworld.render(toyworld.sample_scene(rng), rng.choice(sizes)) for _ in range(n)]
        self.fit = LedoitWolf().fit(_features(self.tower, self.processor, images))

    def scores(self, images) -> list[float]:
        feats = _features(self.tower, self.processor, list(images))
        return np.sqrt(self.fit.mahalanobis(feats)).tolist()


_CHECKS: dict[tuple, ToyWorldCheck] = {}
_LOCK = threading.Lock()


def applies(loaded) -> bool:
    """Only the bundled model's training world is known here."""
    return bool(getattr(loaded, "is_bundled", False)) and loaded.family == "clip"


def check_for(loaded) -> ToyWorldCheck:
    """Built once per loaded model (a few seconds), then shared by all requests."""
    # the bundled weights never change under one path, so every load of them (each CLI run's registry, each
    # test's) shares one check
    key = (str(loaded.source), int(loaded.image_size), str(loaded.family))
    with _LOCK:
        if key not in _CHECKS:
            _CHECKS.clear()  # one model's statistics at a time: they are ~8 MB
            _CHECKS[key] = ToyWorldCheck(loaded)
        return _CHECKS[key]


def out_of_world(loaded, images) -> list[float] | None:
    """Scores for the pictures (above THRESHOLD: unlike the toy world), or None where the check does not apply."""
    if not applies(loaded):
        return None
    return check_for(loaded).scores(images)


def main() -> None:
    """Print the measurement the threshold rests on."""
    import glob

    # the bundled model and its photos load on the first check, not at import
    from clipdemo.core.images import load_image
    from clipdemo.core.loading import ASSETS_DIR, load_model

    loaded = load_model(dtype="fp32")
    check = check_for(loaded)
    rng = random.Random(999)
    toys = [toyworld.render(toyworld.sample_scene(rng), rng.choice((int(loaded.image_size), 128, 224, 300)))
            for _ in range(400)]
    fresh = np.array(check.scores(toys))
    print(f"400 toy renders: median {np.median(fresh):.1f}, 99.5th percentile {np.percentile(fresh, 99.5):.1f}, "
          f"max {fresh.max():.1f}; above {THRESHOLD}: {(fresh > THRESHOLD).mean():.2%}")
    for kind in ("toy/*.png", "photos/*.jpg"):
        paths = sorted(glob.glob(str(ASSETS_DIR / kind)))
        for p, s in zip(paths, check.scores([load_image(p) for p in paths]), strict=True):
            print(f"{s:7.1f} {'UNLIKE' if s > THRESHOLD else 'toy   '} {p.split('assets/')[-1]}")


if __name__ == "__main__":
    main()
