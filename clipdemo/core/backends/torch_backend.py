"""The reference backend: the loaded transformers model itself, in whatever device and dtype it was loaded."""

from __future__ import annotations

import torch

from clipdemo.core.devices import dtype_name


def projected_features(out) -> torch.Tensor:
    # transformers 5 returns an output object whose pooler_output is the projected embedding.
    return out if isinstance(out, torch.Tensor) else out.pooler_output


class TorchBackend:
    """Runs `get_image_features` / `get_text_features` of the loaded model (un-normalised embeddings)."""

    name = "torch"

    def __init__(self, loaded, notice: str | None = None):
        self.loaded = loaded
        self.precision = dtype_name(loaded.dtype)
        self.agreement = None  # this is what the other backends are compared with
        self.notice = notice
        self.pixel_dtype = loaded.dtype

    @torch.inference_mode()
    def image_features(self, pixels) -> torch.Tensor:
        """`pixels`: a tensor, or for SigLIP 2 NaFlex the processor's dict (pixel_values, pixel_attention_mask,
        spatial_shapes)."""
        if isinstance(pixels, dict):
            return projected_features(self.loaded.model.get_image_features(**pixels))
        return projected_features(self.loaded.model.get_image_features(pixel_values=pixels))

    @torch.inference_mode()
    def text_features(self, tokens: dict) -> torch.Tensor:
        return projected_features(self.loaded.model.get_text_features(**tokens))

    def describe(self) -> str:
        return f"torch {self.precision}"
