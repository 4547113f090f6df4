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


def _join(fair, host, session, user_agent="Mozilla/5.0", xff=None, accept_language="en") -> tuple[int | None, dict]:
    """One queue/join through `fair`: (status, parsed body), status None when it reached the app."""
    headers = [(b"user-agent", user_agent.encode()), (b"accept-language", accept_language.encode())]
    if xff is not None:
        headers.append((b"x-forwarded-for", xff.encode()))
    scope = {**_http("/gradio_api/queue/join", "POST", client=(host, 1), app=fair.test_app), "headers": headers}
    sent, reached = [], []

    async def app(scope, receive, send):
        reached.append((await receive())["body"])

    async def send(m):
        sent.append(m)

    async def receive():
        return {"type": "http.request", "body": json.dumps({"session_hash": session, "fn_index": 0}).encode()}

    fair.app = app
    asyncio.run(fair(scope, receive, send))
    if reached:
        assert json.loads(reached[0])["session_hash"] == session  # the body read for the check reaches Gradio
        return None, {}
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert dict(start["headers"])[b"retry-after"].isdigit()
    return start["status"], json.loads(b"".join(m.get("body", b"") for m in sent if "body" in m))


def _fair(events, **kw):
    fair = guard.FairQueue(None, **kw)
    fair.test_app = _app_with(FakeQueue(events))
    return fair


def test_one_session_cannot_hold_more_than_its_share():
    fair = _fair([_event(i, "10.6.6.6", session="greedy") for i in range(3)] + [_event(9, "10.0.0.2")],
                 max_pending=3)
    status, body = _join(fair, "10.6.6.6", "greedy")
    assert status == 429 and "per visitor" in body["detail"] and "Try again in about" in body["detail"]
    assert _join(fair, "10.6.6.6", "classmate")[0] is None  # another session on the same address gets in
    assert _join(fair, "10.0.0.2", "other")[0] is None


def test_a_class_of_60_behind_one_address_all_get_in():
    events = [_event(i, "192.0.2.1", session=f"student{i}") for i in range(59)]  # one call each in flight
    fair = _fair(events, max_pending=8, max_per_address=128, max_new_sessions=90)
    assert all(_join(fair, "192.0.2.1", f"student{i}")[0] is None for i in range(60))


def test_one_address_has_a_ceiling():
    fair = _fair([_event(i, "192.0.2.1", session=f"s{i}") for i in range(5)], max_per_address=5)
    status, body = _join(fair, "192.0.2.1", "s-new")
    assert status == 429 and "one address" in body["detail"]


def test_invented_sessions_are_capped_per_address_per_minute():
    fair = _fair([], max_new_sessions=4)
    assert [_join(fair, "10.6.6.7", f"invented{i}")[0] for i in range(6)] == [None] * 4 + [429] * 2
    assert _join(fair, "10.6.6.7", "invented0")[0] is None  # a session seen before is not new
    assert _join(fair, "10.0.0.3", "elsewhere")[0] is None  # the cap is per address
    fair.new_at["10.6.6.7"] = type(fair.new_at["10.6.6.7"])(t - 61 for t in fair.new_at["10.6.6.7"])
    assert _join(fair, "10.6.6.7", "a-minute-later")[0] is None


def test_joins_nobody_listens_for_are_capped_per_address():
    ghosts = [_event(i, "10.6.6.8", age=20, session=f"ghost{i}") for i in range(3)]
    fair = _fair([*ghosts, _event(7, "10.6.6.9", age=20, session="heard")], max_unheard=3, unheard_grace_s=10)
    status, body = _join(fair, "10.6.6.8", "ghost-next")
    assert status == 429 and "nobody listening" in body["detail"]
    fair.listening["heard"] = 1
    assert _join(fair, "10.6.6.9", "heard")[0] is None  # listening sessions are not ghosts


def test_gradio_client_reads_the_reason_not_queue_is_full():
    """gradio_client raises "Queue is full!" for any 503; a 422's validation messages it shows as they are."""
    from gradio_client.utils import extract_validation_message

    fair = _fair([_event(i, "10.6.6.6", session="bot") for i in range(2)], max_pending=2)
    status, body = _join(fair, "10.6.6.6", "bot", user_agent="gradio_client/2.0; python/3.11")
    assert status == 422
    response = SimpleNamespace(status_code=422, json=lambda: body)
    shown = extract_validation_message(response)
    assert "per visitor" in shown and "Try again in about" in shown


def test_the_refusal_follows_the_visitors_language():
    fair = _fair([_event(0, "10.6.6.6", session="s")], max_pending=1)
    assert "每位访客" in _join(fair, "10.6.6.6", "s", accept_language="zh-CN,zh;q=0.9")[1]["detail"]


def test_on_a_space_the_address_is_the_one_hfs_proxy_appended():
    """A client may write any X-Forwarded-For; HF's proxy appends the address it saw, so that one counts."""
    fair = _fair([], max_new_sessions=3, behind_space_proxy=True)
    codes = [_join(fair, "10.0.0.1", f"s{i}", xff=f"198.51.100.{i}, 203.0.113.7")[0] for i in range(5)]
    assert codes == [None] * 3 + [429] * 2
    assert guard.client_key({"headers": [(b"x-forwarded-for", b"1.2.3.4, 203.0.113.7")], "client": ("10.0.0.1", 1)},
                            behind_space_proxy=True) == "203.0.113.7"


def test_deep_or_huge_json_bodies_are_refused_before_parsing():
    deep = b'{"data": ' + b"[" * 500 + b"]" * 500 + b', "session_hash": "x"}'
    strings = json.dumps({"data": ["[" * 500, "{" * 500], "session_hash": "x"}).encode()

    def post(body, headers=()):
        scope = {**_http("/gradio_api/queue/join", "POST"), "headers": [(b"content-type", b"application/json"),
                                                                         *headers]}
        sent, reached = [], []

        async def app(scope, receive, send):
            reached.append((await receive())["body"])

        async def send(m):
            sent.append(m)

        async def receive():
            return {"type": "http.request", "body": body}

        asyncio.run(guard.JsonBodyGuard(app, max_bytes=10_000, max_depth=32)(scope, receive, send))
        status = next((m["status"] for m in sent if m["type"] == "http.response.start"), None)
        return status, b"".join(m.get("body", b"") for m in sent if "body" in m), reached

    status, body, reached = post(deep)
    assert status == 400 and "nested more than 32" in json.loads(body)["detail"] and not reached
    assert post(strings)[0] is None  # brackets inside strings are text, not nesting
    assert post(strings)[2] == [strings]
    status, body, _ = post(b"[" + b"1," * 6000 + b"1]")
    assert status == 413 and "at most" in json.loads(body)["detail"]
    assert post(b"{}", headers=[(b"content-length", b"999999999")])[0] == 413


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
