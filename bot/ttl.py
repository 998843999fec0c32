"""A small time-bounded, size-bounded in-memory map (message de-duplication, last buttons per user)."""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(self, ttl_s: float, maxsize: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.maxsize, self.clock = ttl_s, maxsize, clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        if self.clock() - item[0] > self.ttl_s:
            del self._items[key]
            return None
        return item[1]

    def set(self, key: str, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = (self.clock(), value)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def pop(self, key: str) -> V | None:
        value = self.get(key)
        self._items.pop(key, None)
        return value

    def add(self, key: str, value: V) -> bool:
        """Store `value` unless a live entry exists; True when this call stored it (first sighting)."""
        if self.get(key) is not None:
            return False
        self.set(key, value)
        return True
