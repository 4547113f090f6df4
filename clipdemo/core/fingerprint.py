"""Which image tower made a set of vectors: a hash of its stored weights.

A model's name and folder say which model, not which weights: retraining the bundled model keeps both, yet
vectors made by the old image tower no longer share a space with the new text tower. A collection records
this fingerprint when it is embedded, and search refuses one that another image tower made.

Only the image side is hashed ("vision"/"visual" tensors: CLIP's vision_model.* and visual_projection, SigLIP's
and Chinese-CLIP's alike): retraining only the text side (LiT) leaves stored image vectors valid. The hash reads
the tensors' bytes as stored (safetensors' header gives their offsets), so it does not depend on the dtype a
model is run in.
"""

from __future__ import annotations

import hashlib
import json
import struct
from functools import lru_cache
from pathlib import Path

IMAGE_SIDE = ("vision", "visual")
CHUNK = 1 << 22


def weight_files(source: str) -> list[Path]:
    """The safetensors files of a model folder or of a cached Hub model; [] if none are found offline."""
    folder = Path(source)
    if not folder.is_dir():
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(source, local_files_only=True, allow_patterns=["*.safetensors"]))
        except Exception:  # noqa: BLE001 - not cached: nothing to fingerprint
            return []
    return sorted(folder.glob("*.safetensors"))


def image_tower_fingerprint(source: str) -> str | None:
    """sha256 (hex) over the image side's tensor names, dtypes, shapes and bytes; None if no weights are found."""
    files = weight_files(str(source))
    if not files:
        return None
    return _fingerprint(tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))


def _image_side(name: str) -> bool:
    """vision_model.*, visual_projection.*, and the same under one wrapping prefix (model.vision_model.*)."""
    return any(part.startswith(IMAGE_SIDE) for part in name.split(".")[:2])


@lru_cache(maxsize=16)
def _fingerprint(files: tuple[tuple[str, int, int], ...]) -> str | None:
    """Cached per (path, size, mtime): a rewritten file is hashed again."""
    h = hashlib.sha256()
    found = False
    for path, _, _ in files:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            start = 8 + n
            for name in sorted(k for k in header if k != "__metadata__" and _image_side(k)):
                t = header[name]
                h.update(f"{name}|{t['dtype']}|{t['shape']}".encode())
                a, b = t["data_offsets"]
                f.seek(start + a)
                left = b - a
                while left > 0:
                    chunk = f.read(min(CHUNK, left))
                    if not chunk:
                        raise ValueError(f"{path} ends inside tensor {name}")
                    h.update(chunk)
                    left -= len(chunk)
                found = True
    return h.hexdigest() if found else None
