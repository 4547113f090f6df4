"""Security: upload limit, file routes, no server paths from text, no network, safetensors only, no
remote code, no user file contents in the logs, bounded caches.

The HTTP checks run against one real app launched for this module, with a small upload limit and
with every non-loopback connection refused and recorded (tests/netguard.py).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

import pytest
from app_server import ROOT, running_app

pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

TOY = ROOT / "assets" / "toy" / "00_a_small_red_circle_on_the_left.png"
LIMIT_KB = 300
MARKER = "CONFIDENTIAL-MARKER-7f3a9c"  # written into uploaded files; must never reach the server log
SOURCES = [ROOT / "app.py", *sorted((ROOT / "clipdemo").rglob("*.py"))]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("security")
    log, net = d / "app.log", d / "network.log"
    net.write_text("")
    with running_app("--max-file-size", f"{LIMIT_KB}kb", log_path=log, netguard_log=net) as (url, proc):
        yield {"url": url, "log": log, "net": net, "dir": d, "proc": proc}


@pytest.fixture(scope="module")
def client(server):
    return Client(server["url"], verbose=False)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def upload(url: str, name: str, data: bytes) -> tuple[int, str]:
    boundary = "----clipdemo-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url + "gradio_api/upload", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


# ---------------------------------------------------------------- upload size


def test_upload_over_the_limit_is_refused(server):
    status, text = upload(server["url"], "big.png", b"\x89PNG" + b"\x00" * (LIMIT_KB + 50) * 1024)
    assert status == 413, (status, text)
    assert "file size" in text.lower() or "too large" in text.lower() or "limit" in text.lower(), text
    status, text = upload(server["url"], "small.png", TOY.read_bytes())  # the control: a small file passes
    assert status == 200 and json.loads(text)[0].startswith("/"), text


def test_upload_limit_reaches_the_api_client(client, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\x00" * (LIMIT_KB + 50) * 1024)
    with pytest.raises(Exception) as info:  # noqa: PT011 - gradio_client raises httpx / ValueError by version
        client.predict(handle_file(str(big)), "red circle", "single", api_name="/zero_shot")
    assert "413" in str(info.value) or "size" in str(info.value).lower()


def test_default_upload_limit_is_set():
    from app import parse_args
    from clipdemo.ui.app import launch_kwargs

    assert parse_args([]).max_file_size == "25mb"
    assert launch_kwargs()["max_file_size"] == "25mb"


def test_the_queue_is_bounded(monkeypatch):
    import gradio as gr

    from app import parse_args, with_queue

    monkeypatch.setenv("CLIPDEMO_MAX_QUEUE", "7")
    args = parse_args([])
    with gr.Blocks() as demo:
        gr.Markdown("x")
    with_queue(demo, args)
    assert args.max_queue == 7 and demo._queue.max_size == 7
    assert demo._queue.default_concurrency_limit == args.concurrency


# ---------------------------------------------------------------- file routes


def _probes() -> list[str]:
    app_py = str(ROOT / "app.py")
    weights = str(ROOT / "assets" / "toy-clip" / "config.json")
    return ["/etc/passwd", app_py, weights, "app.py", "./app.py", "../../../../etc/passwd",
            "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", urllib.parse.quote(app_py, safe=""),
            "/tmp/gradio/../../etc/passwd", "/proc/self/environ", "assets/toy-clip/config.json"]


@pytest.mark.parametrize("probe", _probes())
@pytest.mark.parametrize("route", ["gradio_api/file=", "file=", "gradio_api/file/"])
def test_file_routes_refuse_paths_outside_the_uploads(server, route, probe):
    status, body = get(server["url"] + route + probe)
    assert status in (403, 404), (status, body[:200])
    assert b"root:" not in body and b"def main" not in body and b"model_type" not in body


def test_file_route_serves_an_upload_back(server):
    """The control for the refusals above: the route works, for files the app itself received."""
    status, text = upload(server["url"], "toy.png", TOY.read_bytes())
    path = json.loads(text)[0]
    status, body = get(server["url"] + "gradio_api/file=" + path)
    assert status == 200 and body == TOY.read_bytes()


@pytest.mark.parametrize("url", ["https://example.com/x.png", "http%3A//169.254.169.254/latest/meta-data/",
                                 "http://127.0.0.1:22/"])
def test_file_route_fetches_no_remote_urls(server, url):
    status, _ = get(server["url"] + "gradio_api/file=" + url)
    assert status == 403


def _call(server, api: str, data: list) -> str:
    """Gradio's raw HTTP API (no client-side upload): POST the data, read the event stream to its end."""
    req = urllib.request.Request(server["url"] + f"gradio_api/call/{api}", data=json.dumps({"data": data}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        event_id = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(server["url"] + f"gradio_api/call/{api}/{event_id}", timeout=120) as r:
        return r.read().decode()


@pytest.mark.parametrize("path", ["/etc/passwd", str(ROOT / "app.py")])
def test_a_file_payload_cannot_name_a_server_path(server, path):
    """A hand-made API call that names a server file instead of uploading one is refused, not read."""
    fd = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "x.png"}
    stream = _call(server, "embedding_map", [[fd], ""])
    assert "event: error" in stream and "root:" not in stream and "def main" not in stream, stream[:300]
    stream = _call(server, "zero_shot", [fd, "red circle, blue square", "single"])
    assert "event: error" in stream and "root:" not in stream, stream[:300]


# ---------------------------------------------------------------- text is never a server path


@pytest.mark.parametrize("name", ["/etc", str(ROOT / "assets" / "toy-clip"), "../assets/toy-clip", "~", "."])
def test_api_accepts_only_offered_model_names(client, name):
    with pytest.raises(AppError) as info:
        client.predict(image=handle_file(str(TOY)), labels="red circle", model=name, api_name="/zero_shot")
    assert "not offered" in str(info.value)


def test_registry_refuses_folders_not_allowed_at_launch(tmp_path):
    from clipdemo.loading import BUNDLED_MODEL_DIR, ModelNotAvailable
    from clipdemo.registry import ModelRegistry

    registry = ModelRegistry("bundled", device="cpu", allowed_folders=(str(tmp_path),))
    for name in (str(BUNDLED_MODEL_DIR), "/etc", "../assets/toy-clip"):
        with pytest.raises(ModelNotAvailable, match="not offered"):
            registry.get(name)


def test_labels_and_templates_are_text_not_paths(client):
    result = client.predict(handle_file(str(TOY)), "/etc/passwd, app.py", "single", api_name="/zero_shot")
    assert set(result["labels"]) == {"/etc/passwd", "app.py"}
    with pytest.raises(AppError, match="exactly one"):
        client.predict(handle_file(str(TOY)), "red circle", "/etc/passwd", api_name="/zero_shot")


# ---------------------------------------------------------------- no network


def test_launched_app_makes_no_outside_connections(server, client):
    """Start-up, page load and a round of requests with the bundled model: no connection left the machine."""
    assert get(server["url"])[0] == 200
    client.predict(handle_file(str(TOY)), "red circle, blue square", "imagenet7", api_name="/zero_shot")
    client.predict([handle_file(str(TOY))], "a red circle", api_name="/similarity_matrix")
    client.predict(handle_file(str(TOY)), "a red circle", "surgery", api_name="/spatial_heatmap")
    client.predict([handle_file(str(TOY))], "a red circle", api_name="/embedding_map")
    time.sleep(1)  # telemetry threads would have fired by now
    assert server["net"].read_text() == "", server["net"].read_text()


def test_bundled_model_and_zero_shot_never_touch_the_network(monkeypatch):
    """Even without HF_HUB_OFFLINE the bundled model loads and labels with every outside connection refused."""
    import netguard

    from clipdemo.encoding import Encoder
    from clipdemo.images import load_image
    from clipdemo.loading import load_model
    from clipdemo.zeroshot import zero_shot

    attempts: list[str] = []
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with monkeypatch.context() as m:
        import socket

        m.setattr(socket.socket, "connect", socket.socket.connect)  # restored when the block ends
        m.setattr(socket.socket, "connect_ex", socket.socket.connect_ex)
        m.setattr(socket, "getaddrinfo", socket.getaddrinfo)
        netguard.install(attempts)
        result = zero_shot(Encoder(load_model("bundled", device="cpu")), [load_image(TOY)], "red circle, blue square")
    assert result.labels == ["red circle", "blue square"]
    assert attempts == []


def test_offline_hub_model_fails_fast_without_connecting(monkeypatch):
    import socket

    import netguard

    from clipdemo.loading import ModelNotAvailable, load_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    attempts: list[str] = []
    monkeypatch.setattr(socket.socket, "connect", socket.socket.connect)
    monkeypatch.setattr(socket.socket, "connect_ex", socket.socket.connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    netguard.install(attempts)
    with pytest.raises(ModelNotAvailable, match="HF_HUB_OFFLINE"):
        load_model("openai/clip-vit-large-patch14")
    assert attempts == []  # refused before any connection was even tried


def test_the_app_disables_gradio_telemetry():
    from clipdemo.registry import ModelRegistry
    from clipdemo.ui.app import build_app
    from clipdemo.ui.context import UIContext

    demo = build_app(UIContext(ModelRegistry("bundled", device="cpu")))
    assert demo.analytics_enabled is False
    assert demo.delete_cache is not None  # the upload/output cache is swept (see test_caches_have_caps)


# ---------------------------------------------------------------- weights and code


def test_weights_load_as_safetensors_only(tmp_path):
    from clipdemo.loading import ModelNotAvailable, load_model

    folder = tmp_path / "pickle-only"
    folder.mkdir()
    (folder / "config.json").write_text((ROOT / "assets" / "toy-clip" / "config.json").read_text())
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04 a pickle that must never be unpickled")
    with pytest.raises(ModelNotAvailable, match="safetensors"):
        load_model(str(folder))
    text = (ROOT / "clipdemo" / "core" / "loading.py").read_text()
    assert "use_safetensors=True" in text


def test_no_remote_code_and_no_unsafe_unpickling():
    """Grep over the source: trust_remote_code only ever False; torch.load only with weights_only=True."""
    offenders = []
    for path in SOURCES:
        text = path.read_text()
        for m in re.finditer(r"trust_remote_code\s*=\s*(\w+)", text):
            if m.group(1) != "False":
                offenders.append(f"{path.name}: {m.group(0)}")
        for m in re.finditer(r"torch\.load\(([^)]*)\)", text):
            if "weights_only=True" not in m.group(1):
                offenders.append(f"{path.name}: {m.group(0)}")
        if re.search(r"\bpickle\.loads?\(|(?<![.\w])(eval|exec)\(", text):  # not model.eval()
            offenders.append(f"{path.name}: pickle/eval/exec")
    assert offenders == []
    assert any("trust_remote_code=False" in p.read_text() for p in SOURCES)  # the loader says it explicitly


# ---------------------------------------------------------------- logs


def test_logs_carry_no_user_file_contents(server, client, tmp_path):
    fake = tmp_path / "secret.png"
    fake.write_text(f"{MARKER} this text file pretends to be an image\n")
    with pytest.raises(AppError):
        client.predict(handle_file(str(fake)), "red circle", "single", api_name="/zero_shot")
    archive = tmp_path / "secret.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes.txt", MARKER)
        zf.writestr("fake.png", MARKER)
        zf.write(TOY, "toy.png")
    client.predict([handle_file(str(archive))], "", api_name="/embedding_map")
    client.predict([handle_file(str(fake)), handle_file(str(TOY))], "a red circle", api_name="/similarity_matrix")
    deadline = time.monotonic() + 30  # the refusal reaches the log file when the server flushes it
    while "secret.png" not in (log := server["log"].read_text(errors="replace")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "secret.png" in log  # Gradio logs the refusal (our message names the file) ...
    assert MARKER not in log  # ... but never what the file holds


# ---------------------------------------------------------------- caches are bounded


def test_caches_have_caps():
    from clipdemo import embedding_map, encoding
    from clipdemo.cache import LRUCache
    from clipdemo.registry import ModelRegistry

    cache = LRUCache(3)
    for i in range(10):
        cache.put(i, i)
    assert len(cache) == 3 and cache.get(0) is None and cache.get(9) == 9

    import inspect

    defaults = inspect.signature(encoding.Encoder.__init__).parameters
    assert 0 < defaults["image_cache"].default <= 10_000 and 0 < defaults["text_cache"].default <= 100_000
    assert 0 < embedding_map.MAX_CACHED_PROJECTIONS <= 100

    from clipdemo.ui import app as ui_app

    every, age = ui_app.CACHE_SWEEP  # Gradio's upload/output cache is swept
    assert 0 < every <= age <= 24 * 3600
    assert 0 < ui_app.launch_kwargs()["state_session_capacity"] <= 5000

    registry = ModelRegistry("bundled", max_models=2)
    for name in ("a", "b", "c", "d"):
        registry.add(name, object(), backend=object())  # the registry only counts what it holds
    assert registry.loaded_names() == ["c", "d"]
