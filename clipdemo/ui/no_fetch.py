"""Refuse file inputs that name a URL: the server never fetches an address a client gives it.

Gradio accepts a FileData input whose path is an http(s) URL and downloads it on the server (for
gradio_client's `handle_file("https://…")`, and for MCP tool calls given a URL). clipdemo promises no
outgoing requests a visitor can trigger, so such a request to a prediction route (/queue/join,
/call/NAME, /run/NAME, /api/NAME) is answered 403 with a message saying to upload the file instead,
before Gradio sees it. Uploaded files (paths in Gradio's cache) and data: URIs pass through.
"""

from __future__ import annotations

import json
import re

PREDICT_ROUTE = re.compile(r"/(queue/join|call/[^/]+|run/[^/]+|api/[^/]+)/?$")
MAX_BODY = 8 * 1024 * 1024  # prediction bodies carry file paths, not files (those go to /upload)
REMOTE = re.compile(r"^\s*[a-z][a-z0-9+.-]+://", re.IGNORECASE)
MESSAGE = ("This server does not download files from URLs. Upload the file instead "
           "(gradio_client.handle_file with a local path; over MCP, a data: URI).")


def names_remote_file(value) -> bool:
    """True when any FileData-like object in a request names a URL as its path or url."""
    if isinstance(value, dict):
        if "path" in value or "url" in value:
            for key in ("path", "url"):
                v = value.get(key)
                if isinstance(v, str) and REMOTE.match(v) and not v.lower().startswith("data:"):
                    return True
        return any(names_remote_file(v) for v in value.values())
    if isinstance(value, list):
        return any(names_remote_file(v) for v in value)
    return False


class NoRemoteInputs:
    """ASGI middleware: 403 for a prediction request whose inputs name a remote file."""

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
            remote = names_remote_file(json.loads(body or b"null"))
        except ValueError:
            remote = False  # not JSON: Gradio answers it as it would
        if remote:
            await _refuse(send, 403, MESSAGE)
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send, status: int, text: str) -> None:
    body = json.dumps({"detail": text, "error": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
