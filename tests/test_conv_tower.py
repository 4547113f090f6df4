"""The convolutional image tower stands in for CLIP's ViT: same output object, trainable, seeded."""

from __future__ import annotations

import torch

from clipdemo.teach.conv_tower import ConvTower, is_conv_tower, with_conv_tower
from clipdemo.teach.trainer import TrainConfig, build_model


class FakeTokenizer:  # build_model reads only the vocabulary size and the special ids
    bos_token_id, eos_token_id, pad_token_id = 1, 2, 0

    def __len__(self):
        return 120


def test_conv_tower_answers_like_a_vision_model():
    tower = ConvTower(width=24)
    out = tower(pixel_values=torch.randn(3, 3, 48, 48))
    assert out.pooler_output.shape == (3, 24)
    assert out.last_hidden_state.shape == (3, 3 * 3, 128)  # four stride-2 convolutions: 48 -> 3


def test_a_clip_model_with_the_conv_tower_embeds_and_learns():
    cfg = TrainConfig(width=32, vision_layers=1, text_layers=1, heads=2, image_size=32, projection_dim=32)
    model = with_conv_tower(build_model(cfg, FakeTokenizer()), cfg.width, seed=0)
    assert is_conv_tower(model)
    pixels = torch.randn(4, 3, 32, 32)
    ids = torch.randint(3, 100, (4, 6))
    ids[:, -1] = 2  # the EOS the text tower pools
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pixels)
    assert out.logits_per_image.shape == (4, 4)
    image = model.get_image_features(pixel_values=pixels).pooler_output
    assert image.shape == (4, 32)
    out.logits_per_image.diagonal().sum().backward()
    assert model.vision_model.stem[0].weight.grad.abs().sum() > 0  # the gradient reaches the first convolution
    again = with_conv_tower(build_model(cfg, FakeTokenizer()), cfg.width, seed=0)
    torch.testing.assert_close(again.vision_model.stem[0].weight, model.vision_model.stem[0].weight)  # seeded
