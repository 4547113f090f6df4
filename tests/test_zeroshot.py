import numpy as np
import pytest
import torch

from clipdemo.core.zeroshot import LabelError, class_embeddings, parse_labels, resolve_templates, zero_shot


def test_parse_labels_commas_lines_duplicates():
    parsed = parse_labels("cat, dog\n dog \n\n  red   circle ,")
    assert parsed.labels == ["cat", "dog", "red circle"]
    assert any("duplicate" in n for n in parsed.notices)


@pytest.mark.parametrize("text", ["", " , \n ,, ", "\n\n"])
def test_empty_labels_are_refused_clearly(text):
    with pytest.raises(LabelError, match="at least one label"):
        parse_labels(text)


def test_too_many_labels_are_capped_with_notice():
    parsed = parse_labels([f"label {i}" for i in range(1500)])
    assert len(parsed.labels) == 1000 and parsed.notices


def test_templates_named_and_custom():
    assert len(resolve_templates("imagenet80")) == 80
    assert resolve_templates("a drawing of a {}.\nart of the {}.") == ["a drawing of a {}.", "art of the {}."]
    with pytest.raises(LabelError):
        resolve_templates("no placeholder here")
    with pytest.raises(LabelError):
        resolve_templates("{} and {}")


def test_ensemble_is_renormalised_mean(tiny_encoder):
    templates = ["a photo of a {}.", "a drawing of a {}."]
    emb = class_embeddings(tiny_encoder, ["cat"], templates)[0]
    parts = tiny_encoder.encode_texts([t.format("cat") for t in templates])
    expected = parts.mean(0) / np.linalg.norm(parts.mean(0))
    assert np.allclose(emb, expected, atol=1e-6) and np.isclose(np.linalg.norm(emb), 1)


def test_engine_logits_equal_clipmodel_logits(tiny_encoder, toy_images):
    lm = tiny_encoder.loaded
    images = [x[0] for x in toy_images[:3]]
    texts = ["a red circle", "two blue squares", "a yellow star on the left"]
    inputs = lm.processor(text=texts, images=images, return_tensors="pt", padding=True)
    with torch.no_grad():
        reference = lm.model(**inputs).logits_per_image.numpy()
    result = zero_shot(tiny_encoder, images, texts, "bare")
    assert np.abs(tiny_encoder.logits(result.cosine) - reference).max() < 1e-5
    assert np.allclose(result.probs.sum(axis=1), 1, atol=1e-6)


def test_long_label_is_truncated_with_notice(tiny_encoder, toy_images):
    result = zero_shot(tiny_encoder, [toy_images[0][0]], ["circle", "word " * 2000], "single")
    assert any("truncated" in n for n in result.notices)
    assert len(result.labels) == 2 and np.isfinite(result.probs).all()


def test_label_ensembles_are_cached_per_label_and_template_set(tiny_encoder):
    templates = resolve_templates("imagenet7")
    first = class_embeddings(tiny_encoder, ["ensemble cat", "ensemble dog"], templates)
    calls = []
    original = tiny_encoder.encode_texts
    tiny_encoder.encode_texts = lambda texts: calls.append(len(texts)) or original(texts)
    try:
        again = class_embeddings(tiny_encoder, ["ensemble cat", "ensemble dog"], templates)
        other = class_embeddings(tiny_encoder, ["ensemble dog", "ensemble cat"], templates)
    finally:
        del tiny_encoder.encode_texts
    assert calls == [14]  # the repeat was served whole; a new label order is a new ensemble
    assert np.array_equal(first, again) and np.allclose(other, first[::-1], atol=1e-6)
    assert not again.flags.writeable  # shared between calls: nobody may change it in place


def test_mixed_language_labels_each_use_their_own_language_template(tiny_encoder, toy_images):
    images = [im for im, _, _ in toy_images[:2]]
    res = zero_shot(tiny_encoder, images, "红色圆形, blue square", "single")
    zh = class_embeddings(tiny_encoder, ["红色圆形"], ["一张{}的照片。"])
    en = class_embeddings(tiny_encoder, ["blue square"], ["a photo of a {}."])
    img = tiny_encoder.encode_images(images)
    assert np.allclose(res.cosine[:, 0], (img @ zh.T)[:, 0], atol=1e-5)
    assert np.allclose(res.cosine[:, 1], (img @ en.T)[:, 0], atol=1e-5)
    assert any("zh_single" in n for n in res.notices)
    # the Chinese set turns an English label to the English twin; a typed template is used as typed
    back = zero_shot(tiny_encoder, images[:1], "红色圆形, blue square", "zh_single")
    assert np.allclose(back.cosine, res.cosine[:1], atol=1e-5)
    typed = zero_shot(tiny_encoder, images[:1], "红色圆形, blue square", ["a photo of a {}."])
    assert not typed.notices and not np.allclose(typed.cosine[0, 0], res.cosine[0, 0], atol=1e-6)
