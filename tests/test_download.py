"""Offline classroom: what `download` fetches and how a prepared folder is used at launch.

The hub is out of reach here, so `snapshot_download` is replaced by a stand-in that copies a local
checkpoint the way the real one would (honouring allow_patterns); everything else is the real code.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path

import pytest
import torch

from clipdemo.core.loading import ModelNotAvailable, load_model
from clipdemo.serve import download


def fake_hub(repos: dict[str, Path], calls: list):
    def snapshot(repo_id, revision=None, local_dir=None, allow_patterns=None):
        calls.append({"repo_id": repo_id, "revision": revision, "allow_patterns": list(allow_patterns)})
        if repo_id not in repos:
            raise FileNotFoundError(f"404 {repo_id}")
        Path(local_dir).mkdir(parents=True, exist_ok=True)
        for f in repos[repo_id].iterdir():
            if any(fnmatch.fnmatch(f.name, pat) for pat in allow_patterns):
                shutil.copy(f, Path(local_dir) / f.name)
        return local_dir
    return snapshot


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


@pytest.fixture
def hub_repo(tiny_clip_dir, tmp_path) -> Path:
    """A hub repo as it looks upstream: safetensors, a pickle twin, a README, an ONNX export."""
    repo = tmp_path / "upstream"
    shutil.copytree(tiny_clip_dir, repo)
    (repo / "pytorch_model.bin").write_bytes(b"pickle")
    (repo / "README.md").write_text("# card")
    (repo / "model.onnx").write_bytes(b"onnx")
    return repo


def test_download_fetches_only_safe_files_and_loads_offline(online, hub_repo, tmp_path, monkeypatch):
    calls: list = []
    folders = download.download_models(["openai/clip-vit-base-patch32"], tmp_path / "models",
                                       snapshot=fake_hub({"openai/clip-vit-base-patch32": hub_repo}, calls),
                                       log=lambda _: None)
    target = tmp_path / "models" / "openai--clip-vit-base-patch32"
    assert folders == [target]
    assert not any("bin" in p or "onnx" in p for p in calls[0]["allow_patterns"])
    names = {p.name for p in target.iterdir()}
    assert "model.safetensors" in names and "config.json" in names and "merges.txt" in names
    assert not names & {"pytorch_model.bin", "README.md", "model.onnx"}
    assert download.source_repo(target) == "openai/clip-vit-base-patch32"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert load_model(str(target), device="cpu", dtype="fp32").family == "clip"


def test_repo_without_safetensors_says_how_to_convert(online, hub_repo, tmp_path):
    (hub_repo / "model.safetensors").unlink()
    snapshot = fake_hub({"OFA-Sys/chinese-clip-vit-base-patch16": hub_repo}, [])
    with pytest.raises(ModelNotAvailable, match="--convert-pickle"):
        download.download_model("OFA-Sys/chinese-clip-vit-base-patch16", tmp_path, snapshot=snapshot)


def test_convert_pickle_writes_safetensors_and_drops_the_pickle(online, tiny_clip_dir, tmp_path):
    from transformers import CLIPModel

    repo = tmp_path / "pickled"
    shutil.copytree(tiny_clip_dir, repo)
    (repo / "model.safetensors").unlink()
    model = CLIPModel.from_pretrained(tiny_clip_dir)
    torch.save(model.state_dict(), repo / "pytorch_model.bin")
    target = download.download_model("someone/pickled-clip", tmp_path / "out", convert_pickle=True,
                                      snapshot=fake_hub({"someone/pickled-clip": repo}, []))
    assert (target / "model.safetensors").exists() and not (target / "pytorch_model.bin").exists()
    converted = load_model(str(target), device="cpu", dtype="fp32").model
    for (name, a), b in zip(model.state_dict().items(), converted.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_one_failure_is_reported_after_the_others_are_done(online, hub_repo, tmp_path):
    lines: list[str] = []
    with pytest.raises(ModelNotAvailable, match="1 of 2 downloads failed: no/such"):
        download.download_models(["no/such", "good/one"], tmp_path, log=lines.append,
                                 snapshot=fake_hub({"good/one": hub_repo}, []))
    assert (tmp_path / "good--one" / "model.safetensors").exists()
    assert any("cannot download no/such" in line for line in lines)


def test_offline_download_is_refused_at_once(tmp_path):
    with pytest.raises(ModelNotAvailable, match="HF_HUB_OFFLINE"):
        download.download_models(["openai/clip-vit-base-patch32"], tmp_path, snapshot=lambda *a, **k: 1 / 0)


def _model_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "clip"}))
    return path


def test_launch_models_expands_a_classroom_folder(tmp_path):
    room = tmp_path / "room"
    siglip = _model_dir(room / "google--siglip-base-patch16-224")
    b32 = _model_dir(room / "openai--clip-vit-base-patch32")
    (room / "notes").mkdir()
    model, allowed = download.launch_models(str(room), [])
    assert model == str(b32)  # OpenAI ViT-B/32 first, whatever the alphabet says
    assert allowed == (str(b32), str(siglip))
    single = _model_dir(tmp_path / "single")
    model, allowed = download.launch_models("bundled", [str(room), str(single)])
    assert model == "bundled" and allowed == (str(b32), str(siglip), str(single))
    assert download.launch_models(str(single), []) == (str(single), ())
    assert download.model_folders(tmp_path / "missing") == []
