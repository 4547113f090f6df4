"""ASGI guards in front of Gradio: no remote-URL file route, no NUL in paths, a fair queue.

NoRemoteFiles: `/gradio_api/file=https://…` makes the *server* fetch the URL. Gradio streams any
public URL through that route (SSRF-filtered, but still an outgoing request a visitor can trigger,
and a free proxy). clipdemo never shows remote media, and it promises no network traffic at run time
with HF_HUB_OFFLINE=1 or the bundled model, so such requests get a 403. Local files keep Gradio's own
rules (uploads and the app's outputs only). A path holding a NUL byte (`proxy=…%00`) gets a 400
instead of Gradio's 500.

FairQueue: Gradio's queue is one line for everybody, so one client sending 70 `queue/join`s (with
invented session ids, never listening for the results) filled it and everyone else read "Queue is
full". Here each client (its address, as uvicorn reports it: behind a proxy set FORWARDED_ALLOW_IPS)
may have at most `max_pending` requests waiting or running; more are answered 503 with a message,
as Gradio answers a full queue. Requests nobody listens for (no open `queue/data` stream for their
session) are dropped from the queue after `unheard_after` seconds, so abandoned work is not done.

ConfigCache: `GET /config` (560 KB) is rebuilt for every request (a deep copy of the whole app
config, then JSON), and every API client fetches it when it connects: with 60 clients at once the
median was 7.5 s, over gradio_client's 5 s timeout. This app's config does not change after launch
(no login, no gr.render), and only its root URL depends on the request, so the response is kept per
(path, Host, X-Forwarded-Host/Proto, root_path) and sent again as it is.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from urllib.parse import parse_qs, unquote

from clipdemo.ui import gradio_adapter

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


def has_nul(path: str) -> bool:
    return "\x00" in unquote(unquote(path))


async def _answer(send, status: int, body: bytes, content_type: bytes = b"text/plain; charset=utf-8") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class NoRemoteFiles:
    """ASGI middleware: 403 for remote-URL file requests, 400 for a NUL in the path, the rest passes."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            raw = (scope.get("raw_path") or b"").decode("latin-1")
            path = scope.get("path", "")
            if is_remote_file_request(raw) or is_remote_file_request(path):
                return await _answer(send, 403, b"Remote files are not served by this app.")
            if has_nul(raw) or has_nul(path) or has_nul((scope.get("query_string") or b"").decode("latin-1")):
                return await _answer(send, 400, b"Bad request: the address holds a NUL character.")
        await self.app(scope, receive, send)


def client_key(scope, behind_space_proxy: bool = False) -> str:
    """Who is asking: the address uvicorn reports (it applies X-Forwarded-For from trusted proxies, by default
    127.0.0.1; FORWARDED_ALLOW_IPS widens that). On a Hugging Face Space every request comes through HF's
    proxy, which names the visitor first in X-Forwarded-For."""
    if behind_space_proxy:
        for name, value in scope.get("headers") or []:
            if name == b"x-forwarded-for":
                return value.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "?"


class FairQueue:
    """ASGI middleware: at most `max_pending` queued-or-running requests per client; unheard ones dropped."""

    def __init__(self, app, max_pending: int = 16, unheard_after: float = 30.0, behind_space_proxy: bool = False):
        self.app = app
        self.behind_space_proxy = behind_space_proxy  # the app's launch setting (SPACE_ID is set)
        self.max_pending = max_pending
        self.unheard_after = unheard_after
        self.listening: Counter[str] = Counter()  # session hash -> open queue/data streams

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.max_pending <= 0:
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path.endswith("/queue/data") and scope.get("method") == "GET":
            session = (parse_qs((scope.get("query_string") or b"").decode("latin-1")).get("session_hash") or [""])[0]
            self.listening[session] += 1
            try:
                return await self.app(scope, receive, send)
            finally:
                self.listening[session] -= 1
                if self.listening[session] <= 0:
                    del self.listening[session]
        if path.endswith("/queue/join") and scope.get("method") == "POST":
            queue = gradio_adapter.queue_of_scope(scope)
            if queue is not None:
                await self._drop_unheard(queue)
                mine = self.pending_of(queue, client_key(scope, self.behind_space_proxy))
                if mine >= self.max_pending:
                    detail = (f"You already have {mine} requests waiting or running on this server (at most "
                              f"{self.max_pending} per visitor, so everyone gets a turn). Wait for them to finish.")
                    return await _answer(send, 503, json.dumps({"detail": detail}).encode(), b"application/json")
        return await self.app(scope, receive, send)

    def pending_of(self, queue, key: str) -> int:
        n = 0
        for event in (*gradio_adapter.waiting_events(queue), *gradio_adapter.running_events(queue)):
            request = getattr(event, "request", None)
            n += request is not None and client_key(request.scope, self.behind_space_proxy) == key
        return n

    async def _drop_unheard(self, queue) -> None:
        """Waiting requests whose session has had no listener for `unheard_after` seconds are not run."""
        now = time.monotonic()
        stale = {gradio_adapter.event_id(e) for e in gradio_adapter.waiting_events(queue)
                 if now - e.enqueue_time > self.unheard_after and not self.listening.get(e.session_hash)}
        for event_id in stale:
            await gradio_adapter.drop_event(queue, event_id)


class ConfigCache:
    """ASGI middleware: answer `GET …/config` from memory after the first build (per root URL)."""

    HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-prefix")

    def __init__(self, app, max_entries: int = 32):
        self.app = app
        self.max_entries = max_entries
        self.cache: dict[tuple, tuple[list, bytes]] = {}

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("query_string") or \
                not path.rstrip("/").endswith("/config") and path.rstrip("/") != "/config":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if b"authorization" in headers or b"cookie" in headers and b"access-token" in headers[b"cookie"]:
            return await self.app(scope, receive, send)  # a logged-in view may differ: never shared
        key = (path, scope.get("root_path", ""), scope.get("scheme"), *(headers.get(h) for h in self.HEADERS))
        hit = self.cache.get(key)
        if hit is not None:
            start_headers, body = hit
            await send({"type": "http.response.start", "status": 200, "headers": start_headers})
            await send({"type": "http.response.body", "body": body})
            return
        started: dict = {}
        parts: list[bytes] = []

        async def keep(message):
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body") and started.get("status") == 200 and len(self.cache) < self.max_entries:
                    self.cache[key] = (list(started.get("headers", [])), b"".join(parts))
            await send(message)

        await self.app(scope, receive, keep)
