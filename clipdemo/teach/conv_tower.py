"""A small convolutional image tower for CLIP trained from nothing in the Learn tab.

The CLIP paper trained both ResNet and ViT image encoders. On a 2-core CPU, a tiny ViT trained from
random weights learns colours quickly but plateaus at 8-10 of the fixed batch's 16 pairs for minutes
(it must learn from scratch that neighbouring patches belong together); four convolutions carry that
locality in their shape and tell the toy world's shapes apart within a couple of minutes (measured with
`python -m clipdemo.bench.bench_learn`). `ConvTower` stands in for `CLIPModel.vision_model`: it takes
`pixel_values` and answers with the same output object (`pooler_output` is what the visual projection
reads), so the CLIP objective, the logits and the Learn tab's measurements do not change.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_outputs import BaseModelOutputWithPooling

CHANNELS = (32, 64, 128, 128)  # one stride-2 convolution each: 48 px -> 24 -> 12 -> 6 -> 3


class ConvTower(nn.Module):
    """conv 3x3 stride 2 + GroupNorm + GELU, once per entry of `channels`; the mean and the maximum over the
    grid (a small object covers a cell or two: an average alone drowns it in background); a linear layer to
    `width`."""

    def __init__(self, width: int, channels: tuple[int, ...] = CHANNELS):
        super().__init__()
        layers, previous = [], 3
        for c in channels:
            layers += [nn.Conv2d(previous, c, 3, stride=2, padding=1), nn.GroupNorm(8, c), nn.GELU()]
            previous = c
        self.stem = nn.Sequential(*layers)
        self.out = nn.Sequential(nn.LayerNorm(2 * previous), nn.Linear(2 * previous, width))

    def forward(self, pixel_values: torch.Tensor, interpolate_pos_encoding: bool = False, return_dict: bool = True,
                **kwargs) -> BaseModelOutputWithPooling:
        grid = self.stem(pixel_values)  # (B, C, h, w)
        tokens = grid.flatten(2).transpose(1, 2)  # (B, h*w, C): the feature map as a token sequence
        pooled = torch.cat([tokens.mean(dim=1), tokens.amax(dim=1)], dim=-1)
        return BaseModelOutputWithPooling(last_hidden_state=tokens, pooler_output=self.out(pooled))


def with_conv_tower(model, width: int, seed: int = 0):
    """`model` (a CLIPModel) with its ViT image tower replaced by a fresh, seeded `ConvTower` of `width`."""
    torch.manual_seed(seed + 1)
    model.vision_model = ConvTower(width)
    return model


def is_conv_tower(model) -> bool:
    return isinstance(getattr(model, "vision_model", None), ConvTower)
