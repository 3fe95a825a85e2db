"""The fault configuration, rate limiter and fault log of one sandbox (thread-safe).

See :mod:`dmtools.sandbox.faults` for the rule keys and how decisions are drawn.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dmtools.sandbox.faults.ratelimit import TokenBucket
from dmtools.sandbox.faults.rules import MAX_SECONDS, Rule, check_number, parse_rule, uniform

log = logging.getLogger("dmtools.sandbox.faults")

ADMIN_PREFIX = "/__sandbox__/"
LOG_SIZE = 100_000


class _State:
    """One configuration and its counters (replaced as a whole by ``configure``)."""

    def __init__(
        self,
        latency: float,
        jitter: float,
        seed: int,
        rules: Sequence[Rule],
        specs: list[dict[str, Any]],
    ) -> None:
        self.latency = latency
        self.jitter = jitter
        self.seed = seed
        self.rules = tuple(rules)
        self.specs = specs
        self.counters = [0] * len(rules)
        self.requests = 0


class FaultController:
    """Thread-safe fault configuration, rate limiter and fault log of one sandbox.

    Example:
        >>> ctl = FaultController()
        >>> ctl.configure(latency=0.05, jitter=0.01, seed=1,
        ...               rules=[{"kind": "reset", "rate": 0.01, "after_commit": True}])
        >>> ctl.set_rate_limit(rate=20.0, burst=20)
        >>> ctl.clear()
    """

    def __init__(self, *, log_size: int = LOG_SIZE) -> None:
        self._lock = threading.Lock()
        self._state = _State(0.0, 0.0, 0, (), [])
        self._bucket: TokenBucket | None = None
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._wake = threading.Event()
        self._closed = False

    def configure(
        self,
        *,
        latency: float = 0.0,
        jitter: float = 0.0,
        seed: int = 0,
        rules: Iterable[Mapping[str, Any]] | None = (),
    ) -> None:
        """Replace the latency and fault rules (the rate limit is kept); counters restart at 0.

        Raises:
            ValueError: a bad value, naming the rule and the key.
        """
        latency = check_number("latency (seconds)", latency, low=0.0, high=MAX_SECONDS)
        jitter = check_number("jitter (seconds)", jitter, low=0.0, high=MAX_SECONDS)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        if rules is None:
            rules = ()
        elif isinstance(rules, str | bytes | Mapping) or not isinstance(rules, Iterable):
            raise ValueError(f"rules must be a list of dicts, got {type(rules).__name__}")
        specs = [copy.deepcopy(dict(spec)) if isinstance(spec, Mapping) else spec for spec in rules]
        parsed = [parse_rule(i, spec) for i, spec in enumerate(specs)]
        state = _State(latency, jitter, seed, parsed, specs)
        with self._lock:
            self._state = state
        log.debug(
            "faults configured: latency=%s jitter=%s seed=%s rules=%d",
            latency,
            jitter,
            seed,
            len(parsed),
        )

    def set_rate_limit(self, rate: float | None, burst: int | None = None) -> None:
        """Rate limit to ``rate`` requests/s with bursts of ``burst`` (default: ceil(rate)).

        ``rate=None`` switches the limit off. The bucket starts full.

        Raises:
            ValueError: ``rate`` is not a positive number or ``burst`` not an integer >= 1.
        """
        bucket = None
        if rate is not None:
            if burst is None:
                finite = isinstance(rate, int | float) and math.isfinite(rate)
                burst = max(1, math.ceil(rate)) if finite and not isinstance(rate, bool) else 1
            bucket = TokenBucket(rate, burst)
        with self._lock:
            self._bucket = bucket

    def clear(self) -> None:
        """No faults, no latency, no rate limit; held responses are sent now. The log is kept."""
        with self._lock:
            self._state = _State(0.0, 0.0, 0, (), [])
            self._bucket = None
            self._release_locked()

    def close(self) -> None:
        """Send every held response now and stop waiting from now on (call before shutdown)."""
        with self._lock:
            self._closed = True
            self._wake.set()

    def log(self) -> list[dict[str, Any]]:
        """The injected faults, oldest first (at most the last 100,000).

        Each entry has ``time`` (epoch seconds), ``kind`` (a rule kind or ``"rate_limit"``),
        ``method``, ``path``, ``after_commit`` (the app ran: the write happened), and as they
        apply ``rule`` and ``n`` (rule index and its matching-request position), ``name``,
        ``status``, ``inner_status`` (the app's own status), ``retry_after`` (the header value),
        ``not_before`` (epoch seconds before which a retry violates it), ``seconds`` (hold),
        ``rst`` (False when no socket was available to reset) and ``sent``/``declared`` bytes.
        """
        with self._lock:
            return [dict(entry) for entry in self._log]

    def clear_log(self) -> None:
        """Forget the injected faults logged so far."""
        with self._lock:
            self._log.clear()

    def settings(self) -> dict[str, Any]:
        """The current configuration as plain data (what ``configure``/``set_rate_limit`` got)."""
        with self._lock:
            state, bucket = self._state, self._bucket
        return {
            "latency": state.latency,
            "jitter": state.jitter,
            "seed": state.seed,
            "rules": copy.deepcopy(state.specs),
            "rate_limit": None if bucket is None else {"rate": bucket.rate, "burst": bucket.burst},
        }

    # -- used by FaultMiddleware ---------------------------------------------------------

    def _release_locked(self) -> None:
        if not self._closed:
            woken, self._wake = self._wake, threading.Event()
            woken.set()

    def _current(self) -> _State:
        with self._lock:
            return self._state

    def _delay(self, state: _State) -> float:
        if state.latency == 0.0 and state.jitter == 0.0:
            return 0.0
        with self._lock:
            state.requests += 1
            k = state.requests
        offset = state.jitter * (2.0 * uniform(state.seed, "latency", k) - 1.0)
        return max(0.0, state.latency + offset)

    def _wait(self, seconds: float) -> bool:
        """Wait ``seconds`` unless released; True if the full time passed."""
        with self._lock:
            wake = self._wake
        return not wake.wait(seconds)

    def _throttle(self) -> float | None:
        bucket = self._bucket
        return None if bucket is None else bucket.take()

    def _pick(self, state: _State, method: str, path: str) -> tuple[Rule, int] | None:
        matching = [rule for rule in state.rules if rule.matches(method, path)]
        if not matching:
            return None
        with self._lock:
            positions = []
            for rule in matching:
                state.counters[rule.index] += 1
                positions.append((rule, state.counters[rule.index]))
        for rule, n in positions:
            if rule.fires(state.seed, n):
                return rule, n
        return None

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._log.append(entry)
        log.debug("fault injected: %s %s %s", entry["kind"], entry["method"], entry["path"])
