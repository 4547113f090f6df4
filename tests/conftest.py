"""Shared fixtures: everything offline, on the CPU, with tiny models built here in seconds."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # tests never touch the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# apps launched by tests encode with torch unless a test asks for a backend: `auto` would convert the
# bundled model into the user's cache on a machine with OpenVINO (tests/test_backends.py covers that path)
os.environ.setdefault("CLIPDEMO_BACKEND", "torch")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from clipdemo.core.loading import BUNDLED_MODEL_DIR  # noqa: E402

# one thread per xdist worker (scripts/test.sh runs two), two when run alone
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)

TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json")


def build_tiny_clip(out_dir: Path, width: int = 32, layers: int = 2, image_size: int = 32, patch: int = 8,
                    seed: int = 0) -> Path:
    """A random-weight CLIP in standard HF format, with the bundled (real CLIP BPE) tokenizer."""
    from transformers import AutoTokenizer

    from clipdemo.teach.trainer import TrainConfig, build_model, save_checkpoint

    tokenizer = AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR)
    cfg = TrainConfig(width=width, vision_layers=layers, text_layers=layers, heads=2, image_size=image_size,
                      patch_size=patch, projection_dim=width, seed=seed)
    model = build_model(cfg, tokenizer)
    save_checkpoint(model, tokenizer, out_dir, image_size, fp16=False)
    for name in TOKENIZER_FILES:
        if (BUNDLED_MODEL_DIR / name).exists() and not (out_dir / name).exists():
            shutil.copy(BUNDLED_MODEL_DIR / name, out_dir / name)
    return out_dir


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_encoder(tiny_clip_dir):
    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    return Encoder(load_model(str(tiny_clip_dir), device="cpu", dtype="fp32"))


@pytest.fixture(scope="session")
def bundled_encoder():
    from clipdemo.core.encoding import Encoder
    from clipdemo.core.loading import load_model

    return Encoder(load_model("bundled", device="cpu", dtype="fp32"))


@pytest.fixture(scope="session")
def toy_images():
    from clipdemo.core import toyworld

    return toyworld.generate(6, seed=123, size=96)
