"""Tiny random-weight checkpoints of the 2025 families, in their published layouts, built offline in seconds.

- MetaCLIP 2 (worldwide): `MetaClip2Model`, CLIP's architecture with an XLM-RoBERTa (SentencePiece unigram)
  tokenizer and a CLIP image processor (resize the short side, centre crop); scored with a softmax.
- SigLIP 2 NaFlex: `Siglip2Model`, whose image processor cuts each picture at its own aspect ratio into at
  most `max_num_patches` patches (a variable grid, `spatial_shapes`, padded with `pixel_attention_mask`);
  a Gemma-style BPE tokenizer; scored with a sigmoid.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch

TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
WORDS = ("a photo of the cat dog red square blue circle green triangle yellow star astronaut horse rocket "
         "coffee camera there is are two left right").split()
# Enough pieces that the loader's broken-tokenizer check (at least 100 tokens) passes, as a real vocabulary would.
CHARACTERS = list(string.ascii_lowercase) + list(string.digits) + list(".,!?'-") + list("一张照片的猫狗红色方形蓝圆绿三角黄星")


def build_tiny_metaclip2(out: Path) -> Path:
    from transformers import CLIPImageProcessor, CLIPProcessor, MetaClip2Config, MetaClip2Model, XLMRobertaTokenizer

    out.mkdir(parents=True, exist_ok=True)
    vocab = ([("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [("▁" + w, -2.0) for w in WORDS]
             + [(c, -6.0) for c in CHARACTERS] + [("▁" + c, -7.0) for c in string.ascii_lowercase]
             + [("▁", -8.0), ("<mask>", 0.0)])
    tokenizer = XLMRobertaTokenizer(vocab=vocab, model_max_length=16)
    text = dict(TINY, vocab_size=len(tokenizer), max_position_embeddings=16, bos_token_id=0, pad_token_id=1,
                eos_token_id=2)
    torch.manual_seed(0)
    config = MetaClip2Config(text_config=text, vision_config=dict(TINY, image_size=32, patch_size=8),
                             projection_dim=32)
    MetaClip2Model(config).save_pretrained(out)
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


def build_tiny_siglip2_naflex(out: Path, patch: int = 8, max_num_patches: int = 16) -> Path:
    from transformers import Siglip2Config, Siglip2ImageProcessor, Siglip2Model, Siglip2Processor, Siglip2Tokenizer

    out.mkdir(parents=True, exist_ok=True)
    pieces = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "▁"] + ["▁" + w for w in WORDS] + CHARACTERS
    pieces += [f"<0x{b:02X}>" for b in range(256) if f"<0x{b:02X}>" not in pieces]  # byte fallback
    tokenizer = Siglip2Tokenizer(vocab={p: i for i, p in enumerate(pieces)}, merges=[], model_max_length=16)
    text = dict(TINY, vocab_size=len(tokenizer), max_position_embeddings=16, projection_size=32, pad_token_id=0,
                eos_token_id=1, bos_token_id=2)
    vision = dict(TINY, patch_size=patch, num_patches=max_num_patches)
    torch.manual_seed(0)
    Siglip2Model(Siglip2Config(text_config=text, vision_config=vision)).save_pretrained(out)
    image_processor = Siglip2ImageProcessor(patch_size=patch, max_num_patches=max_num_patches)
    Siglip2Processor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out
