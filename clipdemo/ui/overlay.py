"""Pictures of a spatial map: a colour scale, the raw patch map and an overlay on the original.

Maps are drawn on the original image (any shape or size, shown at a readable display size);
the part the model never saw (cropped away by its processor) is dimmed and left uncoloured.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from clipdemo.spatial import SpatialMap, place_grid

# "inferno"-like stops: dark for unrelated patches, bright yellow for the best match.
_STOPS = np.array([[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21],
                   [250, 193, 39], [252, 255, 164]], np.float64)
UNSEEN = np.array([128, 128, 128], np.float64)
# the same scale for Plotly: the similarity heatmap and its table colour the same numbers alike
PLOTLY_SCALE = [[i / (len(_STOPS) - 1), "rgb({:.0f},{:.0f},{:.0f})".format(*rgb)] for i, rgb in enumerate(_STOPS)]


def colourise(m: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (NaN = unseen) -> uint8 RGB."""
    v = np.clip(np.nan_to_num(m, nan=0.0), 0, 1) * (len(_STOPS) - 1)
    i0 = np.floor(v).astype(int)
    i1 = np.minimum(i0 + 1, len(_STOPS) - 1)
    f = (v - i0)[..., None]
    rgb = _STOPS[i0] * (1 - f) + _STOPS[i1] * f
    rgb[np.isnan(m)] = UNSEEN
    return rgb.round().astype(np.uint8)


def display_size(width: int, height: int, longest: int = 640, shortest: int = 192) -> tuple[int, int]:
    """A size to show an image at: huge ones shrink, tiny ones grow, the aspect ratio stays."""
    scale = min(longest / max(width, height), 1.0)
    scale = max(scale, min(shortest / min(width, height), longest / max(width, height)))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shown(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    tiny = max(image.size) < min(size)
    resample = Image.Resampling.NEAREST if tiny else Image.Resampling.LANCZOS
    return np.asarray(image.convert("RGB").resize(size, resample), np.float64)


def _box_outline(draw: ImageDraw.ImageDraw, smap: SpatialMap, size: tuple[int, int]) -> None:
    w0, h0 = smap.image_size
    x0, y0, x1, y1 = smap.box
    if x0 <= 0.5 and y0 <= 0.5 and x1 >= w0 - 0.5 and y1 >= h0 - 0.5:
        return  # the model saw the whole image
    sx, sy = size[0] / w0, size[1] / h0
    draw.rectangle([x0 * sx, y0 * sy, x1 * sx - 1, y1 * sy - 1], outline=(255, 255, 255), width=2)


def overlay(image: Image.Image, smap: SpatialMap, opacity: float = 0.6, mark_peak: bool = True) -> Image.Image:
    """The map blended over the original; unseen parts dimmed; a ring on the hottest point."""
    size = display_size(*image.size)
    base = _shown(image, size)
    heat = smap.on_image(*size)
    seen = ~np.isnan(heat)
    # Hot patches take more colour than cold ones, so the picture stays readable where nothing matches.
    a = float(np.clip(opacity, 0, 1)) * (0.35 + 0.65 * np.nan_to_num(heat, nan=0.0))[..., None]
    out = base * 0.45  # dim what the model never saw
    blend = base * (1 - a) + colourise(heat).astype(np.float64) * a
    out[seen] = blend[seen]
    picture = Image.fromarray(out.round().astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    _box_outline(draw, smap, size)
    if mark_peak:
        x, y = smap.hottest_point()
        x, y = x * size[0] / smap.image_size[0], y * size[1] / smap.image_size[1]
        r = max(6, min(size) // 30)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(0, 255, 255), width=3)
    return picture


def scale_width(height: int) -> int:
    """How much wider `with_scale` makes a picture of this height (gap, bar, gap, labels)."""
    return 6 + max(10, height // 24) + 6 + 44


def with_scale(picture: Image.Image, low: str = "0", high: str = "1") -> Image.Image:
    """The picture with its colour scale beside it: a bar from the coldest colour (`low`) to the hottest
    (`high`), so a reader can tell what bright and dark mean."""
    w, h = picture.size
    bar_w, pad = max(10, h // 24), 6
    out = Image.new("RGB", (w + scale_width(h), h), (255, 255, 255))
    out.paste(picture.convert("RGB"), (0, 0))
    ramp = colourise(np.linspace(1, 0, h)[:, None].repeat(bar_w, 1))
    out.paste(Image.fromarray(ramp), (w + pad, 0))
    draw = ImageDraw.Draw(out)
    draw.text((w + 2 * pad + bar_w, 0), high, fill=(0, 0, 0))
    draw.text((w + 2 * pad + bar_w, h - 12), low, fill=(0, 0, 0))
    return out


def raw_map(smap: SpatialMap, image_size: tuple[int, int] | None = None) -> Image.Image:
    """The patch grid itself (one flat colour per patch) placed where the model saw it."""
    size = display_size(*(image_size or smap.image_size))
    m = place_grid(smap.grid, smap.box, smap.image_size, size[0], size[1], smooth=False)
    picture = Image.fromarray(colourise(m))
    _box_outline(ImageDraw.Draw(picture), smap, size)
    return picture
