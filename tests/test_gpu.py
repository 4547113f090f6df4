"""ZeroGPU's rules, checked where no ZeroGPU is: GPU work runs in module functions of picklable arguments (ZeroGPU
runs them in a forked worker), with durations bounded from measured work, and building the app does not touch
CUDA in the app's own process."""

from __future__ import annotations

import gc
import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from clipdemo.core import encoding, gpu, limits, spatial

ROOT = Path(__file__).resolve().parent.parent
ZEROGPU_DEFAULT_S = 60  # what @spaces.GPU allows when no duration is given; ours should ask for less


def test_gpu_task_is_spaces_gpu_with_our_duration(monkeypatch):
    seen = []

    class FakeSpaces:
        @staticmethod
        def GPU(duration=None):  # noqa: N802 - the spaces package's name
            def wrap(fn):
                seen.append((fn.__name__, duration))
                return fn
            return wrap

    monkeypatch.setattr(gpu, "spaces", FakeSpaces)
    sizing = encoding._image_seconds
    gpu.gpu_task(duration=sizing)(encoding._image_features_on_gpu)
    assert seen == [("_image_features_on_gpu", sizing)]
    monkeypatch.setattr(gpu, "spaces", None)
    assert gpu.gpu_task(duration=5)(len) is len  # no spaces package: the function itself


@pytest.mark.skipif(importlib.util.find_spec("spaces") is None, reason="the spaces extra is not installed")
def test_spaces_gpu_is_a_no_op_off_zero_gpu():
    def work(x):
        return x + 1

    assert gpu.spaces is not None and gpu.gpu_task(duration=3)(work) is work


def test_durations_grow_with_the_work_and_stay_under_zerogpus_default():
    batch = torch.zeros(32, 3, 8, 8)  # the encoder's batch
    one, full = encoding._image_seconds("k", batch[:1]), encoding._image_seconds("k", batch)
    assert 1 <= one < full <= ZEROGPU_DEFAULT_S
    assert full >= limits.GPU_FIXED_S + 32 * limits.GPU_IMAGE_S  # never below the measured work
    texts = {"input_ids": torch.zeros(128, 77, dtype=torch.long)}  # the largest text batch (length-sorted chunks)
    assert encoding._text_seconds("k", {"input_ids": texts["input_ids"][:1]}) < encoding._text_seconds("k", texts)
    assert encoding._text_seconds("k", texts) <= ZEROGPU_DEFAULT_S
    assert gpu.seconds_for(1, limits.GPU_SPATIAL_MAP_S) <= ZEROGPU_DEFAULT_S


def test_a_registered_object_is_found_by_key_and_not_kept_alive():
    class Thing:
        pass

    thing = Thing()
    key = gpu.register(thing)
    assert gpu.lookup(key) is thing and gpu.register(Thing()) != key
    del thing
    gc.collect()
    with pytest.raises(LookupError):
        gpu.lookup(key)


def _through_pickle(fn, calls):
    """What ZeroGPU does to a GPU function's arguments and result: they cross a process boundary pickled."""
    def run(*args):
        calls.append(fn.__name__)
        return pickle.loads(pickle.dumps(fn(*pickle.loads(pickle.dumps(args)))))
    return run


def test_encoding_and_spatial_maps_cross_the_gpu_boundary_pickled(tiny_encoder, monkeypatch):
    calls = []
    for module, name in ((encoding, "_image_features_on_gpu"), (encoding, "_text_features_on_gpu"),
                         (spatial, "_raw_map_on_gpu")):
        monkeypatch.setattr(module, name, _through_pickle(getattr(module, name), calls))
    image = Image.new("RGB", (40, 40), (200, 30, 30))
    features = tiny_encoder.image_features_from_pixels(tiny_encoder.preprocess([image]))
    texts = tiny_encoder.text_features_from_tokens(tiny_encoder.tokenize(["a red circle", "a blue square"]))
    assert features.device.type == "cpu" and features.shape == (1, tiny_encoder.dim) and texts.shape[0] == 2
    assert np.allclose(features.norm(dim=-1).numpy(), 1, atol=1e-4)
    smap = spatial.spatial_map(tiny_encoder, image, "a red circle", "gradcam")
    assert np.isfinite(smap.raw).all() and smap.raw.shape == tuple(2 * p for p in smap.patches)
    assert {"_image_features_on_gpu", "_text_features_on_gpu", "_raw_map_on_gpu"} <= set(calls)


# Importing the launcher and building the whole app on the bundled model, then one zero-shot and one spatial map,
# with torch's CUDA initialisation replaced by a recorder: on ZeroGPU any of these calls in the app's own process
# is an error.
BUILD_WITHOUT_CUDA = """
import json, sys, traceback
import torch
touched = []
def record(*args, **kwargs):
    touched.append("".join(traceback.format_stack(limit=6)))
torch.cuda._lazy_init = record
torch.cuda.init = record
sys.path.insert(0, {root!r})
import app  # the launcher: it imports clipdemo.core.gpu, hence spaces
from clipdemo.teach.live_training import LiveTrainingManager
from clipdemo.core.registry import ModelRegistry
from clipdemo.ui.app import build_app
from clipdemo.ui.context import UIContext

registry = ModelRegistry("bundled")
ctx = UIContext(registry, extra={{"live_training": LiveTrainingManager()}})
build_app(ctx)
red = {root!r} + "/assets/toy/00_a_small_red_circle_on_the_left.png"
ctx.service.zero_shot(red, "red circle, blue square")
ctx.service.spatial_heatmap(red, "red circle")
print(json.dumps({{"initialized": torch.cuda.is_initialized(), "touched": touched,
                   "spaces": "spaces" in sys.modules}}))
"""


def test_building_the_app_does_not_initialise_cuda():
    out = subprocess.run([sys.executable, "-c", BUILD_WITHOUT_CUDA.format(root=str(ROOT))], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["initialized"] is False and result["touched"] == [], result["touched"][:1]
    assert result["spaces"] == (importlib.util.find_spec("spaces") is not None)  # the decorators were really applied
