"""Load any CLIP-family checkpoint (hub id or local folder) through one transformers code path.

Kept apart from encoding and analysis, as in openai/CLIP. Rules: safetensors only, never
trust_remote_code, and fail within seconds with a clear message when a model cannot be had
(no 20-200 s hang offline, and no silently broken 2-token tokenizer).
"""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch

from clipdemo.core import scoring, settings
from clipdemo.core.assets import BUNDLED_MODEL_DIR
from clipdemo.core.devices import dtype_name, pick_device, pick_dtype
from clipdemo.core.errors import UserError

BUNDLED = "bundled"
DEFAULT_HUB_MODEL = "openai/clip-vit-base-patch32"
HUB_URL = settings.hub_endpoint()

# Well-known checkpoints offered by the picker (all load through the same path).
KNOWN_MODELS: dict[str, str] = {
    BUNDLED: "clipdemo toy CLIP (bundled)",  # short: it must fit the picker on a phone
    "openai/clip-vit-base-patch32": "OpenAI CLIP ViT-B/32",
    "openai/clip-vit-base-patch16": "OpenAI CLIP ViT-B/16",
    "openai/clip-vit-large-patch14": "OpenAI CLIP ViT-L/14",
    "laion/CLIP-ViT-B-32-laion2B-s34B-b79K": "LAION CLIP ViT-B/32 (LAION-2B)",
    "google/siglip-base-patch16-224": "Google SigLIP B/16 (sigmoid scores)",
    "OFA-Sys/chinese-clip-vit-base-patch16": "Chinese-CLIP ViT-B/16 (Chinese labels)",
    # 2025 families: MetaCLIP 2 (CLIP's recipe on worldwide data, 300+ languages, softmax) and SigLIP 2 NaFlex
    # (each picture at its own aspect ratio, a variable patch grid; sigmoid). Fixed-size SigLIP 2 checkpoints
    # (google/siglip2-base-patch16-224, ...) are published as model_type "siglip" and load as SigLIP.
    "facebook/metaclip-2-worldwide-b32": "MetaCLIP 2 ViT-B/32 (300+ languages)",
    "google/siglip2-base-patch16-naflex": "SigLIP 2 B/16 NaFlex (sigmoid, any aspect)",
}
SUPPORTED_FAMILIES = ("clip", "siglip", "siglip2", "chinese_clip", "metaclip_2")
MIN_VOCAB = 100  # offline from_pretrained can hand back a 2-token vocabulary without raising
UNSAFE_WEIGHTS = ("pytorch_model.bin", "model.pt", "model.ckpt", "pytorch_model.bin.index.json", "tf_model.h5",
                  "flax_model.msgpack")


class ModelNotAvailable(UserError):
    """The model cannot be loaded here; the message says why and what to do."""


def is_offline() -> bool:
    return settings.hub_offline()


def hub_reachable(timeout: float = 2.0) -> bool:
    """A quick yes/no before anything that could hang on a dead network."""
    if is_offline():
        return False
    try:
        urllib.request.urlopen(urllib.request.Request(HUB_URL + "/api/health", method="HEAD"), timeout=timeout)
        return True
    except Exception as e:  # noqa: BLE001 - any failure means "not reachable now"
        return getattr(e, "code", None) is not None  # an HTTP error still proves the hub answered


def cached_locally(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # noqa: BLE001 - malformed ids are simply "not cached"
        return False


def default_model_name() -> str:
    """OpenAI's ViT-B/32 when cached or quickly downloadable, else the bundled model."""
    if cached_locally(DEFAULT_HUB_MODEL) or hub_reachable():
        return DEFAULT_HUB_MODEL
    return BUNDLED


def check_weights(folder: Path) -> None:
    if any(folder.glob("*.safetensors")):
        return
    unsafe = [n for n in UNSAFE_WEIGHTS if (folder / n).exists()] + [p.name for p in folder.glob("*.bin")]
    if unsafe:
        raise ModelNotAvailable(f"{folder} holds only {unsafe[0]}: clipdemo loads safetensors weights only "
                                "(pickle files can run code). Convert it to model.safetensors first.")
    raise ModelNotAvailable(f"{folder} has no model weights (model.safetensors).")


def resolve_source(name: str) -> tuple[str, bool]:
    """(what to pass to from_pretrained, local_files_only)."""
    name = (name or BUNDLED).strip()
    if name == BUNDLED:
        if not (BUNDLED_MODEL_DIR / "config.json").exists():
            raise ModelNotAvailable(f"the bundled model is missing from {BUNDLED_MODEL_DIR}; "
                                    "train it with `python -m clipdemo.training.train --out assets/toy-clip`")
        return str(BUNDLED_MODEL_DIR), True
    path = Path(name).expanduser()
    if path.exists() or name.startswith((".", "/", "~")) or os.sep in name.strip("/").replace("/", "", 1):
        if not path.is_dir():
            raise ModelNotAvailable(f"{name} is not a model folder.")
        if not (path / "config.json").exists():
            raise ModelNotAvailable(f"{name} has no config.json: not a Hugging Face model folder.")
        check_weights(path)
        return str(path), True
    if cached_locally(name):
        return name, True
    if is_offline():
        raise ModelNotAvailable(f"{name} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set. "
                                f"On a machine with internet run `python -m clipdemo download {name}` first.")
    if not hub_reachable():
        raise ModelNotAvailable(f"{name} is not cached and the Hugging Face hub cannot be reached. "
                                "Use the bundled model, or a local folder.")
    return name, False


@dataclass
class LoadedModel:
    name: str
    source: str
    model: torch.nn.Module
    processor: object
    tokenizer: object
    family: str
    device: torch.device
    dtype: torch.dtype
    n_params: int
    image_size: int
    max_text_length: int

    @property
    def is_bundled(self) -> bool:
        return self.name == BUNDLED or Path(self.source).resolve() == BUNDLED_MODEL_DIR.resolve()

    @property
    def uses_sigmoid(self) -> bool:
        """SigLIP scores each (image, text) pair with a sigmoid, not a softmax over texts."""
        return scoring.family_uses_sigmoid(self.family)

    @property
    def is_naflex(self) -> bool:
        """SigLIP 2 NaFlex: pictures keep their aspect ratio as a variable patch grid, so its pixels come with
        `spatial_shapes` and `pixel_attention_mask` (fixed-size SigLIP 2 checkpoints load as "siglip")."""
        return self.family == "siglip2"

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().float().exp())

    @property
    def logit_bias(self) -> float:
        bias = getattr(self.model, "logit_bias", None)
        return float(bias.detach().float().reshape(-1)[0]) if bias is not None else 0.0

    def describe(self) -> str:
        return (f"{self.name} · {self.family} · {self.n_params / 1e6:.1f}M params · {self.device.type} · "
                f"{dtype_name(self.dtype)} · {self.image_size}px input")


def check_tokenizer(tokenizer, name: str) -> None:
    size = len(tokenizer)
    ids = tokenizer(["a photo of a cat", "a red square"])["input_ids"]
    if size < MIN_VOCAB or ids[0] == ids[1]:
        raise ModelNotAvailable(f"the tokenizer of {name} is broken (vocabulary of {size} tokens): it was "
                                "probably not downloaded. Download the model again with internet.")


def _image_size(processor, config) -> int:
    ip = getattr(processor, "image_processor", None)
    if getattr(ip, "max_num_patches", None) and getattr(ip, "patch_size", None):  # NaFlex: a square's side
        return int(ip.patch_size) * int(int(ip.max_num_patches) ** 0.5)
    for attr in ("crop_size", "size"):
        v = getattr(ip, attr, None)
        if isinstance(v, dict):
            v = v.get("height") or v.get("shortest_edge")
        if isinstance(v, int):
            return v
    return int(config.vision_config.image_size)


def load_model(name: str = BUNDLED, device: str | None = None, dtype: str | None = None) -> LoadedModel:
    from transformers import AutoConfig, AutoModel, AutoProcessor

    source, local_only = resolve_source(name)
    kw = dict(local_files_only=local_only, trust_remote_code=False)
    try:
        config = AutoConfig.from_pretrained(source, **kw)
    except Exception as e:  # noqa: BLE001 - report any loader failure in plain words
        raise ModelNotAvailable(f"cannot read the config of {name}: {e}") from e
    family = config.model_type
    if family not in SUPPORTED_FAMILIES:
        raise ModelNotAvailable(f"{name} is a {family!r} model; clipdemo supports {', '.join(SUPPORTED_FAMILIES)}.")
    dev = pick_device(device)
    dt = pick_dtype(dev, dtype)
    try:
        model = AutoModel.from_pretrained(source, dtype=dt, use_safetensors=True, **kw)
        processor = AutoProcessor.from_pretrained(source, **kw)
    except Exception as e:  # noqa: BLE001
        raise ModelNotAvailable(f"cannot load {name}: {e}") from e
    tokenizer = processor.tokenizer
    check_tokenizer(tokenizer, name)
    model.to(dev).eval()
    text_positions = getattr(config.text_config, "max_position_embeddings", 77)
    return LoadedModel(
        name=name or BUNDLED, source=source, model=model, processor=processor, tokenizer=tokenizer, family=family,
        device=dev, dtype=dt, n_params=sum(p.numel() for p in model.parameters()),
        image_size=_image_size(processor, config),
        max_text_length=min(int(getattr(tokenizer, "model_max_length", text_positions) or text_positions),
                            text_positions),
    )
