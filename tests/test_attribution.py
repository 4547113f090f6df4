"""Which words carry the match: word splitting, the two measures on the bundled model, and any family's tokenizer."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

from clipdemo.core import attribution, toyworld
from clipdemo.core.errors import InputError


def _picture(colour: str, shape: str, seed: int = 0):
    scene = toyworld.sample_scene(random.Random(seed), kind="single", combos=[(colour, shape)])
    return toyworld.render(scene, 96)


def test_words_are_letter_runs_punctuation_and_chinese_characters():
    assert [w for w, _, _ in attribution.split_words("a red circle, and 2 don't.")] == \
        ["a", "red", "circle", ",", "and", "2", "don't", "."]
    assert [w for w, _, _ in attribution.split_words("红色圆形")] == ["红", "色", "圆", "形"]
    assert attribution.without("a red  circle", 2, 5) == "a circle"


def test_present_words_outweigh_absent_ones_on_the_bundled_model(bundled_encoder):
    r = attribution.token_attribution(bundled_encoder, _picture("red", "circle"), "a red circle and a blue square")
    assert r.words == ["a", "red", "circle", "and", "a", "blue", "square"]
    for values in (r.word_attribution, r.word_leave_one_out):
        assert min(values[1], values[2]) > max(values[5], values[6]), values
    swapped = attribution.token_attribution(bundled_encoder, _picture("blue", "square"),
                                            "a red circle and a blue square")
    assert min(swapped.word_leave_one_out[5:7]) > max(swapped.word_leave_one_out[1:3])


def test_score_is_the_cosine_and_words_sum_their_tokens(bundled_encoder):
    image, text = _picture("green", "star", 4), "a green star."
    r = attribution.token_attribution(bundled_encoder, image, text)
    cosine = float(bundled_encoder.encode_images([image])[0] @ bundled_encoder.encode_texts([text])[0])
    assert r.score == pytest.approx(cosine, abs=1e-4)
    for w in range(len(r.words)):
        assert r.word_attribution[w] == pytest.approx(sum(a for a, tw in zip(r.attribution, r.token_words) if tw == w))
    # leave-one-word-out is exactly the cosine drop of the shortened text
    short = float(bundled_encoder.encode_images([image])[0] @ bundled_encoder.encode_texts(["a star."])[0])
    assert r.word_leave_one_out[1] == pytest.approx(cosine - short, abs=1e-4)


def test_no_gradient_is_left_on_the_shared_model(bundled_encoder):
    attribution.token_attribution(bundled_encoder, _picture("red", "heart"), "a red heart")
    assert all(p.grad is None for p in bundled_encoder.loaded.model.parameters())


def test_an_empty_text_is_a_user_error(bundled_encoder):
    with pytest.raises(InputError, match="Enter a text"):
        attribution.token_attribution(bundled_encoder, _picture("red", "heart"), "   ")


@pytest.mark.parametrize("family", ["siglip", "chinese_clip"])
def test_other_families_tokenizers_map_tokens_to_words(family, tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_loading import build_tiny_chinese_clip, build_tiny_siglip

    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    build = build_tiny_siglip if family == "siglip" else build_tiny_chinese_clip
    encoder = Encoder(load_model(str(build(tmp_path / family)), device="cpu", dtype="fp32"))
    text = "a photo of a red circle" if family == "siglip" else "红色圆形"
    r = attribution.token_attribution(encoder, _picture("red", "circle"), text)
    assert r.words and len(r.word_attribution) == len(r.words) == len(r.word_leave_one_out)
    assert r.tokens and all(0 <= w < len(r.words) for w in r.token_words)
    assert np.isfinite(r.attribution).all() and any(a != 0 for a in r.attribution)


def test_offsets_are_found_for_tokenizers_that_do_not_report_them():
    pieces = ["\u2581a", "\u2581red", "\u2581cir", "cle", "</s>"]
    assert attribution.found_offsets(pieces, [0, 0, 0, 0, 1], "A red circle") == [(0, 1), (2, 5), (6, 9), (9, 12),
                                                                                  (0, 0)]
