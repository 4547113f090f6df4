import functools
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipdemo.core.images import ImageError, load_image


def _bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_zero_byte_and_text_files_are_refused(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_image(empty)
    fake = tmp_path / "notes.png"
    fake.write_text("this is not an image")
    with pytest.raises(ImageError, match="not an image"):
        load_image(fake)


def test_truncated_file_is_refused():
    data = _bytes(Image.new("RGB", (200, 200), (10, 20, 30)), "JPEG")
    with pytest.raises(ImageError):
        load_image(data[: len(data) // 3])


def test_decompression_bomb_is_refused_before_decoding():
    # a valid PNG whose header claims 40000 x 40000 pixels
    data = _bytes(Image.new("1", (40000, 40000)), "PNG")
    with pytest.raises(ImageError, match="too large|too many pixels"):
        load_image(data)


@pytest.mark.parametrize("mode", ["CMYK", "L", "P", "RGBA", "I;16", "LA"])
def test_odd_modes_become_rgb(mode):
    img = Image.new("RGB", (40, 30), (200, 50, 50)).convert(mode if mode != "I;16" else "I")
    if mode == "I;16":
        img = Image.fromarray((np.ones((30, 40)) * 40000).astype(np.uint16))
    out = load_image(_bytes(img, "TIFF" if mode in ("CMYK", "I;16") else "PNG"))
    assert out.mode == "RGB" and out.size == (40, 30)


def test_transparency_is_composited_on_white():
    img = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    out = load_image(_bytes(img, "PNG"))
    assert out.getpixel((5, 5)) == (255, 255, 255)


def test_exif_rotation_is_applied():
    img = Image.new("RGB", (60, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    out = load_image(_bytes(img, "JPEG", exif=exif))
    assert out.size == (20, 60)


def test_animated_gif_uses_first_frame():
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    out = load_image(buf.getvalue())
    r, g, _ = out.getpixel((8, 8))
    assert r > 200 and g < 50


def test_tiny_and_panorama_and_webp():
    assert load_image(_bytes(Image.new("RGB", (1, 1)), "PNG")).size == (1, 1)
    assert load_image(_bytes(Image.new("RGB", (10000, 300)), "PNG")).size[0] <= 4096
    assert load_image(_bytes(Image.new("RGB", (32, 32), (1, 2, 3)), "WEBP", lossless=True)).getpixel((0, 0)) == (1, 2, 3)


def test_none_gives_a_clear_message():
    with pytest.raises(ImageError, match="No image"):
        load_image(None)


# ---------------------------------------------------------------- decoded small (issue #11)

def _full_size_then_shrink(data: bytes, side: int) -> Image.Image:
    """The old path: decode at full size, upright, composite on white, RGB, and only then shrink."""
    from PIL import ImageOps

    im = Image.open(io.BytesIO(data))
    im.load()
    im = ImageOps.exif_transpose(im) or im
    if im.mode == "1":
        im = im.convert("L")
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA"):
        im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im.convert("RGBA"))
    im = im.convert("RGB")
    im.thumbnail((side, side))
    return im


@functools.lru_cache(maxsize=1)
def _big_inputs() -> dict[str, bytes]:
    photo = Image.open(Path(__file__).resolve().parent.parent / "assets/photos/astronaut.jpg").convert("RGB").resize((4000, 3000), Image.BICUBIC)
    y, x = np.mgrid[0:2000, 0:3000]
    rgba = Image.fromarray(np.stack([x % 256, y % 256, (x + y) % 256, (x // 12) % 256], -1).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6
    return {"jpeg": _bytes(photo, "JPEG", quality=90), "jpeg-rotated": _bytes(photo, "JPEG", quality=90, exif=exif),
            "png-rgba": _bytes(rgba, "PNG"), "png-palette": _bytes(photo.convert("P", palette=Image.ADAPTIVE), "PNG"),
            "png-1bit": _bytes(Image.fromarray(((x // 7 + y // 5) % 2 * 255).astype(np.uint8)).convert("1"), "PNG")}


@pytest.mark.parametrize("kind", ["jpeg", "jpeg-rotated", "png-rgba", "png-palette", "png-1bit"])
def test_decoding_small_matches_full_size_decoding_within_tolerance(kind):
    """Tolerance: mean absolute difference <= 1 level of 255 and 99th percentile <= 4 levels
    (measured: JPEG 0.17 / 1, RGBA 0.19 / 2, palette and 1-bit 0 / 0)."""
    from clipdemo.core.images import MAX_SIDE

    data = _big_inputs()[kind]
    new, old = load_image(data), _full_size_then_shrink(data, MAX_SIDE)
    assert new.size == old.size and max(new.size) == MAX_SIDE
    diff = np.abs(np.asarray(new, np.int16) - np.asarray(old, np.int16))
    assert diff.mean() <= 1.0 and np.percentile(diff, 99) <= 4


def test_a_big_one_bit_png_is_decoded_in_little_memory(tmp_path):
    """Issue #11: a 6.7 KB PNG of 4096x4096 1-bit pixels cost ~150 MB per reference. Decoded small, the
    process's peak memory grows by less than 40 MB (a full-size RGB copy alone is 48 MB)."""
    import subprocess
    import sys

    path = tmp_path / "big.png"
    Image.new("1", (4096, 4096), 1).save(path)
    code = ("import resource, sys; from clipdemo.core.images import load_image; from PIL import Image; "
            "Image.new('RGB', (8, 8)).convert('L'); before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            f"ims = [load_image({str(path)!r}) for _ in range(5)]; "
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, ims[0].size)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(Path(__file__).resolve().parent.parent)).stdout.split()
    assert int(out[0]) < 40, f"peak RSS grew by {out[0]} MiB"
