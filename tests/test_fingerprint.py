"""The image tower's fingerprint: follows the image side's weights, ignores the text side's."""

from __future__ import annotations

import shutil

from safetensors.torch import load_file, save_file

from clipdemo.core.fingerprint import image_tower_fingerprint


def _edited_copy(src, dst, prefix: str):
    """A copy of the model folder with one tensor under `prefix` nudged."""
    shutil.copytree(src, dst)
    path = dst / "model.safetensors"
    tensors = load_file(path)
    name = next(k for k in sorted(tensors) if k.startswith(prefix) and tensors[k].is_floating_point())
    tensors[name] = tensors[name] + 1e-2
    save_file(tensors, path, metadata={"format": "pt"})
    return dst


def test_the_fingerprint_follows_the_image_side_only(tiny_clip_dir, tmp_path):
    base = image_tower_fingerprint(str(tiny_clip_dir))
    assert base and len(base) == 64
    assert image_tower_fingerprint(str(tiny_clip_dir)) == base
    same = tmp_path / "same"
    shutil.copytree(tiny_clip_dir, same)
    assert image_tower_fingerprint(str(same)) == base  # a copy elsewhere is the same tower
    assert image_tower_fingerprint(str(_edited_copy(tiny_clip_dir, tmp_path / "vision", "vision_model."))) != base
    assert image_tower_fingerprint(str(_edited_copy(tiny_clip_dir, tmp_path / "proj", "visual_projection"))) != base
    # retraining only the text side (LiT) leaves image vectors valid
    assert image_tower_fingerprint(str(_edited_copy(tiny_clip_dir, tmp_path / "text", "text_model."))) == base


def test_no_weights_no_fingerprint(tmp_path):
    assert image_tower_fingerprint(str(tmp_path)) is None
    assert image_tower_fingerprint("nobody/not-a-cached-model") is None
