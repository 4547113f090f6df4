"""scripts/average_checkpoints.py: the weights are the weighted mean, the result loads, the history is kept."""

import json
import sys

import torch
from app_server import ROOT
from conftest import build_tiny_clip

sys.path.insert(0, str(ROOT / "scripts"))
import average_checkpoints  # noqa: E402


def test_average_is_the_weighted_mean_and_loads(tmp_path):
    from transformers import CLIPModel

    a, b = build_tiny_clip(tmp_path / "a", seed=1), build_tiny_clip(tmp_path / "b", seed=2)
    for folder, cmd in ((a, "train a"), (b, "train b")):
        (folder / "training_log.json").write_text(json.dumps({"command": cmd, "config": {"steps": 3}}))
    average_checkpoints.main([str(a), str(b), "--out", str(tmp_path / "c"), "--weight", "0.25"])
    ma, mb, mc = (CLIPModel.from_pretrained(tmp_path / n, dtype=torch.float32) for n in ("a", "b", "c"))
    key = "vision_model.encoder.layers.0.mlp.fc1.weight"
    want = 0.75 * ma.state_dict()[key] + 0.25 * mb.state_dict()[key]
    assert torch.allclose(mc.state_dict()[key], want, atol=1e-3)
    assert not torch.allclose(want, ma.state_dict()[key])
    log = json.loads((tmp_path / "c" / "training_log.json").read_text())
    assert log["config"]["averaged"] == 0.25 and log["previous"]["command"] == "train b"
    assert log["averaged_with"] == "train a" and (tmp_path / "c" / "tokenizer.json").exists() == (a / "tokenizer.json").exists()
