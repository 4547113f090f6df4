"""Open user images safely: any format Pillow reads, upright, RGB, decoded small, with clear errors.

Every view takes images through `load_image`, so a corrupt file, a decompression bomb or an odd
mode (CMYK, 16-bit, palette, RGBA, animated) gets the same handling and the same message.

Decoded small: memory follows the size the app needs (`limits.DECODE_SIDE`), not the file's. A
JPEG is decoded at 1/2, 1/4 or 1/8 scale straight from its DCT (Pillow's `draft`); every image is
shrunk (`thumbnail`, which reduces by whole factors first) *before* the alpha compositing and RGB
conversion, so no full-size RGB copy is ever made. tests/test_images.py checks that this matches
decoding at full size and shrinking afterwards within a stated tolerance. Each image is counted
against the open request's budget (`clipdemo.limits`) before it is decoded.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from clipdemo import limits
from clipdemo.errors import InputError

MAX_PIXELS = limits.MAX_IMAGE_PIXELS  # larger claims are refused before decoding
MAX_BYTES = 50 * 1024 * 1024
MAX_SIDE = limits.DECODE_SIDE  # kept images are at most this; the model sees at most a few hundred pixels
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")
_HIGH_DEPTH = ("I;16", "I;16B", "I;16L", "I", "F")


class ImageError(InputError):
    """An input that is not a usable image; the message is meant for the user."""


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}  # EXIF orientation -> the turn that makes it upright


def shrink_to_rgb(image: Image.Image, max_side: int = MAX_SIDE, owned: bool = False) -> Image.Image:
    """First frame, at most `max_side`, upright (EXIF), RGB; transparency on white; 16-bit scaled down.

    Shrinks before converting: a 1-bit or palette image becomes 8-bit grey or RGB(A) at full size
    (resampling needs it), everything else is only converted when small. `owned`: the image may be
    shrunk in place (one this module opened), else the caller's image is left as it is."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    turn = _TRANSPOSE.get(image.getexif().get(0x0112))
    if image.mode in _HIGH_DEPTH:  # scale by the brightest pixel, as a viewer would
        arr = np.asarray(image, dtype=np.float64)
        hi = arr.max() or 1.0
        image, owned = Image.fromarray((arr / hi * 255).astype(np.uint8), "L"), True
    elif image.mode == "1":
        image, owned = image.convert("L"), True
    elif image.mode == "P":
        image, owned = image.convert("RGBA" if "transparency" in image.info else "RGB"), True
    elif image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK", "YCbCr"):
        image, owned = image.convert("RGBA" if "A" in image.mode else "RGB"), True
    if max(image.size) > max_side:
        image = image if owned else image.copy()
        image.thumbnail((max_side, max_side))  # reduce() by whole factors, then an antialiased resize
    if turn is not None:
        image = image.transpose(turn)
    if image.mode in ("RGBA", "LA"):
        ground = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(ground, image.convert("RGBA"))
    return image.convert("RGB")


def load_image(source, name: str | None = None, max_side: int = MAX_SIDE) -> Image.Image:
    """Open a path, bytes or PIL image decoded small; raise ImageError with a readable reason."""
    label = name or (Path(source).name if isinstance(source, (str, os.PathLike)) else "image")
    if isinstance(source, Image.Image):
        return shrink_to_rgb(source, max_side)
    if source is None:
        raise ImageError("No image given: upload one, paste one, or pick an example.")
    try:
        if isinstance(source, (str, os.PathLike)):
            size = Path(source).stat().st_size
            if size > MAX_BYTES:
                raise ImageError(f"{label}: the file is {size / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB.")
            limits.charge_bytes(label, size)
            data = Path(source).read_bytes()
        else:
            data = bytes(source)
    except OSError as e:
        raise ImageError(f"{label}: cannot be read ({e.strerror or e}).") from e
    except limits.LimitError as e:
        raise ImageError(str(e)) from e
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
            limits.charge_image(label, w * h)
            if image.format == "JPEG":  # decode at 1/2..1/8 scale, still at least max_side on the short side
                image.draft(image.mode, (max_side, max_side))
            image.load()
    except ImageError:
        raise
    except limits.LimitError as e:
        raise ImageError(str(e)) from e
    except UnidentifiedImageError as e:
        raise ImageError(f"{label}: not an image Pillow can read (PNG, JPEG, WebP, GIF, BMP, TIFF …).") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"{label}: the image claims too many pixels (a decompression bomb?).") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{label}: the image file is damaged or truncated ({e}).") from e
    if min(image.size) < 1:
        raise ImageError(f"{label}: the image has no pixels.")
    return shrink_to_rgb(image, max_side, owned=True)
