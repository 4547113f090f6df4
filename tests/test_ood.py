"""Out-of-world warning: the bundled toy model's real photos are flagged, its toy pictures never."""

from __future__ import annotations

import random

import pytest

from clipdemo.core import notices, toyworld
from clipdemo.core.images import load_image
from clipdemo.teach import ood
from clipdemo.ui import notices as notice_view
from clipdemo.ui.context import example_photos, example_toys
from clipdemo.ui.zeroshot import layout as zeroshot_tab


def test_photos_score_above_the_threshold_and_toys_below(bundled_encoder):
    loaded = bundled_encoder.loaded
    photos = [load_image(p) for p in example_photos()]
    rng = random.Random(2024)  # fresh toy pictures, not the reference set, at upload-like sizes
    toys = [load_image(p) for p in example_toys()] + \
        [toyworld.render(toyworld.sample_scene(rng), rng.choice((64, 224))) for _ in range(24)]
    photo_scores = ood.out_of_world(loaded, photos)
    toy_scores = ood.out_of_world(loaded, toys)
    assert len(photos) >= 5
    assert min(photo_scores) > ood.THRESHOLD, photo_scores
    assert max(toy_scores) < ood.THRESHOLD, toy_scores


def test_the_warning_shows_next_to_a_photo_result_and_not_a_toy_one(bundled_encoder):
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.ui.context import UIContext

    registry = ModelRegistry()
    registry.add("bundled", bundled_encoder.loaded)
    ctx = UIContext(registry)
    photo = next(p for p in example_photos() if p.endswith("chelsea.jpg"))
    *_, warning, _ = zeroshot_tab.classify(ctx, photo, "cat, dog, red circle", "single", "bundled")
    assert "unlike" in warning and "CLIP" in warning
    *_, warning, _ = zeroshot_tab.classify(ctx, example_toys()[0], "red circle, blue square", "single", "bundled")
    assert warning == ""


def test_the_check_applies_only_to_the_bundled_model(tiny_encoder):
    assert ood.out_of_world(tiny_encoder.loaded, [toyworld.render(toyworld.sample_scene(random.Random(0)), 32)]) \
        is None


@pytest.mark.parametrize("lang, word", [("zh-CN", "玩具"), ("en", "toy")])
def test_the_warning_speaks_the_visitors_language(bundled_encoder, lang, word):
    class Request:
        headers = {"accept-language": lang}

    photo = next(p for p in example_photos() if p.endswith("coffee.jpg"))
    scores = ood.out_of_world(bundled_encoder.loaded, [load_image(photo)])
    text = notice_view.warnings(notices.out_of_world(["coffee.jpg"], scores, ood.THRESHOLD), Request())
    assert word in text and "coffee.jpg" in text


def test_a_batch_of_photos_in_the_tab_is_warned_photo_by_photo(bundled_encoder, tmp_path):
    """The tab takes the service's notices: the pictures are decoded and charged once, so eight photos within a
    budget that holds them once are all named (the tab used to decode them again and lose the warning)."""
    from PIL import Image

    from clipdemo.core import limits
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.ui.context import UIContext

    registry = ModelRegistry()
    registry.add("bundled", bundled_encoder.loaded)
    ctx = UIContext(registry)
    paths = list(example_photos())
    for i, extra in enumerate(paths[:2]):
        copy = tmp_path / f"copy{i}.jpg"
        copy.write_bytes(open(extra, "rb").read())
        paths.append(str(copy))
    total = sum(Image.open(p).size[0] * Image.open(p).size[1] for p in paths)
    with limits.request_scope(limits.RequestBudget(max_pixels=int(total * 1.5))):
        _table, _csv, notes, _export = zeroshot_tab.classify_many(ctx, paths, "cat, dog", "single", "bundled")
    assert len(paths) == 8 and all(name in notes for name in [p.rsplit("/", 1)[-1] for p in paths]), notes
