"""Choose where and in which precision a model runs."""

from __future__ import annotations

import functools
import time

import torch

DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
          "fp16": torch.float16, "float16": torch.float16}


@functools.cache
def cpu_prefers_bf16() -> bool:
    """True where bf16 matrix products beat fp32 (CPUs with AMX: ~4x). Measured, since VMs often hide
    the cpuinfo flags; costs ~50 ms once per process."""
    timings = {}
    for dt in (torch.float32, torch.bfloat16):
        a, b = torch.randn(256, 512, dtype=dt), torch.randn(512, 512, dtype=dt)
        a @ b
        t = time.perf_counter()
        for _ in range(8):
            a @ b
        timings[dt] = time.perf_counter() - t
    return timings[torch.bfloat16] < 0.7 * timings[torch.float32]


def pick_device(preference: str | None = None) -> torch.device:
    pref = (preference or "auto").lower()
    if pref != "auto":
        return torch.device(pref)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(device: torch.device, preference: str | None = None) -> torch.dtype:
    pref = (preference or "auto").lower()
    if pref != "auto":
        if pref not in DTYPES:
            raise ValueError(f"unknown dtype {preference!r}; use one of auto, fp32, bf16, fp16")
        return DTYPES[pref]
    if device.type in ("cuda", "mps"):
        return torch.float16
    return torch.bfloat16 if cpu_prefers_bf16() else torch.float32


def dtype_name(dtype: torch.dtype) -> str:
    return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, str(dtype))
