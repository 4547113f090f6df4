"""Which engine computes image and text embeddings: torch (always there) or OpenVINO (optional, CPUs).

    backend = make_backend(loaded, "auto")     # or "torch", "openvino"; int8=True for the quantised copy
    encoder = Encoder(loaded, backend=backend)

`auto` uses OpenVINO on a CPU where it is installed and measured faster than torch for this model
(measured once per model and CPU, the result kept beside the converted files), and torch elsewhere and
always on GPUs. A model that cannot be converted, or a machine without OpenVINO, gets torch and a
notice saying why. Only the forward passes that produce embeddings move: spatial maps (gradients) and
training always use the torch model.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from clipdemo.core import settings
from clipdemo.core.backends.agreement import Agreement
from clipdemo.core.backends.torch_backend import TorchBackend

BACKENDS = ("auto", "torch", "openvino")
AUTO_MARGIN = 0.9  # OpenVINO must take under 90 % of torch's time for `auto` to pick it

Progress = Callable[[str], None]


class BackendError(ValueError):
    """A backend choice that cannot be honoured as asked (the message says why)."""


def backend_choice(value: str | None = None) -> str:
    """The choice given, else $CLIPDEMO_BACKEND, else auto; validated."""
    choice = (value or settings.backend() or "auto").strip().lower()
    if choice not in BACKENDS:
        raise BackendError(f"unknown backend {choice!r}; use one of {', '.join(BACKENDS)}")
    return choice


def backend_record(backend) -> dict:
    """Plain facts for views, exports and JSON: which backend, which precision, its measured agreement."""
    found = getattr(backend, "agreement", None)
    return {"backend": backend.name, "precision": backend.describe().split()[-1],
            "agreement": found.to_dict() if found else None, "notice": backend.notice}


def summary(backend) -> str:
    """One line: 'OpenVINO bf16 (agreement with torch fp32: top-1 100.0% of 64 images, min cos 0.99994)'."""
    found = getattr(backend, "agreement", None)
    return backend.describe() + (f" ({found.describe()})" if found else "")


def openvino_available() -> bool:
    # OpenVINO is optional: its modules load only when that backend is asked for
    from clipdemo.core.backends.openvino_backend import available

    return available()


def stderr_progress(name: str) -> Progress:
    """Conversion steps as lines on stderr (conversion runs once per model; a restart reuses the files)."""
    def report(message: str) -> None:
        print(f"[clipdemo] {name}: {message} …", file=sys.stderr, flush=True)
    return report


# One OpenVINO conversion at a time in this process: two at once (a class switching to a new model) both
# failed with "Tracing failed sanity checks! Graphs differed across invocations", while one alone converted.
_converting = threading.Lock()
CONVERT_TRIES = 2  # a failed conversion is tried once more, alone, before torch takes over


def _convert(loaded, precision: str, progress: Progress):
    """The OpenVINO backend for `loaded`, converted (if not cached) under the process-wide lock, retried once."""
    for attempt in range(1, CONVERT_TRIES + 1):
        with _converting:
            try:
                return openvino_backend_for(loaded, precision, progress)
            except Exception as e:  # noqa: BLE001 - re-raised after the last try
                if attempt == CONVERT_TRIES:
                    raise
                progress(f"OpenVINO conversion failed ({_why(e)}); trying once more")
    raise AssertionError("unreachable")  # pragma: no cover


def make_backend(loaded, choice: str | None = None, int8: bool = False, progress: Progress | None = None):
    """A backend for `loaded`; never raises for a model that torch can run (falls back with a notice)."""
    choice = backend_choice(choice)
    if choice == "torch":
        return TorchBackend(loaded, "int8 needs the OpenVINO backend; encoding with torch" if int8 else None)
    wants_openvino = choice == "openvino" or int8
    if getattr(loaded, "is_naflex", False):  # the OpenVINO copy takes fixed-size pixels only
        return TorchBackend(loaded, "SigLIP 2 NaFlex takes a variable patch grid, which the OpenVINO copy does "
                                    "not; encoding with torch" if wants_openvino else None)
    if loaded.device.type != "cpu":
        return TorchBackend(loaded, f"OpenVINO is used on CPUs only; the model runs on {loaded.device.type}, "
                                    "so torch encodes" if wants_openvino else None)
    if not openvino_available():
        return TorchBackend(loaded, "OpenVINO is not installed (pip install -r requirements-openvino.txt); "
                                    "encoding with torch" if wants_openvino else None)
    progress = progress or stderr_progress(str(loaded.name))
    notice = None
    if int8:
        try:
            return _convert(loaded, "int8", progress)
        except Exception as e:  # noqa: BLE001 - no int8 copy: the fp32 OpenVINO copy is the next best
            notice = f"no int8 copy ({_why(e)}); encoding with OpenVINO at full precision"
    try:
        fast = _convert(loaded, "fp", progress)
    except Exception as e:  # noqa: BLE001 - any conversion failure means: keep encoding with torch
        return TorchBackend(loaded, f"{loaded.name} ({loaded.family}) could not be run with OpenVINO "
                                    f"({_why(e)}; tried {CONVERT_TRIES} times); encoding with torch")
    fast.notice = notice
    if wants_openvino:
        return fast
    return fast if auto_prefers_openvino(loaded, fast, TorchBackend(loaded), progress) else TorchBackend(loaded)


def _why(e: Exception) -> str:
    return str(e)[:200] if isinstance(e, BackendError) else f"{type(e).__name__}: {str(e)[:200]}"


def openvino_backend_for(loaded, precision: str = "fp", progress: Progress = lambda _m: None,
                         calibration=None):
    """Compile the cached OpenVINO copy of `loaded` (converting or quantising it first if there is none),
    with its agreement with torch fp32 measured on the check set (once per compute precision)."""
    # OpenVINO is optional: its modules load only when that backend is asked for
    from clipdemo.core.backends import agreement
    from clipdemo.core.backends import openvino_backend as ovb

    folder = ovb.model_cache_dir(loaded, precision)
    if not ovb.entry_complete(folder):
        if precision == "int8":
            import importlib.util

            # OpenVINO is optional: its modules load only when that backend is asked for
            from clipdemo.core.backends.quantize import build_int8_entry

            if importlib.util.find_spec("nncf") is None:
                raise BackendError("quantising needs nncf: pip install -r requirements-openvino.txt")

            fp_folder = ovb.model_cache_dir(loaded, "fp")
            if not ovb.entry_complete(fp_folder):
                _convert_entry(loaded, fp_folder, progress)
            build_int8_entry(loaded, fp_folder, folder, calibration, progress)
        else:
            _convert_entry(loaded, folder, progress)
    backend = ovb.OpenVINOBackend(loaded, folder, precision)
    measured = ovb.read_meta(folder).get("agreement", {})
    found = Agreement.from_dict(measured.get(backend.compute_precision))
    if found is None:
        progress(f"measuring agreement with torch fp32 ({backend.describe()})")
        found = agreement.measure(backend, agreement.fp32_reference(loaded))
        ovb.update_meta(folder, agreement={**measured, backend.compute_precision: found.to_dict()})
    backend.agreement = found
    return backend


def _convert_entry(loaded, folder, progress: Progress) -> None:
    # OpenVINO is optional: its modules load only when that backend is asked for
    from clipdemo.core.backends import openvino_backend as ovb

    progress(f"converting to OpenVINO (once; kept in {folder.parent})")
    meta = {"format": ovb.FORMAT_VERSION, "model": str(loaded.name), "source": str(loaded.source),
            "family": loaded.family, "precision": "fp", "text_inputs": list(ovb.text_input_names(loaded))}
    ovb.write_entry(folder, lambda tmp: ovb.convert(loaded, tmp, progress), meta)


def auto_prefers_openvino(loaded, fast, reference, progress: Progress = lambda _m: None) -> bool:
    """Time one zero-shot's worth of work (an image, ten prompts) on both, interleaved; remembered per CPU."""
    # OpenVINO is optional: its modules load only when that backend is asked for
    from clipdemo.core.backends import openvino_backend as ovb
    from clipdemo.core.devices import cpu_signature, dtype_name, interleaved_medians

    key = f"{cpu_signature()} | torch {dtype_name(loaded.dtype)}"
    decisions = ovb.read_meta(fast.folder).get("auto", {})
    if key in decisions:
        return decisions[key]["choice"] == "openvino"
    progress("measuring whether OpenVINO is faster than torch here")
    pixels = loaded.processor.image_processor(images=[_grey(loaded.image_size)], return_tensors="pt")["pixel_values"]
    tokens = loaded.tokenizer([f"a photo of a {w}." for w in "cat dog red square blue circle star cup horse sky"
                               .split()], padding=True, return_tensors="pt")
    tokens = {n: tokens[n] for n in ovb.text_input_names(loaded)}

    def work(backend):
        return lambda: (backend.image_features(pixels.to(loaded.device, backend.pixel_dtype)),
                        backend.text_features(tokens))

    times = interleaved_medians({"torch": work(reference), "openvino": work(fast)}, rounds=5)
    choice = "openvino" if times["openvino"] < AUTO_MARGIN * times["torch"] else "torch"
    decisions[key] = {"choice": choice, "torch_ms": round(times["torch"] * 1000, 2),
                      "openvino_ms": round(times["openvino"] * 1000, 2)}
    ovb.update_meta(fast.folder, auto=decisions)
    return choice == "openvino"


def _grey(size: int):
    from PIL import Image

    return Image.new("RGB", (size, size), (128, 128, 128))
