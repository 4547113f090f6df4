"""The public API (clipdemo/ui/api.py) as a client sees it, against one launched app (`--mcp`): view_api names
everything, every endpoint answers by keyword with the service layer's numbers, `model` holds per call (two
clients, two models, at once), inputs that name server files or URLs are refused, README's examples run as
written, and the same endpoints are MCP tools an agent can call."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from app_server import ROOT, running_app
from conftest import build_tiny_clip

pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from clipdemo.ui.api import ENDPOINTS  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")
_API_START = README.index("## API: HTTP, Python, MCP")
API_SECTION = README[_API_START:README.find("\n## ", _API_START + 1) % (len(README) + 1)]  # up to the next section
RED = ROOT / "assets" / "toy" / "00_a_small_red_circle_on_the_left.png"
BLUE = ROOT / "assets" / "toy" / "01_a_small_blue_square_on_the_right.png"
README_URL = "http://127.0.0.1:7860"


def readme_table() -> dict[str, tuple[list[tuple[str, str | None]], list[str]]]:
    """endpoint -> ([(parameter, default or None)], [returned keys]) from README's API table."""
    rows = {}
    for line in API_SECTION.splitlines():
        m = re.match(r"\| `/(\w+)` \| (.*?) \| (.*?) \|$", line)
        if m:
            params = [] if m.group(2).strip() == "—" else [
                (p.split("=")[0].strip(), p.split("=", 1)[1].strip() if "=" in p else None)
                for p in m.group(2).strip("`").split(", ")]
            rows[m.group(1)] = (params, re.findall(r"`(\w+)`", m.group(3)))
    return rows


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", API_SECTION, re.S)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return build_tiny_clip(tmp_path_factory.mktemp("api-tiny"), seed=3)


@pytest.fixture(scope="module")
def url(tiny_folder, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "app.log"
    # fp32: "auto" picks bf16 where a run-time measurement finds it faster, and numbers are compared below
    with running_app("--allow-folder", str(tiny_folder), "--mcp", "--dtype", "fp32", log_path=log) as (address, _):
        yield address.rstrip("/")


@pytest.fixture(scope="module")
def client(url):
    return Client(url + "/", verbose=False)


@pytest.fixture(scope="module")
def service(tiny_folder):
    """The same service layer in this process, to compare the API's numbers with."""
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService

    return ClipService(ModelRegistry("bundled", device="cpu", dtype="fp32", allowed_folders=(str(tiny_folder),)))


# ---------------------------------------------------------------- what a client sees


def test_view_api_names_every_parameter_and_output(client):
    info = client.view_api(return_format="dict", print_info=False)
    named = info["named_endpoints"]
    table = readme_table()
    assert set(table) == set(ENDPOINTS)  # README documents exactly the published endpoints
    for name in ENDPOINTS:
        endpoint = named[f"/{name}"]
        assert len(endpoint["description"]) > 20, name
        params = endpoint["parameters"]
        assert [p["parameter_name"] for p in params] == [p for p, _ in table[name][0]], name
        assert [p["label"] for p in params] == [p["parameter_name"] for p in params]
        assert [r["label"] for r in endpoint["returns"]] == ["result"]
        for p, (_, default) in zip(params, table[name][0], strict=True):
            assert p["parameter_has_default"] == (default is not None), (name, p["parameter_name"])
        # every endpoint takes `model` last; /compare_models takes two models, model_a and model_b
        last = ["model_a", "model_b"] if name == "compare_models" else ["model"]
        assert params == [] or [p["parameter_name"] for p in params[-len(last):]] == last or name == "models"
    # Nothing else is public but the Learn tab's own endpoints; the UI's wiring is private.
    assert all(n.startswith("/learn_") for n in set(named) - {f"/{n}" for n in ENDPOINTS}), sorted(named)
    assert not info["unnamed_endpoints"]


def test_zero_shot_by_keyword_gives_the_service_layers_numbers(client, service):
    got = client.predict(image=handle_file(str(RED)), labels="blue square, red circle, yellow star",
                         templates="imagenet7", api_name="/zero_shot")
    want = service.zero_shot(RED, "blue square, red circle, yellow star", "imagenet7").to_json()
    assert got["labels"] == want["labels"] and got["labels"][0] == "red circle"
    assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)
    assert got["cosine"] == pytest.approx(want["cosine"], abs=1e-5)
    assert got["templates"] == want["templates"] and len(got["templates"]) == 7
    assert got["scoring"] == "softmax" and got["model"] == "bundled"
    assert got["probabilities"] == sorted(got["probabilities"], reverse=True)


def test_model_is_honoured_per_call_two_clients_at_once(url, tiny_folder, service):
    """Two clients, each with its own model, calling at the same time: each gets its own model's numbers."""
    tiny = str(tiny_folder)
    want = {m: service.zero_shot(RED, "red circle, blue square", model=m).to_json() for m in ("bundled", tiny)}
    assert want["bundled"]["logit_scale"] != pytest.approx(want[tiny]["logit_scale"], abs=0.5)
    clients = {m: Client(url + "/", verbose=False) for m in want}

    def call(model):
        return model, clients[model].predict(image=handle_file(str(RED)), labels="red circle, blue square",
                                             model=model, api_name="/zero_shot")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(call, ["bundled", tiny] * 3))
    for model, got in results:
        assert got["model"] == model
        assert got["logit_scale"] == pytest.approx(want[model]["logit_scale"], abs=1e-4)
        assert got["cosine"] == pytest.approx(want[model]["cosine"], abs=1e-5)
    models = clients["bundled"].predict(api_name="/models")
    assert models["default"] == "bundled"
    entries = {m["name"]: m for m in models["models"]}
    assert entries[tiny]["loaded"] and entries[tiny]["family"] == "clip" and entries[tiny]["scoring"] == "softmax"


def test_every_endpoint_answers_by_keyword_with_consistent_numbers(client):
    pair = [handle_file(str(RED)), handle_file(str(BLUE))]
    matrix = client.predict(images=pair, texts="a red circle\na blue square", api_name="/similarity_matrix")
    assert matrix["paired"] and matrix["losses"]["chance"] == pytest.approx(math.log(2), abs=1e-5)
    assert matrix["cosine"][0][0] > matrix["cosine"][0][1] and matrix["cosine"][1][1] > matrix["cosine"][1][0]
    emb = client.predict(images=pair, texts="a red circle\na blue square", api_name="/embed")
    for img in emb["images"]:
        assert sum(v * v for v in img["vector"]) == pytest.approx(1, abs=1e-4) and len(img["vector"]) == emb["dim"]
    dot = sum(a * b for a, b in zip(emb["images"][1]["vector"], emb["texts"][0]["vector"], strict=True))
    assert dot == pytest.approx(matrix["cosine"][1][0], abs=1e-4)  # the matrix is these vectors' dot products
    heat = client.predict(image=pair[0], text="a red circle", method="naive", api_name="/spatial_heatmap")
    cells = [v for row in heat["relevance"] for v in row]
    assert heat["method"] == "naive" and min(cells) == 0 and max(cells) == 1
    assert heat["score"] == pytest.approx(matrix["cosine"][0][0], abs=1e-4)
    found = client.predict(query="a small red circle", images=pair, k=2, api_name="/search")
    assert [r["name"] for r in found["results"]] == [RED.name, BLUE.name]
    assert found["results"][0]["score"] == pytest.approx(matrix["cosine"][0][0], abs=0.1)
    by_image = client.predict(query_image=pair[1], images=pair, k=2, api_name="/search")  # image -> image
    assert [r["name"] for r in by_image["results"]] == [BLUE.name, RED.name]
    assert by_image["results"][0]["score"] == pytest.approx(1, abs=1e-3)
    mapped = client.predict(images=pair, texts="a green star", method="pca", dims=3, api_name="/embedding_map")
    kinds = [p["kind"] for p in mapped["points"]]
    assert kinds.count("image") == 2 and "z" in mapped["points"][0] and mapped["summary"]["method"] == "pca"
    batch = client.predict(images=pair, labels="red circle, blue square", api_name="/zero_shot_batch")
    assert [r["labels"][0] for r in batch["results"]] == ["red circle", "blue square"] and batch["skipped"] == []


def test_input_problems_say_what_to_fix(client):
    with pytest.raises(AppError, match="at least one label"):
        client.predict(image=handle_file(str(RED)), labels=" , ", api_name="/zero_shot")
    with pytest.raises(AppError, match="method must be one of umap, pca, tsne"):
        client.predict(method="mds", api_name="/embedding_map")
    with pytest.raises(AppError, match="not offered"):
        client.predict(query="a cat", model="/etc", api_name="/search")


# ---------------------------------------------------------------- files, never paths or URLs


def _raw_call(url: str, endpoint: str, data: list) -> str:
    req = urllib.request.Request(f"{url}/gradio_api/call/{endpoint}", data=json.dumps({"data": data}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        event = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{url}/gradio_api/call/{endpoint}/{event}", timeout=120) as r:
        return r.read().decode()


@pytest.mark.parametrize("value", ["/etc/passwd", {"path": "/etc/passwd"}, str(RED)])
def test_a_bare_path_is_not_read(url, value):
    stream = _raw_call(url, "zero_shot", [value, "red circle, blue square", "single", ""])
    assert "event: error" in stream and "Not an uploaded file" in stream and "root:" not in stream, stream[:300]


@pytest.mark.parametrize("endpoint, data", [
    ("zero_shot", [{"path": "http://192.0.2.1/cat.png", "meta": {"_type": "gradio.FileData"}}, "cat", "single", ""]),
    ("search", ["a cat", [{"path": "https://192.0.2.1/a.png", "url": "https://192.0.2.1/a.png",
                          "meta": {"_type": "gradio.FileData"}}],
                3, "", None, ""]),
    ("search", ["", None, 3, "", {"path": "https://192.0.2.1/q.png", "url": "https://192.0.2.1/q.png",
                                  "meta": {"_type": "gradio.FileData"}}, ""]),
])
def test_a_url_is_refused_before_gradio_would_fetch_it(url, endpoint, data):
    """192.0.2.1 is TEST-NET-1: nothing answers there, so a fetch would show as a connection error instead."""
    stream = _raw_call(url, endpoint, data)
    assert "event: error" in stream and "does not download files from URLs" in stream, stream[:300]


@pytest.mark.parametrize("endpoint, data, says", [
    ("embedding_map", [None, "", "umap", float("nan"), "", ""], "dims must be a whole number from 2 to 3"),
    ("embedding_map", [None, "", "umap", "abc", "", ""], "dims must be a whole number from 2 to 3"),
    ("embedding_map", [None, "", "umap", [2], "", ""], "dims must be a whole number from 2 to 3"),
    ("search", ["a cat", None, 1e300, "", None, ""], "k must lie between 1 and 1000"),
    ("search", ["a cat", None, -3, "", None, ""], "k must lie between 1 and 1000"),
    ("search", [["a", "cat"], None, 3, "", None, ""], "query must be a text"),
])
def test_bad_parameters_are_input_problems_naming_the_parameter(url, endpoint, data, says):
    """Each once answered "clipdemo failed on this request (ValueError …). This is a bug"."""
    raw = json.dumps({"data": data})  # NaN written as JavaScript clients send it
    req = urllib.request.Request(f"{url}/gradio_api/call/{endpoint}", data=raw.encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        event = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{url}/gradio_api/call/{endpoint}/{event}", timeout=120) as r:
        stream = r.read().decode()
    assert "event: error" in stream and says in stream and "bug" not in stream, stream[:400]


@pytest.mark.parametrize("path, says", [
    ("/etc/hostname", "not a file uploaded to this server"),
    ("data:image/png;base64,iVBORw0KGgo=", "data: URIs are taken over MCP only"),
])
def test_a_file_gradio_would_refuse_silently_gets_a_message(url, path, says):
    """Gradio refused these itself, and the client read `null`."""
    stream = _raw_call(url, "zero_shot", [{"path": path, "meta": {"_type": "gradio.FileData"}}, "red, blue",
                                          "single", ""])
    assert "event: error" in stream and says in stream and "null" not in stream, stream[:400]


@pytest.mark.parametrize("route", ["gradio_api/queue/join", "gradio_api/call/zero_shot", "gradio_api/run/zero_shot"])
def test_a_deeply_nested_body_is_a_400_with_a_message(url, route):
    """500 deep was a plain-text 500 and a 30 KB traceback in the log."""
    body = b'{"data": ' + b"[" * 500 + b"]" * 500 + b', "fn_index": 0, "session_hash": "deep"}'
    req = urllib.request.Request(f"{url}/{route}", data=body, headers={"Content-Type": "application/json"},
                                 method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400 and "nested more than" in json.loads(e.value.read())["detail"]


def test_a_user_error_is_logged_as_one_short_line(caplog):
    import gradio as gr

    from clipdemo.core.errors import InputError
    from clipdemo.ui.api import LOGGED_CHARS, respond

    with caplog.at_level("WARNING", logger="clipdemo.api"):
        with pytest.raises(gr.Error) as info:
            respond("zero_shot", _raise(InputError("template " + "x" * 7_000_000)))
    record = caplog.records[-1]
    assert record.exc_info is None and len(record.getMessage()) < LOGGED_CHARS + 50
    assert info.value.print_exception is False  # Gradio prints no traceback for it either


def test_gradio_client_with_a_url_is_refused(client):
    with pytest.raises(AppError, match="does not download files from URLs"):
        client.predict(image=handle_file("http://192.0.2.1/cat.png"), labels="cat", api_name="/zero_shot")


# ---------------------------------------------------------------- README's examples, as written


def test_readme_python_examples_run(url):
    setup, *examples = readme_blocks("python")
    table = readme_table()
    namespace: dict = {}
    exec(compile(setup.replace(README_URL, url), "README setup", "exec"), namespace)  # noqa: S102
    assert len(examples) == len(ENDPOINTS)
    for block in examples:
        endpoint = re.search(r'api_name="/(\w+)"', block).group(1)
        namespace.pop("result", None)
        exec(compile(block, f"README {endpoint}", "exec"), namespace)  # noqa: S102
        assert set(table[endpoint][1]) <= set(namespace["result"]), endpoint


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed (scripts/test.sh installs it)")
def test_readme_curl_examples_run(url):
    setup, *examples = readme_blocks("bash")
    table = readme_table()
    assert len(examples) == len(ENDPOINTS)
    for block in examples:
        endpoint = re.search(r"call (\w+)", block).group(1)
        script = setup.replace(README_URL, url) + "\n" + block
        out = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert isinstance(result, list) and set(table[endpoint][1]) <= set(result[0]), (endpoint, out.stdout[:300])


# ---------------------------------------------------------------- user errors and bugs


def _raise(error: Exception):
    def call():
        raise error
    return call


def test_a_user_error_is_an_input_problem_and_anything_else_a_logged_bug(caplog):
    import gradio as gr

    from clipdemo.core.errors import InputError
    from clipdemo.ui.api import respond

    with pytest.raises(gr.Error) as info:
        respond("zero_shot", _raise(InputError("Enter at least one label.")))
    assert info.value.title == "Input problem" and info.value.message == "Enter at least one label."
    for bug in (ValueError("shapes (3,) and (4,) not aligned"), KeyError("logits")):
        with caplog.at_level("ERROR", logger="clipdemo.api"):
            with pytest.raises(gr.Error) as info:
                respond("zero_shot", _raise(bug))
        assert info.value.title == "Internal error" and "bug" in info.value.message
        assert "not aligned" not in info.value.message  # internals stay in the log
        assert caplog.records[-1].exc_info[1] is bug


def test_defuse_replaces_only_file_objects_that_name_urls():
    from clipdemo.ui.no_fetch import REFUSED, defuse

    upload = {"path": "/tmp/gradio/abc/red.png", "meta": {"_type": "gradio.FileData"}}
    remote = {"path": "HTTPS://example.com/x.png", "meta": {"_type": "gradio.FileData"}}
    body = {"data": [upload, [remote, upload], "https://example.com is text, not a file"], "fn_index": 3}
    cleaned, n = defuse(body)
    assert n == 1 and cleaned["data"][0] == upload and cleaned["data"][1][1] == upload
    assert cleaned["data"][1][0] == REFUSED + "HTTPS://example.com/x.png" and cleaned["data"][2] == body["data"][2]
    assert defuse({"data": [{"path": "data:image/png;base64,AAAA"}]}) == ({"data": [{"path": "data:image/png;base64,AAAA"}]}, 0)
    # what a browser sends for its upload: the cached path, and this server's own URL for showing it
    browser = {"path": "/tmp/gradio/abc/red.png", "url": "http://127.0.0.1:7860/gradio_api/file=/tmp/gradio/abc/red.png",
               "meta": {"_type": "gradio.FileData"}}
    assert defuse({"data": [browser]}) == ({"data": [browser]}, 0)


# ---------------------------------------------------------------- MCP


def test_mcp_lists_described_tools_and_zero_shot_answers(url):
    pytest.importorskip("mcp")
    import ast
    import asyncio
    import base64

    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    red = "data:image/png;base64," + base64.b64encode(RED.read_bytes()).decode()

    async def session_calls():
        async with streamablehttp_client(url + "/gradio_api/mcp/") as (read, write, _), \
                ClientSession(read, write) as session:
            await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            answer = await session.call_tool("zero_shot", {"image": red, "labels": "blue square, red circle"})
            refused = await session.call_tool("zero_shot", {"image": "http://192.0.2.1/cat.png", "labels": "cat"})
            return tools, answer, refused

    tools, answer, refused = asyncio.run(session_calls())
    for name in ENDPOINTS:
        assert name in tools and len(tools[name].description) > 40, name
    schema = tools["zero_shot"].inputSchema
    assert set(schema["properties"]) == {"image", "labels", "templates", "model"}
    assert set(schema["required"]) == {"image", "labels"} and "data: URI" in schema["properties"]["image"]["description"]
    assert not answer.isError
    result = ast.literal_eval(answer.content[0].text)  # Gradio's MCP server sends the dict's repr
    assert result["labels"][0] == "red circle" and result["model"] == "bundled"
    assert refused.isError and "does not download files from URLs" in refused.content[0].text


def test_chinese_zero_shot_on_pillow_shapes_matches_english_through_the_app(client, tmp_path):
    """Issue 13's bar, as a client meets it: 12-way zero-shot on plain Pillow shapes via /zero_shot, labels
    "红色圆形, …" with templates="一张{}的照片。" against "red circle, …" with "a photo of a {}." (chance 1/12)."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_zh_zero_shot as bench

    pictures = bench.draw_pictures(tmp_path, per_pair=2)
    results = bench.measure(client, pictures)
    en, zh = results["English"], results["Chinese"]
    assert zh["templates"] == ["一张{}的照片。"] and en["templates"] == ["a photo of a {}."]
    assert zh["n"] == en["n"] == 24
    assert zh["accuracy"] >= 0.75, bench.table(results)
    assert zh["accuracy"] >= en["accuracy"] - 1 / 24 - 1e-9, bench.table(results)  # at most one picture behind


@pytest.mark.parametrize("query", ["a red circle", "红色圆形"])
def test_video_search_finds_the_red_circle_at_4_to_6_seconds(client, tmp_path, query):
    from clipdemo.data.video import toy_video

    clip = toy_video(tmp_path / "toy.mp4")
    got = client.predict(video=handle_file(str(clip)), query=query, fps=2.0, api_name="/video_search")
    assert 4.0 <= got["best_time"] < 6.0 and got["queries"] == [query]
    assert len(got["times"]) == len(got["scores"][0]) == 20
    best = got["moments"][0]
    assert best["start"] >= 3.9 and best["end"] <= 6.1 and best["score"] > got["baseline"][0]
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    with pytest.raises(AppError, match="not a video"):
        client.predict(video=handle_file(str(notes)), query=query, api_name="/video_search")


def test_every_result_publishes_its_fields_not_a_bare_dict():
    """view_api and MCP describe each result from the endpoint's return type (the service's dataclass)."""
    import gradio as gr

    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService
    from clipdemo.ui import api

    with gr.Blocks() as demo:
        api.publish(ClipService(ModelRegistry("bundled", device="cpu")))
    named = demo.get_api_info()["named_endpoints"]
    for name in ENDPOINTS:
        schema = named[f"/{name}"]["returns"][0]["type"]
        assert schema.get("properties"), name
    notice = named["/zero_shot"]["returns"][0]["type"]["properties"]["notices"]["items"]["properties"]
    assert set(notice) == {"code", "params", "severity", "message"}
    assert "probabilities" in named["/zero_shot"]["returns"][0]["type"]["properties"]
