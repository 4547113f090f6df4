"""Choose where and in which precision a model runs."""

from __future__ import annotations

import functools
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

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


# /proc/cpuinfo flag -> what it means for inference here
CPU_FEATURES = {"amx_tile": "AMX", "avx512_bf16": "avx512_bf16", "avx512_vnni": "VNNI", "avx_vnni": "VNNI",
                "avx512f": "avx512f"}


@functools.cache
def cpu_features() -> tuple[str, ...]:
    """The CPU's inference-relevant instruction sets (AMX tiles, bf16 dot products, VNNI int8), as Linux
    reports them; empty where /proc/cpuinfo is not readable (macOS, Windows) or hides them (some VMs)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return tuple(dict.fromkeys(name for flag, name in CPU_FEATURES.items() if flag in flags))


@functools.cache
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_signature() -> str:
    """What a speed decision depends on: the CPU model, its features and the threads torch uses."""
    return f"{cpu_name()} | {','.join(cpu_features())} | {torch.get_num_threads()} threads"


def interleaved_medians(candidates: dict[str, Callable[[], object]], rounds: int = 3, warmup: int = 1
                        ) -> dict[str, float]:
    """Median seconds of each callable over `rounds`, run in turns (a, b, a, b, ...) so that other work on
    a shared machine slows every candidate alike instead of whichever happened to run then."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {k: [] for k in candidates}
    for _ in range(max(1, rounds)):
        for name, fn in candidates.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}
