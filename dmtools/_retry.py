"""Retry policy pieces of the transport: timeouts, backoff, retry budget and rate limiter.

Nothing here sends a request or reads a response; :mod:`dmtools._http` combines them. Every
wait is computed from an injectable clock and returned (or passed to an injectable ``sleep``),
so tests run them with tiny or fake times.

Example:
    >>> import random
    >>> backoff = Backoff(base=0.5, cap=20.0, attempts=5)
    >>> 0.0 <= backoff.delay(3, random.Random(1)) <= 4.0
    True
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random  # only rngs passed in (importing it costs a third of `import dmtools`)

__all__ = ["Backoff", "RateLimiter", "RetryBudget", "Timeouts"]

Clock = Callable[[], float]
Sleep = Callable[[float], None]

#: Share of the configured rate a client-side limiter regains per success after a 429.
RECOVERY = 0.001


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts of one attempt, and the time budget of a whole call.

    Attributes:
        connect: wait for the TCP connection (seconds).
        read: wait for the server between bytes of its answer (seconds).
        total: the most time one call's attempts may spend waiting for the server, retries
            included (default ``2 * read``: a stalled read gets one retry, then fails). Each
            attempt's timeouts are cut to what is left and no retry starts once it is spent,
            so a stalled server fails a read after about ``total`` seconds instead of
            ``attempts * read``, and a write after ``read`` (it is never resent). Backoff
            pauses, ``Retry-After`` pauses (at most ``Backoff.retry_after_cap``) and the
            client-side rate limit come on top; none of them waits on the server.

    Example:
        >>> Timeouts.coerce(10).read, Timeouts.coerce(10).total
        (10.0, 20.0)
        >>> Timeouts(connect=3.05, read=30.0, total=30.0).total  # a stalled read is not retried
        30.0
    """

    connect: float = 3.05
    read: float = 30.0
    total: float | None = None  # None: 2 * read (always a number once built)

    def __post_init__(self) -> None:
        if self.total is None:
            read = self.read if isinstance(self.read, int | float) else math.nan
            object.__setattr__(self, "total", 2.0 * read)
        for name in ("connect", "read", "total"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(
                    f"{name} timeout must be a positive number of seconds, got {value!r}"
                )

    @classmethod
    def coerce(cls, value: Timeouts | float | tuple[float, float] | None) -> Timeouts:
        """Build from None (defaults), one number (the read timeout) or ``(connect, read)``."""
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        if isinstance(value, tuple):
            connect, read = value
            return cls(float(connect), float(read))
        return cls(connect=min(cls.connect, float(value)), read=float(value))

    def as_requests(self, left: float | None = None) -> tuple[float, float]:
        """``(connect, read)`` for requests, each cut to ``left`` seconds when given."""
        if left is None:
            return (self.connect, self.read)
        left = max(left, 0.001)
        return (min(self.connect, left), min(self.read, left))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, and how far ``Retry-After`` is honoured.

    Attributes:
        base: first delay bound in seconds; retry ``k`` (0-based) waits up to ``base * 2**k``.
        cap: no single backoff delay exceeds this.
        attempts: total attempts per call, first one included (1 disables retries).
        retry_after_cap: a ``Retry-After`` longer than this is not waited for: the call
            raises (:class:`~dmtools.errors.RateLimited` carries ``retry_after``).

    Example:
        >>> Backoff.coerce(0).attempts
        1
    """

    base: float = 0.5
    cap: float = 20.0
    attempts: int = 5
    retry_after_cap: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.retry_after_cap < 0:
            raise ValueError("backoff times must not be negative")

    @classmethod
    def coerce(cls, value: Backoff | int | None) -> Backoff:
        """Build from None (defaults), a number of retries (``0`` disables) or a Backoff."""
        if value is None:
            return cls()
        if isinstance(value, Backoff):
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"retries must be a non-negative integer, got {value!r}")
        return cls(attempts=value + 1)

    def delay(self, retry: int, rng: random.Random) -> float:
        """Full-jitter delay before retry number ``retry`` (0 for the first retry)."""
        bound = min(self.cap, self.base * (2.0 ** min(retry, 62)))
        return rng.uniform(0.0, bound)


class RetryBudget:
    """A token bucket that bounds retries across every call of one transport.

    Each retry takes ``retry_cost`` tokens (``timeout_cost`` after a timeout); each success
    gives one back. When the bucket is short, calls stop retrying and fail fast, so a dead
    service cannot cause a retry storm.

    Example:
        >>> budget = RetryBudget(capacity=10, retry_cost=5)
        >>> budget.take(), budget.take(), budget.take()
        (True, True, False)
    """

    def __init__(
        self, capacity: int = 500, *, retry_cost: int = 5, timeout_cost: int = 10, refund: int = 1
    ) -> None:
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.refund = refund
        self._tokens = capacity
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        return self._tokens

    @property
    def exhausted(self) -> bool:
        return self._tokens < self.retry_cost

    def take(self, *, timeout: bool = False) -> bool:
        """Take the cost of one retry; False (and nothing taken) if the bucket is short."""
        cost = self.timeout_cost if timeout else self.retry_cost
        with self._lock:
            if self._tokens < cost:
                return False
            self._tokens -= cost
            return True

    def success(self) -> None:
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + self.refund)


class RateLimiter:
    """Client-side pacing: at most ``rate`` requests/s (bursts of ``burst``), plus a gate.

    The gate holds every request until a time the API advertised with ``Retry-After``, also
    requests already waiting for their slot when the answer came. With ``rate=None`` only the
    gate applies. On a 429 the rate drops to 70 % (not below ``min_rate``), once per episode
    (429s answered while an earlier ``Retry-After`` still holds the gate are the same
    episode), then climbs back by :data:`RECOVERY` (0.1 %) of the configured rate per success:
    additive increase, multiplicative decrease, so a client configured faster than the API
    allows soon moves around the API's limit with rare 429s. Scheduling is a GCRA: each caller
    reserves the next slot under a lock, then sleeps outside it.

    Example:
        >>> limiter = RateLimiter(10.0, clock=lambda: 0.0, sleep=lambda s: None)
        >>> limiter.acquire(), limiter.acquire()
        (0.0, 0.1)
    """

    def __init__(
        self,
        rate: float | None = None,
        burst: float = 1.0,
        *,
        min_rate: float = 0.5,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate is not None and not (rate > 0 and math.isfinite(rate)):
            raise ValueError(
                f"rate_limit must be a positive number of requests per second, got {rate!r}"
            )
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.max_rate = rate
        self.rate = rate
        self.burst = burst
        self.min_rate = min(min_rate, rate) if rate else min_rate
        self._clock = clock
        self._sleep = sleep
        self._tat = -math.inf  # theoretical arrival time of the next request (reservations)
        self._sent_tat = -math.inf  # the same, counted from actual departures
        self._hold_until = -math.inf
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this request's slot; return the seconds waited.

        A ``Retry-After`` that arrives while waiting (another thread's answer) is waited for
        too, so no request leaves before a time the API advertised. A caller that wakes up
        late (a busy machine) pushes the following departures back instead of letting them
        bunch up behind it, so the pace holds at departure time, not only on the schedule.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                seen = self._hold_until
                start = max(now, seen)
                if self.rate:
                    interval = 1.0 / self.rate
                    tolerance = (self.burst - 1.0) * interval
                    start = max(start, self._tat - tolerance)
                    self._tat = max(self._tat, start) + interval
                wait = start - now
            if wait > 0:
                self._sleep(wait)
                waited += wait
            extra = 0.0
            with self._lock:
                if self._hold_until > seen:
                    continue  # a Retry-After came in meanwhile: wait for it as well
                if self.rate:
                    now = max(self._clock(), start)  # departing now, never before the slot
                    interval = 1.0 / self.rate
                    extra = max(0.0, self._sent_tat - (self.burst - 1.0) * interval - now)
                    self._sent_tat = max(self._sent_tat, now + extra) + interval
            if extra <= 0:
                return waited
            self._sleep(extra)
            waited += extra
            with self._lock:
                if self._hold_until <= seen:
                    return waited

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from now (the API's ``Retry-After``)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + max(0.0, seconds))

    def hold_remaining(self) -> float:
        """Seconds left before the gate opens (0 when open)."""
        return max(0.0, self._hold_until - self._clock())

    def throttled(self) -> None:
        """The API answered 429: slow down to 70 %, unless an earlier 429 of the same
        episode did already (its ``Retry-After`` still holds the gate)."""
        with self._lock:
            if self.rate and self._hold_until <= self._clock():
                self.rate = max(self.min_rate, self.rate * 0.7)

    def success(self) -> None:
        """A request went through: climb back towards the configured rate."""
        if self.rate and self.max_rate and self.rate < self.max_rate:
            with self._lock:
                if self.rate and self.max_rate:
                    self.rate = min(self.max_rate, self.rate + self.max_rate * RECOVERY)
