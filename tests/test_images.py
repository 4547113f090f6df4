import io

import numpy as np
import pytest
from PIL import Image

from clipdemo.images import ImageError, load_image


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
