"""Atomic writes for the files Gradio puts in its cache: no visitor ever downloads a half-written file.

Why: Gradio 6.31 names a cached output by the hash of its bytes and, on *every* call, rewrites that
file with a truncating `Path.write_bytes` (`processing_utils.save_pil_to_cache`, `save_bytes_to_cache`;
`save_base64_to_cache` writes in place too). When a class clicks the same example, many requests
return the same picture, so one request truncates `…/<hash>/image.webp` while another request's
`GET /gradio_api/file=…` has already sent its Content-Length: the download ends short
(h11 "Too little data for declared Content-Length", the client sees "peer closed connection").
Measured on this project (issue #11): 10–17 of 100 `/zero_shot` calls lost at 20 clients, 0 with
this patch at 20, 40 and 60 clients. Upstream reports of the symptom: gradio-app/gradio#8878
("Response content shorter than Content-Length", open) and #8351. Gradio's own `save_file_to_cache`
already writes through a temporary file and `os.replace`; these functions do the same here.

How: an existing file with the same content-hash name already holds exactly these bytes, so it is
only touched (the cache sweep ages files by ctime, as `save_file_to_cache` does); a new one is
written under a temporary name in the same folder and renamed into place, which readers see
either whole or not at all. Gradio's components call these through the `processing_utils` module,
so replacing the module attributes is enough. `apply()` is idempotent; `GRADIO_VERSION_CHECKED`
says which Gradio this was read against (re-check on upgrade: the patch is not needed once
upstream writes atomically).

A second, separate patch (`patient_start_check`): before serving, `Blocks.launch` asks its own URL
once with `gradio.networking.url_ok` (HEAD, 3 s timeout, 5 tries) and, if that fails, stops the app
with "When localhost is not accessible, a shareable link must be created". On a busy 2-core machine
(a class already using the server's other process, a CI run) the first answer took longer and the app
exited at start (seen here at load average 14). The replacement asks the same question with a
patient deadline: up to START_CHECK_S seconds, 10 s per try; a refused connection still fails fast.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

GRADIO_VERSION_CHECKED = "6.31.0"
START_CHECK_S = 90.0
_applied: dict[str, object] = {}


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
    if _applied:
        return
    from gradio import processing_utils as pu
    from gradio_client import utils as client_utils

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
        fn.__doc__ = f"Atomic replacement for gradio.processing_utils.{name} (see clipdemo.ui.gradio_patches)."
        setattr(pu, name, fn)
    # save_img_array_to_cache calls save_pil_to_cache through the module's globals: covered above.


def remove() -> None:
    """Put Gradio's originals back (tests use it to show what the patch prevents)."""
    if not _applied:
        return
    from gradio import processing_utils as pu

    for name, fn in _applied.items():
        setattr(pu, name, fn)
    _applied.clear()


def applied() -> bool:
    return bool(_applied)


MCP_LOCAL_PATH = ("{value!r} is not a picture this server can read: it cannot open files on the client's machine "
                  "and does not download URLs. Send the picture itself as a data: URI "
                  "(data:image/png;base64,...).")


def mcp_file_message() -> None:
    """Gradio's MCP server answers a file argument that is neither a data: URI nor a URL with "provide a url
    ('http://...')", and this app then refuses every URL (it never downloads for a client: ui/no_fetch). The
    replacement says what the app does take, a data: URI. Idempotent."""
    from gradio import mcp

    server = getattr(mcp, "GradioMCPServer", None)
    original = getattr(server, "convert_strings_to_filedata", None)
    if original is None or getattr(original, "clipdemo_patched", False):
        return

    def convert_strings_to_filedata(self, value, filedata_positions):
        try:
            return original(self, value, filedata_positions)
        except ValueError as e:
            if "provide a url" not in str(e):
                raise
            received = str(e).split("Received: ", 1)[-1]
            raise ValueError(MCP_LOCAL_PATH.format(value=received[:200])) from None

    convert_strings_to_filedata.clipdemo_patched = True
    server.convert_strings_to_filedata = convert_strings_to_filedata


def patient_start_check() -> None:
    """Give Gradio's start-up self-check (`networking.url_ok`) a deadline a busy machine can meet."""
    import time

    import httpx
    from gradio import networking

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

    url_ok.__doc__ = "Patient replacement for gradio.networking.url_ok (see clipdemo.ui.gradio_patches)."
    networking.url_ok = url_ok
