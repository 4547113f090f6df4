"""Locked-image tuning (LiT, Zhai et al., CVPR 2022) for the Learn tab.

The image tower and its projection are copied from a trained CLIP (the bundled model) and frozen;
a small text tower is trained from scratch to meet them in the same joint space. The image features
already separate colours and shapes, so the contrastive loss only has to teach the text side where
each caption belongs: the diagonal appears in seconds instead of the many minutes a from-scratch run
needs. The result is a plain Hugging Face CLIPModel (the text width may differ from the image width).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from clipdemo.loading import BUNDLED_MODEL_DIR


@dataclass(frozen=True)
class ImageTower:
    """What a locked image tower fixes for the rest of the run."""

    source: str
    image_size: int
    patch_size: int
    width: int
    layers: int
    projection_dim: int


def image_tower(source: str | Path = BUNDLED_MODEL_DIR) -> ImageTower:
    from transformers import CLIPConfig

    cfg = CLIPConfig.from_pretrained(source, local_files_only=True)
    v = cfg.vision_config
    return ImageTower(str(source), int(v.image_size), int(v.patch_size), int(v.hidden_size),
                      int(v.num_hidden_layers), int(cfg.projection_dim))


def locked_image_model(tokenizer, text_width: int, text_layers: int, heads: int, seed: int = 0,
                       source: str | Path = BUNDLED_MODEL_DIR):
    """A CLIPModel whose vision tower and visual projection come from `source` and are frozen; its text
    tower and text projection are new (seeded) and trainable, and so is the logit scale (CLIP's init)."""
    from transformers import CLIPConfig, CLIPModel

    trained = CLIPModel.from_pretrained(source, dtype=torch.float32, local_files_only=True, use_safetensors=True)
    text = dict(vocab_size=len(tokenizer), hidden_size=text_width, intermediate_size=4 * text_width,
                num_hidden_layers=text_layers, num_attention_heads=heads, max_position_embeddings=77,
                projection_dim=trained.config.projection_dim, hidden_act="gelu",
                bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id)
    config = CLIPConfig(text_config=text, vision_config=trained.config.vision_config.to_dict(),
                        projection_dim=trained.config.projection_dim)
    torch.manual_seed(seed)
    model = CLIPModel(config)
    model.vision_model.load_state_dict(trained.vision_model.state_dict())
    model.visual_projection.load_state_dict(trained.visual_projection.state_dict())
    for module in (model.vision_model, model.visual_projection):
        module.requires_grad_(False)
    return model
