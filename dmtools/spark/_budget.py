"""One request-rate budget shared by every Python worker of a Spark executor.

Spark runs one Python worker process per concurrently running task, so a limiter inside one
process would let an executor with 8 cores send 8 times the rate. :class:`HostRateLimiter`
keeps its schedule (a GCRA "theoretical arrival time") in a small file in the machine's temp
folder, updated under an exclusive ``flock``: every worker on the machine that uses the same
budget name takes its slots from the same schedule. ``Retry-After`` gates, the slow-down on
429 and the recovery stay per process (each worker's own :class:`~dmtools._retry.RateLimiter`
state), which only ever makes a worker slower than the shared pace.

Where ``fcntl`` does not exist (Windows), the budget is per process, and says so in the log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from dmtools._retry import RateLimiter

__all__ = ["HostRateLimiter", "budget_path"]

log = logging.getLogger(__name__)

_STATE = struct.Struct("<d")


def budget_path(name: str) -> Path:
    """The file holding the shared schedule of budget ``name`` on this machine."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"dmtools-rate-{digest}.budget"


class HostRateLimiter(RateLimiter):
    """At most ``rate`` requests/s (bursts of ``burst``) for all processes of this machine
    using budget ``name``.

    Example:
        >>> limiter = HostRateLimiter(20.0, name="x")       # doctest: +SKIP
        >>> dm.connect(..., rate_limit=limiter)             # doctest: +SKIP
    """

    def __init__(self, rate: float, *, name: str, burst: float = 1.0) -> None:
        super().__init__(rate, burst)
        self.name = name
        self.path = budget_path(name)
        self._file: IO[bytes] | None = None
        self._file_lock = threading.Lock()
        try:
            import fcntl  # noqa: F401
        except ImportError:  # pragma: no cover - Windows
            log.warning("no fcntl here: the rate budget %r is per process", name)
            self.path = Path()

    def _handle(self) -> IO[bytes]:
        if self._file is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "r+b", buffering=0)
        return self._file

    def _reserve(self) -> float:
        """Take the next slot of the shared schedule; the seconds until it."""
        import fcntl

        handle = self._handle()
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            handle.seek(0)
            raw = handle.read(_STATE.size)
            tat = _STATE.unpack(raw)[0] if len(raw) == _STATE.size else 0.0
            now = time.time()
            interval = 1.0 / (self.rate or self.max_rate or 1.0)
            start = max(now, tat - (self.burst - 1.0) * interval)
            handle.seek(0)
            handle.write(_STATE.pack(max(tat, start) + interval))
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return start - now

    def acquire(self) -> float:
        """Wait for an advertised ``Retry-After`` (this process), then for the next slot of
        the machine-wide schedule; the seconds waited."""
        if self.path == Path():  # pragma: no cover - Windows
            return super().acquire()
        waited = 0.0
        while (hold := self.hold_remaining()) > 0:
            time.sleep(hold)
            waited += hold
        with self._file_lock:
            wait = self._reserve()
        if wait > 0:
            time.sleep(wait)
            waited += wait
        return waited

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
