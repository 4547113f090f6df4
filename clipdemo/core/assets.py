"""Where the project's bundled files live (assets/): the toy CLIP, the example photos and toy pictures."""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
BUNDLED_MODEL_DIR = ASSETS_DIR / "toy-clip"


def photo_paths() -> list[Path]:
    """The bundled example photos (real pictures, for real CLIPs)."""
    return sorted((ASSETS_DIR / "photos").glob("*.jpg"))


def toy_paths() -> list[Path]:
    """The bundled toy-world pictures, named after their captions (00_a_small_red_circle_on_the_left.png)."""
    return sorted((ASSETS_DIR / "toy").glob("*.png"))
