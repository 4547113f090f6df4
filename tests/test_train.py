"""Training smoke tests: the objective, the checkpoint format, and that colour is learned quickly."""

import random

import numpy as np
import torch

from clipdemo import toyworld
from clipdemo.train import TrainConfig, Trainer, contrastive_losses, save_checkpoint


def test_contrastive_loss_is_symmetric_cross_entropy():
    logits = torch.tensor([[5.0, 1.0, 0.0], [0.0, 4.0, 1.0], [2.0, 0.0, 3.0]])
    i2t, t2i = contrastive_losses(logits)
    log_softmax_rows = logits.log_softmax(dim=1)
    log_softmax_cols = logits.log_softmax(dim=0)
    assert torch.isclose(i2t, -log_softmax_rows.diagonal().mean())
    assert torch.isclose(t2i, -log_softmax_cols.diagonal().mean())


def _tokenizer():
    from transformers import AutoTokenizer

    from clipdemo.loading import BUNDLED_MODEL_DIR

    return AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR)


def _tiny_cfg(**kw):
    base = dict(steps=150, batch_size=48, lr=2e-3, warmup=20, width=48, vision_layers=2, text_layers=2, heads=2,
                image_size=32, patch_size=8, projection_dim=48, concepts="colour", seed=0)
    base.update(kw)
    return TrainConfig(**base)


def test_training_is_reproducible_for_a_seed():
    tok = _tokenizer()
    a = [Trainer(_tiny_cfg(), tok).step()["loss"] for _ in range(1)]
    b = [Trainer(_tiny_cfg(), tok).step()["loss"] for _ in range(1)]
    c = [Trainer(_tiny_cfg(seed=1), tok).step()["loss"] for _ in range(1)]
    assert a == b and a != c


def test_colour_is_learned_within_150_steps_and_checkpoint_loads(tmp_path):
    from transformers import CLIPModel, CLIPProcessor

    from clipdemo.encoding import Encoder
    from clipdemo.loading import load_model

    torch.manual_seed(0)
    tok = _tokenizer()
    trainer = Trainer(_tiny_cfg(), tok)
    first = trainer.step()["loss"]
    for _ in range(149):
        last = trainer.step()["loss"]
    assert last < first - 0.5
    out = save_checkpoint(trainer.model, tok, tmp_path / "m", image_size=32)
    # a standard HF folder: plain transformers loads it, offline, with nothing else
    assert isinstance(CLIPModel.from_pretrained(out), CLIPModel)
    assert CLIPProcessor.from_pretrained(out).tokenizer.eos_token_id == trainer.model.config.text_config.eos_token_id
    enc = Encoder(load_model(str(out), device="cpu", dtype="fp32"))
    rng = random.Random(99)
    colours = list(toyworld.COLOURS)
    scenes = [toyworld.sample_scene(rng, kind="single") for _ in range(80)]
    img = enc.encode_images([toyworld.render(s, 64) for s in scenes])
    txt = enc.encode_texts([f"a photo of something {c}" for c in colours])
    pred = (img @ txt.T).argmax(1)
    acc = np.mean(pred == np.array([colours.index(s.objects[0].colour) for s in scenes]))
    assert acc > 0.5, acc  # chance is 1/8


def test_shape_captions_name_shapes_and_nothing_else():
    import random

    from clipdemo import toyworld
    from clipdemo.train import concept_caption

    rng = random.Random(0)
    scenes = [toyworld.sample_scene(rng) for _ in range(60)]
    captions = [concept_caption(s, rng, "all", shape_share=1.0) for s in scenes]
    for scene, caption in zip(scenes, captions):
        words = set(caption.replace(".", " ").split())
        assert not words & set(toyworld.COLOURS), caption
        assert all(o.shape in caption for o in scene.objects), caption
    plain = [concept_caption(s, rng, "all") for s in scenes]
    assert sum(any(c in p for c in toyworld.COLOURS) for p in plain) > 40  # the default mix names colours
