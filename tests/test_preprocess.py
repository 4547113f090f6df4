"""The fast preprocessing path against the model's own image processor, which stays the reference.

Resized and cropped pictures from Pillow (the processor's filter and size rule) through the lookup table
must equal the processor's pixel values exactly: same operations on the same uint8 values, so the
tolerance is zero. Decoding JPEGs small (DCT scaling, `draft_side`) is not exact: its tolerance is set
beside the other approximations the app accepts (OpenVINO int8's min cosine vs fp32 is 0.9989, see
README): min cosine >= 0.999 and the top label unchanged on >= 95% of the check set.
"""

import io
import random

import numpy as np
import pytest
from PIL import Image
from transformers import ChineseCLIPImageProcessorPil, CLIPImageProcessorPil, SiglipImageProcessorPil

from clipdemo.core import preprocess, toyworld
from clipdemo.core.encoding import Encoder, fast_processor
from clipdemo.core.images import load_image


def _check_set() -> list[Image.Image]:
    """Toy scenes at many sizes and shapes (upscaled, downscaled, portrait, square, odd sides) and modes."""
    out = []
    sizes = [(640, 480), (480, 640), (224, 224), (97, 53), (301, 1003), (1024, 768), (64, 64), (230, 229)]
    for i, size in enumerate(sizes):
        im = toyworld.render(toyworld.sample_scene(random.Random(i)), 160, supersample=1).resize(size)
        out.append(im)
    noisy = np.random.default_rng(0).integers(0, 256, (333, 444, 3), dtype=np.uint8)  # every value, high frequency
    out.append(Image.fromarray(noisy))
    out.append(out[0].convert("L"))
    rgba = out[1].convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
    out.append(rgba)
    out.append(out[2].convert("P"))
    return out


PROCESSORS = {
    "clip": lambda: CLIPImageProcessorPil(),  # shortest edge 224, bicubic, centre crop, OpenAI mean/std
    "clip-64": lambda: CLIPImageProcessorPil(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}),
    "siglip": lambda: SiglipImageProcessorPil(),  # 224 x 224 squash, no crop, mean/std 0.5
    "siglip-384-bilinear": lambda: SiglipImageProcessorPil(size={"height": 384, "width": 384}, resample=2),
    "chinese-clip": lambda: ChineseCLIPImageProcessorPil(size={"height": 224, "width": 224}, do_center_crop=False),
    "crop-only": lambda: CLIPImageProcessorPil(do_resize=False, crop_size={"height": 40, "width": 48}),
}


@pytest.mark.parametrize("name", list(PROCESSORS))
def test_fast_path_equals_the_processor_exactly(name):
    processor = PROCESSORS[name]()
    fast = preprocess.FastImageProcessor.of(processor)
    assert fast is not None
    images = _check_set()
    if name == "crop-only":  # no resize: every picture must be at least the crop
        images = [im for im in images if min(im.size) >= 48]
    for im in images:  # one at a time: the check set's sizes differ when nothing resizes
        ref = processor(images=[im], return_tensors="np")["pixel_values"]
        got = fast([im])
        assert got.shape == ref.shape and got.dtype == np.float32
        assert np.array_equal(got, ref), f"{name}: {im.mode} {im.size}: max diff {np.abs(got - ref).max()}"


def test_a_batch_equals_the_processor_and_pads_like_it():
    processor = PROCESSORS["clip"]()
    fast = preprocess.FastImageProcessor.of(processor)
    images = _check_set()
    assert np.array_equal(fast(images), processor(images=images, return_tensors="np")["pixel_values"])
    tiny = CLIPImageProcessorPil(do_resize=False)  # a 50 px picture under a 224 crop: the processor pads
    small = [Image.new("RGB", (50, 40), (200, 30, 30))]
    assert np.array_equal(preprocess.FastImageProcessor.of(tiny)(small),
                          tiny(images=small, return_tensors="np")["pixel_values"])


def test_processors_it_does_not_know_fall_back():
    assert preprocess.FastImageProcessor.of(CLIPImageProcessorPil(size={"shortest_edge": 224, "longest_edge": 300})) \
        is None
    assert preprocess.FastImageProcessor.of(object()) is None

    class OwnSteps(CLIPImageProcessorPil):
        def _preprocess(self, images, **kwargs):  # a processor with its own steps: not ours to copy
            return super()._preprocess(images, **kwargs)

    assert preprocess.FastImageProcessor.of(OwnSteps()) is None


def test_encoder_uses_the_fast_path_and_gives_the_processors_embeddings(tiny_encoder, toy_images):
    ip = tiny_encoder.loaded.processor.image_processor
    assert fast_processor(ip) is tiny_encoder.fast_processor is not None
    images = [x[0] for x in toy_images]
    ref = tiny_encoder.image_features_from_pixels(ip(images=images, return_tensors="pt")["pixel_values"])
    got = tiny_encoder.image_features_from_pixels(tiny_encoder.preprocess(images))
    assert np.array_equal(got.numpy(), ref.numpy())


def _jpegs(n: int = 48) -> list[bytes]:
    """640x480 toy photos as JPEG files; every other one with sensor-like noise (the hardest case for
    decoding small), every third one in portrait."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        im = toyworld.render(toyworld.sample_scene(random.Random(500 + i)), 480, supersample=1).resize((640, 480))
        if i % 2:
            noisy = np.asarray(im).astype(np.int16) + rng.normal(0, 12, (480, 640, 3)).astype(np.int16)
            im = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        if i % 3 == 0:
            im = im.transpose(Image.Transpose.ROTATE_90)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def test_jpegs_decoded_small_agree_with_the_processor_on_full_decodes(bundled_encoder):
    enc = Encoder(bundled_encoder.loaded, image_cache=1)
    fast = enc.fast_processor
    files = _jpegs()
    full = [load_image(b) for b in files]
    small = [load_image(b, draft_side=enc.draft_side) for b in files]
    assert max(small[1].size) < max(full[1].size)  # the draft really decoded small
    diff = np.abs(np.stack([fast.uint8(im) for im in small]).astype(int) -
                  np.stack([fast.uint8(im) for im in full]).astype(int))
    assert diff.mean() <= 2.0  # of 255: what the model sees moves by under 1% on average
    a, b = enc.encode_images(full), enc.encode_images(small)
    assert (a * b).sum(1).min() >= 0.999
    labels = [f"a {c} {s}" for c in ("red", "blue", "green", "yellow", "purple", "orange")
              for s in ("circle", "square", "triangle", "star", "heart", "cross")]
    text = enc.encode_texts(labels)
    assert ((a @ text.T).argmax(1) == (b @ text.T).argmax(1)).mean() >= 0.95
