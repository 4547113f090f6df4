"""Encoding backends: torch always; OpenVINO where installed (CI installs it), and the same answers.

Tolerances (embeddings are L2-normalised): OpenVINO computing in fp32 equals torch fp32 to cosine
>= 0.99999 per image and per prompt; at OpenVINO's own default precision for the CPU (bf16 on CPUs
with bf16 instructions) to cosine >= 0.9999, with the same top label on every check image of the
bundled model. Without OpenVINO everything runs on torch and says so where OpenVINO was asked for.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from clipdemo.core import backends
from clipdemo.core.backends import agreement, make_backend
from clipdemo.core.backends.torch_backend import TorchBackend
from clipdemo.core.encoding import Encoder
from clipdemo.core.zeroshot import zero_shot

needs_openvino = pytest.mark.skipif(not backends.openvino_available(), reason="openvino is not installed")
needs_nncf = pytest.mark.skipif(__import__("importlib").util.find_spec("nncf") is None, reason="nncf is not installed")

PROMPTS = ["a red circle", "a photo of three small blue squares on the left.", "star",
           "a drawing of a large green triangle and a small yellow heart in the center of the picture."]
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


@pytest.fixture(scope="module")
def ov_cache(tmp_path_factory):
    """One converted-model cache for the module: each model converts once (as after a restart)."""
    path = tmp_path_factory.mktemp("clipdemo-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLIPDEMO_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def bundled_fp32():
    from clipdemo.core.loading import load_model

    return load_model("bundled", device="cpu", dtype="fp32")


@pytest.fixture(scope="module")
def bundled_openvino(ov_cache, bundled_fp32):
    messages = []
    backend = make_backend(bundled_fp32, "openvino", progress=messages.append)
    return backend, messages


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def embeddings(backend, images, texts):
    enc = Encoder(backend.loaded, backend=backend)
    return enc.encode_images(images), enc.encode_texts(texts)


# ---------------------------------------------------------------- choosing


def test_choice_reads_the_environment_and_refuses_unknown_names(monkeypatch):
    monkeypatch.delenv("CLIPDEMO_BACKEND", raising=False)
    assert backends.backend_choice() == "auto"
    monkeypatch.setenv("CLIPDEMO_BACKEND", "OpenVINO")
    assert backends.backend_choice() == "openvino"
    assert backends.backend_choice("torch") == "torch"  # an explicit choice wins over the environment
    with pytest.raises(backends.BackendError, match="auto, torch, openvino"):
        backends.backend_choice("onnx")


def test_encoder_uses_torch_unless_told_otherwise(tiny_encoder):
    assert isinstance(tiny_encoder.backend, TorchBackend)
    lm = tiny_encoder.loaded
    px = tiny_encoder.preprocess([np_image()])
    with torch.inference_mode():
        direct = lm.model.get_image_features(pixel_values=px)
    direct = direct if isinstance(direct, torch.Tensor) else direct.pooler_output
    assert torch.allclose(tiny_encoder.image_features_from_pixels(px), torch.nn.functional.normalize(direct, dim=-1))


def np_image():
    from PIL import Image

    return Image.fromarray((np.random.default_rng(0).random((40, 52, 3)) * 255).astype(np.uint8))


def test_without_openvino_everything_runs_on_torch_and_says_why(monkeypatch, bundled_fp32, toy_images):
    monkeypatch.setitem(sys.modules, "openvino", None)  # `import openvino` now fails, as where it is not installed
    assert not backends.openvino_available()
    asked = make_backend(bundled_fp32, "openvino")
    assert isinstance(asked, TorchBackend) and "not installed" in asked.notice
    assert "not installed" in make_backend(bundled_fp32, "auto", int8=True).notice
    quiet = make_backend(bundled_fp32, "auto")
    assert isinstance(quiet, TorchBackend) and quiet.notice is None  # auto has nothing to apologise for
    result = zero_shot(Encoder(bundled_fp32, backend=asked), [im for im, _, _ in toy_images[:2]], "red circle, blue square")
    assert result.probs.shape == (2, 2)


def test_gpus_always_use_torch(bundled_fp32):
    on_gpu = dataclasses.replace(bundled_fp32, device=torch.device("cuda"))  # never run: the choice comes first
    assert isinstance(make_backend(on_gpu, "auto"), TorchBackend)
    asked = make_backend(on_gpu, "openvino")
    assert isinstance(asked, TorchBackend) and "CPUs only" in asked.notice


# ---------------------------------------------------------------- OpenVINO on the bundled model


@needs_openvino
def test_openvino_fp32_equals_torch_fp32(bundled_openvino, bundled_fp32, toy_images):
    from clipdemo.core.backends.openvino_backend import OpenVINOBackend

    backend, _ = bundled_openvino
    exact = OpenVINOBackend(bundled_fp32, backend.folder, config=F32)
    assert exact.compute_precision == "fp32"
    images = [im for im, _, _ in toy_images]
    img_ov, txt_ov = embeddings(exact, images, PROMPTS)
    img_pt, txt_pt = embeddings(TorchBackend(bundled_fp32), images, PROMPTS)
    assert cosines(img_ov, img_pt).min() >= 0.99999
    assert cosines(txt_ov, txt_pt).min() >= 0.99999  # texts of 2 to 20 tokens in one padded batch
    one_by_one = np.stack([embeddings(exact, [], [p])[1][0] for p in PROMPTS])  # and unpadded, one at a time
    assert cosines(one_by_one, txt_pt).min() >= 0.99999


@needs_openvino
def test_openvino_default_precision_agrees_on_the_check_set(bundled_openvino, bundled_fp32):
    backend, _ = bundled_openvino
    assert backend.name == "openvino" and backend.notice is None
    found = backend.agreement  # measured at conversion, kept beside the files
    assert found.n_images == 64 and found.n_labels == 70
    assert found.min_cos >= 0.9999 and found.top1 >= 0.9
    again = agreement.measure(backend, agreement.fp32_reference(bundled_fp32))  # the stored numbers are real
    assert again.top1 == found.top1 and abs(again.min_cos - found.min_cos) < 1e-5
    # A top label may only change where fp32 itself all but ties: the toy model on a real photo, say.
    prompts = [agreement.CHECK_TEMPLATE.format(lab) for lab in agreement.check_labels()]
    images = agreement.check_images()
    img_c, txt_c = agreement.embeddings(backend, images, prompts)
    img_r, txt_r = agreement.embeddings(agreement.fp32_reference(bundled_fp32), images, prompts)
    ours, ref = img_c @ txt_c.T, img_r @ txt_r.T
    changed = np.flatnonzero(ours.argmax(1) != ref.argmax(1))
    assert len(changed) == round((1 - found.top1) * found.n_images)
    top2 = np.sort(ref[changed], axis=1)[:, -2:]
    assert np.all(top2[:, 1] - top2[:, 0] < 1e-3), "a clear fp32 winner lost its place"


@needs_openvino
def test_conversion_shows_progress_and_is_not_repeated(bundled_openvino, bundled_fp32, monkeypatch):
    from clipdemo.core.backends import openvino_backend as ovb

    backend, messages = bundled_openvino
    assert any("converting to OpenVINO" in m for m in messages)
    assert any("image tower" in m for m in messages) and any("text tower" in m for m in messages)
    assert {p.name for p in backend.folder.iterdir()} >= {"image.xml", "image.bin", "text.xml", "text.bin", "meta.json"}

    def no_second_conversion(*_a, **_k):
        raise AssertionError("converted again")

    monkeypatch.setattr(ovb, "convert", no_second_conversion)
    monkeypatch.setattr(agreement, "measure", no_second_conversion)
    later = []
    again = make_backend(bundled_fp32, "openvino", progress=later.append)  # as after a restart
    assert again.name == "openvino" and again.folder == backend.folder and later == []
    assert again.agreement == backend.agreement


@needs_openvino
def test_changed_weights_get_their_own_cache_entry(ov_cache, tiny_clip_dir, tmp_path):
    import shutil

    from clipdemo.core.backends import openvino_backend as ovb
    from clipdemo.core.loading import load_model

    copy = tmp_path / "tiny"
    shutil.copytree(tiny_clip_dir, copy)
    first = ovb.model_cache_dir(load_model(str(copy), "cpu", "fp32"), "fp")
    (copy / "model.safetensors").write_bytes((copy / "model.safetensors").read_bytes())  # retrained, say
    assert ovb.model_cache_dir(load_model(str(copy), "cpu", "fp32"), "fp") != first


@needs_openvino
def test_auto_measures_once_and_remembers(bundled_openvino, bundled_fp32, monkeypatch):
    import clipdemo.core.devices as devices
    from clipdemo.core.backends import openvino_backend as ovb

    backend, _ = bundled_openvino
    ovb.update_meta(backend.folder, auto={})
    calls = []

    def timings(candidates, **_kw):
        for fn in candidates.values():
            fn()  # both really run
        calls.append(set(candidates))
        return {"torch": 0.010, "openvino": timings.openvino}

    monkeypatch.setattr(devices, "interleaved_medians", timings)
    timings.openvino = 0.004
    assert make_backend(bundled_fp32, "auto").name == "openvino"
    assert calls == [{"torch", "openvino"}]
    timings.openvino = 0.5
    assert make_backend(bundled_fp32, "auto").name == "openvino" and len(calls) == 1  # remembered, not re-measured
    ovb.update_meta(backend.folder, auto={})
    assert make_backend(bundled_fp32, "auto").name == "torch"  # where torch is faster, auto keeps torch
    ovb.update_meta(backend.folder, auto={})


# ---------------------------------------------------------------- every family


@needs_openvino
@pytest.mark.parametrize("family", ["clip", "siglip", "chinese_clip"])
def test_every_family_converts_with_equal_outputs(family, ov_cache, tiny_clip_dir, tmp_path_factory, toy_images):
    from test_loading import build_tiny_chinese_clip, build_tiny_siglip

    from clipdemo.core.backends.openvino_backend import OpenVINOBackend
    from clipdemo.core.loading import load_model

    folder = {"clip": lambda: tiny_clip_dir,
              "siglip": lambda: build_tiny_siglip(tmp_path_factory.mktemp("siglip")),
              "chinese_clip": lambda: build_tiny_chinese_clip(tmp_path_factory.mktemp("cnclip"))}[family]()
    lm = load_model(str(folder), "cpu", "fp32")
    backend = make_backend(lm, "openvino", progress=lambda _m: None)
    assert backend.name == "openvino", backend.notice
    exact = OpenVINOBackend(lm, backend.folder, config=F32)
    texts = ["red square", "一张猫的照片", "a photo of a blue circle on the left"]
    img_ov, txt_ov = embeddings(exact, [im for im, _, _ in toy_images[:3]], texts)
    img_pt, txt_pt = embeddings(TorchBackend(lm), [im for im, _, _ in toy_images[:3]], texts)
    assert cosines(img_ov, img_pt).min() >= 0.99999 and cosines(txt_ov, txt_pt).min() >= 0.99999


@needs_openvino
def test_a_model_that_cannot_convert_falls_back_to_torch_with_a_notice(ov_cache, tiny_clip_dir, monkeypatch):
    from clipdemo.core.backends import openvino_backend as ovb
    from clipdemo.core.loading import load_model

    tries = []

    def unsupported(*_a, **_k):
        tries.append(1)
        raise RuntimeError("no converter for aten::mystery")

    monkeypatch.setattr(ovb, "convert", unsupported)
    monkeypatch.setattr(ovb, "fingerprint", lambda _lm: "never-converted")
    lm = load_model(str(tiny_clip_dir), "cpu", "fp32")
    backend = make_backend(lm, "openvino", progress=lambda _m: None)
    assert isinstance(backend, TorchBackend)
    assert "could not be run with OpenVINO" in backend.notice and "aten::mystery" in backend.notice
    assert len(tries) == 2 and "tried 2 times" in backend.notice  # retried once, alone, before falling back
    assert not ovb.entry_complete(ovb.model_cache_dir(lm, "fp"))  # nothing half-written left behind
    assert Encoder(lm, backend=backend).encode_texts(["red"]).shape[0] == 1


# ---------------------------------------------------------------- int8


@needs_openvino
@needs_nncf
def test_int8_is_quantised_and_carries_its_measured_agreement(bundled_openvino, bundled_fp32, toy_images):
    import openvino as ov

    from clipdemo.core.backends.quantize import quantize
    from clipdemo.ui.header import encoding_text

    calibration = [im for im, _, _ in toy_images]
    int8 = quantize(bundled_fp32, calibration)
    assert int8.name == "openvino" and int8.precision == "int8" and int8.describe() == "OpenVINO int8"
    ops = {op.get_type_name() for op in ov.Core().read_model(Path(int8.folder) / "image.xml").get_ops()}
    assert "FakeQuantize" in ops  # really quantised, not a copy of the fp model
    found = int8.agreement
    assert found is not None and 0.0 < found.top1 <= 1.0 and -1.0 <= found.min_cos < 1.0
    line = encoding_text(backends.backend_record(int8))
    assert "int8" in line and f"{found.top1:.1%}" in line and f"{found.min_cos:.5f}" in line
    # and `--int8` picks up the saved copy instead of quantising again
    assert make_backend(bundled_fp32, "auto", int8=True).folder == int8.folder


def test_int8_is_never_the_default(bundled_fp32, monkeypatch):
    monkeypatch.delenv("CLIPDEMO_BACKEND", raising=False)
    import app

    assert app.parse_args([]).int8 is False
    assert make_backend(bundled_fp32, "torch", int8=True).notice.startswith("int8 needs the OpenVINO backend")


# ---------------------------------------------------------------- the CLI and the app, with and without OpenVINO

TOY = Path(__file__).resolve().parent.parent / "assets" / "toy" / "00_a_small_red_circle_on_the_left.png"


@needs_openvino
def test_cli_labels_with_openvino(bundled_openvino, capsys):
    from clipdemo.serve import cli

    code = cli.main(["label", str(TOY), "--labels", "red circle, blue square", "--model", "bundled", "--device", "cpu",
                     "--dtype", "fp32", "--backend", "openvino", "--json"])
    out = __import__("json").loads(capsys.readouterr().out)
    assert code == 0 and out["encoding"]["backend"] == "openvino"
    assert out["encoding"]["agreement"]["top1"] == bundled_openvino[0].agreement.top1  # the measured number, reported
    assert out["results"][0]["top"][0]["label"] == "red circle"


def test_cli_labels_without_openvino(monkeypatch, capsys):
    from clipdemo.serve import cli

    monkeypatch.setitem(sys.modules, "openvino", None)
    code = cli.main(["label", str(TOY), "--labels", "red circle, blue square", "--model", "bundled", "--device", "cpu",
                     "--backend", "openvino"])
    captured = capsys.readouterr()
    assert code == 0 and "OpenVINO is not installed" in captured.err
    assert "encoding: torch" in captured.out and "red circle" in captured.out


def hidden_openvino(folder: Path) -> dict:
    """Environment for a child process in which `import openvino` fails, as on a machine without it."""
    (folder / "openvino").mkdir(parents=True, exist_ok=True)
    (folder / "openvino" / "__init__.py").write_text("raise ImportError('openvino hidden by the test')\n")
    return {"PYTHONPATH": str(folder)}


@pytest.mark.parametrize("with_openvino", [True, False], ids=["openvino", "openvino-missing"])
def test_app_serves_with_backend_openvino(with_openvino, ov_cache, tmp_path, request):
    pytest.importorskip("gradio_client")
    from app_server import running_app
    from gradio_client import Client, handle_file

    if with_openvino:
        if not backends.openvino_available():
            pytest.skip("openvino is not installed")
        request.getfixturevalue("bundled_openvino")  # converted once already, as before a restart
    env = {"CLIPDEMO_CACHE": str(ov_cache)} | ({} if with_openvino else hidden_openvino(tmp_path / "site"))
    log = tmp_path / "app.log"
    with running_app("--backend", "openvino", log_path=log, env=env) as (url, _proc):
        result = Client(url, verbose=False).predict(image=handle_file(str(TOY)), labels="blue square, red circle",
                                                    api_name="/zero_shot")
    assert result["labels"][0] == "red circle"  # best first
    text = log.read_text(errors="replace")
    assert "converting" not in text  # a restart reuses the converted files
    assert ("OpenVINO is not installed" in text) == (not with_openvino)


# ---------------------------------------------------------------- the bench


@needs_openvino
def test_bench_puts_the_backends_side_by_side(ov_cache, tiny_clip_dir, capsys):
    from clipdemo.bench import bench

    rows = bench.main(["--models", str(tiny_clip_dir), "--only-backends", "--backends", "torch-fp32", "openvino",
                       "--rounds", "1", "--prompts", "16"])
    out = capsys.readouterr().out
    variants = [r[1] for r in rows]
    assert variants[0].startswith("torch-fp32") and variants[1].startswith("openvino (OpenVINO")
    for r in rows:
        assert all(float(x) > 0 for x in r[2:7] + r[9:11])  # img/s, prompts/s and zero-shot ms all measured
        assert all(0 < float(x.rstrip("%")) for x in r[7:9])  # shares of the model-only rate
    assert rows[0][11] == "reference" and float(rows[1][11]) >= 0.9999
    assert "collection embed (openvino" in out and "pictures/s" in out
    assert "fast preprocessing vs the processor on 32 PIL images: largest difference 0" in out
    assert "AMX" in out and "VNNI" in out and "avx512_bf16" in out  # the CPU features it looked for
    assert "openvino vs torch's best dtype: batch-1 latency ×" in out and "load average" in out
