"""Model loading: one code path for CLIP, SigLIP and Chinese-CLIP, and every way a model cannot be had.

Each family gets a tiny random-weight checkpoint built here from a config, in its standard Hugging Face
layout (the tokenizer kind the real checkpoints use: CLIP BPE, SentencePiece, BERT WordPiece), so the
test covers what `from_pretrained` really reads, offline, in seconds.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import string
from pathlib import Path

import numpy as np
import pytest
import torch
from family_fixtures import build_tiny_metaclip2, build_tiny_siglip2_naflex
from PIL import Image

from clipdemo.core import loading
from clipdemo.core.encoding import Encoder
from clipdemo.core.loading import ModelNotAvailable, check_tokenizer, load_model, resolve_source
from clipdemo.core.templates import IMAGENET_TEMPLATES
from clipdemo.core.zeroshot import zero_shot

TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
TINY_VISION = dict(TINY, image_size=32, patch_size=8)
WORDS = "cat dog red square blue circle green triangle yellow star photo astronaut horse rocket coffee camera"


def build_tiny_siglip(out: Path) -> Path:
    """SigLIP: SentencePiece tokenizer (spiece.model), texts padded to max length, sigmoid scores."""
    import sentencepiece as spm
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor, SiglipTokenizer

    out.mkdir(parents=True, exist_ok=True)
    corpus = [t.format(w) for t in IMAGENET_TEMPLATES for w in WORDS.split()]
    model_bytes = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=model_bytes, vocab_size=160,
                                   model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   hard_vocab_limit=False, minloglevel=2)
    (out / "spiece.model").write_bytes(model_bytes.getvalue())
    tokenizer = SiglipTokenizer(vocab_file=str(out / "spiece.model"), model_max_length=16)
    text = dict(TINY, vocab_size=len(tokenizer), max_position_embeddings=16, projection_size=32,
                pad_token_id=0, eos_token_id=1, bos_token_id=None)
    torch.manual_seed(0)
    SiglipModel(SiglipConfig(text_config=text, vision_config=TINY_VISION)).save_pretrained(out)
    image_processor = SiglipImageProcessor(size={"height": 32, "width": 32})
    SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


def build_tiny_chinese_clip(out: Path) -> Path:
    """Chinese-CLIP: a BERT WordPiece tokenizer (vocab.txt) over Chinese characters and Latin letters."""
    from transformers import (
        BertTokenizer,
        ChineseCLIPConfig,
        ChineseCLIPImageProcessor,
        ChineseCLIPModel,
        ChineseCLIPProcessor,
    )

    out.mkdir(parents=True, exist_ok=True)
    vocab = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(string.ascii_lowercase)
             + ["##" + c for c in string.ascii_lowercase] + list(string.digits) + list(".,!?{}")
             + list("一张照片的猫狗红色方形蓝圆绿三角黄星马火箭咖啡相机宇航员是在上下左右大小两个"))
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, model_max_length=24)
    text = dict(TINY, vocab_size=len(tokenizer), max_position_embeddings=24, pad_token_id=0)
    torch.manual_seed(0)
    ChineseCLIPModel(ChineseCLIPConfig(text_config=text, vision_config=TINY_VISION,
                                       projection_dim=32)).save_pretrained(out)
    image_processor = ChineseCLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    ChineseCLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def family_dirs(tmp_path_factory, tiny_clip_dir) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("families")
    return {"clip": tiny_clip_dir, "siglip": build_tiny_siglip(root / "siglip"),
            "chinese_clip": build_tiny_chinese_clip(root / "chinese-clip"),
            "metaclip_2": build_tiny_metaclip2(root / "metaclip-2"),
            "siglip2": build_tiny_siglip2_naflex(root / "siglip2-naflex")}


FAMILY_CASES = {  # family -> (labels, template, sigmoid?)
    "clip": ("red square, blue circle, cat", "imagenet7", False),
    "siglip": ("red square, blue circle, cat", "imagenet7", True),
    "chinese_clip": ("猫, 狗, 红色方形", "一张{}的照片", False),
    "metaclip_2": ("red square, 红色, cat", "imagenet7", False),  # worldwide: one tokenizer for all languages
    "siglip2": ("red square, blue circle, cat", "imagenet7", True),
}


@pytest.mark.parametrize("family", list(FAMILY_CASES))
def test_each_family_loads_and_labels_through_the_engine(family, family_dirs):
    labels, template, sigmoid = FAMILY_CASES[family]
    loaded = load_model(str(family_dirs[family]), device="cpu", dtype="fp32")
    assert loaded.family == family
    assert loaded.uses_sigmoid is sigmoid
    assert loaded.image_size == 32 and loaded.n_params > 0  # NaFlex: 16 patches of 8 px make a 32 px square
    assert family in loaded.describe() and "fp32" in loaded.describe()
    images = [Image.new("RGB", (50, 40), "red"), Image.new("RGB", (30, 60), "blue")]
    result = zero_shot(Encoder(loaded), images, labels, template)
    assert result.probs.shape == (2, 3) and result.sigmoid is sigmoid
    assert np.all((result.probs > 0) & (result.probs < 1))
    if sigmoid:  # each label on its own: the row need not sum to 1
        assert not np.allclose(result.probs.sum(axis=1), 1.0)
    else:
        assert np.allclose(result.probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.abs(result.cosine), np.clip(np.abs(result.cosine), 0, 1 + 1e-5))


@pytest.mark.parametrize("family", list(FAMILY_CASES))
def test_engine_logits_equal_the_models_own_logits(family, family_dirs):
    """Same inputs through the engine and through model(**inputs): same logits, for every family."""
    loaded = load_model(str(family_dirs[family]), device="cpu", dtype="fp32")
    encoder = Encoder(loaded)
    texts = ["a photo of a cat.", "a red square", "猫"]
    images = [Image.new("RGB", (40, 40), c) for c in ("red", "green")]
    pixels, tokens = encoder.preprocess(images), encoder.tokenize(texts)
    if family == "siglip2":  # NaFlex pixels come with each picture's patch grid and padding mask
        assert set(pixels) == {"pixel_values", "pixel_attention_mask", "spatial_shapes"}
    with torch.inference_mode():
        inputs = pixels if isinstance(pixels, dict) else {"pixel_values": pixels}
        expected = loaded.model(**inputs, **tokens).logits_per_image.float().numpy()
    cosine = encoder.image_features_from_pixels(pixels).numpy() @ encoder.text_features_from_tokens(tokens).numpy().T
    np.testing.assert_allclose(encoder.logits(cosine), expected, atol=1e-5, rtol=1e-5)


def test_broken_two_token_tokenizer_is_detected(tiny_clip_dir, tmp_path):
    # What offline from_pretrained hands back for a model it has not got: a vocabulary of 2 tokens.
    broken = tmp_path / "broken"
    shutil.copytree(tiny_clip_dir, broken)
    (broken / "tokenizer.json").unlink()
    (broken / "vocab.json").write_text(json.dumps({"<|startoftext|>": 0, "<|endoftext|>": 1}))
    (broken / "merges.txt").write_text("#version: 0.2\n")
    with pytest.raises(ModelNotAvailable, match="tokenizer .* is broken"):
        load_model(str(broken), device="cpu", dtype="fp32")


def test_the_real_offline_trap_is_caught():
    from transformers import CLIPTokenizer

    try:
        tokenizer = CLIPTokenizer.from_pretrained("openai/clip-vit-base-patch32")
    except Exception:  # noqa: BLE001 - a transformers that raises here is fine too
        pytest.skip("this transformers raises instead of returning a 2-token vocabulary")
    if len(tokenizer) >= loading.MIN_VOCAB:
        pytest.skip("the real tokenizer is in the local cache")
    with pytest.raises(ModelNotAvailable, match="broken"):
        check_tokenizer(tokenizer, "openai/clip-vit-base-patch32")


def test_folder_without_weights_is_refused(tiny_clip_dir, tmp_path):
    folder = tmp_path / "no-weights"
    folder.mkdir()
    shutil.copy(tiny_clip_dir / "config.json", folder)
    with pytest.raises(ModelNotAvailable, match="no model weights"):
        load_model(str(folder))


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ModelNotAvailable, match="no config.json"):
        load_model(str(tmp_path))


def test_pickle_only_checkpoint_is_refused(tiny_clip_dir, tmp_path):
    folder = tmp_path / "pickle"
    shutil.copytree(tiny_clip_dir, folder)
    (folder / "model.safetensors").unlink()
    torch.save({"w": torch.zeros(1)}, folder / "pytorch_model.bin")
    with pytest.raises(ModelNotAvailable, match="safetensors weights only"):
        load_model(str(folder))


def test_unsupported_family_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelNotAvailable, match="'bert' model"):
        load_model(str(tmp_path))


def _never_reach_from_pretrained(monkeypatch):
    """Failing fast means refusing before transformers' loaders, which are what hang 20-200 s offline."""
    import transformers

    def hang(*args, **kwargs):
        raise AssertionError("from_pretrained was reached")

    for cls in (transformers.AutoConfig, transformers.AutoModel, transformers.AutoProcessor):
        monkeypatch.setattr(cls, "from_pretrained", hang)


def test_unknown_hub_id_fails_fast_offline(monkeypatch):
    _never_reach_from_pretrained(monkeypatch)
    with pytest.raises(ModelNotAvailable, match="python -m clipdemo download"):
        load_model("openai/clip-vit-base-patch16-not-here")


def test_unreachable_hub_fails_fast_without_the_offline_flag(monkeypatch):
    """No HF_HUB_OFFLINE and a dead network: a 2 s probe, not a 20-200 s hang in from_pretrained."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with socket.socket() as silent:  # accepts the connection, never answers: the worst kind of dead network
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        monkeypatch.setattr(loading, "HUB_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        _never_reach_from_pretrained(monkeypatch)
        timeouts = []
        real_urlopen = loading.urllib.request.urlopen

        def urlopen(request, timeout=None):
            timeouts.append(timeout)
            return real_urlopen(request, timeout=timeout)

        monkeypatch.setattr(loading.urllib.request, "urlopen", urlopen)
        with pytest.raises(ModelNotAvailable, match="cannot be reached"):
            resolve_source("someone/clip-that-is-not-cached")
        assert timeouts and all(t is not None and t <= 2 for t in timeouts)  # a bounded probe, then a refusal


def test_default_model_is_the_bundled_one_offline(monkeypatch):
    if loading.cached_locally(loading.DEFAULT_HUB_MODEL):
        pytest.skip("ViT-B/32 is in the local cache here")
    monkeypatch.setenv("CLIPDEMO_MODEL", "/some/folder")  # the app reads it (--model), not the engine
    assert loading.default_model_name() == loading.BUNDLED


def test_the_app_reads_the_model_and_training_settings_from_its_environment(monkeypatch):
    import app

    monkeypatch.setenv("CLIPDEMO_MODEL", "/some/folder")
    monkeypatch.setenv("CLIPDEMO_MAX_TRAININGS", "5")
    monkeypatch.setenv("CLIPDEMO_CACHE", "/tmp/somewhere")
    args = app.parse_args([])
    assert (args.model, args.max_trainings, args.cache_dir) == ("/some/folder", 5, "/tmp/somewhere")


def test_device_and_dtype_overrides(tiny_clip_dir):
    loaded = load_model(str(tiny_clip_dir), device="cpu", dtype="bf16")
    assert loaded.device.type == "cpu" and loaded.dtype == torch.bfloat16
    assert {p.dtype for p in loaded.model.parameters()} == {torch.bfloat16}
    result = zero_shot(Encoder(loaded), [Image.new("RGB", (32, 32), "red")], "red, blue")
    assert result.cosine.dtype == np.float32 and np.isfinite(result.probs).all()
    with pytest.raises(ValueError, match="unknown dtype"):
        load_model(str(tiny_clip_dir), device="cpu", dtype="fp8")


def test_bundled_model_loads_by_name():
    loaded = load_model("bundled", device="cpu", dtype="fp32")
    assert loaded.is_bundled and loaded.family == "clip"
    assert len(loaded.tokenizer) >= loading.MIN_VOCAB
