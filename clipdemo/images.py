"""Open user images safely: any format Pillow reads, upright, RGB, with clear errors.

Every view takes images through `load_image`, so a corrupt file, a decompression bomb or an odd
mode (CMYK, 16-bit, palette, RGBA, animated) gets the same handling and the same message.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from clipdemo.errors import InputError

MAX_PIXELS = 50_000_000  # ~7000 x 7000; larger claims are refused before decoding
MAX_BYTES = 50 * 1024 * 1024
MAX_SIDE = 4096  # kept images are shrunk to this; the model sees at most a few hundred pixels anyway
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")


class ImageError(InputError):
    """An input that is not a usable image; the message is meant for the user."""


def to_rgb(image: Image.Image) -> Image.Image:
    """Upright (EXIF), first frame, RGB; transparency composited on white; 16-bit scaled down."""
    image = ImageOps.exif_transpose(image) or image
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        hi = arr.max() or 1.0
        image = Image.fromarray((arr / hi * 255).astype(np.uint8), "L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        ground = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(ground, image.convert("RGBA"))
    image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def load_image(source, name: str | None = None) -> Image.Image:
    """Open a path, bytes or PIL image; raise ImageError with a readable reason."""
    label = name or (Path(source).name if isinstance(source, (str, os.PathLike)) else "image")
    if isinstance(source, Image.Image):
        return to_rgb(source)
    if source is None:
        raise ImageError("No image given: upload one, paste one, or pick an example.")
    try:
        data = Path(source).read_bytes() if isinstance(source, (str, os.PathLike)) else bytes(source)
    except OSError as e:
        raise ImageError(f"{label}: cannot be read ({e.strerror or e}).") from e
    if not data:
        raise ImageError(f"{label}: the file is empty (0 bytes).")
    if len(data) > MAX_BYTES:
        raise ImageError(f"{label}: the file is {len(data) / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            w, h = image.size
            if w * h > MAX_PIXELS:
                raise ImageError(f"{label}: {w}x{h} pixels is too large (limit {MAX_PIXELS // 1_000_000} megapixels).")
            image.load()
    except ImageError:
        raise
    except UnidentifiedImageError as e:
        raise ImageError(f"{label}: not an image Pillow can read (PNG, JPEG, WebP, GIF, BMP, TIFF …).") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"{label}: the image claims too many pixels (a decompression bomb?).") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{label}: the image file is damaged or truncated ({e}).") from e
    if min(image.size) < 1:
        raise ImageError(f"{label}: the image has no pixels.")
    return to_rgb(image)
