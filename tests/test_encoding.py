import numpy as np
import torch
from PIL import Image

from clipdemo.core.cache import LRUCache
from clipdemo.core.encoding import Encoder, image_key


def test_embeddings_are_unit_vectors(tiny_encoder, toy_images):
    imgs = tiny_encoder.encode_images([x[0] for x in toy_images])
    txts = tiny_encoder.encode_texts(["a red circle", "two blue squares"])
    assert imgs.shape == (6, tiny_encoder.dim) and txts.shape == (2, tiny_encoder.dim)
    assert np.allclose(np.linalg.norm(imgs, axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(txts, axis=1), 1, atol=1e-5)


def test_batching_does_not_change_results(tiny_clip_dir, toy_images):
    from clipdemo.core.loading import load_model

    lm = load_model(str(tiny_clip_dir), device="cpu", dtype="fp32")
    images = [x[0] for x in toy_images]
    a = Encoder(lm, batch_size=1).encode_images(images)
    b = Encoder(lm, batch_size=4).encode_images(images)
    assert np.allclose(a, b, atol=1e-5)


def test_caches_prevent_re_encoding(tiny_clip_dir, toy_images):
    from clipdemo.core.loading import load_model

    enc = Encoder(load_model(str(tiny_clip_dir), device="cpu", dtype="fp32"))
    calls = []
    original = enc.image_features_from_pixels
    enc.image_features_from_pixels = lambda px: calls.append(len(px)) or original(px)
    images = [x[0] for x in toy_images[:3]]
    first = enc.encode_images(images)
    second = enc.encode_images(list(reversed(images)))
    assert calls == [3]  # the second call was served from the cache
    assert np.allclose(first[::-1], second)
    enc.encode_texts(["a", "b"])
    hits = enc.text_cache.hits
    enc.encode_texts(["b", "a"])
    assert enc.text_cache.hits == hits + 2


def test_image_key_depends_on_pixels_not_identity():
    a = Image.new("RGB", (8, 8), (1, 2, 3))
    b = Image.new("RGB", (8, 8), (1, 2, 3))
    c = Image.new("RGB", (8, 8), (1, 2, 4))
    assert image_key(a) == image_key(b) != image_key(c)


def test_lru_cache_is_bounded():
    cache = LRUCache(2)
    for k in "abc":
        cache.put(k, k)
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c") == "c"


def test_model_view_is_model_sized(tiny_encoder):
    view = tiny_encoder.model_view(Image.new("RGB", (300, 120), (200, 10, 10)))
    assert view.size == (tiny_encoder.loaded.image_size,) * 2
    assert np.asarray(view)[..., 0].mean() > 150  # colours survive the round trip


def test_softmax_probabilities_sum_to_one(tiny_encoder):
    cos = np.array([[0.1, 0.3, 0.2]])
    p = tiny_encoder.probabilities(cos)
    assert np.isclose(p.sum(), 1) and p.argmax() == 1
    sharper = tiny_encoder.probabilities(cos, logit_scale=100.0)
    assert sharper.max() > p.max()


def test_length_sorted_text_batches_keep_order_and_values(tiny_clip_dir):
    from clipdemo.core.loading import load_model

    lm = load_model(str(tiny_clip_dir), device="cpu", dtype="fp32")
    # 300 texts of 1 to 12 words, long and short interleaved: more than one sorted batch.
    texts = [" ".join(["red", "circle", "blue", "square"][: 1 + i % 4] * (1 + i % 3)) + f" {i}" for i in range(300)]
    enc = Encoder(lm, text_cache=1)
    chunks = enc._length_sorted_chunks(texts)
    assert len(chunks) > 1 and sorted(t for c in chunks for t in c) == sorted(texts)
    lengths = [[len(lm.tokenizer(t)["input_ids"]) for t in c] for c in chunks]
    assert all(max(a) <= min(b) for a, b in zip(lengths, lengths[1:]))  # each batch holds similar lengths
    batched = enc.encode_texts(texts)
    one_by_one = np.stack([Encoder(lm, text_cache=1).encode_texts([t])[0] for t in texts[::29]])
    assert np.allclose(batched[::29], one_by_one, atol=1e-5)


def test_threaded_preprocessing_equals_one_call_in_order(tiny_encoder):
    from clipdemo.core.encoding import _slices

    assert _slices(list(range(10)), 4, 4) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert _slices(list(range(3)), 4, 4) == [[0, 1, 2]]
    assert _slices([], 4, 4) == [[]]
    images = [Image.new("RGB", (40 + 7 * i, 30 + 3 * i), (i * 8, 255 - i * 8, 100)) for i in range(30)]
    threaded = tiny_encoder.preprocess(images)
    single = tiny_encoder.loaded.processor.image_processor(images=images, return_tensors="pt")["pixel_values"]
    assert threaded.shape == single.shape and torch.equal(threaded, single.to(threaded.dtype))


def test_one_cache_helper_keeps_order_counts_and_reports_evictions():
    from clipdemo.core.cache import LRUCache

    cache = LRUCache(2)
    assert cache.put("a", 1) == [] and cache.put("b", 2) == []
    assert cache.get("a") == 1  # a is now the most recent: b goes first
    assert cache.put("c", 3) == ["b"] and cache.keys() == ["a", "c"]
    assert cache.peek("a") == 1 and cache.keys() == ["a", "c"]  # peek does not reorder
    assert cache.get("zz", "none") == "none" and (cache.hits, cache.misses) == (1, 1)


def test_the_registry_keeps_at_most_max_models(tiny_clip_dir):
    from clipdemo.core.loading import load_model
    from clipdemo.core.registry import ModelRegistry

    registry = ModelRegistry(str(tiny_clip_dir), device="cpu", dtype="fp32", max_models=1)
    first = registry.get()
    registry.add("trained", load_model(str(tiny_clip_dir), "cpu", "fp32"))
    assert registry.loaded_names() == ["trained"] and registry.peek(str(tiny_clip_dir)) is None
    assert first.encode_texts(["a red circle"]).shape[0] == 1  # an evicted encoder still serves its request


def test_encode_stream_gives_encode_images_vectors_in_order_and_skips_bad_items(tiny_clip_dir, toy_images):
    from clipdemo.core.images import ImageError
    from clipdemo.core.loading import load_model

    enc = Encoder(load_model(str(tiny_clip_dir), device="cpu", dtype="fp32"), batch_size=2)
    images = [x[0] for x in toy_images]
    expected = enc.encode_images(images)

    def load(i):
        if i == 3:
            raise ImageError("picture 3: damaged")
        return images[i]

    batches = list(enc.encode_stream(range(len(images)), load))
    assert [b.items for b in batches] == [[0, 1], [2], [4, 5]]
    assert [s for b in batches for s in b.skipped] == ["picture 3: damaged"]
    got = np.concatenate([b.vectors for b in batches])
    assert np.allclose(got, expected[[0, 1, 2, 4, 5]], atol=1e-5)
