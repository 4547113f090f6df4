"""Where the project's bundled files live: the toy CLIP (weights and tokenizer), the example photos (with their
licence) and the toy pictures.

In a checkout (app.py, a Space) they are in assets/ beside the package; an installed wheel carries them inside the
package as clipdemo/bundled/ (setup.py maps them there), found through importlib.resources so the app and the
`clipdemo` command work from any folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _assets_dir() -> Path:
    installed = resources.files("clipdemo") / "bundled"
    if installed.is_dir():  # an installed wheel; a real folder, since wheels install unzipped
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / "assets"  # a checkout


ASSETS_DIR = _assets_dir()
BUNDLED_MODEL_DIR = ASSETS_DIR / "toy-clip"


def photo_paths() -> list[Path]:
    """The bundled example photos (real pictures, for real CLIPs)."""
    return sorted((ASSETS_DIR / "photos").glob("*.jpg"))


def toy_paths() -> list[Path]:
    """The bundled toy-world pictures, named after their captions (00_a_small_red_circle_on_the_left.png)."""
    return sorted((ASSETS_DIR / "toy").glob("*.png"))
