"""Video search (clipdemo/data/video.py and ClipService.video_search): a generated toy-world video whose red circle is
on screen from 4 s to 6 s is found there, in English and in Chinese; bad videos get a clear message."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from clipdemo.core import limits
from clipdemo.core.errors import InputError
from clipdemo.core.registry import ModelRegistry
from clipdemo.data import video
from clipdemo.serve.service import ClipService


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return video.toy_video(tmp_path_factory.mktemp("video") / "toy.mp4")


@pytest.fixture(scope="module")
def service():
    return ClipService(ModelRegistry("bundled", device="cpu", dtype="fp32", backend="torch"))


def _write(path, frames: int, size: tuple[int, int], rate: Fraction, codec: str = "mpeg4"):
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            img = Image.new("RGB", size, (30 * i % 255, 90, 160))
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_sampling_follows_the_asked_rate_and_shrinks_frames(toy):
    s = video.sample_frames(toy, fps=2.0)
    assert s.duration == pytest.approx(10.0, abs=0.2)
    assert s.times == pytest.approx([k * 0.5 for k in range(20)], abs=0.07)
    assert all(max(f.size) <= video.THUMB_SIDE for f in s.frames) and s.notices == []
    assert len(video.sample_frames(toy, fps=1.0).frames) == 10


def test_the_toy_video_draws_its_script():
    frame = np.asarray(video.toy_frame(5.0), np.int32)  # the red circle's two seconds
    red = (frame[..., 0] > 180) & (frame[..., 1] < 80) & (frame[..., 2] < 80)
    assert red.mean() > 0.05
    bare = np.asarray(video.toy_frame(5.0, script=()), np.int32)
    assert ((bare[..., 0] > 180) & (bare[..., 1] < 80)).mean() == 0


def test_rate_past_the_limits_is_clipped_with_a_notice(toy, monkeypatch):
    s = video.sample_frames(toy, fps=100)
    assert s.fps == limits.MAX_VIDEO_FPS and "used" in s.notices[0]
    monkeypatch.setattr(limits, "MAX_VIDEO_FRAMES", 10)
    s = video.sample_frames(toy, fps=4)
    assert len(s.frames) <= 10 and s.fps == pytest.approx(1.0, abs=0.05)
    assert any("frames one request embeds" in n for n in s.notices)


def test_moments_are_runs_above_halfway_from_median_to_best():
    scores = np.array([0.1, 0.1, 0.12, 0.5, 0.6, 0.55, 0.1, 0.1, 0.4, 0.1])
    found = video.moments(np.arange(10) * 0.5, scores, step=0.5)
    assert [(m.start, m.end, m.peak_time) for m in found] == [(1.5, 3.0, 2.0), (4.0, 4.5, 4.0)]
    assert found[0].score == pytest.approx(0.6)


@pytest.mark.parametrize("query", ["a red circle", "红色圆形"])
def test_the_red_circle_is_found_at_4_to_6_seconds(service, toy, query):
    r = service.video_search(toy, query, fps=2.0, model="bundled")
    assert 4.0 <= r.best_time < 6.0
    best = r.moments[0]
    assert best["start"] >= 3.9 and best["end"] <= 6.1 and best["end"] - best["start"] >= 1.0
    inside = [s for t, s in zip(r.times, r.scores[0], strict=True) if 4 <= t < 6]
    outside = [s for t, s in zip(r.times, r.scores[0], strict=True) if not 4 <= t < 6]
    assert min(inside) > max(outside) and min(inside) > r.baseline[0] + 0.2
    assert len(r.moment_frames) == len(r.moments)
    assert "moment_frames" not in r.to_json() and r.to_json()["best_time"] == r.best_time


def test_several_queries_give_several_curves_and_a_picture_query(service, toy):
    r = service.video_search(toy, "a red circle\na yellow star", fps=2.0, model="bundled")
    assert r.queries == ["a red circle", "a yellow star"] and len(r.scores) == 2
    star = next(m for m in r.moments if m["query"] == 1)
    assert 2.0 <= star["peak_time"] < 4.0
    picture = video.toy_frame(1.0)  # a frame of the blue square's two seconds
    r = service.video_search(toy, "", query_image=picture, fps=2.0, model="bundled")
    assert r.queries == ["image 1"] and 0 <= r.best_time < 2.0


def test_not_a_video_is_a_clear_message(service, tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    with pytest.raises(InputError, match="not a video"):
        service.video_search(text, "a red circle", model="bundled")
    png = tmp_path / "picture.png"
    Image.new("RGB", (32, 32)).save(png)
    with pytest.raises(InputError, match="video"):
        video.sample_frames(png)


def test_a_video_without_frames_is_a_clear_message(tmp_path):
    empty = tmp_path / "empty.mkv"
    with av.open(str(empty), mode="w") as out:  # a header and a video stream, no frame
        stream = out.add_stream("mpeg4", rate=Fraction(8))
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        out.start_encoding()
    with pytest.raises(InputError, match="has no frames to search"):
        video.sample_frames(empty)


def test_a_4k_video_is_refused_before_decoding(tmp_path):
    big = _write(tmp_path / "4k.mp4", 1, (3840, 2160), Fraction(25))
    with pytest.raises(limits.LimitError, match="3840×2160 are too large"):
        video.sample_frames(big)


def test_an_hour_long_video_is_refused(tmp_path):
    hour = _write(tmp_path / "hour.mp4", 10, (64, 64), Fraction(1, 360))  # one frame every 6 minutes
    with pytest.raises(limits.LimitError, match="60 min long; one request takes at most 15 min"):
        video.sample_frames(hour)


def test_a_query_is_needed_and_fps_must_be_a_number(service, toy):
    with pytest.raises(InputError, match="what to look for"):
        service.video_search(toy, "  \n ", model="bundled")
    with pytest.raises(InputError, match="fps"):
        video.sample_frames(toy, fps="fast")


def test_decoding_is_charged_to_the_request_budget(toy):
    with limits.request_scope(limits.RequestBudget(max_bytes=10)), pytest.raises(limits.LimitError, match="MB"):
        video.sample_frames(toy)
