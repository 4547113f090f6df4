"""Prepare an offline classroom: fetch hub checkpoints once into a folder, then teach without internet.

    python -m clipdemo download openai/clip-vit-base-patch32 google/siglip-base-patch16-224 --to ~/clip-models
    CLIPDEMO_MODEL=~/clip-models HF_HUB_OFFLINE=1 python app.py

Each model lands in its own sub-folder (`openai--clip-vit-base-patch32`), holding only what the app
reads: safetensors weights, JSON configs, tokenizer text files and SentencePiece `.model` files, never
pickled weights (they can run code when loaded). A repo that offers its weights only as a pickle
(`pytorch_model.bin`) can be converted here with `--convert-pickle`: torch reads it with
`weights_only=True`, which refuses code, and writes model.safetensors.

At launch, a folder of such sub-folders can be given as `--model` / CLIPDEMO_MODEL (the app starts with
OpenAI ViT-B/32 if present, else the first) or `--allow-folder` (the picker offers each sub-folder).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from clipdemo.loading import (
    DEFAULT_HUB_MODEL,
    HUB_URL,
    KNOWN_MODELS,
    ModelNotAvailable,
    check_weights,
    hub_reachable,
    is_offline,
)

ALLOW_PATTERNS = ["*.safetensors", "*.json", "*.txt", "*.model"]
PICKLE_PATTERNS = ["pytorch_model.bin", "pytorch_model-*.bin", "pytorch_model.bin.index.json"]
SOURCE_FILE = "clipdemo-source.json"  # written into each downloaded folder: which hub repo it came from


def folder_name(repo_id: str) -> str:
    return repo_id.strip("/").replace("/", "--")


def download_model(repo_id: str, to_dir: str | Path, revision: str | None = None, convert_pickle: bool = False,
                   snapshot=None) -> Path:
    """Fetch one checkpoint into `to_dir/<org>--<name>`; raise ModelNotAvailable with the reason."""
    if snapshot is None:
        from huggingface_hub import snapshot_download as snapshot
    _refuse_offline()
    target = Path(to_dir).expanduser() / folder_name(repo_id)
    patterns = ALLOW_PATTERNS + (PICKLE_PATTERNS if convert_pickle else [])
    try:
        snapshot(repo_id, revision=revision, local_dir=str(target), allow_patterns=patterns)
    except Exception as e:  # noqa: BLE001 - network, auth, unknown repo: say which and stop
        raise ModelNotAvailable(f"cannot download {repo_id}: {type(e).__name__}: {e}") from e
    if convert_pickle:
        convert_pickled_weights(target)
    try:
        check_weights(target)
    except ModelNotAvailable as e:
        hint = "" if convert_pickle else " Its weights may exist only as a pickle: add --convert-pickle."
        raise ModelNotAvailable(f"{repo_id} has no safetensors weights ({e}).{hint}") from e
    (target / SOURCE_FILE).write_text(json.dumps({"repo_id": repo_id, "revision": revision}, indent=1) + "\n")
    return target


def convert_pickled_weights(folder: Path) -> Path | None:
    """pytorch_model.bin -> model.safetensors, read with weights_only=True (no code runs); the pickle is removed."""
    import torch
    from safetensors.torch import save_file

    bins = sorted(folder.glob("pytorch_model*.bin"))
    if not bins or any(folder.glob("*.safetensors")):
        return None
    state: dict = {}
    for path in bins:
        state.update(torch.load(path, map_location="cpu", weights_only=True))
    # clone: tied or shared tensors cannot be written twice by safetensors
    save_file({k: v.detach().clone().contiguous() for k, v in state.items()}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})
    for path in [*bins, folder / "pytorch_model.bin.index.json"]:
        path.unlink(missing_ok=True)
    return folder / "model.safetensors"


def download_models(repo_ids: Sequence[str], to_dir: str | Path, revision: str | None = None,
                    convert_pickle: bool = False, log: Callable[[str], None] = print, snapshot=None) -> list[Path]:
    _refuse_offline()
    if snapshot is None and not hub_reachable(timeout=5):  # a 5 s probe, not huggingface_hub's retries
        raise ModelNotAvailable(f"the Hugging Face hub ({HUB_URL}) cannot be reached from here; check the "
                                "internet connection (or HF_ENDPOINT for a mirror).")
    done, failed = [], []
    for repo_id in repo_ids:
        log(f"downloading {repo_id} ({KNOWN_MODELS.get(repo_id, 'hub checkpoint')}) ...")
        try:
            done.append(download_model(repo_id, to_dir, revision, convert_pickle, snapshot))
            log(f"  -> {done[-1]}")
        except ModelNotAvailable as e:
            failed.append(repo_id)
            log(f"  failed: {e}")
    if failed:
        raise ModelNotAvailable(f"{len(failed)} of {len(repo_ids)} downloads failed: {', '.join(failed)}")
    return done


def _refuse_offline() -> None:
    if is_offline():
        raise ModelNotAvailable("downloading needs internet, but HF_HUB_OFFLINE is set: unset it on the "
                                "machine that prepares the classroom.")


# ---------------------------------------------------------------- using a prepared folder


def is_model_folder(path: Path) -> bool:
    return (path / "config.json").is_file()


def model_folders(path: str | Path) -> list[Path]:
    """The folder itself if it is a model, else its model sub-folders (OpenAI ViT-B/32 first)."""
    root = Path(path).expanduser()
    if is_model_folder(root):
        return [root]
    if not root.is_dir():
        return []
    subs = sorted(p for p in root.iterdir() if p.is_dir() and is_model_folder(p))
    preferred = folder_name(DEFAULT_HUB_MODEL)
    return sorted(subs, key=lambda p: (p.name != preferred, p.name))


def source_repo(folder: str | Path) -> str | None:
    """The hub id a downloaded folder came from (None for other folders)."""
    try:
        return json.loads((Path(folder) / SOURCE_FILE).read_text()).get("repo_id")
    except (OSError, ValueError, AttributeError):
        return None


def launch_models(model: str, allow_folders: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """(model to start with, folders the picker may offer), expanding folders of downloaded models."""
    allowed: list[str] = []
    for folder in allow_folders:
        allowed += [str(p) for p in model_folders(folder)] or [str(folder)]
    path = Path(model).expanduser() if model else None
    if path is not None and path.is_dir() and not is_model_folder(path):
        subs = model_folders(path)
        if subs:  # CLIPDEMO_MODEL=/classroom/models: start with the best one, offer them all
            allowed += [str(p) for p in subs]
            model = str(subs[0])
    return model, tuple(dict.fromkeys(allowed))
