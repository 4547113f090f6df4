"""Request limits: each one refuses or cuts with a message saying which limit (clipdemo.core.limits)."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from clipdemo.core import limits
from clipdemo.core.images import ImageError, load_image


def _png(size, mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG")
    return buf.getvalue()


def _distinct_png(size, i: int, mode="1") -> bytes:
    image = Image.new(mode, size)
    image.putpixel((i, 0), 1)  # another file with the same claim: each one must be decoded and charged
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_pixels_are_counted_over_the_whole_request_not_per_file():
    files = [_distinct_png((4096, 4096), i) for i in range(3)]  # 16.8 MP claimed each, a few KB on disk
    with limits.request_scope(limits.RequestBudget(max_pixels=40_000_000)) as budget:
        load_image(files[0])
        load_image(files[1])
        with pytest.raises(ImageError, match="megapixels"):
            load_image(files[2])  # the third small file passes the request's limit
    assert budget.images == 2 and budget.refused
    load_image(files[2])  # outside a request only the per-image limit applies


def test_images_and_unpacked_bytes_per_request(tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.png")
        paths[-1].write_bytes(_distinct_png((8, 8), i, "RGB"))
    with limits.request_scope(limits.RequestBudget(max_images=2)):
        load_image(paths[0])
        load_image(paths[1])
        with pytest.raises(ImageError, match="at most 2 images"):
            load_image(paths[2])
    with limits.request_scope(limits.RequestBudget(max_bytes=sum(p.stat().st_size for p in paths[:2]) + 1)):
        load_image(paths[0])
        load_image(paths[1])
        with pytest.raises(ImageError, match="MB"):
            load_image(paths[2])


def test_a_picture_opened_again_in_one_request_is_decoded_and_charged_once(tmp_path, monkeypatch):
    from clipdemo.core import images

    path = tmp_path / "big.png"
    path.write_bytes(_distinct_png((4096, 4096), 0))
    decodes = []
    real = images._decode
    monkeypatch.setattr(images, "_decode", lambda *a: decodes.append(a[0]) or real(*a))
    with limits.request_scope(limits.RequestBudget(max_pixels=40_000_000)) as budget:
        first = load_image(path)
        for source in (path, str(path), path.read_bytes()):  # labelled, shown as the model sees it, checked...
            again = load_image(source)
            assert again.size == first.size and again is not first
    assert budget.images == 2 and budget.pixels == 2 * 4096 * 4096  # the path once, the same bytes once
    assert len(decodes) == 2
    with limits.request_scope(limits.RequestBudget()) as other:
        load_image(path)  # a new request decodes and charges it afresh: nothing is shared between requests
    assert other.images == 1 and len(decodes) == 3


def test_zip_members_count_against_the_request(tmp_path):
    import zipfile

    from clipdemo.data.gallery import user_gallery

    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(5):
            zf.writestr(f"{i}.png", _png((16, 16)))
    size = len(_png((16, 16)))
    with limits.request_scope(limits.RequestBudget(max_bytes=size * 7)):
        gallery = user_gallery([archive, archive])  # the second copy stops at the request's limit
    assert len(gallery.images) == 7
    assert any("stopped reading the zip" in n for n in gallery.notices)


def test_time_limit_stops_at_the_next_image():
    budget = limits.RequestBudget(max_seconds=0.01)
    budget.started -= 0.02  # the request began 20 ms ago: no sleeping, no timing
    with limits.request_scope(budget):
        with pytest.raises(ImageError, match="limit is 0 s"):
            load_image(_png((8, 8)))


def test_texts_are_cut_and_cleaned_before_tokenising():
    long = "a red circle " * 10_000
    assert len(limits.clean_text(long)) == limits.MAX_TEXT_CHARS
    assert limits.clean_text("red \ud800circle\x00") == "red \ufffdcircle"
    texts, notes = limits.clean_texts([long, "ok", "bad \udfff"])
    assert texts[1] == "ok" and len(notes) == 2 and "cut" in notes[0] and "replaced" in notes[1]


def test_tokenizer_never_sees_a_lone_surrogate_or_a_megabyte(bundled_encoder):
    emb = bundled_encoder.encode_texts(["red \ud800circle", "x" * 1_000_000])
    assert emb.shape[0] == 2
    assert bundled_encoder.count_tokens("y" * 1_000_000) <= limits.MAX_TEXT_CHARS + 2


def test_prompt_budget_cuts_labels_before_embedding(bundled_encoder, toy_images):
    from clipdemo.core.zeroshot import zero_shot

    labels = ", ".join(f"label {i} " + "z" * 900 for i in range(1000))
    result = zero_shot(bundled_encoder, [toy_images[0][0]], labels, "imagenet80")
    assert len(result.labels) * len(result.templates) <= limits.MAX_PROMPTS
    assert any("prompts" in n for n in result.notices) and any("cut" in n for n in result.notices)


def test_deeply_nested_and_nan_sessions_are_refused(tmp_path):
    from clipdemo.serve.exports import SessionError, read_session

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SessionError, match="nested too deeply"):
        read_session(deep)
    nan = tmp_path / "nan.json"
    nan.write_text('{"format": "clipdemo-session", "version": 1, "settings": {"temperature": NaN}}')
    with pytest.raises(SessionError, match="NaN"):
        read_session(nan)


def test_infinite_setting_is_not_a_number():
    from clipdemo.ui.exports import setting

    record = json.loads('{"settings": {"t": 1e999}}')
    with pytest.raises(ValueError, match="not a number"):
        setting(record, "t", lo=1, hi=100)


def test_heavy_work_goes_one_at_a_time_and_light_work_passes(monkeypatch):
    import threading

    monkeypatch.setattr(limits, "HEAVY_WAIT_S", 0.2)
    inside, release = threading.Event(), threading.Event()

    def first():
        with limits.heavy_work(True, "the first"):
            inside.set()
            release.wait(10)

    th = threading.Thread(target=first)
    th.start()
    try:
        assert inside.wait(10)
        with limits.heavy_work(False, "a plain call"):  # light work is never held up
            pass
        with pytest.raises(limits.LimitError, match="busy with another large request"):
            with limits.heavy_work(True, "the second"):
                pass
    finally:
        release.set()
        th.join()
    with limits.heavy_work(True, "the third"):  # the lane is free again
        pass


def test_work_for_a_visitor_who_left_stops_at_the_next_batch(bundled_encoder, toy_images):
    """Nobody will see the result: the encoder stops between batches once the budget says so."""
    gone = []
    budget = limits.RequestBudget(abandoned=lambda: bool(gone))
    with limits.request_scope(budget):
        bundled_encoder.image_cache.clear()
        bundled_encoder.encode_images([t[0] for t in toy_images[:2]])  # still here: done
        gone.append(True)
        bundled_encoder.image_cache.clear()
        with pytest.raises(limits.LimitError, match="has left"):
            bundled_encoder.encode_images([t[0] for t in toy_images[:2]])
        with pytest.raises(limits.LimitError, match="has left"):
            bundled_encoder.encode_texts(["a text nobody has embedded before: left"])
    assert budget.refused and "left" in budget.refused[-1]
