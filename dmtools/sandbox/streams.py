"""Request-body streams of the sandbox's HTTP server (``server.py``).

:class:`RequestBody` bounds a body by its ``Content-Length`` and remembers what is left
unread (so the server can drain it and keep the connection); :class:`Prefetched` serves the
part of a chunked body read ahead, then the rest.
"""

from __future__ import annotations

import io
from typing import Any


class RequestBody(io.RawIOBase):
    """The request body, bounded by Content-Length; remembers how much is left unread."""

    def __init__(self, raw: Any, length: int) -> None:
        self._raw = raw
        self.remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.remaining <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self.remaining)]
        n = self._raw.readinto(view)
        if not n:
            self.remaining = 0
            raise ConnectionError("client closed the connection mid-body")
        self.remaining -= n
        return int(n)


class Prefetched(io.RawIOBase):
    """The part of a chunked body read ahead, then the rest of it."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = io.BytesIO(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._head.readinto(buffer)
        return n if n else int(self._rest.readinto(buffer) or 0)
