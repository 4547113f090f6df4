"""Batch work in a bounded pipeline: while the model encodes one batch, the next ones are read and prepared.

    for batch in prefetched(batches, prepare):   # prepare(batch) runs in a worker thread, ahead
        encode(batch)                             # ... while this runs here

Decoding (Pillow) and resizing release the GIL, so on a CPU they overlap with the model's forward pass
(OpenVINO and torch release it too). Bounded: at most `depth` batches are prepared ahead of the one
being consumed, so memory is (depth + 1) batches whatever the length of the stream; the threads are
shared by every pipeline of the process (limits.PREFETCH_THREADS), so many users at once cannot start
a thread each. Order is kept. The request's budget (clipdemo.core.limits, a context variable) travels with
each batch into its worker thread, so images read there are charged to the request that asked.

A generic tool: collections (local and Ray), video frames, batch endpoints and the map use it.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from clipdemo.core import limits

T = TypeVar("T")
P = TypeVar("P")

_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def shared_pool(name: str, workers: int) -> ThreadPoolExecutor:
    """One process-wide thread pool per kind of work, made on first use. Kinds stay apart: prefetch threads
    wait on preprocessing, which must not queue behind them in the same pool."""
    with _pools_lock:
        if name not in _pools:
            _pools[name] = ThreadPoolExecutor(workers, thread_name_prefix=f"clipdemo-{name}")
        return _pools[name]


def _prefetch_pool() -> ThreadPoolExecutor:
    return shared_pool("prefetch", limits.PREFETCH_THREADS)


def prefetched(items: Iterable[T], prepare: Callable[[T], P], depth: int = limits.PREFETCH_DEPTH) -> Iterator[P]:
    """prepare(item) for each item, in order, computed up to `depth` items ahead in worker threads.

    An exception in prepare is raised here, at its item. Stopping early (break, an exception in the
    consumer, the generator closed) cancels what has not started; what has started finishes and is dropped."""
    depth = max(1, int(depth))
    pool = _prefetch_pool()
    pending: deque[Future] = deque()
    source = iter(items)
    try:
        for item in source:
            pending.append(pool.submit(contextvars.copy_context().run, prepare, item))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for f in pending:
            f.cancel()


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last may be shorter)."""
    size = max(1, int(size))
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
