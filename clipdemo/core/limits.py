"""How much work one request may ask for: the single owner of request limits and their messages.

A server shared by a classroom must bound every request by what it *costs*, not by what it looks
like: a 7 KB PNG can claim 16 megapixels, a 3 MB zip can unpack to 400 MB, and sending the same
file 20 times multiplies both. So the limits here are per request, over all of its files:

- each image: at most MAX_IMAGE_PIXELS as its header claims (refused before decoding), and it is
  decoded small (`images.load_image`): memory follows DECODE_SIDE, not the file;
- each request: at most MAX_REQUEST_IMAGES images, MAX_REQUEST_PIXELS claimed pixels and
  MAX_REQUEST_UNPACKED_BYTES read or unpacked bytes, and MAX_REQUEST_SECONDS of work (checked at
  every image, so a request past its time stops at the next one);
- each text: cut to MAX_TEXT_CHARS characters before it reaches a tokenizer (the model reads at most
  77 tokens anyway), with NUL bytes dropped and lone surrogates replaced (a tokenizer raises on them);
- prompts: labels x templates at most MAX_PROMPTS (80 templates leave room for 25 labels), and a
  request embedding more than HEAVY_PROMPTS new prompts takes the one heavy lane (`heavy_work`), so
  heavy label sets queue behind each other instead of taking every slot plain zero-shot calls need.

The UI opens one `request_scope()` per event (clipdemo.ui.app wraps every handler), the engine's
loaders charge it through `charge_image` / `charge_bytes`; with no scope open (CLI, tests, scripts)
only the per-file limits apply. A refusal is a `LimitError` (`load_image` turns it into an `ImageError`, so
callers that skip unusable files skip it with its message); a cut is a notice the caller shows.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from clipdemo.core.errors import UserError

MAX_IMAGE_PIXELS = 50_000_000  # ~7000 x 7000, one image
DECODE_SIDE = 1024  # images are decoded to at most this side: every view shows less, the models see <= 384 px
MAX_REQUEST_IMAGES = 1000
MAX_REQUEST_PIXELS = 300_000_000  # claimed pixels, all images of one request: ~25 12-MP photos, 6 7000² scans
MAX_REQUEST_UNPACKED_BYTES = 400 * 2**20  # files read plus zip members unpacked, all of one request
MAX_REQUEST_SECONDS = 120.0
MAX_TEXT_CHARS = 500  # per text; CLIP reads 77 tokens, rarely more than ~400 characters
MAX_SEARCH_K = 1000  # results one search returns at most
MAX_PROMPTS = 2000  # labels x templates in one request
HEAVY_PROMPTS = 1000  # more new prompts than this is heavy work: one such request at a time, server-wide
HEAVY_WAIT_S = 3.0  # how long a heavy request waits for the heavy lane before it is turned away
PREFETCH_DEPTH = 2  # batches read and prepared ahead of the one being encoded (clipdemo.core.pipeline): memory
PREFETCH_THREADS = 2  # is (depth + 1) batches per stream; these threads are shared by every stream of a process
MAX_FILE_BYTES = 50 * 2**20  # one image file (read, or one member unpacked from a zip)
MAX_GALLERY_IMAGES = 1000  # per gallery: a map of more is unreadable and slow to embed on a CPU
GALLERY_KEEP_SIDE = 448  # gallery pictures are shrunk to this: every model here sees at most 336 px
ZIP_MAX_MEMBERS = 5000  # files looked at in one zip
ZIP_MAX_TOTAL_BYTES = 400 * 2**20  # uncompressed, all members of one zip together
ZIP_MAX_RATIO = 200  # image formats compress little; a member unpacking to more than this times its size is a bomb
CSV_MAX_BYTES = 5 * 2**20  # one captions CSV
MAX_LABELS = 1000  # zero-shot labels in one request (before the prompt budget)
MAX_MAP_TEXTS = 2000  # text points of one map: with MAX_GALLERY_IMAGES under umap's 4096-point exact path
MAX_QUERY_CHARS = MAX_TEXT_CHARS  # one search query
DEFAULT_K = 10  # search results shown when the caller does not say
MAX_SEARCH_K = 1000  # search results one request may ask for
MAX_BATCH_IMAGES = 256  # zero-shot of several pictures in one call: a CSV's worth, seconds on a CPU
MAX_EMBED_TEXTS = 2000  # embed: the same bound as the texts of a map
MATRIX_MAX_IMAGES = 24  # one similarity matrix's rows: beyond this the cells are too small to read
MATRIX_MAX_TEXTS = 24  # and its columns
MAX_NOTICES_PER_KIND = 20  # per-picture warnings named in one result; the rest are counted
REQUEST_DECODED_KEEP = 16  # decoded pictures one request keeps for reuse (each at most DECODE_SIDE², ~3 MB)

# The queue is fair per session (a browser tab, a gradio_client), not per address: a class behind one address
# (a school's NAT, a lab's proxy) is 60 sessions on one address. The address only has a ceiling, and a cap on
# how many new sessions it may open a minute, so a client inventing session ids is still bounded.
MAX_PENDING_PER_SESSION = 8  # requests one session may have waiting or running
MAX_PENDING_PER_ADDRESS = 128  # all sessions of one address: a class of 60 with two calls each in flight
MAX_NEW_SESSIONS_PER_MINUTE = 90  # per address: a class of 60 opening the app at once, with reloads
MAX_QUEUE = 256  # requests waiting server-wide (Gradio's queue): above one address's ceiling, so one address
#                  cannot fill it for everyone
MAX_UNHEARD_PER_ADDRESS = 16  # waiting requests of one address whose session has not listened for its results
UNHEARD_GRACE_S = 10.0  # a client opens its result stream right after joining; past this it is not listening
RETRY_AFTER_S = 10  # what a refused visitor is told to wait (HTTP Retry-After)
MAX_JSON_BODY_BYTES = 48 * 2**20  # a JSON request body (MCP sends pictures inline as data: URIs, 25 MB each)
MAX_JSON_DEPTH = 32  # nesting of a JSON request body: the API's deepest input is 4 levels

# few-shot probe (clipdemo.teach.fewshot): labelled pictures per class, points on the curve, random splits, classes
FEW_SHOT_MAX_SHOTS = 64
FEW_SHOT_MAX_POINTS = 8
FEW_SHOT_MAX_SEEDS = 10
FEW_SHOT_MAX_CLASSES = 20  # toy pictures: classes x (shots + 20 held out) rendered, at most ~1700
# which words carry the match (clipdemo.core.attribution): leave-one-word-out encodes one text per word
ATTRIBUTION_MAX_WORDS = 40


class LimitError(UserError, ValueError):
    """A request asked for more than the server gives one request; the message says which limit."""


@dataclass
class RequestBudget:
    """What one request has used so far (thread-safe: a handler may fan out)."""

    max_images: int = MAX_REQUEST_IMAGES
    max_pixels: int = MAX_REQUEST_PIXELS
    max_bytes: int = MAX_REQUEST_UNPACKED_BYTES
    max_seconds: float = MAX_REQUEST_SECONDS
    images: int = 0
    pixels: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    refused: list[str] = field(default_factory=list)
    # says whether the visitor who asked has gone (tab closed, client disconnected): the work in between
    # checks stops then, since nobody would see its result (the UI supplies it; None: never)
    abandoned: Callable[[], bool] | None = field(default=None, repr=False)
    # a few pictures this request decoded, kept for reuse (clipdemo.core.images), newest last: a picture opened again
    # by another step of the same request costs no decoding, so it is not charged again
    decoded: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def recall(self, key):
        """A picture this request decoded already (None: not kept)."""
        with self._lock:
            if key in self.decoded:
                self.decoded.move_to_end(key)
                return self.decoded[key]
        return None

    def remember(self, key, image) -> None:
        with self._lock:
            self.decoded[key] = image
            while len(self.decoded) > REQUEST_DECODED_KEEP:
                self.decoded.popitem(last=False)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def check_time(self) -> None:
        if self.abandoned is not None and self.abandoned():
            raise self._refuse("the visitor who asked for this has left; the rest was not done")
        if self.elapsed() > self.max_seconds:
            raise self._refuse(f"this request has run {self.elapsed():.0f} s, the limit is {self.max_seconds:.0f} s; "
                               "the rest was not done (try fewer or smaller inputs)")

    def charge_image(self, name: str, pixels: int) -> None:
        self.check_time()
        with self._lock:
            if self.images + 1 > self.max_images:
                raise self._refuse(f"{name}: not read: one request takes at most {self.max_images} images")
            if self.pixels + pixels > self.max_pixels:
                raise self._refuse(f"{name}: not read: this request's images already hold "
                                   f"{self.pixels / 1e6:.0f} megapixels and one request takes at most "
                                   f"{self.max_pixels / 1e6:.0f} (send fewer or smaller images)")
            self.images += 1
            self.pixels += pixels

    def charge_bytes(self, name: str, n: int) -> None:
        self.check_time()
        with self._lock:
            if self.bytes + n > self.max_bytes:
                raise self._refuse(f"{name}: not read: this request has already read or unpacked "
                                   f"{self.bytes / 2**20:.0f} MB and one request takes at most "
                                   f"{self.max_bytes // 2**20} MB")
            self.bytes += n

    def _refuse(self, message: str) -> LimitError:
        self.refused.append(message)
        return LimitError(message)


_current: contextvars.ContextVar[RequestBudget | None] = contextvars.ContextVar("clipdemo_request_budget",
                                                                                default=None)


@contextmanager
def request_scope(budget: RequestBudget | None = None) -> Iterator[RequestBudget]:
    """Everything done inside counts against one request's budget."""
    budget = budget or RequestBudget()
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def current() -> RequestBudget | None:
    return _current.get()


def charge_image(name: str, pixels: int) -> None:
    """Count one image of `pixels` (as its header claims) against the open request; refuse past a limit."""
    if pixels > MAX_IMAGE_PIXELS:
        raise LimitError(f"{name}: {pixels / 1e6:.0f} megapixels is too large (the limit is "
                         f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels per image).")
    budget = _current.get()
    if budget is not None:
        budget.charge_image(name, pixels)


def charge_bytes(name: str, n: int) -> None:
    """Count `n` bytes read or unpacked against the open request; refuse past the limit."""
    budget = _current.get()
    if budget is not None:
        budget.charge_bytes(name, n)


def check_time() -> None:
    budget = _current.get()
    if budget is not None:
        budget.check_time()


_heavy = threading.Semaphore(1)


@contextmanager
def heavy_work(heavy: bool, what: str) -> Iterator[None]:
    """Run heavy work one request at a time (light work passes straight through). A heavy request that
    cannot get the lane within HEAVY_WAIT_S is refused with a message instead of holding a worker."""
    if not heavy:
        yield
        return
    if not _heavy.acquire(timeout=HEAVY_WAIT_S):
        raise LimitError(f"The server is busy with another large request; {what} is large too. Try again in a "
                         "few seconds, or use fewer labels or templates.")
    try:
        yield
    finally:
        _heavy.release()


# ---------------------------------------------------------------- texts


def clean_text(text: str) -> str:
    """A text a tokenizer can take: at most MAX_TEXT_CHARS, no NUL, no lone surrogates."""
    text = str(text)[:MAX_TEXT_CHARS]
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (from JSON "\ud800" or a broken paste): U+FFFD instead
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def clean_texts(texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """Clean every text; (texts, notices saying what was cut or replaced)."""
    out = [clean_text(t) for t in texts]
    notices = []
    long = sum(len(str(t)) > MAX_TEXT_CHARS for t in texts)
    if long:
        notices.append(f"{long} text(s) longer than {MAX_TEXT_CHARS} characters were cut to that length "
                       "(the model reads at most 77 tokens)")
    odd = sum(c != t[:MAX_TEXT_CHARS].replace("\x00", "") for c, t in zip(out, map(str, texts), strict=True))
    if odd:
        notices.append(f"{odd} text(s) held characters that are not text (NUL or lone surrogates); "
                       "they were removed or replaced with \ufffd")
    return out, notices


def prompt_budget(n_labels: int, n_templates: int) -> tuple[int, str | None]:
    """How many labels fit the prompt budget with `n_templates` templates: (labels kept, notice or None)."""
    keep = max(1, MAX_PROMPTS // max(1, n_templates))
    if n_labels <= keep:
        return n_labels, None
    return keep, (f"{n_labels} labels × {n_templates} templates is {n_labels * n_templates} prompts; one request "
                  f"embeds at most {MAX_PROMPTS}, so the first {keep} labels are used (fewer templates allow more)")


# ---------------------------------------------------------------- ZeroGPU (clipdemo.core.gpu)
# How long a @spaces.GPU function may hold the GPU (a shorter bound queues ahead on a busy ZeroGPU): a fixed part for
# ZeroGPU's worker (fork, CUDA context, weights onto the GPU; not measured here, no GPU) plus the work, sized from
# README's "Speed on CPUs" table for the ViT-B/32 shape in torch fp32 on a 2-core CPU, an upper bound for a GPU.
GPU_FIXED_S = 10.0
GPU_IMAGE_S = 0.07  # per image of a batch (measured: 15.7 img/s at batch 32 = 0.064 s)
GPU_TEXT_S = 0.01  # per text of a batch (measured: 149 prompts/s = 0.0067 s)
GPU_SPATIAL_MAP_S = 5.0  # a refined map: 4 shifted passes, with gradients for Grad-CAM (4 x ~3 x 0.12 s at batch 1)


# ---------------------------------------------------------------- videos (clipdemo.data.video)

MAX_VIDEO_SECONDS = 900.0  # 15 min: a lecture clip; decoding is sequential, so an hour would hold a worker ~minutes
MAX_VIDEO_FRAMES = 600  # frames sampled and embedded per request (~20-60 s of a CPU for a ViT-B/32)
MAX_VIDEO_FRAME_PIXELS = 1920 * 1088  # a decoded frame, as the stream claims: 1080p (4K is 4x the decode work)
MAX_VIDEO_FPS = 8.0  # frames sampled per second of video, at most
MIN_VIDEO_FPS = 0.05  # one frame every 20 s, at least
MAX_VIDEO_QUERIES = 8  # curves on one timeline
