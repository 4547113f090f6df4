"""The one bounded cache every part of the engine uses: least recently used out first, thread-safe.

Encoded images and texts, ensembled label embeddings, projections, rendered toy galleries and the
models in memory all go through `LRUCache`, so every cache has a cap (a long-running server's memory
stays bounded) and one place says how eviction works.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class LRUCache:
    def __init__(self, max_items: int):
        self.max_items = max(1, int(max_items))
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value (now the most recently used), or `default`; counts hits and misses."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return default

    def peek(self, key: Hashable, default: Any = None) -> Any:
        """The value without touching its place in line or the counts."""
        with self._lock:
            return self._data.get(key, default)

    def put(self, key: Hashable, value: Any) -> list[Hashable]:
        """Store `value` as the most recently used; returns the keys evicted to stay within max_items."""
        evicted = []
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_items:
                evicted.append(self._data.popitem(last=False)[0])
        return evicted

    def keys(self) -> list[Hashable]:
        """Oldest first."""
        with self._lock:
            return list(self._data)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
