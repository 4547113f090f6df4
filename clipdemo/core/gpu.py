"""ZeroGPU (Hugging Face Spaces): a GPU is attached only while a function decorated with `spaces.GPU` runs, in a
worker process forked from the app's, and CUDA must not be initialised in the app's own process.

The GPU work here (forward passes of the towers, clipdemo.core.encoding; spatial maps with their gradients,
clipdemo.core.spatial) goes through `gpu_task`: `spaces.GPU` where the `spaces` package is installed (it returns the
function unchanged off ZeroGPU), the function itself where it is not. Everything else (preprocessing, caches,
scores, UMAP, Learn-tab training) stays on the CPU in the app's process.

A model cannot travel to the worker as an argument (arguments are pickled; a model is hundreds of MB): each
encoder `register`s itself under a short key, the GPU function takes the key, and the worker, a fork of the app,
finds the same object by it. Inputs travel as CPU tensors, results come back as CPU tensors.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable
from typing import TypeVar

from clipdemo.core import limits

try:  # optional: the `spaces` extra; a ZeroGPU Space has it
    import spaces
except ImportError:
    spaces = None

F = TypeVar("F", bound=Callable)

_objects: weakref.WeakValueDictionary[str, object] = weakref.WeakValueDictionary()
_keys = itertools.count()


def prepare() -> None:
    """Called first by the launcher. Importing this module imported `spaces` (if installed), which on ZeroGPU
    patches torch so that models can be put on "cuda" in the app's process without initialising CUDA."""


def register(obj: object) -> str:
    """A key by which a GPU function (here or in ZeroGPU's forked worker) finds `obj`; held weakly."""
    key = f"{type(obj).__name__}-{next(_keys)}"
    _objects[key] = obj
    return key


def lookup(key: str):
    obj = _objects.get(key)
    if obj is None:  # freed (evicted model); the caller held it, so this is a bug, not the user's doing
        raise LookupError(f"no GPU work object {key!r}: it was freed")
    return obj


def seconds_for(items: int, per_item_s: float, fixed_s: float = limits.GPU_FIXED_S) -> int:
    """A GPU function's duration bound: the worker's start plus `items` times the measured work, whole seconds."""
    return max(1, math.ceil(fixed_s + max(0, items) * per_item_s))


def gpu_task(duration: int | Callable[..., int]) -> Callable[[F], F]:
    """`spaces.GPU(duration=...)` where `spaces` is installed, else nothing. `duration`: seconds, or a function of
    the decorated function's arguments giving seconds (ZeroGPU's dynamic duration)."""

    def decorate(fn: F) -> F:
        return fn if spaces is None else spaces.GPU(duration=duration)(fn)

    return decorate
