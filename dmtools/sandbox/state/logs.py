"""Bounded logs of the sandbox: committed writes and requests served (no HTTP)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

LOG_SIZE = 100_000
#: Distinct strings and tuples a RingLog shares between its entries before starting afresh.
SHARED_VALUES = 4096


class RingLog:
    """A bounded, thread-safe log of entries numbered by ``seq``.

    Entries are kept as tuples in the order of ``keys`` (lists as tuples) to stay small, and
    equal strings and tuples (methods, paths, query keys, client ids) are stored once: a full
    log of 100,000 request entries takes about 20 MB.

    Example:
        >>> log = RingLog(("method", "path"), size=2)
        >>> for path in ("/a", "/b", "/c"):
        ...     log.append({"method": "GET", "path": path})
        >>> [e["seq"] for e in log.items()], log.items(since=2)[0]["path"]
        ([2, 3], '/c')
    """

    def __init__(self, keys: Sequence[str], size: int = LOG_SIZE) -> None:
        self.keys = ("seq", *keys)
        self._items: deque[tuple[Any, ...]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0
        self._shared: dict[Any, Any] = {}

    def _share(self, value: Any) -> Any:
        """One stored copy of equal strings and tuples (bounded). Call with _lock held."""
        if isinstance(value, list):
            value = tuple(self._share(v) for v in value)
        if not isinstance(value, str | tuple):
            return value
        try:
            shared = self._shared.get(value)
        except TypeError:  # a tuple holding something unhashable
            return value
        if shared is None:
            if len(self._shared) >= SHARED_VALUES:
                self._shared.clear()
            self._shared[value] = shared = value
        return shared

    def append(self, entry: Mapping[str, Any]) -> None:
        with self._lock:
            values = tuple(self._share(entry.get(k)) for k in self.keys[1:])
            self._seq += 1
            self._items.append((self._seq, *values))

    def items(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            rows = [row for row in self._items if row[0] > since]
        return [
            {k: list(v) if isinstance(v, tuple) else v for k, v in zip(self.keys, row, strict=True)}
            for row in rows
        ]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
