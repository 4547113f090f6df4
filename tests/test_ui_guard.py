"""The ASGI guards: NUL in a path, the per-client bound on pending requests, unheard requests dropped."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

from clipdemo.ui import guard


def _call(middleware, scope) -> tuple[int | None, bytes, bool]:
    sent, reached = [], []

    async def app(scope, receive, send):
        reached.append(True)

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    asyncio.run(middleware(app)(scope, receive, send) if callable(middleware) and not hasattr(middleware, "app")
                else middleware(scope, receive, send))
    status = next((m["status"] for m in sent if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, bool(reached)


def _http(path: str, method="GET", query=b"", client=("10.0.0.1", 1), app=None) -> dict:
    return {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": query,
            "client": client, "headers": [], "app": app}


def test_a_nul_in_the_path_is_a_400_not_a_500():
    status, body, reached = _call(guard.NoRemoteFiles, _http("/gradio_api/proxy=http://x/a%00b"))
    assert status == 400 and b"NUL" in body and not reached
    status, _, reached = _call(guard.NoRemoteFiles, _http("/gradio_api/info"))
    assert status is None and reached


class FakeQueue:
    def __init__(self, events):
        self.event_queue_per_concurrency_id = {"encode": SimpleNamespace(queue=list(events))}
        self.active_jobs = []
        self.cleaned = []

    async def clean_events(self, *, session_hash=None, event_id=None):
        self.cleaned.append(event_id)
        q = self.event_queue_per_concurrency_id["encode"].queue
        q[:] = [e for e in q if e._id != event_id]


def _event(i, host, age=0.0, session="s"):
    return SimpleNamespace(_id=f"e{i}", session_hash=session, enqueue_time=time.monotonic() - age,
                           request=SimpleNamespace(scope={"client": (host, 1), "headers": []}))


def _app_with(queue):
    return SimpleNamespace(get_blocks=lambda: SimpleNamespace(_queue=queue))


def test_one_client_cannot_hold_more_than_its_share():
    queue = FakeQueue([_event(i, "10.6.6.6") for i in range(3)] + [_event(9, "10.0.0.2")])
    fair = guard.FairQueue(None, max_pending=3)
    joined = _http("/gradio_api/queue/join", "POST", client=("10.6.6.6", 1), app=_app_with(queue))

    async def passthrough(scope, receive, send):
        pass

    fair.app = passthrough
    sent = []

    async def send(m):
        sent.append(m)

    asyncio.run(fair(joined, None, send))
    assert sent[0]["status"] == 503 and "per visitor" in json.loads(sent[1]["body"])["detail"]
    sent.clear()
    other = _http("/gradio_api/queue/join", "POST", client=("10.0.0.2", 1), app=_app_with(queue))
    asyncio.run(fair(other, None, send))
    assert sent == []  # another visitor still gets in


def test_requests_nobody_listens_for_are_dropped():
    queue = FakeQueue([_event(1, "10.6.6.6", age=60, session="ghost"), _event(2, "10.0.0.2", age=60, session="live"),
                       _event(3, "10.6.6.6", age=1, session="new")])
    fair = guard.FairQueue(None, max_pending=8, unheard_after=30)
    fair.listening["live"] = 1
    asyncio.run(fair._drop_unheard(queue))
    assert queue.cleaned == ["e1"]


def test_config_is_built_once_per_root_url():
    built = []

    async def app(scope, receive, send):
        host = dict(scope["headers"]).get(b"host", b"").decode()
        built.append(host)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps({"root": host}).encode()})

    cache = guard.ConfigCache(app)

    def get(host, query=b""):
        sent = []

        async def send(m):
            sent.append(m)

        scope = {**_http("/config", query=query), "headers": [(b"host", host.encode())]}
        asyncio.run(cache(scope, None, send))
        return json.loads(sent[1]["body"])["root"]

    assert get("a") == "a" and get("a") == "a" and built == ["a"]  # the second came from memory
    assert get("b") == "b" and built == ["a", "b"]  # another root URL is another entry
    get("a", query=b"deep_link=x")  # a deep link is always built
    assert built == ["a", "b", "a"]
