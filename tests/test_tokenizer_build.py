"""The Chinese extension of the bundled CLIP BPE: character tokens, English untouched."""

import json

import pytest

from clipdemo.core import toyworld
from clipdemo.core.loading import BUNDLED_MODEL_DIR
from clipdemo.core.templates import IMAGENET_TEMPLATES, ZH_TEMPLATES
from clipdemo.training.tokenizer_build import (
    chinese_charset,
    chinese_merges,
    extend_with_chinese,
    read_tokenizer_files,
    save_tokenizer,
    write_bilingual_tokenizer,
)

ENGLISH = [t.format(w) for t in IMAGENET_TEMPLATES[:20] for w in ("red circle", "crescent", "café naïve", "cat")]
ENGLISH += ["a small blue square on the left", "two large pink crosses", "Ünïcödé façade, 3 dogs!"]


@pytest.fixture(scope="module")
def base_and_extended(tmp_path_factory):
    """The bundled tokenizer with Chinese tokens removed (the English-only base), and that base extended."""
    vocab, merges = read_tokenizer_files(BUNDLED_MODEL_DIR)
    zh = set(chinese_merges(chinese_charset()))
    base_merges = [m for m in merges if m not in zh]
    n_base = min(i for t, i in vocab.items() if t == "<|endoftext|>") + 1
    base_vocab = {t: i for t, i in vocab.items() if i < n_base}
    base = save_tokenizer(tmp_path_factory.mktemp("base"), base_vocab, base_merges)
    out = tmp_path_factory.mktemp("ext")
    (out / "vocab.json").write_text(json.dumps(base_vocab))
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(base_merges) + "\n")
    return base, write_bilingual_tokenizer(out, out), out


def test_english_ids_and_splits_unchanged(base_and_extended):
    base, ext, _ = base_and_extended
    assert base(ENGLISH).input_ids == ext(ENGLISH).input_ids
    ext_vocab, base_vocab = ext.get_vocab(), base.get_vocab()
    assert all(ext_vocab[t] == i for t, i in base_vocab.items())
    assert len(ext_vocab) > len(base_vocab) + 2 * 400  # "X" and "X</w>" for each of ~500 characters


def test_chinese_characters_are_single_tokens(base_and_extended):
    base, ext, _ = base_and_extended
    text = "一张红色圆形的照片。"
    tokens = ext.tokenize(text)
    assert len(tokens) == len(text)  # one token per character (and one for 。)
    assert tokens[-2].endswith("</w>")  # 片 ends the CJK "word"; 。 is its own word
    assert len(base.tokenize(text)) > 2 * len(text)  # before: byte pieces
    n_base = len(base)
    ids = ext(text).input_ids[1:-1]
    assert all(i >= n_base for i in ids)


def test_every_character_the_toy_world_writes_is_a_token(base_and_extended):
    import random

    _, ext, _ = base_and_extended
    rng = random.Random(0)
    captions = [toyworld.zh_training_caption(toyworld.sample_scene(rng), rng, ZH_TEMPLATES) for _ in range(300)]
    captions += [toyworld.zh_full_caption(toyworld.sample_scene(rng)) for _ in range(100)] + list(ZH_TEMPLATES)
    for caption in captions:
        cjk = [ch for ch in caption if len(ch.encode()) == 3]
        pieces = [t for t in ext.tokenize(caption.replace("{}", "")) if not t.isascii()]
        assert len(pieces) == len(cjk), caption


def test_unlisted_character_falls_back_to_bytes(base_and_extended):
    _, ext, _ = base_and_extended
    rare = "龘"
    assert rare not in chinese_charset()
    assert len(ext.tokenize(rare)) >= 2


def test_extension_is_idempotent(base_and_extended):
    _, _, folder = base_and_extended
    vocab, merges = read_tokenizer_files(folder)
    again_vocab, again_merges = extend_with_chinese(vocab, merges, chinese_charset())
    assert again_vocab == vocab and again_merges == merges


def test_saved_folder_loads_the_same_in_slow_fast_and_auto(base_and_extended):
    from transformers import AutoTokenizer, CLIPTokenizer, CLIPTokenizerFast

    _, ext, folder = base_and_extended
    ext.save_pretrained(folder)  # as save_checkpoint does: tokenizer.json beside vocab.json/merges.txt
    text = ["一张红色圆形的照片。", "a photo of a red circle.", "左边有一个小的红色圆形 and a cat"]
    expected = ext(text).input_ids
    for cls in (CLIPTokenizer, CLIPTokenizerFast, AutoTokenizer):
        assert cls.from_pretrained(folder)(text).input_ids == expected, cls


def test_bundled_model_reads_chinese_as_characters():
    """The shipped tokenizer (tokenizer.json, used by AutoProcessor/CLIPProcessor) has the Chinese tokens."""
    from transformers import AutoProcessor, CLIPProcessor

    for cls in (AutoProcessor, CLIPProcessor):
        tok = cls.from_pretrained(BUNDLED_MODEL_DIR).tokenizer
        assert len(tok.tokenize("一张红色圆形的照片。")) == 10
        assert tok("a photo of a red circle.").input_ids == [8512, 320, 1125, 539, 320, 736, 7117, 269, 8513]
