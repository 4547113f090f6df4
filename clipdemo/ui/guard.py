"""ASGI guards in front of Gradio: no remote-URL file route, no NUL in paths, a fair queue.

NoRemoteFiles: `/gradio_api/file=https://…` makes the *server* fetch the URL. Gradio streams any
public URL through that route (SSRF-filtered, but still an outgoing request a visitor can trigger,
and a free proxy). clipdemo never shows remote media, and it promises no network traffic at run time
with HF_HUB_OFFLINE=1 or the bundled model, so such requests get a 403. Local files keep Gradio's own
rules (uploads and the app's outputs only). A path holding a NUL byte (`proxy=…%00`) gets a 400
instead of Gradio's 500.

FairQueue: Gradio's queue is one line for everybody, so one client sending 70 `queue/join`s (with
invented session ids, never listening for the results) filled it and everyone else read "Queue is
full". Here fairness is per *session* (a browser tab, a gradio_client; its `session_hash`): each may
have at most `max_pending` requests waiting or running. An address (as uvicorn reports it; behind a
proxy set FORWARDED_ALLOW_IPS; on a Space the entry HF's proxy appended to X-Forwarded-For) only has a
ceiling, large enough for a class of 60 behind one school NAT, and may open at most
`max_new_sessions` new sessions a minute, so a client inventing session ids stays bounded. A refusal
says why and when to try again (Retry-After), in the visitor's language: the browser shows a 429's
`detail`; gradio_client shows only a 422's validation messages (a 503 always reads "Queue is full"),
so it gets the same text as one. Requests nobody listens for (no open `queue/data` stream for their
session) are dropped from the queue after `unheard_after` seconds, so abandoned work is not done.

JsonBodyGuard: a JSON body is parsed by Starlette/Pydantic before any handler sees it; nested a few
hundred levels deep it raised RecursionError (a plain-text 500 and a 30 KB traceback in the log) and
its size was unbounded. Here a body over MAX_JSON_BODY_BYTES gets a 413 and one nested deeper than
MAX_JSON_DEPTH a 400, both with a message, before anything parses it.

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
from collections import Counter, defaultdict, deque
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote

from starlette.datastructures import Headers

from clipdemo.core import limits
from clipdemo.ui import gradio_adapter
from clipdemo.ui.i18n import tr
from clipdemo.ui.no_fetch import replay

STRINGS = {
    "en": {
        "guard.session_full": "You already have {n} requests waiting or running on this server (at most {max} per "
                              "visitor, so everyone gets a turn). Try again in about {retry} s, when they have finished.",
        "guard.address_full": "{n} requests from your network (one address: a school or lab connection) are waiting "
                              "or running, the most this server takes from one address. Try again in about {retry} s.",
        "guard.new_sessions": "{n} new visitor(s) came from your network (one address) in the last minute, the most "
                              "this server admits a minute. Try again in about {retry} s.",
        "guard.unheard": "{n} requests from your address are waiting with nobody listening for their results; "
                         "this server takes no more from it until they are done or dropped. Try again in about "
                         "{retry} s.",
        "guard.too_big": "The request body is {mb:.0f} MB; this server reads at most {max:.0f} MB in one request.",
        "guard.too_deep": "The request's JSON is nested more than {max} levels deep; no input of this app needs more "
                          "than a few. Send plain values.",
    },
    "zh-CN": {
        "guard.session_full": "你在这台服务器上已有 {n} 个请求在等待或运行（每位访客最多 {max} 个，这样人人都能轮到）。"
                              "请约 {retry} 秒后、它们完成时再试。",
        "guard.address_full": "来自你所在网络（同一个地址，例如学校或实验室的网络）的 {n} 个请求正在等待或运行，"
                              "已达到这台服务器对一个地址的上限。请约 {retry} 秒后再试。",
        "guard.new_sessions": "过去一分钟里，有 {n} 位新访客来自你所在的网络（同一个地址），已达到这台服务器每分钟接纳的上限。"
                              "请约 {retry} 秒后再试。",
        "guard.unheard": "来自你的地址的 {n} 个请求正在等待，却没有人接收它们的结果；在它们完成或被丢弃之前，"
                         "这台服务器不再接收这个地址的请求。请约 {retry} 秒后再试。",
        "guard.too_big": "请求内容有 {mb:.0f} MB；这台服务器一次最多读取 {max:.0f} MB。",
        "guard.too_deep": "请求中的 JSON 嵌套超过 {max} 层；这个应用的输入最多只需要几层。请发送普通的值。",
    },
}

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
    """Which address is asking: the one uvicorn reports (it applies X-Forwarded-For from trusted proxies, by
    default 127.0.0.1; FORWARDED_ALLOW_IPS widens that). On a Hugging Face Space every request comes through
    HF's proxy, which *appends* the address it saw: the last entry. Entries before it are whatever the client
    wrote itself, so taking the first one let a client name a new address per request."""
    if behind_space_proxy:
        forwarded = [value for name, value in scope.get("headers") or [] if name == b"x-forwarded-for"]
        if forwarded:
            last = forwarded[-1].decode("latin-1").split(",")[-1].strip()
            if last:
                return last
    client = scope.get("client")
    return client[0] if client else "?"


def _locale_request(scope) -> SimpleNamespace:
    """Enough of a gr.Request for `tr` to pick the visitor's language from Accept-Language."""
    return SimpleNamespace(headers=Headers(scope=scope))


async def _read_body(receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, or its first `limit` + 1 bytes (then the bool says it was cut)."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts), True
        if not message.get("more_body"):
            break
    return b"".join(parts), False


_JSON_STRING = re.compile(rb'"(?:[^"\\]+|\\.)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(body: bytes, max_depth: int) -> bool:
    """Whether a JSON text nests arrays/objects deeper than `max_depth` (brackets inside strings not counted)."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


class JsonBodyGuard:
    """ASGI middleware: 413 for a JSON body over `max_bytes`, 400 for one nested deeper than `max_depth`."""

    FORMS = (b"multipart/form-data", b"application/x-www-form-urlencoded")  # uploads: Gradio bounds them

    def __init__(self, app, max_bytes: int = limits.MAX_JSON_BODY_BYTES, max_depth: int = limits.MAX_JSON_DEPTH):
        self.app, self.max_bytes, self.max_depth = app, max_bytes, max_depth

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if headers.get("content-type", "").encode("latin-1").lower().startswith(self.FORMS):
            return await self.app(scope, receive, send)
        request = _locale_request(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send, 413, tr(request, "guard.too_big", mb=int(declared) / 2**20,
                                                     max=self.max_bytes / 2**20))
        body, cut = await _read_body(receive, self.max_bytes)
        if cut:
            return await self._refuse(send, 413, tr(request, "guard.too_big", mb=len(body) / 2**20,
                                                     max=self.max_bytes / 2**20))
        if json_too_deep(body, self.max_depth):
            return await self._refuse(send, 400, tr(request, "guard.too_deep", max=self.max_depth))
        await self.app(scope, replay(body, receive), send)

    @staticmethod
    async def _refuse(send, status: int, message: str) -> None:
        await _answer(send, status, json.dumps({"detail": message, "error": message}).encode(), b"application/json")


class FairQueue:
    """ASGI middleware: per session at most `max_pending` queued-or-running requests; per address at most
    `max_per_address` and `max_new_sessions` new sessions a minute; unheard requests dropped."""

    SEEN_SESSIONS = 100_000  # sessions remembered (to tell a new one); the oldest are forgotten past this

    def __init__(self, app, max_pending: int = limits.MAX_PENDING_PER_SESSION,
                 max_per_address: int = limits.MAX_PENDING_PER_ADDRESS,
                 max_new_sessions: int = limits.MAX_NEW_SESSIONS_PER_MINUTE, unheard_after: float = 30.0,
                 behind_space_proxy: bool = False, retry_after_s: int = limits.RETRY_AFTER_S,
                 max_unheard: int = limits.MAX_UNHEARD_PER_ADDRESS, unheard_grace_s: float = limits.UNHEARD_GRACE_S):
        self.app = app
        self.behind_space_proxy = behind_space_proxy  # the app's launch setting (SPACE_ID is set)
        self.max_pending = max_pending
        self.max_per_address = max_per_address
        self.max_new_sessions = max_new_sessions
        self.unheard_after = unheard_after
        self.retry_after_s = retry_after_s
        self.max_unheard, self.unheard_grace_s = max_unheard, unheard_grace_s
        self.listening: Counter[str] = Counter()  # session hash -> open queue/data streams
        self.seen: dict[str, float] = {}  # session hash -> when it first joined (insertion order: oldest first)
        self.new_at: defaultdict[str, deque] = defaultdict(deque)  # address -> when its new sessions came

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
                body, cut = await _read_body(receive, limits.MAX_JSON_BODY_BYTES)
                receive = replay(body, receive)
                refusal = None if cut else await self.admit(queue, scope, _session_of(body))
                if refusal is not None:
                    return await self._refuse(scope, send, *refusal)
        return await self.app(scope, receive, send)

    async def admit(self, queue, scope, session: str) -> tuple[str, dict, float] | None:
        """None to let the join in, else (message key, its values, seconds to wait)."""
        await self._drop_unheard(queue)
        address = client_key(scope, self.behind_space_proxy)
        mine, at_address, unheard = self.pending_of(queue, session, address)
        if unheard >= self.max_unheard:  # joins nobody listens for (invented sessions): work nobody will read
            return "guard.unheard", {"n": unheard}, self.retry_after_s
        if mine >= self.max_pending:
            return "guard.session_full", {"n": mine, "max": self.max_pending}, self.retry_after_s
        if at_address >= self.max_per_address:
            return "guard.address_full", {"n": at_address}, self.retry_after_s
        if session not in self.seen:
            now = time.monotonic()
            recent = self.new_at[address]
            while recent and now - recent[0] > 60:
                recent.popleft()
            if len(recent) >= self.max_new_sessions:
                return "guard.new_sessions", {"n": len(recent)}, max(1.0, 60 - (now - recent[0]))
            recent.append(now)
            self.seen[session] = now
            while len(self.seen) > self.SEEN_SESSIONS:
                del self.seen[next(iter(self.seen))]
            for gone in [a for a, times in self.new_at.items() if not times]:
                del self.new_at[gone]
        return None

    async def _refuse(self, scope, send, key: str, values: dict, retry_s: float) -> None:
        retry = max(1, round(retry_s))
        message = tr(_locale_request(scope), key, retry=retry, **values)
        if "gradio_client" in Headers(scope=scope).get("user-agent", ""):
            # gradio_client turns a 503 into "Queue is full!" and drops other bodies; a 422's validation
            # messages are the one text it shows
            status, body = 422, {"detail": [{"__type__": "validate", "is_valid": False, "parameter_name": "queue",
                                             "message": message}]}
        else:  # the browser shows a non-503 refusal's `detail`
            status, body = 429, {"detail": message, "error": message}
        raw = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                                (b"retry-after", str(retry).encode())]})
        await send({"type": "http.response.body", "body": raw})

    def pending_of(self, queue, session: str, address: str) -> tuple[int, int, int]:
        """Requests waiting or running: (of this session, of this address, of this address that nobody has
        listened for since `unheard_grace_s` after they joined)."""
        mine = at_address = unheard = 0
        now = time.monotonic()
        for event in (*gradio_adapter.waiting_events(queue), *gradio_adapter.running_events(queue)):
            mine += bool(session) and getattr(event, "session_hash", None) == session
            request = getattr(event, "request", None)
            if request is not None and client_key(request.scope, self.behind_space_proxy) == address:
                at_address += 1
                unheard += now - getattr(event, "enqueue_time", now) > self.unheard_grace_s and \
                    not self.listening.get(getattr(event, "session_hash", None))
        return mine, at_address, unheard

    async def _drop_unheard(self, queue) -> None:
        """Waiting requests whose session has had no listener for `unheard_after` seconds are not run."""
        now = time.monotonic()
        stale = {gradio_adapter.event_id(e) for e in gradio_adapter.waiting_events(queue)
                 if now - e.enqueue_time > self.unheard_after and not self.listening.get(e.session_hash)}
        for event_id in stale:
            await gradio_adapter.drop_event(queue, event_id)


def _session_of(body: bytes) -> str:
    """The session_hash a queue/join body names ('' when it names none or is not JSON: Gradio refuses it)."""
    try:
        value = json.loads(body).get("session_hash")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return value[:128] if isinstance(value, str) else ""


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
