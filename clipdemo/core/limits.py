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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from clipdemo.errors import UserError

MAX_IMAGE_PIXELS = 50_000_000  # ~7000 x 7000, one image
DECODE_SIDE = 1024  # images are decoded to at most this side: every view shows less, the models see <= 384 px
MAX_REQUEST_IMAGES = 1000
MAX_REQUEST_PIXELS = 300_000_000  # claimed pixels, all images of one request: ~25 12-MP photos, 6 7000² scans
MAX_REQUEST_UNPACKED_BYTES = 400 * 2**20  # files read plus zip members unpacked, all of one request
MAX_REQUEST_SECONDS = 120.0
MAX_TEXT_CHARS = 500  # per text; CLIP reads 77 tokens, rarely more than ~400 characters
MAX_PROMPTS = 2000  # labels x templates in one request
HEAVY_PROMPTS = 1000  # more new prompts than this is heavy work: one such request at a time, server-wide
HEAVY_WAIT_S = 3.0  # how long a heavy request waits for the heavy lane before it is turned away


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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
