"""The bad-input battery: odd files, odd text, odd galleries and odd models through the public HTTP API.

One real app (`python app.py --model bundled`) serves the whole module. Each case asserts either a
clear, human-readable error (an AppError whose message says what is wrong, with no traceback, no
server path and not Gradio's generic "upstream ... raised an exception") or a sensible result with
a notice, and then that the server still answers a normal zero-shot request.

Every input file is built here, in a temporary folder.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from app_server import ROOT, running_app
from PIL import Image

pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

TOY = ROOT / "assets" / "toy" / "00_a_small_red_circle_on_the_left.png"
LABELS = "red circle, blue square, yellow star"
GENERIC = "has not enabled verbose error reporting"  # Gradio's message when a handler crashed


# ---------------------------------------------------------------- building the inputs


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 40000, height: int = 40000) -> bytes:
    """A valid PNG header claiming width x height pixels, with almost no data behind it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _save(image: Image.Image, path: Path, **kw) -> Path:
    image.save(path, **kw)
    return path


def _noise(size, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


def exif_rotated_jpeg(path: Path) -> Path:
    """Stored: left half red, right half blue, EXIF orientation 6 (display rotated 90° clockwise).
    Shown upright, red is on top and blue at the bottom."""
    arr = np.zeros((64, 64, 3), np.uint8)
    arr[:, :32] = (230, 20, 20)
    arr[:, 32:] = (20, 20, 230)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(arr).save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path


def zip_of(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def png_bytes(colour=(200, 30, 30), size=(24, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad-inputs")
    good = Image.open(TOY).convert("RGB")
    png = io.BytesIO()
    good.save(png, "PNG")
    jpg = io.BytesIO()
    good.save(jpg, "JPEG", quality=90)
    f: dict[str, Path] = {}
    f["zero"] = _write(d / "zero.png", b"")
    f["truncated_png"] = _write(d / "truncated.png", png.getvalue()[: len(png.getvalue()) // 2])
    f["truncated_jpeg"] = _write(d / "truncated.jpg", jpg.getvalue()[: len(jpg.getvalue()) // 2])
    f["text_png"] = _write(d / "notes.png", "this is a shopping list, not a picture\n")
    f["bomb"] = _write(d / "bomb.png", bomb_png())
    f["one_px"] = _save(Image.new("RGB", (1, 1), (255, 0, 0)), d / "one.png")
    grad = np.tile(np.linspace(0, 255, 10000, dtype=np.uint8)[None, :, None], (300, 1, 3))
    f["panorama"] = _save(Image.fromarray(grad), d / "panorama.png")
    frames = [Image.new("RGB", (48, 48), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    f["gif"] = d / "animated.gif"
    frames[0].save(f["gif"], save_all=True, append_images=frames[1:], duration=100, loop=0)
    f["cmyk"] = _save(good.convert("CMYK"), d / "cmyk.jpg", quality=90)
    f["png16"] = _save(Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)), d / "deep.png")
    f["palette"] = _save(good.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), d / "palette.png")
    rgba = np.zeros((64, 64, 4), np.uint8)  # transparent black everywhere but a red square in the middle
    rgba[24:40, 24:40] = (255, 0, 0, 255)
    f["rgba"] = _save(Image.fromarray(rgba, "RGBA"), d / "rgba.png")
    f["grey"] = _save(good.convert("L"), d / "grey.png")
    f["exif"] = exif_rotated_jpeg(d / "rotated.jpg")
    f["webp"] = _save(good, d / "toy.webp", quality=90)
    f["noise"] = _save(_noise((40, 40)), d / "noise.png")
    # galleries
    f["zip_nested"] = zip_of(d / "nested.zip", {"a/b/c/red.png": png_bytes((220, 20, 20)),
                                                "a/blue.png": png_bytes((20, 20, 220)),
                                                "top.png": png_bytes((20, 200, 20))})
    f["zip_mixed"] = zip_of(d / "mixed.zip", {"notes.txt": b"hello", "data.bin": bytes(range(256)),
                                              "script.py": b"import os\n", "red.png": png_bytes()})
    f["zip_traversal"] = zip_of(d / "traversal.zip", {"../../x.png": png_bytes((220, 20, 20)),
                                                      "/etc/evil.png": png_bytes((20, 20, 220)),
                                                      "..\\..\\win.png": png_bytes((20, 200, 20))})
    zeros = b"\x00" * (20 * 2**20)  # 20 MB of zeros deflate to ~20 KB: a ratio no image file has
    f["zip_bomb"] = zip_of(d / "bomb.zip", {"bomb.png": zeros, "big.csv": zeros[:6 * 2**20]})
    f["zip_bomb_and_image"] = zip_of(d / "bomb-and-image.zip", {"bomb.png": zeros, "red.png": png_bytes()})
    tiny = {f"img/{i}.png": png_bytes((i * 40, 100, 255 - i * 40), (4, 4)) for i in range(5)}
    tiny.update({f"junk/{i:05d}.txt": b"x" for i in range(5100)})
    f["zip_thousands"] = zip_of(d / "thousands.zip", tiny, zipfile.ZIP_STORED)
    f["map_1"] = _save(Image.new("RGB", (32, 32), (200, 0, 0)), d / "0001.png")  # no caption from "0001"
    f["not_a_zip"] = _write(d / "broken.zip", b"PK\x03\x04 not really a zip")
    return f


# ---------------------------------------------------------------- the app, and how a case is judged


@pytest.fixture(scope="module")
def model_folders(tmp_path_factory) -> dict[str, Path]:
    """A folder with a config but no weights, and one holding only a pickle checkpoint."""
    d = tmp_path_factory.mktemp("models")
    config = (ROOT / "assets" / "toy-clip" / "config.json").read_text()
    no_weights, pickle_only = d / "no-weights", d / "pickle-only"
    for folder in (no_weights, pickle_only):
        folder.mkdir()
        (folder / "config.json").write_text(config)
    (pickle_only / "pytorch_model.bin").write_bytes(b"\x80\x04\x95 pretend pickle")
    return {"no_weights": no_weights, "pickle_only": pickle_only}


@pytest.fixture(scope="module")
def client(model_folders, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "app.log"
    args = [a for p in model_folders.values() for a in ("--allow-folder", str(p))]
    with running_app(*args, log_path=log) as (url, _proc):
        yield Client(url, verbose=False)


def refused(client: Client, api_name: str, *args) -> str:
    """Call an endpoint that must refuse; return the message after checking it is meant for a person."""
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name)
    msg = str(info.value)
    assert GENERIC not in msg, f"{api_name}: the handler crashed instead of explaining"
    assert "Traceback" not in msg and "/tmp/gradio" not in msg and "site-packages" not in msg, msg
    assert 10 < len(msg) < 600, msg
    return msg


def still_serves(client: Client) -> None:
    result = client.predict(image=handle_file(str(TOY)), labels=LABELS, api_name="/zero_shot")
    assert set(result["labels"]) == {s.strip() for s in LABELS.split(",")}


@pytest.fixture(scope="module")
def service():
    """The same service layer in this process: for what the API does not return (the model's view of an image)."""
    from clipdemo.core.registry import ModelRegistry
    from clipdemo.serve.service import ClipService

    return ClipService(ModelRegistry("bundled", device="cpu", dtype="fp32"))


def zero_shot(client: Client, path, labels=LABELS, template="single"):
    """(result, notes) from the API's zero_shot."""
    result = client.predict(image=handle_file(str(path)), labels=labels, templates=template, api_name="/zero_shot")
    return result, " ".join(n["message"] if isinstance(n, dict) else n for n in result["notices"])


# ---------------------------------------------------------------- images


@pytest.mark.parametrize("case, words", [
    ("zero", ["empty", "0 bytes"]),
    ("truncated_png", ["damaged or truncated"]),
    ("truncated_jpeg", ["damaged or truncated"]),
    ("text_png", ["not an image"]),
    ("bomb", ["pixels"]),
])
def test_unusable_image_is_refused_clearly(client, files, case, words):
    for api, extra in (("/zero_shot", (LABELS, "single")), ("/spatial_heatmap", ("a red circle", "surgery"))):
        msg = refused(client, api, handle_file(str(files[case])), *extra)
        assert files[case].name in msg, msg  # names the file the person uploaded
        for w in words:
            assert w in msg, msg
    still_serves(client)


@pytest.mark.parametrize("case", ["one_px", "panorama", "gif", "cmyk", "png16", "palette", "rgba", "grey", "exif",
                                  "webp"])
def test_odd_but_valid_image_is_labelled(client, service, files, case):
    result, _notes = zero_shot(client, files[case])
    assert len(result["labels"]) == 3
    assert abs(sum(result["probabilities"]) - 1) < 1e-3
    seen = np.asarray(service.model_view(files[case]).convert("RGB"), np.float32)
    assert seen.shape[0] == seen.shape[1] >= 16  # the model's square input, drawn back as pixels
    if case == "rgba":  # transparent parts are composited on white, not shown (and scored) as black
        assert seen[2, 2].min() > 200 and seen[seen.shape[0] // 2, seen.shape[1] // 2, 0] > 200
    if case == "png16":  # 16-bit values are scaled, not clipped to white
        assert seen.std() > 20
    if case == "gif":  # the first frame (red)
        assert seen[..., 0].mean() > 150 and seen[..., 2].mean() < 100
    still_serves(client)


def test_exif_rotated_jpeg_is_shown_upright(client, service, files):
    zero_shot(client, files["exif"])
    seen = np.asarray(service.model_view(files["exif"]).convert("RGB"), np.float32)
    top, bottom = seen[: seen.shape[0] // 4].mean((0, 1)), seen[-seen.shape[0] // 4:].mean((0, 1))
    assert top[0] > top[2] + 100, f"top should be red, got {top}"
    assert bottom[2] > bottom[0] + 100, f"bottom should be blue, got {bottom}"
    heat = client.predict(image=handle_file(str(files["exif"])), text="red", method="naive",
                          api_name="/spatial_heatmap")
    assert heat["image_size"] == [64, 64] and np.isfinite(heat["relevance"]).all()


def test_batch_views_skip_bad_files_and_say_so(client, files):
    bad = ["zero", "truncated_png", "text_png", "bomb"]
    batch = [handle_file(str(files[k])) for k in [*bad, "cmyk", "exif"]]
    out = client.predict(images=batch, labels=LABELS, api_name="/zero_shot_batch")
    assert [r["image"] for r in out["results"]] == ["cmyk.jpg", "rotated.jpg"]
    skipped = " ".join(out["skipped"])
    assert len(out["skipped"]) == len(bad) and "0 bytes" in skipped and "not an image" in skipped
    matrix = client.predict(images=batch, texts="a red circle\na blue square", api_name="/similarity_matrix")
    assert matrix["images"] == ["cmyk.jpg", "rotated.jpg"] and len(matrix["texts"]) == 2
    assert len([n for n in matrix["notices"] if n["code"] == "image_skipped"]) == len(bad)
    msg = refused(client, "/similarity_matrix", [handle_file(str(files["zero"]))], "a red circle")
    assert "image" in msg.lower() and "0 bytes" in msg
    msg = refused(client, "/zero_shot_batch", [handle_file(str(files["text_png"]))], LABELS, "single")
    assert "not an image" in msg
    still_serves(client)


# ---------------------------------------------------------------- text


@pytest.mark.parametrize("labels", ["", "   ", " , ,\n ;; \n，、"])
def test_no_labels_is_refused(client, labels):
    msg = refused(client, "/zero_shot", handle_file(str(TOY)), labels, "single")
    assert "at least one label" in msg
    still_serves(client)


def test_duplicate_labels_are_merged_with_a_notice(client):
    result, notes = zero_shot(client, TOY, "red circle, red circle, blue square,red   circle")
    assert sorted(result["labels"]) == ["blue square", "red circle"]
    assert "duplicate label 'red circle' ignored" in notes


def test_a_thousand_labels(client):
    labels = "\n".join(f"shape number {i}" for i in range(1000))
    result, _notes = zero_shot(client, TOY, labels)
    assert len(result["labels"]) == 1000 and result["labels"][0].startswith("shape number")
    assert abs(sum(result["probabilities"]) - 1) < 1e-3
    still_serves(client)


def test_a_10000_character_label_is_truncated_with_a_notice(client):
    result, notes = zero_shot(client, TOY, "red circle, " + "very " * 2000 + "long")
    assert "1 label(s) longer than 500 characters were cut" in notes and "10004 characters" in notes
    assert "truncated" in notes
    assert len(result["labels"]) == 2
    matrix = client.predict(images=[handle_file(str(TOY))], texts="a red circle\n" + "x" * 10000,
                            api_name="/similarity_matrix")
    assert len(matrix["texts"]) == 2 and np.isfinite(np.asarray(matrix["cosine"], float)).all()


def test_chinese_emoji_and_rtl_labels_come_back_unchanged(client):
    labels = ["红色圆圈", "🔴 red circle 🟦", "دائرة حمراء", "עיגול אדום"]
    result, _ = zero_shot(client, TOY, "\n".join(labels))
    assert sorted(result["labels"]) == sorted(labels)
    heat = client.predict(image=handle_file(str(TOY)), text="红色圆圈 🔴", method="surgery", api_name="/spatial_heatmap")
    assert heat["text"] == "红色圆圈 🔴" and -1 <= heat["score"] <= 1


@pytest.mark.parametrize("template, n", [("a photo of a cat", 0), ("{} next to {}", 2)])
def test_template_needs_exactly_one_placeholder(client, template, n):
    msg = refused(client, "/zero_shot", handle_file(str(TOY)), LABELS, template)
    assert "exactly one {}" in msg and f"has {n}" in msg
    still_serves(client)


def test_empty_texts_elsewhere_are_refused(client):
    assert "at least one text" in refused(client, "/similarity_matrix", [handle_file(str(TOY))], " \n\n ")
    assert "Type a text" in refused(client, "/spatial_heatmap", handle_file(str(TOY)), "   ", "surgery")
    still_serves(client)


# ---------------------------------------------------------------- galleries and maps


def _map(client, paths, texts=""):
    out = client.predict(images=[handle_file(str(p)) for p in paths], texts=texts, api_name="/embedding_map")
    return out["points"], out["summary"]


def test_zip_with_nested_folders(client, files):
    points, summary = _map(client, [files["zip_nested"]])
    assert sorted(p["name"] for p in points if p["kind"] == "image") == ["blue.png", "red.png", "top.png"]
    assert summary["images"] == 3


def test_zip_with_non_images_skips_them_with_a_notice(client, files):
    points, summary = _map(client, [files["zip_mixed"]])
    assert [p["name"] for p in points if p["kind"] == "image"] == ["red.png"]
    notice = " ".join(summary["notices"])
    assert "skipped 3 file(s)" in notice and "notes.txt" in notice


def test_zip_path_traversal_names_are_only_names(client, files):
    before = {p: p.exists() for p in (ROOT / "x.png", ROOT.parent / "x.png", Path("/etc/evil.png"),
                                      Path("/tmp/x.png"))}
    points, _ = _map(client, [files["zip_traversal"]])
    names = sorted(p["name"] for p in points if p["kind"] == "image")
    assert len(names) == 3 and "x.png" in names and "evil.png" in names
    assert all("/" not in n and ".." not in n for n in names)
    assert {p: p.exists() for p in before} == before  # nothing was written anywhere
    hits = client.predict(query="a red square", images=[handle_file(str(files["zip_traversal"]))], api_name="/search")
    assert sorted(h["name"] for h in hits["results"]) == names


def test_zip_bomb_is_not_unpacked(client, files):
    msg = refused(client, "/embedding_map", [handle_file(str(files["zip_bomb"]))], "")
    assert "No usable images" in msg
    points, summary = _map(client, [files["zip_bomb_and_image"]])
    assert [p["name"] for p in points if p["kind"] == "image"] == ["red.png"]
    assert "bomb.png (too large when unpacked)" in " ".join(summary["notices"])
    still_serves(client)


def test_zip_of_thousands_of_tiny_files(client, files):
    points, summary = _map(client, [files["zip_thousands"]])
    assert sorted(p["name"] for p in points if p["kind"] == "image") == [f"{i}.png" for i in range(5)]
    notice = " ".join(summary["notices"])
    assert "5105 files; only the first 5000" in notice and "skipped 4995 file(s)" in notice
    still_serves(client)


def test_broken_zip_and_empty_gallery(client, files):
    assert "not a readable zip" in refused(client, "/embedding_map", [handle_file(str(files["not_a_zip"]))], "")
    assert "No usable images" in refused(client, "/embedding_map", [handle_file(str(files["text_png"]))], "")
    still_serves(client)


@pytest.mark.parametrize("texts, n", [("", 1), ("a red square", 2), ("a red square\na blue circle", 3)])
def test_maps_of_one_two_and_three_points(client, files, texts, n):
    points, summary = _map(client, [files["map_1"]], texts)
    assert len(points) == n and summary["images"] == 1
    assert all(np.isfinite([p["x"], p["y"]]).all() for p in points)
    if n < 3:
        assert any("PCA" in s or "point" in s for s in summary["notices"]), summary
    still_serves(client)


# ---------------------------------------------------------------- models


def test_unknown_model_id_is_refused(client):
    msg = refused(client, "/zero_shot", handle_file(str(TOY)), LABELS, "single", "nobody/no-such-model")
    assert "nobody/no-such-model" in msg and "not offered" in msg
    still_serves(client)


@pytest.mark.parametrize("kind, words", [("no_weights", ["no model weights", "safetensors"]),
                                         ("pickle_only", ["pytorch_model.bin", "safetensors weights only"])])
def test_bad_model_folder_is_refused_and_the_default_still_serves(client, model_folders, kind, words):
    msg = refused(client, "/zero_shot", handle_file(str(TOY)), LABELS, "single", str(model_folders[kind].resolve()))
    for w in words:
        assert w in msg, msg
    still_serves(client)


def test_learn_knob_out_of_range_is_refused(client):
    msg = refused(client, "/learn_start", 100000, 0.001, 64, "all", 300)
    assert "100000" in msg or "maximum" in msg.lower() or "between" in msg


def test_image_inputs_keep_their_browser_props(client):
    """The pass-through image inputs are still whole gr.Image components in the page (label, sources)."""
    config = client.config
    inputs = [c for c in config["components"] if c.get("type") == "image" and c["props"].get("interactive") is not False
              and c["props"].get("image_mode") is None]
    assert len(inputs) >= 3  # zero-shot, spatial map, search by image
    for c in inputs:
        assert c["props"].get("label") and c["props"].get("sources"), c["props"]
