"""Find the moment in a video: sample frames, embed them, and score every frame against text or picture queries.

PyAV (FFmpeg in its wheels) decodes. Frames are taken at a bounded rate (`fps`, at most limits.MAX_VIDEO_FPS and
limits.MAX_VIDEO_FRAMES frames over the whole video) and downscaled as they are decoded, so memory follows the
number of samples, not the video. Each query gives one curve: the cosine of every sampled frame with the query,
the number CLIP ranks by. A *moment* is a run of consecutive frames above the curve's threshold, halfway between
the video's median frame (what an unrelated frame scores) and its best one; moments are ranked by their peak.

`toy_video` writes the offline example: toy-world shapes that come and go, a red circle from 4 s to 6 s.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from clipdemo.core import limits, toyworld
from clipdemo.core.encoding import Encoder
from clipdemo.core.errors import InputError

THUMB_SIDE = 256  # frames are kept at most this big: the models see <= 384 px, the thumbnails less
MAX_MOMENTS = 5  # per query
THRESHOLD_SHARE = 0.5  # a moment's frames score above median + this share of (best - median)


class VideoError(InputError):
    """A file that cannot be searched as a video; the message says why."""


@dataclass
class SampledVideo:
    frames: list[Image.Image]  # at most THUMB_SIDE a side
    times: list[float]  # seconds, one per frame
    duration: float  # seconds
    fps: float  # the sampling rate used
    size: tuple[int, int]  # the stream's width, height
    notices: list[str] = field(default_factory=list)


@dataclass
class Moment:
    query: int  # which query's curve
    start: float  # seconds
    end: float
    score: float  # the peak cosine in the run
    peak_time: float
    peak_frame: int


@dataclass
class VideoTimeline:
    queries: list[str]
    times: list[float]
    scores: np.ndarray  # [query, frame] cosine
    baseline: list[float]  # per query, the median frame's cosine: what an unrelated frame scores here
    moments: list[Moment]  # best first within each query, queries in order
    sample: SampledVideo

    @property
    def best_frame(self) -> int:
        return int(np.argmax(self.scores[0]))


def _fail(name: str, why: str) -> VideoError:
    return VideoError(f"{name}: {why}")


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # av.time_base
    if stream.frames and stream.average_rate:
        return stream.frames / float(stream.average_rate)
    return None


def sample_frames(path: str | os.PathLike, fps: float = 2.0, name: str | None = None) -> SampledVideo:
    """Decode `path` and keep one frame every 1/fps seconds (the rate lowered, with a notice, so the whole video
    fits limits.MAX_VIDEO_FRAMES). Refuses what is not a video, has no frames, or is past the limits."""
    name = name or Path(path).name
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise InputError(f"fps must be a number (got {fps!r})") from None
    if not math.isfinite(fps) or fps <= 0:
        raise InputError(f"fps must be above 0 (got {fps})")
    notices = []
    if fps > limits.MAX_VIDEO_FPS or fps < limits.MIN_VIDEO_FPS:
        clipped = min(max(fps, limits.MIN_VIDEO_FPS), limits.MAX_VIDEO_FPS)
        notices.append(f"{fps:g} frames per second asked; {clipped:g} used (the range is "
                       f"{limits.MIN_VIDEO_FPS:g}-{limits.MAX_VIDEO_FPS:g})")
        fps = clipped
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise _fail(name, f"cannot be read ({e.strerror or e})") from e
    limits.charge_bytes(name, size)
    try:
        container = av.open(str(path), mode="r")
    except av.error.EOFError as e:
        raise _fail(name, "has no frames to search (it ends before the first one; was it cut short?)") from e
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise _fail(name, "is not a video FFmpeg can read (try MP4 with H.264, WebM or MOV)") from e
    with container:
        if container.format.name == "image2" or container.format.name.endswith("_pipe"):  # FFmpeg reads a
            raise _fail(name, "is a picture, not a video (search pictures in the Map tab)")  # still as 1 frame
        if not container.streams.video:
            raise _fail(name, "holds no video stream (is it audio only, or a picture?)")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
        if width * height > limits.MAX_VIDEO_FRAME_PIXELS:
            raise limits.LimitError(f"{name}: frames of {width}×{height} are too large; one request takes frames "
                                    f"of at most {limits.MAX_VIDEO_FRAME_PIXELS / 1e6:.1f} megapixels (1080p). "
                                    "Scale the video down first, e.g. ffmpeg -i in.mp4 -vf scale=-2:720 out.mp4")
        duration = _duration(container, stream)
        if duration is not None and duration > limits.MAX_VIDEO_SECONDS:
            raise limits.LimitError(f"{name}: the video is {duration / 60:.0f} min long; one request takes at most "
                                    f"{limits.MAX_VIDEO_SECONDS / 60:.0f} min. Cut the part you want first, e.g. "
                                    "ffmpeg -ss 0 -t 600 -i in.mp4 -c copy part.mp4")
        if duration and duration * fps > limits.MAX_VIDEO_FRAMES:
            lower = limits.MAX_VIDEO_FRAMES / duration
            notices.append(f"{duration:.0f} s at {fps:g} frames per second is more than the {limits.MAX_VIDEO_FRAMES} "
                           f"frames one request embeds; {lower:.2f} frames per second used")
            fps = lower
        stream.thread_type = "AUTO"
        frames, times = [], []
        next_t, step = 0.0, 1.0 / fps
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if frame.time + 1e-6 < next_t:
                    continue
                if len(frames) >= limits.MAX_VIDEO_FRAMES or frame.time > limits.MAX_VIDEO_SECONDS:
                    notices.append(f"only the first {len(frames)} sampled frames were used "
                                   f"({limits.MAX_VIDEO_FRAMES} frames, {limits.MAX_VIDEO_SECONDS / 60:.0f} min at most)")
                    break
                limits.check_time()
                scale = min(1.0, THUMB_SIDE / max(frame.width, frame.height))
                frames.append(frame.to_image(width=max(1, round(frame.width * scale)),
                                             height=max(1, round(frame.height * scale))))
                times.append(round(float(frame.time), 3))
                next_t = frame.time + step - 1e-6 if frame.time >= next_t + step else next_t + step
        except av.error.FFmpegError as e:
            if not frames:
                raise _fail(name, f"could not be decoded ({e.strerror or type(e).__name__})") from e
            notices.append(f"decoding stopped at {times[-1]:.1f} s (the file is damaged after that point)")
    if not frames:
        raise _fail(name, "has no frames to search")
    return SampledVideo(frames, times, duration if duration is not None else times[-1], fps, (width, height), notices)


def moments(times: Sequence[float], scores: np.ndarray, step: float, query: int = 0,
            top: int = MAX_MOMENTS) -> list[Moment]:
    """Runs of consecutive frames above median + THRESHOLD_SHARE x (best - median), best peak first."""
    s = np.asarray(scores, np.float64)
    median, best = float(np.median(s)), float(s.max())
    above = s >= median + THRESHOLD_SHARE * (best - median)
    runs, i = [], 0
    while i < len(s):
        if above[i]:
            j = i
            while j + 1 < len(s) and above[j + 1]:
                j += 1
            peak = i + int(np.argmax(s[i:j + 1]))
            runs.append(Moment(query, float(times[i]), float(times[j]) + step, float(s[peak]), float(times[peak]),
                               peak))
            i = j + 1
        else:
            i += 1
    return sorted(runs, key=lambda m: -m.score)[:top]


def search_video(encoder: Encoder, sample: SampledVideo, texts: Sequence[str] = (),
                 images: Sequence[Image.Image] = (), image_names: Sequence[str] = ()) -> VideoTimeline:
    """Score every sampled frame against each query (texts as typed, then pictures): one cosine curve each."""
    queries = list(texts) + list(image_names or [f"picture {i + 1}" for i in range(len(images))])
    if not queries:
        raise InputError("Type what to look for (e.g. 'a red circle'), or give a picture.")
    vectors = []
    if texts:
        vectors.append(encoder.encode_texts(list(texts)))
    if images:
        vectors.append(encoder.encode_images(list(images)))
    q = np.concatenate(vectors).astype(np.float32)
    frames = np.asarray(encoder.encode_images(sample.frames), np.float32)  # batched by the encoder
    scores = q @ frames.T
    step = 1.0 / sample.fps
    found = [m for k in range(len(queries)) for m in moments(sample.times, scores[k], step, k)]
    return VideoTimeline(queries, list(sample.times), scores, [float(np.median(r)) for r in scores], found, sample)


# ---------------------------------------------------------------- the toy-world example

# (start s, end s, colour, shape, moves from x, to x): shapes that come and go; the red circle is at 4-6 s
TOY_SCRIPT = ((0.0, 2.0, "blue", "square", 0.3, 0.6), (2.0, 4.0, "yellow", "star", 0.7, 0.4),
              (4.0, 6.0, "red", "circle", 0.35, 0.65), (6.0, 8.0, "green", "triangle", 0.6, 0.35),
              (8.0, 10.0, "purple", "heart", 0.4, 0.6))


def toy_frame(t: float, script=TOY_SCRIPT, size: int = 224, seed: int = 0) -> Image.Image:
    """The toy video's frame at `t` s: the scripted shape on screen then (gliding across), or the bare ground."""
    rng = random.Random(seed)
    ground = ("gradient", (214, 208, 196), (188, 196, 204), True)
    objects = []
    for start, end, colour, shape, x0, x1 in script:
        if start <= t < end:
            u = (t - start) / (end - start)
            objects.append(toyworld.SceneObject(colour, shape, "large", x0 + (x1 - x0) * u, 0.5, 0.2,
                                                15 * u if shape != "circle" else 0.0,
                                                toyworld.COLOURS[colour], False))
    scene = toyworld.Scene(tuple(objects), ground, 0.0, "single", rng.randrange(2**31))
    return toyworld.render(scene, size)


def toy_video(path: str | os.PathLike, seconds: float = 10.0, fps: int = 8, size: int = 224,
              script=TOY_SCRIPT) -> Path:
    """Write the toy-world example video with PyAV: `script`'s shapes come and go. H.264 in MP4, or VP9 for a
    .webm path (what browsers without H.264, such as open-source Chromium, play)."""
    path = Path(path)
    webm = path.suffix.lower() == ".webm"
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libvpx-vp9" if webm else "libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = size, size, "yuv420p"
        stream.options = ({"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8"} if webm
                          else {"crf": "23", "preset": "veryfast"})
        for i in range(int(round(seconds * fps))):
            frame = av.VideoFrame.from_image(toy_frame(i / fps, script, size))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
