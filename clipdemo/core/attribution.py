"""Which words of a text carry its match with a picture: the text side of an explanation.

Two measures, both in the units of the cosine similarity the model ranks by:

- gradient × input on the token embeddings: for each token, the gradient of the cosine with respect to
  its token embedding, dotted with that embedding. It is the first-order estimate of how much the cosine
  would drop if the token's embedding were zeroed, with every other token still in place (one backward pass;
  signed; words sum their tokens).
- leave-one-word-out: the cosine of the whole text minus the cosine of the text with that word deleted.
  Exact for that edit, but the edit changes the sentence (a new word order, a missing article), so it
  also measures how the model takes the shortened sentence.

Where both agree on a word, the word carries the match; where they disagree, the model's response is not
linear in that word and neither number should be read alone. Words are runs of letters or digits, each
punctuation mark, and each Chinese character (Chinese is not written with spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from clipdemo.core import limits
from clipdemo.core.backends.torch_backend import projected_features
from clipdemo.core.encoding import Encoder
from clipdemo.core.errors import InputError

WORD = re.compile(r"[\u4e00-\u9fff]|[^\W\u4e00-\u9fff]+(?:['’][^\W\u4e00-\u9fff]+)?|[^\w\s]")
GRADIENT = "gradient_x_input"
LEAVE_ONE_OUT = "leave_one_word_out"


@dataclass
class TokenAttribution:
    text: str
    tokens: list[str]  # the text's tokens as written (special tokens left out)
    attribution: list[float]  # gradient × input per token
    words: list[str]
    word_attribution: list[float]  # gradient × input, summed over each word's tokens
    word_leave_one_out: list[float]  # cosine(text) - cosine(text without the word)
    token_words: list[int]  # the word each token belongs to (-1: none)
    score: float  # cosine of the image with the whole text
    method: str
    notices: list[str] = field(default_factory=list)


def split_words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) in `text`."""
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


def without(text: str, start: int, end: int) -> str:
    """`text` with the span [start, end) deleted, spaces tidied."""
    return " ".join((text[:start] + " " + text[end:]).split())


def found_offsets(pieces: list[str], special: list[int], text: str) -> list[tuple[int, int]]:
    """Character spans of tokens, for tokenizers that do not report them (SentencePiece): each piece, its
    word-boundary marks removed, is looked for in the text after the previous one ((0, 0): not found)."""
    lower, cursor, out = text.lower(), 0, []
    for piece, sp in zip(pieces, special, strict=True):
        core = piece.replace("\u2581", "").replace("</w>", "").removeprefix("##").lower()
        at = lower.find(core, cursor) if core and not sp else -1
        if at < 0:
            out.append((0, 0))
            continue
        out.append((at, at + len(core)))
        cursor = at + len(core)
    return out


def _text_module(model) -> torch.nn.Module:
    """The token-embedding table of the text tower (CLIP and SigLIP: token_embedding; Chinese-CLIP's BERT:
    word_embeddings)."""
    emb = model.text_model.embeddings
    table = getattr(emb, "token_embedding", None) or getattr(emb, "word_embeddings", None)
    if table is None:
        raise InputError("word attribution is not available for this model's text tower")
    return table


def _gradient_x_input(encoder: Encoder, tokens: dict, image_emb: torch.Tensor) -> tuple[float, np.ndarray]:
    """(cosine, gradient × input per token position) for one tokenised text."""
    model = encoder.loaded.model
    kept: list[torch.Tensor] = []

    def keep(_module, _inputs, out):
        if not out.requires_grad:  # frozen weights: make the embedding itself the leaf to differentiate by
            out = out.detach().requires_grad_(True)
        kept.append(out)
        return out

    handle = _text_module(model).register_forward_hook(keep)
    try:
        with encoder.exclusive(), torch.enable_grad():
            feats = projected_features(model.get_text_features(**tokens)).float()
            score = torch.nn.functional.normalize(feats, dim=-1)[0] @ image_emb
            # autograd.grad, not backward: no .grad is left on the shared model's parameters
            (grad,) = torch.autograd.grad(score, kept[0])
    finally:
        handle.remove()
    per_token = (grad.float() * kept[0].detach().float()).sum(-1)[0]
    return float(score.detach()), per_token.cpu().numpy()


def token_attribution(encoder: Encoder, image: Image.Image, text: str) -> TokenAttribution:
    text = " ".join(limits.clean_text(text or "").split())
    if not text:
        raise InputError("Enter a text to explain, e.g. 'a red circle and a blue square'.")
    notices: list[str] = []
    words = split_words(text)
    if len(words) > limits.ATTRIBUTION_MAX_WORDS:
        notices.append(f"{len(words)} words given; leave-one-word-out covers the first {limits.ATTRIBUTION_MAX_WORDS}")
    lm = encoder.loaded
    image_emb = torch.from_numpy(encoder.encode_images([image])[0]).to(lm.device, torch.float32)
    tok = lm.tokenizer([text], padding="max_length" if lm.uses_sigmoid else True, truncation=True,
                       max_length=lm.max_text_length, return_tensors="pt", return_offsets_mapping=True,
                       return_special_tokens_mask=True)
    special = tok.pop("special_tokens_mask")[0].tolist()
    ids = tok["input_ids"][0].tolist()
    offsets = tok.pop("offset_mapping")[0].tolist() if "offset_mapping" in tok else \
        found_offsets(lm.tokenizer.convert_ids_to_tokens(ids), special, text)
    inputs = {k: v.to(lm.device) for k, v in tok.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    if encoder.count_tokens(text) > lm.max_text_length:
        notices.append(f"the text is longer than the model's {lm.max_text_length} tokens; the rest was not read")
    score, per_position = _gradient_x_input(encoder, inputs, image_emb)
    tokens, attribution, token_words = [], [], []
    word_attr = [0.0] * len(words)
    for pos, ((a, b), sp) in enumerate(zip(offsets, special, strict=True)):
        if sp or b <= a:
            continue
        w = next((i for i, (_, s, e) in enumerate(words) if s < b and a < e), -1)
        tokens.append(text[a:b])
        attribution.append(float(per_position[pos]))
        token_words.append(w)
        if w >= 0:
            word_attr[w] += float(per_position[pos])
    asked = words[:limits.ATTRIBUTION_MAX_WORDS]
    shortened = [without(text, s, e) for _, s, e in asked]
    emb = encoder.encode_texts([t or " " for t in shortened])
    image_np = image_emb.cpu().numpy()
    loo = [float(score - emb[i] @ image_np) for i in range(len(asked))] + [0.0] * (len(words) - len(asked))
    return TokenAttribution(text, tokens, attribution, [w for w, _, _ in words], word_attr, loo, token_words,
                            score, GRADIENT, notices)
