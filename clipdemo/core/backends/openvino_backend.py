"""Encode with OpenVINO: the model's image and text towers converted with `openvino.convert_model`.

The towers are traced from the transformers model itself (no optimum: it pins other torch and
transformers versions), with a dynamic batch (and a dynamic text length), and saved as OpenVINO IR in
a cache on disk per model and precision, so a restart compiles the saved files instead of converting
again. OpenVINO picks the compute precision for the CPU it finds (bf16 where the CPU has bf16
instructions, else fp32); what that costs in agreement with torch fp32 is measured once on a check
set and stored beside the files (see `clipdemo.backends.agreement`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from clipdemo import settings
from clipdemo.backends.torch_backend import projected_features

FORMAT_VERSION = 1  # bump when the saved files change meaning: old cache entries are then ignored
PRECISIONS = ("fp", "int8")  # fp: weights as converted (fp16 on disk), compute precision chosen by OpenVINO
TOWERS = ("image", "text")
TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

Progress = Callable[[str], None]


def available() -> bool:
    try:
        import openvino  # noqa: F401
    except Exception:  # noqa: BLE001 - missing or broken: either way not usable
        return False
    return True


def cache_root() -> Path:
    """openvino/ in clipdemo's cache (settings.cache_dir: --cache-dir, $CLIPDEMO_CACHE or ~/.cache/clipdemo)."""
    return settings.cache_dir() / "openvino"


def fingerprint(loaded) -> str:
    """Names one model's weights: where they came from, the config, and each weight file's size and time.

    The library versions are part of it, because a newer converter may trace differently."""
    import openvino
    import transformers

    h = hashlib.sha256(f"v{FORMAT_VERSION}|{openvino.__version__}|{transformers.__version__}".encode())
    source = Path(loaded.source)
    if source.is_dir():
        h.update(str(source.resolve()).encode())
        for f in sorted(source.iterdir()):
            if f.suffix in (".json", ".safetensors"):
                st = f.stat()
                h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    else:  # a hub id: the config says which architecture, the id and the model's sizes say which weights
        h.update(loaded.source.encode())
        h.update(loaded.model.config.to_json_string().encode())
        h.update(str(loaded.n_params).encode())
    return h.hexdigest()[:16]


def model_cache_dir(loaded, precision: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(str(loaded.name)).name or "model").strip("-")[:60] or "model"
    return cache_root() / f"{slug}-{fingerprint(loaded)}" / precision


# ---------------------------------------------------------------- conversion


class ImageTower(torch.nn.Module):
    """pixel_values -> projected image embedding (un-normalised), as `get_image_features`."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return projected_features(self.model.get_image_features(pixel_values=pixel_values))


class TextTower(torch.nn.Module):
    """token tensors (in TEXT_INPUTS order, as many as the tokenizer gives) -> projected text embedding."""

    def __init__(self, model, input_names: tuple[str, ...]):
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *tensors):
        return projected_features(self.model.get_text_features(**dict(zip(self.input_names, tensors))))


def text_input_names(loaded) -> tuple[str, ...]:
    sample = loaded.tokenizer(["a photo"], return_tensors="pt")
    return tuple(n for n in TEXT_INPUTS if n in sample)


def _fp32_model(loaded):
    """The model in fp32 for tracing (a copy only when it was loaded in another dtype)."""
    import copy

    if loaded.dtype == torch.float32 and loaded.device.type == "cpu":
        return loaded.model
    return copy.deepcopy(loaded.model).to("cpu", torch.float32)


def convert(loaded, out_dir: Path, progress: Progress = lambda _msg: None) -> None:
    """Trace both towers and save them as OpenVINO IR (image.xml/.bin, text.xml/.bin) in out_dir."""
    import openvino as ov

    model = _fp32_model(loaded)
    size = loaded.image_size
    names = text_input_names(loaded)
    tokens = loaded.tokenizer(["a photo of a cat.", "a red square"], padding=True, return_tensors="pt")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about python-side branches on shapes
        progress("converting the image tower")
        image = ov.convert_model(ImageTower(model).eval(), example_input=torch.zeros(2, 3, size, size),
                                 input=[ov.PartialShape([-1, 3, size, size])])
        ov.save_model(image, out_dir / "image.xml")
        del image
        progress("converting the text tower")
        text = ov.convert_model(TextTower(model, names).eval(), example_input=tuple(tokens[n] for n in names),
                                input=[(ov.PartialShape([-1, -1]), ov.Type.i64) for _ in names])
        ov.save_model(text, out_dir / "text.xml")


def write_entry(out_dir: Path, build: Callable[[Path], None], meta: dict) -> None:
    """Build a cache entry in a temporary folder and move it into place: a crash or a second process
    converting at the same time never leaves a half-written entry behind."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-"))
    try:
        build(tmp)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if out_dir.exists():
            shutil.rmtree(out_dir, ignore_errors=True)
        try:
            tmp.rename(out_dir)
        except OSError:  # another process finished first: theirs is as good as ours
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_meta(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / "meta.json").read_text())
    except (OSError, ValueError):
        return {}


def update_meta(out_dir: Path, **fields) -> None:
    meta = read_meta(out_dir)
    meta.update(fields)
    tmp = out_dir / f".meta-{os.getpid()}-{threading.get_ident()}.json"
    tmp.write_text(json.dumps(meta, indent=1))
    tmp.replace(out_dir / "meta.json")


def entry_complete(out_dir: Path) -> bool:
    return all((out_dir / f"{t}.{ext}").exists() for t in TOWERS for ext in ("xml", "bin")) and \
        read_meta(out_dir).get("format") == FORMAT_VERSION


# ---------------------------------------------------------------- inference


class OpenVINOBackend:
    """Encodes with compiled OpenVINO towers on the CPU; returns un-normalised fp32 torch tensors."""

    name = "openvino"

    def __init__(self, loaded, folder: Path, precision: str = "fp", config: dict | None = None):
        import openvino as ov

        self.loaded = loaded
        self.folder = folder
        self.precision = precision  # "fp" or "int8" (what was saved); compute precision: see compute_precision
        self.notice: str | None = None
        self.pixel_dtype = torch.float32
        self.input_names = tuple(read_meta(folder).get("text_inputs") or text_input_names(loaded))
        core = ov.Core()
        config = dict(config or {})
        self._image = core.compile_model(core.read_model(folder / "image.xml"), "CPU", config)
        self._text = core.compile_model(core.read_model(folder / "text.xml"), "CPU", config)
        self._requests = {"image": self._image.create_infer_request(), "text": self._text.create_infer_request()}
        self._lock = threading.Lock()  # one infer request per tower: calls take turns
        self.compute_precision = _type_name(self._image.get_property("INFERENCE_PRECISION_HINT"))
        self.agreement = None  # set by the caller from the check-set measurement

    def _run(self, tower: str, inputs: list[np.ndarray]) -> torch.Tensor:
        with self._lock:
            request = self._requests[tower]
            request.infer(inputs)
            out = request.get_output_tensor(0).data.copy()
        return torch.from_numpy(out)

    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._run("image", [pixels.detach().to("cpu", torch.float32).numpy()])

    def text_features(self, tokens: dict) -> torch.Tensor:
        return self._run("text", [tokens[n].detach().cpu().to(torch.int64).numpy() for n in self.input_names])

    def describe(self) -> str:
        kind = "int8" if self.precision == "int8" else self.compute_precision
        return f"OpenVINO {kind}"


def _type_name(value) -> str:
    text = str(value).lower()
    for name, short in (("bf16", "bf16"), ("bfloat16", "bf16"), ("f16", "fp16"), ("float16", "fp16"),
                        ("f32", "fp32"), ("float32", "fp32")):
        if name in text:
            return short
    return text
