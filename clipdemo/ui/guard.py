"""Refuse Gradio's remote-URL file route: `/gradio_api/file=https://…` makes the *server* fetch the URL.

Gradio streams any public URL through that route (SSRF-filtered, but still an outgoing request a
visitor can trigger, and a free proxy). clipdemo never shows remote media, and it promises no
network traffic at run time with HF_HUB_OFFLINE=1 or the bundled model, so such requests get a 403.
Local files keep Gradio's own rules (uploads and the app's outputs only).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# /file=…, /gradio_api/file=…, /file/… (Gradio's deprecated form); any percent-encoding
_REMOTE = re.compile(r"/file[=/]\s*[a-z][a-z0-9+.-]+:", re.IGNORECASE)  # 2+ letters: not C:


def is_remote_file_request(path: str) -> bool:
    decoded = path
    for _ in range(3):  # %2568ttp -> %68ttp -> http: decode until stable
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    return bool(_REMOTE.search(decoded))


class NoRemoteFiles:
    """ASGI middleware: 403 for remote-URL file requests, everything else passes through."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        raw = (scope.get("raw_path") or b"").decode("latin-1")
        if scope["type"] == "http" and (is_remote_file_request(raw) or is_remote_file_request(scope.get("path", ""))):
            body = b"Remote files are not served by this app."
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
