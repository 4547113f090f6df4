"""Everything that touches Gradio's internals, in one place, checked against the installed Gradio at start-up.

clipdemo relies on a few things Gradio does not promise: the cache writers in `processing_utils`, the start-up
self-check `networking.url_ok`, the queue's waiting and running events (`Blocks._queue`,
`event_queue_per_concurrency_id`, `active_jobs`, `Event._id/alive/...`, `clean_events`), the context of the event
being handled (`LocalContext`), `utils._parse_file_size`, and the labels of `gr.api` values. The rest of the UI
reaches them only through the functions here. `check()` looks at each at start-up: a Gradio outside `SUPPORTED`
refuses to start (`GradioMismatch`); an internal that changed shape turns its feature off with a warning (the
app still serves, without that safeguard) instead of failing at call time in front of a class.

"""

from __future__ import annotations

import inspect
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import httpx
from gradio import networking, queueing
from gradio import processing_utils as pu
from gradio import utils as gradio_utils
from gradio.context import LocalContext
from gradio_client import utils as client_utils
from packaging.version import Version

log = logging.getLogger(__name__)
SUPPORTED = (Version("6.0"), Version("7.0"))  # [lowest, above highest): the Gradio this adapter was read against

START_CHECK_S = 90.0
_applied: dict[str, object] = {}

# Atomic cache writes. Gradio 6 names a cached output by the hash of its bytes and rewrites that file on every
# call with a truncating `Path.write_bytes`; when a class clicks the same example, one request truncates the
# file while another's download of it has already sent its Content-Length, and the download ends short
# (issue #11: 10-17 of 100 `/zero_shot` calls lost at 20 clients; 0 with these writers at 20-60 clients;
# upstream gradio-app/gradio#8878, #8351). An existing file of the same hash already holds these bytes and is
# only touched; a new one is written under a temporary name and renamed into place.
#
# Patient start check. Before serving, `Blocks.launch` asks its own URL with `networking.url_ok` (3 s, 5 tries)
# and stops the app if that fails; on a busy 2-core machine the first answer took longer (load average 14).


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file, or the new one whole, never a part."""
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(staging, 0o644)  # mkstemp makes 0600; Gradio's own files are world-readable
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def _publish(path: Path, data: bytes) -> str:
    """Put content-addressed `data` at `path` (its folder is named by the data's hash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # same hash, same bytes: keep it, only mark it as fresh for the cache sweep
        try:
            os.utime(path)
            return str(path.resolve())
        except OSError:  # swept in between: write it again
            pass
    atomic_write_bytes(path, data)
    return str(path.resolve())


def apply() -> None:
    """Replace Gradio's in-place cache writers with atomic ones (once per process)."""
    if _applied or not compatibility().enabled("atomic_cache_writes"):
        return

    def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:  # noqa: A002
        data = pu.encode_pil_to_bytes(img, format)
        return _publish(Path(cache_dir) / pu.hash_bytes(data) / f"{name}.{format}", data)

    def save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
        if not Path(file_name).suffix:
            file_name = file_name + pu.detect_audio_format(data)
        return _publish(Path(cache_dir) / pu.hash_bytes(data) / Path(file_name).name, data)

    def save_base64_to_cache(base64_encoding: str, cache_dir: str, file_name: str | None = None) -> str:
        folder = Path(cache_dir) / pu.hash_base64(base64_encoding)
        extension = client_utils.get_extension(base64_encoding)
        if file_name:
            file_name = client_utils.strip_invalid_filename_characters(file_name)
        else:
            file_name = f"file.{extension}" if extension else "file"
        path = folder / file_name
        if path.exists():
            return str(path.resolve())
        data, _ = client_utils.decode_base64_to_binary(base64_encoding)
        return _publish(path, data)

    for name, fn in (("save_pil_to_cache", save_pil_to_cache), ("save_bytes_to_cache", save_bytes_to_cache),
                     ("save_base64_to_cache", save_base64_to_cache)):
        _applied[name] = getattr(pu, name)
        fn.__doc__ = f"Atomic replacement for gradio.processing_utils.{name} (see clipdemo.ui.gradio_adapter)."
        setattr(pu, name, fn)
    # save_img_array_to_cache calls save_pil_to_cache through the module's globals: covered above.


def remove() -> None:
    """Put Gradio's originals back (tests use it to show what the patch prevents)."""
    if not _applied:
        return

    for name, fn in _applied.items():
        setattr(pu, name, fn)
    _applied.clear()


def applied() -> bool:
    return bool(_applied)


def patient_start_check() -> None:
    """Give Gradio's start-up self-check (`networking.url_ok`) a deadline a busy machine can meet."""
    if not compatibility().enabled("patient_start_check"):
        return
    if getattr(networking.url_ok, "__module__", "") == __name__:
        return

    def url_ok(url: str) -> bool:
        deadline = time.monotonic() + START_CHECK_S
        while True:
            try:
                r = httpx.head(url, timeout=10, verify=False)
                if r.status_code in (200, 401, 301, 302, 303, 307, 308):
                    return True
            except httpx.ConnectError:
                return False  # nothing listens: no point waiting
            except httpx.TimeoutException:
                pass  # listening but busy: ask again until the deadline
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)

    url_ok.__doc__ = "Patient replacement for gradio.networking.url_ok (see clipdemo.ui.gradio_adapter)."
    networking.url_ok = url_ok


# --- the start-up check -------------------------------------------------------------------------------------

class GradioMismatch(RuntimeError):
    """The installed Gradio is not one this adapter was written for: the app refuses to start."""


# What each feature relies on: functions with these parameter names, classes whose __init__ sets these attributes.
EXPECTED_SIGNATURES = {
    "atomic_cache_writes": [(pu, "save_pil_to_cache", ("img", "cache_dir", "name", "format")),
                            (pu, "save_bytes_to_cache", ("data", "file_name", "cache_dir")),
                            (pu, "save_base64_to_cache", ("base64_encoding", "cache_dir", "file_name")),
                            (pu, "encode_pil_to_bytes", None), (pu, "hash_bytes", None), (pu, "hash_base64", None),
                            (client_utils, "decode_base64_to_binary", None)],
    "patient_start_check": [(networking, "url_ok", ("url",))],
    "queue_fairness": [(queueing.Queue, "clean_events", ("self", "session_hash", "event_id"))],
    "file_size": [(gradio_utils, "_parse_file_size", ("size",))],
}
EXPECTED_ATTRIBUTES = {
    "queue_fairness": [(queueing.Queue, ("event_queue_per_concurrency_id", "active_jobs")),
                       (queueing.Event, ("_id", "alive", "enqueue_time", "session_hash", "request"))],
    "abandoned_check": [(queueing.Event, ("_id", "alive"))],
}


@dataclass
class Compatibility:
    version: str
    disabled: dict[str, str] = field(default_factory=dict)  # feature -> why

    def enabled(self, feature: str) -> bool:
        return feature not in self.disabled


def _signature_problem(owner, name: str, params: tuple[str, ...] | None) -> str | None:
    fn = getattr(owner, name, None)
    if fn is None or not callable(fn):
        return f"{getattr(owner, '__name__', owner)}.{name} is gone"
    if params is None:
        return None
    try:
        found = tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return f"{name}'s signature cannot be read"
    if found[: len(params)] != params and not set(params) <= set(found):
        return f"{name}{found} no longer takes {params}"
    return None


def _attribute_problem(cls, names: tuple[str, ...]) -> str | None:
    try:
        source = inspect.getsource(cls.__init__)
    except (OSError, TypeError):
        return f"{cls.__name__}.__init__ cannot be read"
    missing = [n for n in names if f"self.{n}" not in source]
    return f"{cls.__name__} no longer sets {', '.join(missing)}" if missing else None


_compatibility: Compatibility | None = None


def check(version: str | None = None) -> Compatibility:
    """Compare the installed Gradio with what this adapter relies on; raise GradioMismatch outside SUPPORTED."""
    global _compatibility
    version = version or gr.__version__
    low, high = SUPPORTED
    if not low <= Version(version) < high:
        raise GradioMismatch(f"clipdemo needs Gradio >= {low}, < {high}; this is Gradio {version}. "
                             f"Install a supported one: pip install 'gradio>={low},<{high}'.")
    found = Compatibility(version)
    for feature, items in EXPECTED_SIGNATURES.items():
        for owner, name, params in items:
            if problem := _signature_problem(owner, name, params):
                found.disabled.setdefault(feature, problem)
    for feature, items in EXPECTED_ATTRIBUTES.items():
        for cls, names in items:
            if problem := _attribute_problem(cls, names):
                found.disabled.setdefault(feature, problem)
    for feature, why in found.disabled.items():
        log.warning("Gradio %s: %s is off (%s); the app serves without it.", version, feature, why)
    _compatibility = found
    return found


def compatibility() -> Compatibility:
    return _compatibility or check()


# --- the queue, for fairness and for noticing a visitor who left ---------------------------------------------

def queue_of(blocks) -> queueing.Queue | None:
    return getattr(blocks, "_queue", None) if compatibility().enabled("queue_fairness") else None


def queue_of_scope(scope) -> queueing.Queue | None:
    """The queue of the app an ASGI request is addressed to."""
    app = scope.get("app")
    blocks = app.get_blocks() if app is not None and hasattr(app, "get_blocks") else None
    return queue_of(blocks)


def waiting_events(queue) -> Iterator:
    for event_queue in list(queue.event_queue_per_concurrency_id.values()):
        yield from list(event_queue.queue)


def running_events(queue) -> Iterator:
    for job in list(queue.active_jobs):
        yield from (job or [])


def event_id(event) -> str:
    return event._id


async def drop_event(queue, event_id_: str) -> None:
    await queue.clean_events(event_id=event_id_)


def current_event_is_abandoned() -> Callable[[], bool] | None:
    """For the event being handled: a function that tells whether its visitor has gone (Gradio marks a running
    job `alive = False` when its client's stream closes but lets the function run on). None outside an event."""
    if not compatibility().enabled("abandoned_check"):
        return None
    event_id_, blocks = LocalContext.event_id.get(None), LocalContext.blocks.get(None)
    queue = getattr(blocks, "_queue", None)
    if not event_id_ or queue is None:
        return None
    found: list = []

    def gone() -> bool:
        if not found:
            found.extend(e for e in running_events(queue) if e._id == event_id_)
            if not found:
                return False
        return not found[0].alive

    return gone


# --- small things Gradio keeps private -----------------------------------------------------------------------

def parse_file_size(size: str | int | None) -> int | None:
    """'50mb' -> bytes, as Gradio parses its own max_file_size (the same rule for the disk cap)."""
    if compatibility().enabled("file_size"):
        return gradio_utils._parse_file_size(size)
    units = {"kb": 2**10, "mb": 2**20, "gb": 2**30, "tb": 2**40, "b": 1}
    if size is None or isinstance(size, int):
        return size
    text = str(size).strip().lower()
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(float(text))


def name_api_values(dependency: dict, parameters: list[str]) -> None:
    """Gradio labels gr.api's values by position ("1st", "2nd"); name them as the function's signature does."""
    root = gr.context.Context.root_block
    for i, param in zip(dependency["inputs"], parameters, strict=True):
        root.blocks[i].label = param
    for i in dependency["outputs"]:
        root.blocks[i].label = "result"
