"""Regenerate assets/photos (scikit-image's CC0/public-domain photos) and assets/toy (toy-world examples).

    python scripts/make_assets.py
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHOTOS = {  # name -> licence line from scikit-image's docstring
    "astronaut": "Eileen Collins, NASA: no known copyright restrictions, released into the public domain.",
    "chelsea": "Chelsea the cat: CC0 by the photographer (Stefan van der Walt).",
    "coffee": "A cup of coffee: CC0 by the photographer (Rachel Michetti).",
    "rocket": "Launch of DSCOVR on Falcon 9: captured by SpaceX and released into the public domain.",
    "horse": "Horse silhouette: CC0 given by owner (Andreas Preuss).",
    "camera": "Cameraman: CC0 by the photographer (Lav Varshney).",
}


def photos() -> None:
    import skimage.data

    out = ROOT / "assets" / "photos"
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Example photos", "", "From scikit-image's `skimage.data` (licences as stated in each function's "
             "docstring):", ""]
    for name, licence in PHOTOS.items():
        arr = getattr(skimage.data, name)()
        if arr.dtype == bool:
            arr = np.where(arr, 0, 255).astype(np.uint8)
        Image.fromarray(arr).convert("RGB").save(out / f"{name}.jpg", quality=88)
        lines.append(f"- `{name}.jpg` — {licence}")
    (out / "LICENSE.md").write_text("\n".join(lines) + "\n")


def toy() -> None:
    import random

    from clipdemo.core import toyworld

    out = ROOT / "assets" / "toy"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2024)
    specs = [("single", ("red", "circle")), ("single", ("blue", "square")), ("single", ("yellow", "star")),
             ("single", ("green", "triangle")), ("single", ("purple", "heart")), ("count", ("orange", "cross")),
             ("mixed", None), ("mixed", None), ("single", toyworld.allowed_combos("heldout")[0])]
    for i, (kind, combo) in enumerate(specs):
        scene = toyworld.sample_scene(rng, kind=kind, combos=[combo] if combo else toyworld.allowed_combos("all"),
                                      n_objects=3 if kind == "count" else None)
        caption = toyworld.full_caption(scene)
        toyworld.render(scene, 224).save(out / f"{i:02d}_{caption.replace(' ', '_').replace(',', '')}.png")


if __name__ == "__main__":
    photos()
    toy()
