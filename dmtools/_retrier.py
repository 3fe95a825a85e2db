"""Whether, and after how long, the transport tries a call again: the retry policy as data.

Retry rules by operation class (``op``):

======== ============================== ================================= ==============
op       not sent (connect error)       ambiguous (timeout/reset after    429 / 503
                                        send, truncated body, 500/502/504)
======== ============================== ================================= ==============
read     retry                          retry                             retry
edit     retry                          raise (``sent=True``/ServerError) retry
delete   retry                          raise (``sent=True``/ServerError) retry
create   retry                          raise                             raise
auth     retry                          raise                             retry
======== ============================== ================================= ==============

A :class:`Retrier` combines the pieces of :mod:`dmtools._retry` (backoff, retry budget, rate
limiter) for one transport, and counts what it decided. Every decision either returns the
delay before the next attempt or raises the error the caller gets.

Example:
    >>> retrier = Retrier(Backoff(), RetryBudget(), RateLimiter(), total=60.0)  # doctest: +SKIP
    >>> retrier.after_error(ServerError("down", status=503), None, "read", 0)  # doctest: +SKIP
    0.31
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from typing import Any

from dmtools._net import Failure
from dmtools._retry import Backoff, Clock, RateLimiter, RetryBudget, Sleep
from dmtools.errors import APIError, DailymotionError, RateLimited, TransportError

__all__ = ["RETRY_STATUS", "Retrier"]

log = logging.getLogger("dmtools.http")

#: Error statuses retried, by operation class.
RETRY_STATUS: dict[str, frozenset[int]] = {
    "read": frozenset({408, 429, 500, 502, 503, 504}),
    "edit": frozenset({429, 503}),
    "delete": frozenset({429, 503}),
    "create": frozenset(),
    "auth": frozenset({429, 503}),
}


class Retrier:
    """The retry decisions of one transport, and their counters.

    Args:
        backoff, budget, limiter: the policy pieces (shared by every call of the transport).
        total: the time budget of one call, in seconds of waiting for the server.
        sleep, rng: injectable pause and randomness (tests use fakes).
    """

    def __init__(
        self,
        backoff: Backoff,
        budget: RetryBudget,
        limiter: RateLimiter,
        *,
        total: float,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.backoff = backoff
        self.budget = budget
        self.limiter = limiter
        self.total = total
        self.clock = clock
        self.rng = rng or random.Random()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._slept = 0.0

    # -- counters -------------------------------------------------------------------------

    def count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def counts(self) -> dict[str, Any]:
        with self._lock:
            return {**self._counts, "slept": self._slept}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._slept = 0.0

    # -- decisions ------------------------------------------------------------------------

    def gate(self, method: str, path: str) -> None:
        """Wait for the rate limiter; refuse at once when the API asked for a long pause."""
        waiting = self.limiter.hold_remaining()
        if waiting > self.backoff.retry_after_cap:
            raise RateLimited(
                f"the API asked to wait {waiting:.0f} s before the next request",
                status=429,
                type="rate_limit_exceeded",
                retry_after=waiting,
                method=method,
                path=path,
            )
        self.limiter.acquire()

    def success(self) -> None:
        """A call succeeded: refund the budget and let the rate recover."""
        self.budget.success()
        self.limiter.success()

    def after_failure(
        self, failure: Failure, op: str, retry: int, method: str, path: str, *, late: bool = False
    ) -> float:
        """The delay before retrying after a network failure, or raise TransportError
        (also when the call is ``late``: its time budget is spent)."""
        self.count(f"failure.{failure.kind}")
        error = TransportError(
            f"{failure.detail} ({method} {path})", method=method, path=path, sent=failure.sent
        )
        can_retry = failure.retryable and (not failure.sent or op == "read")
        if not can_retry or retry + 1 >= self.backoff.attempts:
            raise error from None
        if late:
            raise self._late(error) from None
        delay = self._delay(retry)
        if not self.budget.take(timeout=failure.kind == "timeout"):
            log.warning("retry budget exhausted; not retrying %s %s", method, path)
            raise error from None
        return delay

    def after_error(
        self, error: APIError, retry_after: float | None, op: str, retry: int, *, late: bool = False
    ) -> float:
        """The delay before retrying after an error status (``retry_after``: the answer's
        ``Retry-After`` in seconds), or raise the error (also when the call is ``late``)."""
        if error.status in (429, 503):
            if error.status == 429:
                self.count("throttled")
                self.limiter.throttled()
            if retry_after is not None:  # a long one makes later calls fail fast (see gate)
                self.limiter.hold(retry_after)
        else:
            retry_after = None
        if (
            error.status not in RETRY_STATUS[op]
            or retry + 1 >= self.backoff.attempts
            or (retry_after or 0.0) > self.backoff.retry_after_cap
        ):
            raise error
        if late:
            raise self._late(error)
        delay = max(retry_after or 0.0, self._delay(retry))
        if not self.budget.take():
            log.warning("retry budget exhausted; not retrying %s %s", error.method, error.path)
            raise error
        return delay

    def pause(self, method: str, path: str, reason: str, retry: int, delay: float) -> None:
        """Wait ``delay`` before attempt ``retry + 2``, and say so."""
        with self._lock:
            self._counts["retries"] += 1
            self._slept += delay
        log.info(
            "retrying %s %s after %s in %.3f s (attempt %d of %d)",
            method,
            path,
            reason,
            delay,
            retry + 2,
            self.backoff.attempts,
        )
        if delay > 0:
            self._sleep(delay)

    def _delay(self, retry: int) -> float:
        with self._lock:
            return self.backoff.delay(retry, self.rng)

    def _late(self, error: DailymotionError) -> DailymotionError:
        """``error``, as the final one of a call whose time budget is spent."""
        self.count("deadline")
        method, path = getattr(error, "method", ""), getattr(error, "path", "")
        log.warning(
            "giving up %s %s: the call spent its %g s waiting for the server",
            method,
            path,
            self.total,
        )
        if isinstance(error, TransportError):
            return TransportError(
                f"{error}; gave up after waiting {self.total:g} s in all",
                method=method,
                path=path,
                sent=error.sent,
            )
        return error
