"""Memory of large loads (no pandas: the loader imports it).

A 100,000-video load holds every record until its frame is built; the JSON decoder gives
each record its own copy of values that repeat across a channel (the category, the language,
the status, the owner's id and names, tag words). :class:`SharedValues` makes equal values
of those fields one object, so they are held once; :func:`release_free_heap` gives the heap
pages the load's answers were decoded in back to the system before the frame is built.

Example:
    >>> share = SharedValues()
    >>> a, b = share({"channel": "mu" + "sic"}), share({"channel": "mus" + "ic"})
    >>> a["channel"] is b["channel"]
    True
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["SHARED_FIELDS", "SharedValues", "release_free_heap"]

#: Wire fields whose values repeat across a channel (a fixed list of choices, or the owner);
#: titles, descriptions and ids are left alone (nearly all distinct, nothing to share).
SHARED_FIELDS = (
    "channel",
    "language",
    "country",
    "status",
    "mode",
    "owner",
    "owner.screenname",
    "owner.username",
)


class SharedValues:
    """Replaces the strings of :data:`SHARED_FIELDS` and of ``tags`` in a record by one
    object per distinct value, in place; at most ``limit`` distinct values are kept (past
    it, only known values are shared)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._memo: dict[str, str] = {}
        self._limit = limit

    def __call__(self, record: Any) -> Any:
        if type(record) is not dict:
            return record
        memo = self._memo
        keep = memo.setdefault if len(memo) < self._limit else memo.get
        for name in _SHARED.intersection(record):
            value = record[name]
            if type(value) is str:
                record[name] = keep(value, value)
        tags = record.get("tags")
        if type(tags) is list and tags and set(map(type, tags)) == _TEXT:
            record["tags"] = list(map(keep, tags, tags))
        return record


_SHARED = frozenset(SHARED_FIELDS)
_TEXT = frozenset({str})


def release_free_heap() -> None:
    """Give the free pages of the C heap back to the system (glibc's ``malloc_trim``; a no-op
    where there is none): the answers a load decoded were freed in its threads' heaps, which
    otherwise stay resident while a frame's buffers are allocated beside them."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None (found once: looking the C library up runs
    ``ldconfig``)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
