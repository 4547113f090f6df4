"""Defuse file inputs that name a URL: the server never fetches an address a client gives it.

Gradio accepts a FileData input whose path is an http(s) URL and downloads it on the server (for
gradio_client's `handle_file("https://…")`, and for MCP tool calls given a URL). clipdemo promises no
outgoing requests a visitor can trigger, so in a request to a prediction route (/queue/join,
/call/NAME, /run/NAME, /api/NAME) each such file object is replaced, before Gradio sees it, by the
string REFUSED + URL: Gradio then has nothing to download, and the API refuses that input with MESSAGE
(a UI component refuses a string too). Uploaded files (paths in Gradio's cache) pass.

Two more file objects Gradio itself would refuse with no message at all (the client read `null`): a
data: URI sent over HTTP (only MCP takes those, on its own route) and a path outside Gradio's upload
cache. They are replaced the same way, by REFUSED_DATA or REFUSED_PATH + what was sent, and the API
says why (clipdemo.ui.api.file_path).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from clipdemo.core import settings

PREDICT_ROUTE = re.compile(r"/(queue/join|call/[^/]+|run/[^/]+|api/[^/]+)/?$")
MAX_BODY = 8 * 1024 * 1024  # prediction bodies carry file paths, not files (those go to /upload)
REMOTE = re.compile(r"^\s*[a-z][a-z0-9+.-]+://", re.IGNORECASE)
MESSAGE = ("This server does not download files from URLs. Upload the file instead "
           "(gradio_client.handle_file with a local path; over MCP, a data: URI).")


REFUSED = "clipdemo-refused-url:"
REFUSED_DATA = "clipdemo-refused-data:"
REFUSED_PATH = "clipdemo-refused-path:"
DATA_MESSAGE = ("data: URIs are taken over MCP only; over HTTP upload the file first (gradio_client.handle_file, "
                "or POST it to /gradio_api/upload and send the path it returns).")
PATH_MESSAGE = ("not a file uploaded to this server: send the path /gradio_api/upload returned (or use "
                "gradio_client.handle_file); other server paths are refused.")


def _is_file_object(value) -> bool:
    return isinstance(value, dict) and (value.get("meta") or {}).get("_type") == "gradio.FileData"


def _in_upload_cache(path: str) -> bool:
    try:
        resolved = Path(path).resolve()
    except (OSError, ValueError):
        return False
    return any(resolved.is_relative_to(root) for root in _cache_roots())


def _cache_roots() -> list[Path]:
    roots = [settings.gradio_temp_dir()]
    return [r.resolve() for r in roots]


def refused_file(value) -> str | None:
    """The marker that replaces a file object Gradio would refuse without a message (None: it passes)."""
    if not _is_file_object(value) or not isinstance(value.get("path"), str):
        return None
    path = value["path"]
    if path.startswith("data:"):
        return REFUSED_DATA + path[:40]
    if not REMOTE.match(path) and not _in_upload_cache(path):
        return REFUSED_PATH + path[:200]
    return None


def remote_address(value) -> str | None:
    """The URL a FileData-like object names as its path or url (None for anything else)."""
    if isinstance(value, dict):
        path = value.get("path")
        if isinstance(path, str):  # Gradio reads `path`; a browser upload's own "url" (this server's) is not fetched
            return path if REMOTE.match(path) else None
        url = value.get("url")
        if isinstance(url, str) and REMOTE.match(url):
            return url
    return None


def defuse(value):
    """(value with every file object that names a URL replaced by REFUSED + URL, how many were replaced)."""
    url = remote_address(value)
    if url is not None:
        return REFUSED + url[:200], 1
    marker = refused_file(value)
    if marker is not None:
        return marker, 1
    if isinstance(value, dict):
        pairs = {k: defuse(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, sum(n for _, n in pairs.values())
    if isinstance(value, list):
        pairs = [defuse(v) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    return value, 0


class NoRemoteInputs:
    """ASGI middleware: prediction requests reach Gradio with no file object that names a URL."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or not PREDICT_ROUTE.search(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > MAX_BODY:
                await _refuse(send, 413, "The request body is too large.")
                return
        body = b"".join(chunks)
        try:
            cleaned, replaced = defuse(json.loads(body or b"null"))
        except (ValueError, RecursionError):
            replaced = 0  # not JSON: Gradio answers it as it would
        if replaced:
            body = json.dumps(cleaned).encode()
            scope = dict(scope, headers=[(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
                         + [(b"content-length", str(len(body)).encode())])
        await self.app(scope, replay(body, receive), send)


def replay(body: bytes, receive):
    """A `receive` that hands the app the body read already, then whatever comes next (a disconnect)."""
    sent = False

    async def again():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _refuse(send, status: int, text: str) -> None:
    body = json.dumps({"detail": text, "error": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
