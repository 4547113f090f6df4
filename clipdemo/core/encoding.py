"""Batched, cached encoding of images and texts into the joint space.

Embeddings come back L2-normalised as float32 numpy arrays. Two bounded LRU caches mean a
repeated label set or image is never encoded twice: texts by string, images by a hash of their
pixels. One lock per model serialises forward passes (torch on CPU gains nothing from running
two at once, and it keeps memory flat under concurrent users).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from clipdemo.core import gpu, limits, scoring
from clipdemo.core.backends.torch_backend import TorchBackend, projected_features  # noqa: F401 - re-exported
from clipdemo.core.cache import LRUCache
from clipdemo.core.errors import InputError
from clipdemo.core.loading import LoadedModel
from clipdemo.core.pipeline import batched, prefetched, shared_pool
from clipdemo.core.preprocess import FastImageProcessor


def image_key(image: Image.Image) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{image.mode}{image.size}".encode())
    h.update(image.tobytes())
    return h.hexdigest()


PREPROCESS_THREADS = min(4, os.cpu_count() or 1)
PREPROCESS_MIN_SLICE = 4  # fewer images than this per thread: not worth a thread hop
def _preprocess_pool() -> ThreadPoolExecutor:
    return shared_pool("preprocess", PREPROCESS_THREADS)


def _slices(items: list, n: int, min_size: int) -> list[list]:
    """Split into at most n contiguous, near-equal slices of at least min_size items (order kept)."""
    n = max(1, min(n, len(items) // max(1, min_size)))
    bounds = [round(i * len(items) / n) for i in range(n + 1)]
    return [items[a:b] for a, b in zip(bounds, bounds[1:])] or [items]


_fast: dict[int, FastImageProcessor | None] = {}  # id(processor) -> its fast path (built once per model)


def fast_processor(processor) -> FastImageProcessor | None:
    """The fast path of the model's image processor (clipdemo.core.preprocess), or None: then the processor runs."""
    found = _fast.get(id(processor), False)
    if found is False or (found is not None and found.processor is not processor):  # new, or an id reused
        found = _fast[id(processor)] = FastImageProcessor.of(processor)
    return found


@dataclass
class EncodedBatch:
    """One batch of a stream (`Encoder.encode_stream`): the items whose pictures were encoded, in order,
    their unit vectors row for row, and why the others were left out (user-facing messages)."""

    items: list
    vectors: np.ndarray
    skipped: list[str] = field(default_factory=list)


class Encoder:
    """Encodes images and texts with one loaded model; bounded caches; thread-safe."""

    def __init__(self, loaded: LoadedModel, batch_size: int = 32, image_cache: int = 4096, text_cache: int = 16384,
                 backend=None):
        self.loaded = loaded
        # what runs the forward passes (clipdemo.core.backends: torch, or OpenVINO on CPUs); gradients and
        # training always use loaded.model itself
        self.backend = backend or TorchBackend(loaded)
        self.batch_size = batch_size
        self.image_cache = LRUCache(image_cache)
        self.text_cache = LRUCache(text_cache)
        # label set x template set -> ensembled class embeddings, and prompt -> token count: a repeated
        # zero-shot call then costs the image encode and one small matrix product, nothing else
        self.ensemble_cache = LRUCache(256)
        self.token_counts = LRUCache(text_cache)
        self._lock = threading.RLock()
        self.gpu_key = gpu.register(self)  # how a GPU function (on ZeroGPU: in a forked worker) finds this encoder

    def exclusive(self) -> threading.RLock:
        """Hold the model for a computation of several forward passes (`with encoder.exclusive():`),
        as every encode does for one: one pass per model at a time keeps memory flat."""
        return self._lock

    # ------------------------------------------------------------------ inputs
    def preprocess(self, images: Sequence[Image.Image], dtype: torch.dtype | None = None):
        """The model's own image processor, run on slices of the batch in threads: Pillow's resize
        releases the GIL, and on a small model (or a GPU) resizing costs as much as encoding.

        A tensor of pixels; for SigLIP 2 NaFlex a dict of `pixel_values` (patches, padded to the processor's
        max_num_patches), `pixel_attention_mask` and `spatial_shapes` (each picture's own patch grid)."""
        chunks = _slices(list(images), PREPROCESS_THREADS, PREPROCESS_MIN_SLICE)
        if len(chunks) > 1:
            parts = list(_preprocess_pool().map(self._process, chunks))
        else:
            parts = [self._process(c) for c in chunks]
        dt = dtype or self.loaded.dtype  # on the CPU: the GPU function moves it (clipdemo.core.gpu)
        if isinstance(parts[0], dict):
            joined = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
            return {k: v.to(dt) if k == "pixel_values" else v for k, v in joined.items()}
        pixels = parts[0] if len(parts) == 1 else torch.cat(parts)
        return pixels.to(dt)

    def _process(self, images: Sequence[Image.Image]):
        rgb = [im.convert("RGB") for im in images]
        if self.loaded.is_naflex:  # each picture's own patch grid: the processor's patches, mask and shapes
            out = self.loaded.processor.image_processor(images=rgb, return_tensors="pt")
            return {k: out[k] for k in ("pixel_values", "pixel_attention_mask", "spatial_shapes")}
        fast = self.fast_processor
        if fast is not None:  # the processor's numbers at a fraction of its cost (clipdemo.core.preprocess)
            return torch.from_numpy(fast(rgb))
        return self.loaded.processor.image_processor(images=rgb, return_tensors="pt")["pixel_values"]

    @property
    def fast_processor(self) -> FastImageProcessor | None:
        return fast_processor(self.loaded.processor.image_processor)

    @property
    def draft_side(self) -> int | None:
        """The shortest side a JPEG may be decoded at for this model (None: decode as usual)."""
        fast = self.fast_processor
        return fast.draft_side if fast is not None else None

    def tokenize(self, texts: Sequence[str]) -> dict:
        lm = self.loaded
        # SigLIP was trained on max-length padded text; CLIP pools the EOS token, so any padding works.
        padding = "max_length" if lm.uses_sigmoid else True
        tok = lm.tokenizer(list(texts), padding=padding, truncation=True, max_length=lm.max_text_length,
                           return_tensors="pt")
        return {k: v for k, v in tok.items() if k in ("input_ids", "attention_mask", "token_type_ids")}  # CPU, as pixels

    def count_tokens(self, text: str) -> int:
        text = limits.clean_text(text)  # cut before tokenising: a 1 MB line costs what 500 characters cost
        n = self.token_counts.get(text)
        if n is None:
            n = len(self.loaded.tokenizer(text, truncation=False)["input_ids"])
            self.token_counts.put(text, n)
        return n

    def model_view(self, image: Image.Image) -> Image.Image:
        """What the model sees: the resized, cropped input, un-normalised back to pixels."""
        ip = self.loaded.processor.image_processor
        out = ip(images=[image.convert("RGB")], return_tensors="pt")
        px = out["pixel_values"][0].float()
        if self.loaded.is_naflex:  # patches back into the picture: (h*w, p*p*3) -> (3, h*p, w*p)
            (h, w), p = out["spatial_shapes"][0].tolist(), int(ip.patch_size)
            px = px[:h * w].view(h, w, p, p, 3).permute(4, 0, 2, 1, 3).reshape(3, h * p, w * p)
        mean = torch.tensor(getattr(ip, "image_mean", [0.5] * 3)).view(3, 1, 1)
        std = torch.tensor(getattr(ip, "image_std", [0.5] * 3)).view(3, 1, 1)
        arr = ((px * std + mean).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        return Image.fromarray(arr)

    # ------------------------------------------------------------------ encoders
    def image_features_from_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """L2-normalised image embeddings, float32, on the CPU."""
        with self._lock:
            return _image_features_on_gpu(self.gpu_key, pixels)

    def text_features_from_tokens(self, tokens: dict) -> torch.Tensor:
        """L2-normalised text embeddings, float32, on the CPU."""
        with self._lock:
            return _text_features_on_gpu(self.gpu_key, tokens)

    def encode_images(self, images: Sequence[Image.Image],
                      progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        keys = self._image_keys(images)
        out: list[np.ndarray | None] = [self.image_cache.get(k) for k in keys]
        todo = [i for i, v in enumerate(out) if v is None]
        batches = list(batched(todo, self.batch_size))

        def prepare(idx: list[int]) -> torch.Tensor:
            return self.preprocess([images[i] for i in idx], self.backend.pixel_dtype)

        # several batches: the next is preprocessed in a worker thread while the model encodes this one
        stream = prefetched(batches, prepare) if len(batches) > 1 else map(prepare, batches)
        done = 0
        for idx, pixels in zip(batches, stream):
            limits.check_time()  # between batches: a request over its time, or abandoned, stops here
            feats = self.image_features_from_pixels(pixels).cpu().numpy()
            for i, f in zip(idx, feats):
                out[i] = f
                self.image_cache.put(keys[i], f)
            done += len(idx)
            if progress:
                progress(done, len(todo))
        return np.stack(out) if out else np.zeros((0, self.dim), np.float32)

    @staticmethod
    def _image_keys(images: Sequence[Image.Image]) -> list[str]:
        """Cache keys, hashed on slices in threads (hashlib releases the GIL on large buffers): for a small
        model, hashing a batch's pixels is a real share of encoding them."""
        chunks = _slices(list(images), PREPROCESS_THREADS, PREPROCESS_MIN_SLICE)
        if len(chunks) == 1:
            return [image_key(im) for im in images]
        return [k for part in _preprocess_pool().map(lambda c: [image_key(im) for im in c], chunks) for k in part]

    def encode_stream(self, items: Iterable[Any], load: Callable[[Any], Image.Image] = lambda image: image,
                      batch_size: int | None = None) -> Iterator[EncodedBatch]:
        """Unit vectors for a stream of pictures (files, video frames, uploads), batch after batch, in order.

        `load(item)` gives the item's picture (a PIL image; raising an InputError such as images.ImageError
        skips the item with its message). Loading and preprocessing of the next batches run in worker
        threads while the model encodes this one (clipdemo.core.pipeline: bounded, at most PREFETCH_DEPTH
        batches ahead). No caches: a stream is seen once. Each batch checks the request's time."""
        dtype = self.backend.pixel_dtype

        def prepare(batch: list) -> tuple[list, torch.Tensor | None, list[str]]:
            kept, images, skipped = [], [], []
            for item in batch:
                try:
                    images.append(load(item))
                    kept.append(item)
                except InputError as e:  # one broken picture must not stop the others
                    skipped.append(str(e))
            return kept, (self.preprocess(images, dtype) if images else None), skipped

        for kept, pixels, skipped in prefetched(batched(items, batch_size or self.batch_size), prepare):
            limits.check_time()
            vectors = (self.image_features_from_pixels(pixels).cpu().numpy() if pixels is not None
                       else np.zeros((0, self.dim), np.float32))
            yield EncodedBatch(kept, vectors, skipped)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        texts = [limits.clean_text(t) for t in texts]  # cut, no NUL, no lone surrogate: see clipdemo.core.limits
        out: list[np.ndarray | None] = [self.text_cache.get(t) for t in texts]
        todo = list(dict.fromkeys(t for t, v in zip(texts, out) if v is None))
        done: dict[str, np.ndarray] = {}
        for chunk in self._length_sorted_chunks(todo):
            limits.check_time()
            feats = self.text_features_from_tokens(self.tokenize(chunk)).cpu().numpy()
            for t, f in zip(chunk, feats):
                done[t] = f
                self.text_cache.put(t, f)
        out = [v if v is not None else done[t] for t, v in zip(texts, out)]
        return np.stack(out) if out else np.zeros((0, self.dim), np.float32)

    def _length_sorted_chunks(self, texts: list[str]) -> list[list[str]]:
        """Batches of texts of similar token length. A batch is padded to its longest text, and 80
        templates differ by 2x in length, so sorting first cuts a third of the work (padding is
        masked out, so no embedding changes)."""
        size = max(self.batch_size, 128)
        if len(texts) <= size:
            return [texts] if texts else []
        lengths = [len(ids) for ids in self.loaded.tokenizer(texts, truncation=True,
                                                             max_length=self.loaded.max_text_length)["input_ids"]]
        ordered = [t for _, t in sorted(zip(lengths, texts), key=lambda pair: pair[0])]
        return [ordered[i:i + size] for i in range(0, len(ordered), size)]

    @property
    def dim(self) -> int:
        cfg = self.loaded.model.config
        return int(getattr(cfg, "projection_dim", None) or cfg.text_config.hidden_size)

    # ------------------------------------------------------------------ scores
    def logits(self, cosine: np.ndarray) -> np.ndarray:
        """Cosines -> the model's logits (temperature, and SigLIP's bias)."""
        return scoring.logits(cosine, self.loaded.logit_scale, self.loaded.logit_bias)

    def probabilities(self, cosine: np.ndarray, axis: int = -1, logit_scale: float | None = None) -> np.ndarray:
        """Softmax over `axis` for CLIP; independent sigmoids for SigLIP. `logit_scale` (s = 1/τ) overrides the
        model's own."""
        scale = self.loaded.logit_scale if logit_scale is None else logit_scale
        return scoring.probabilities(cosine, scale, self.loaded.logit_bias, self.loaded.uses_sigmoid, axis)


# ---------------------------------------------------------------- the GPU work (clipdemo.core.gpu: ZeroGPU)
# Module functions of picklable arguments, as ZeroGPU's worker needs; durations from measured work (limits.GPU_*).


def _pictures(pixels) -> int:
    return len(pixels["pixel_values"] if isinstance(pixels, dict) else pixels)  # NaFlex: a dict of tensors


def _to_device(pixels, device):
    return {k: v.to(device) for k, v in pixels.items()} if isinstance(pixels, dict) else pixels.to(device)


def _image_seconds(key: str, pixels) -> int:
    return gpu.seconds_for(_pictures(pixels), limits.GPU_IMAGE_S)


def _text_seconds(key: str, tokens: dict) -> int:
    return gpu.seconds_for(len(tokens["input_ids"]), limits.GPU_TEXT_S)


@gpu.gpu_task(duration=_image_seconds)
@torch.inference_mode()
def _image_features_on_gpu(key: str, pixels: torch.Tensor) -> torch.Tensor:
    encoder: Encoder = gpu.lookup(key)
    feats = encoder.backend.image_features(_to_device(pixels, encoder.loaded.device)).float()
    return torch.nn.functional.normalize(feats, dim=-1).cpu()


@gpu.gpu_task(duration=_text_seconds)
@torch.inference_mode()
def _text_features_on_gpu(key: str, tokens: dict) -> torch.Tensor:
    encoder: Encoder = gpu.lookup(key)
    feats = encoder.backend.text_features({k: v.to(encoder.loaded.device) for k, v in tokens.items()}).float()
    return torch.nn.functional.normalize(feats, dim=-1).cpu()
