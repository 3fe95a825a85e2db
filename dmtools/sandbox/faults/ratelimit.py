"""Token-bucket rate limiting for the sandbox.

The bucket holds at most ``burst`` tokens and refills at ``rate`` tokens per second. Each
request takes one token; a request that finds less than one token is refused, and the bucket
says how long until a token will be there (the sandbox sends that, rounded up to whole
seconds, as ``Retry-After`` with a 429 ``rate_limit_exceeded``). A refused request takes
nothing, so a client that waits as told always finds a token, unless another client took it
first.

Example:
    >>> bucket = TokenBucket(rate=20.0, burst=20)
    >>> bucket.take() is None       # allowed
    True
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """A thread-safe token bucket.

    Args:
        rate: tokens added per second (> 0).
        burst: bucket size, the number of requests allowed back to back (>= 1).
        clock: monotonic clock in seconds (a test seam).

    Example:
        >>> bucket = TokenBucket(rate=1.0, burst=1)
        >>> bucket.take(), bucket.take() is not None
        (None, True)
    """

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise ValueError(
                f"rate limit: rate must be a number of requests per second, got {rate!r}"
            )
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate limit: rate must be > 0 requests per second, got {rate!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"rate limit: burst must be an integer >= 1, got {burst!r}")
        self._rate = float(rate)
        self._burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    @property
    def burst(self) -> int:
        """Bucket size."""
        return self._burst

    def take(self) -> float | None:
        """Take one token: None if allowed, else the seconds until one token is available."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._stamp = now
            self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return (1.0 - self._tokens) / self._rate
