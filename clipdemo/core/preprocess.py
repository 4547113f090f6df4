"""The model's image processor, at a fraction of its cost, giving the same numbers.

transformers' PIL image processor (CLIP, SigLIP, Chinese-CLIP, and any fixed-size processor built on its
`PilBackend`) resizes each image with Pillow on uint8, crops in numpy, then converts every pixel to
float64, rescales, and normalises in float32 — about 6 ms a picture, more than a small model's forward
pass. This path does the same resize (Pillow, same filter, same output size from transformers' own size
rule) and the same crop on uint8, and replaces the per-pixel arithmetic by a 256-entry lookup table per
channel built by running the processor itself on the 256 possible values: the result is the processor's,
bit for bit (tests/test_preprocess.py checks against the processor on a check set).

A processor this path does not know (NaFlex, a processor with its own `_preprocess`, a torchvision
backend, padding of images smaller than the crop) gets None from `FastImageProcessor.of`, and its
callers keep using the processor.

`draft_side`: the shortest side a JPEG may be decoded at for this model (Pillow's DCT-domain scaling),
so a 640×480 photo for a 64 px model is decoded at 160×120 instead of in full. That is not bit-exact —
its agreement with the processor on fully decoded pictures is measured in the same test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

# decode JPEGs down to 1x the resize target's side: DCT scaling averages like a box filter, and on the check set
# (tests/test_preprocess.py) it moves the bundled model's embeddings by cos >= 0.9997, top label unchanged;
# 2x would cost a 64 px model 4x the decoded pixels for cos 0.99994
DRAFT_MARGIN = 1


def _base_preprocess():
    try:
        from transformers.image_processing_backends import PilBackend
    except ImportError:  # another transformers layout: no fast path, the processor runs
        return None
    return PilBackend._preprocess


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB as the processor makes it (transformers' convert_to_rgb): transparency over white."""
    if "A" in image.getbands() or image.info.get("transparency") is not None:
        ground = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(ground, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


class FastImageProcessor:
    """uint8 resize + crop with Pillow, then one table lookup per channel -> float32 NCHW pixel values."""

    def __init__(self, processor, lut: np.ndarray):
        self.processor = processor
        size, crop = processor.size, processor.crop_size
        self.resample = Image.Resampling(int(processor.resample))
        self.shortest_edge = getattr(size, "shortest_edge", None) if processor.do_resize else None
        self.fixed = (size.height, size.width) if processor.do_resize and not self.shortest_edge else None
        self.crop = (crop.height, crop.width) if processor.do_center_crop else None
        self.lut = lut  # (3, 256) float32: what the processor makes of each value in each channel

    @classmethod
    def of(cls, processor) -> FastImageProcessor | None:
        """The fast path for this processor, or None where it would not give the processor's numbers."""
        base = _base_preprocess()
        if base is None or getattr(processor, "backend", None) != "pil" or type(processor)._preprocess is not base:
            return None
        size = getattr(processor, "size", None)
        if getattr(processor, "do_pad", False) or (processor.do_resize and size is None):
            return None
        if processor.do_resize and not (getattr(size, "shortest_edge", None) and not size.longest_edge) and \
                not (size.height and size.width):
            return None  # longest_edge, max_height/max_width, pixel budgets: leave those to the processor
        if processor.do_center_crop and not (processor.crop_size and processor.crop_size.height):
            return None
        # the processor on the 256 values of each channel: exactly what it computes per pixel
        ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)  # 1 x 256 x RGB
        values = processor(images=[Image.fromarray(ramp)], do_resize=False, do_center_crop=False,
                           return_tensors="np")["pixel_values"][0]  # 3 x 1 x 256
        return cls(processor, np.ascontiguousarray(values[:, 0, :], dtype=np.float32))

    # ---------------------------------------------------------------- sizes
    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) after the processor's resize (transformers' own rule for the shortest edge)."""
        if self.fixed:
            return self.fixed[1], self.fixed[0]
        if not self.shortest_edge:
            return width, height
        from transformers.image_transforms import get_resize_output_image_size  # heavy module: on first use
        from transformers.image_utils import ChannelDimension

        shape = np.broadcast_to(np.uint8(0), (1, height, width))  # only its shape is read
        h, w = get_resize_output_image_size(shape, self.shortest_edge, default_to_square=False,
                                            input_data_format=ChannelDimension.FIRST)
        return w, h

    @property
    def output_size(self) -> tuple[int, int]:
        """(height, width) of the pixel values."""
        if self.crop:
            return self.crop
        return self.fixed or (0, 0)

    @property
    def draft_side(self) -> int:
        """The shortest side a JPEG may be decoded at (DCT scaling) and still resize well to this model."""
        need = self.shortest_edge or max(self.fixed or (0, 0))
        return DRAFT_MARGIN * int(need or 0)

    # ---------------------------------------------------------------- work
    def uint8(self, image: Image.Image) -> np.ndarray | None:
        """One picture resized and cropped, HWC uint8; None where the crop would need padding."""
        rgb = image if image.mode == "RGB" else to_rgb(image)
        size = self.resized_size(*rgb.size)
        if size != rgb.size:
            rgb = rgb.resize(size, self.resample)
        arr = np.asarray(rgb)
        if self.crop:
            ch, cw = self.crop
            h, w = arr.shape[:2]
            top, left = (h - ch) // 2, (w - cw) // 2
            if top < 0 or left < 0:
                return None  # the processor pads with zeros here: rare; let it
            arr = arr[top:top + ch, left:left + cw]
        return arr

    def normalise(self, batch: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 -> (N, 3, H, W) float32 through the lookup table."""
        n, h, w, _ = batch.shape
        out = np.empty((n, 3, h, w), np.float32)
        for c in range(3):
            np.take(self.lut[c], batch[..., c], out=out[:, c])
        return out

    def __call__(self, images: Sequence[Image.Image]) -> np.ndarray:
        """The processor's pixel_values for these pictures, (N, 3, H, W) float32."""
        crops = [self.uint8(im) for im in images]
        if any(c is None or c.shape != crops[0].shape for c in crops):
            return self.processor(images=list(images), return_tensors="np")["pixel_values"]
        return self.normalise(np.stack(crops))
