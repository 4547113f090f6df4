"""Training smoke tests: the objective, the checkpoint format, and that colour is learned quickly."""

import random

import numpy as np
import torch

from clipdemo.core import toyworld
from clipdemo.teach.trainer import TrainConfig, Trainer, contrastive_losses, save_checkpoint


def test_contrastive_loss_is_symmetric_cross_entropy():
    logits = torch.tensor([[5.0, 1.0, 0.0], [0.0, 4.0, 1.0], [2.0, 0.0, 3.0]])
    i2t, t2i = contrastive_losses(logits)
    log_softmax_rows = logits.log_softmax(dim=1)
    log_softmax_cols = logits.log_softmax(dim=0)
    assert torch.isclose(i2t, -log_softmax_rows.diagonal().mean())
    assert torch.isclose(t2i, -log_softmax_cols.diagonal().mean())


def _tokenizer():
    from transformers import AutoTokenizer

    from clipdemo.core.loading import BUNDLED_MODEL_DIR

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

    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

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

    from clipdemo.core import toyworld
    from clipdemo.core.toyworld import concept_caption

    rng = random.Random(0)
    scenes = [toyworld.sample_scene(rng) for _ in range(60)]
    captions = [concept_caption(s, rng, "all", shape_share=1.0) for s in scenes]
    for scene, caption in zip(scenes, captions):
        words = set(caption.replace(".", " ").split())
        assert not words & set(toyworld.COLOURS), caption
        assert all(o.shape in caption for o in scene.objects), caption
    plain = [concept_caption(s, rng, "all") for s in scenes]
    assert sum(any(c in p for c in toyworld.COLOURS) for p in plain) > 40  # the default mix names colours


# ---------------------------------------------------------------- Chinese


def _tokenizers(tmp_path):
    """(English-only tokenizer, the same extended with Chinese characters) built from the bundled files."""
    from clipdemo.training.tokenizer_build import (
        chinese_charset,
        chinese_merges,
        read_tokenizer_files,
        save_tokenizer,
        write_bilingual_tokenizer,
    )

    vocab, merges = read_tokenizer_files(BUNDLED)
    zh = set(chinese_merges(chinese_charset()))
    n_base = vocab["<|endoftext|>"] + 1
    base = save_tokenizer(tmp_path / "base", {t: i for t, i in vocab.items() if i < n_base},
                          [m for m in merges if m not in zh])
    return base, write_bilingual_tokenizer(tmp_path / "ext", tmp_path / "base")


from clipdemo.core.loading import BUNDLED_MODEL_DIR as BUNDLED  # noqa: E402


def test_grown_token_table_keeps_old_rows_and_locked_image_tower_stays(tmp_path):
    from clipdemo.teach.trainer import build_model

    base, ext = _tokenizers(tmp_path)
    cfg = _tiny_cfg(concepts="all", zh_captions=0.5, lock_image=True, steps=3, batch_size=8)
    old = build_model(cfg, base)
    save_checkpoint(old, base, tmp_path / "old", image_size=32, fp16=False)
    trainer = Trainer(TrainConfig(**{**cfg.__dict__, "init_from": str(tmp_path / "old")}), ext)
    table = trainer.model.text_model.embeddings.token_embedding.weight
    n_old = len(base)
    assert table.shape[0] == len(ext) > n_old
    assert torch.equal(table[:n_old], old.text_model.embeddings.token_embedding.weight)
    vocab = ext.get_vocab()
    red, red_end = vocab[ext.tokenize("红色")[0]], vocab[ext.tokenize("红")[0]]
    assert red != red_end and torch.equal(table[red], table[red_end])  # "X</w>" starts as "X"
    vision = {k: v.clone() for k, v in trainer.model.vision_model.state_dict().items()}
    text = trainer.model.text_model.embeddings.token_embedding.weight.clone()
    for _ in range(3):
        trainer.step()
    assert all(torch.equal(v, trainer.model.vision_model.state_dict()[k]) for k, v in vision.items())
    assert not torch.equal(text, trainer.model.text_model.embeddings.token_embedding.weight)


def test_pooled_logits_equal_the_full_forward(tmp_path):
    from clipdemo.teach.trainer import ImagePool

    _, ext = _tokenizers(tmp_path)
    cfg = _tiny_cfg(concepts="all", zh_captions=0.5, colour_captions=0.5, lock_image=True, batch_size=8)
    trainer = Trainer(cfg, ext)
    pool = ImagePool(cfg, trainer.model, 2)
    assert len(pool) == 2 and pool.embeds[0].shape == (8, cfg.projection_dim)
    trainer.rng = random.Random(1)
    pooled = trainer.pooled_logits(pool)
    rng = random.Random(1)
    j = rng.randrange(2)
    from clipdemo.teach.trainer import training_caption

    captions = [training_caption(s, rng, "all", 0.0, 0.5, 0.5) for s in pool.scenes[j]]
    shape_words = {w for ws in toyworld.ZH_SHAPES.values() for w in ws} | set(toyworld.SHAPES)
    assert any(not any(w in c for w in shape_words) for c in captions)  # the pool writes colour-only captions too
    images = [toyworld.render(s, 32, supersample=2) for s in pool.scenes[j]]
    with torch.no_grad():
        full = trainer.logits(images, captions)
    assert torch.allclose(pooled.detach(), full, atol=1e-4)
    assert any(toyworld.zh_colour(s.objects[0].colour) in c for s, c in zip(pool.scenes[j], captions))


def test_chinese_colour_is_learned_within_150_steps(tmp_path):
    """The smoke test that Chinese captions train: a tiny model, Chinese only, colour words."""
    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    torch.manual_seed(0)
    _, ext = _tokenizers(tmp_path)
    trainer = Trainer(_tiny_cfg(zh_captions=1.0), ext)
    first = trainer.step()["loss"]
    for _ in range(149):
        last = trainer.step()["loss"]
    assert last < first - 0.5
    enc = Encoder(load_model(str(save_checkpoint(trainer.model, ext, tmp_path / "m", image_size=32)), device="cpu",
                             dtype="fp32"))
    rng = random.Random(99)
    colours = list(toyworld.COLOURS)
    scenes = [toyworld.sample_scene(rng, kind="single") for _ in range(80)]
    img = enc.encode_images([toyworld.render(s, 64) for s in scenes])
    txt = enc.encode_texts([f"一张有{toyworld.zh_colour(c)}的东西的照片" for c in colours])
    acc = np.mean((img @ txt.T).argmax(1) == np.array([colours.index(s.objects[0].colour) for s in scenes]))
    assert acc > 0.5, acc  # chance is 1/8


def test_locked_text_side_stays_and_image_tower_learns():
    tok = _tokenizer()
    trainer = Trainer(_tiny_cfg(concepts="all", lock_text=True, varied_scenes=0.5, steps=3, batch_size=8), tok)
    text = {k: v.clone() for k, v in trainer.model.text_model.state_dict().items()}
    proj = trainer.model.text_projection.weight.clone()
    scale = trainer.model.logit_scale.detach().clone()
    vision = trainer.model.vision_model.embeddings.patch_embedding.weight.clone()
    for _ in range(3):
        trainer.step()
    assert all(torch.equal(v, trainer.model.text_model.state_dict()[k]) for k, v in text.items())
    assert torch.equal(proj, trainer.model.text_projection.weight)
    assert torch.equal(scale, trainer.model.logit_scale.detach())
    assert not torch.equal(vision, trainer.model.vision_model.embeddings.patch_embedding.weight)


def test_varied_scenes_share_reaches_the_batches():
    from clipdemo.teach.trainer import sample_batch

    rng = random.Random(0)
    plain = sample_batch(rng, 40, 32)[0]
    mixed = sample_batch(rng, 200, 32, varied=0.5)[0]
    assert not any("resample" in s.extra for s in plain)
    share = np.mean(["resample" in s.extra for s in mixed])
    assert 0.35 < share < 0.65


def test_cli_refuses_to_lock_both_towers(tmp_path):
    import pytest

    from clipdemo.training.train import main

    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "m"), "--lock-image", "--lock-text", "--steps", "1"])


def test_colour_captions_name_colours_and_nothing_else():
    from clipdemo.core.toyworld import colour_caption
    from clipdemo.teach.trainer import sample_batch

    rng = random.Random(3)
    words = set(toyworld.SHAPES) | {toyworld.plural(s) for s in toyworld.SHAPES}
    zh_shapes = [w for ws in toyworld.ZH_SHAPES.values() for w in ws if len(w) > 1]
    for _ in range(60):
        scene = toyworld.sample_scene(rng)
        en, zh = colour_caption(scene, rng), colour_caption(scene, rng, zh=True)
        assert all(o.colour in en for o in scene.objects) and not words & set(en.strip(".").split())
        assert all(any(w in zh for w in toyworld.ZH_COLOURS[o.colour]) for o in scene.objects)
        assert not any(w in zh for w in zh_shapes)
    scenes, _, captions = sample_batch(random.Random(0), 200, 32, colour_share=0.5)
    only_colour = [not words & set(c.strip(".").split()) for c in captions]
    assert 0.4 < np.mean(only_colour) < 0.75  # half by the share, plus the plain mix's own colour-only captions
    assert sample_batch(random.Random(0), 20, 32)[2] == sample_batch(random.Random(0), 20, 32, colour_share=0.0)[2]
