"""Backoff, retry budget, timeouts and rate limiter as pure policy (fake clock, no sockets)."""

from __future__ import annotations

import random
import threading

import pytest

from dmtools._retry import Backoff, RateLimiter, RetryBudget, Timeouts


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_full_jitter_delays_stay_within_the_exponential_bound_and_the_cap() -> None:
    backoff = Backoff()
    rng = random.Random(42)
    for k in range(12):
        delays = [backoff.delay(k, rng) for _ in range(200)]
        bound = min(20.0, 0.5 * 2**k)
        assert all(0.0 <= d <= bound for d in delays)
        assert max(delays) > bound * 0.8  # jitter spans the whole range
    assert backoff.delay(10_000, rng) <= 20.0


def test_backoff_defaults_match_the_checklist_and_retries_argument_counts_retries() -> None:
    assert Backoff() == Backoff(base=0.5, cap=20.0, attempts=5, retry_after_cap=300.0)
    assert Backoff.coerce(None).attempts == 5
    assert Backoff.coerce(0).attempts == 1 and Backoff.coerce(3).attempts == 4
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            Backoff.coerce(bad)  # type: ignore[arg-type]


def test_timeouts_are_always_bounded() -> None:
    assert Timeouts.coerce(None).as_requests() == (3.05, 30.0)
    assert Timeouts.coerce(10).as_requests() == (3.05, 10.0)
    assert Timeouts.coerce(1).as_requests() == (1.0, 1.0)
    assert Timeouts.coerce((2, 5)).as_requests() == (2.0, 5.0)
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            Timeouts.coerce(bad)


def test_retry_budget_allows_one_hundred_retries_then_refills_one_per_success() -> None:
    budget = RetryBudget()
    assert sum(budget.take() for _ in range(1000)) == 100
    assert budget.exhausted and not budget.take()
    for _ in range(5):
        budget.success()
    assert budget.take() and not budget.take()
    budget2 = RetryBudget()
    assert sum(budget2.take(timeout=True) for _ in range(1000)) == 50
    for _ in range(10_000):
        budget2.success()
    assert budget2.available == 500


def test_retry_budget_is_exact_under_concurrency() -> None:
    budget = RetryBudget()
    taken: list[bool] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            ok = budget.take()
            with lock:
                taken.append(ok)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert taken.count(True) == 100


def test_rate_limiter_paces_requests_at_the_configured_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(4.0, clock=clock, sleep=clock.sleep)
    for _ in range(9):
        limiter.acquire()
    assert clock.now == pytest.approx(2.0)  # 9 requests at 4/s: the last one at t = 8/4


def test_rate_limiter_allows_the_configured_burst_then_paces() -> None:
    clock = Clock()
    limiter = RateLimiter(10.0, burst=5, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(7)]
    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(0.1) and waits[6] == pytest.approx(0.1)


def test_rate_limiter_gate_holds_until_the_advertised_time_even_without_a_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    assert limiter.acquire() == 0.0
    limiter.hold(3.0)
    limiter.hold(1.0)  # a shorter hold never shortens the gate
    assert limiter.hold_remaining() == pytest.approx(3.0)
    assert limiter.acquire() == pytest.approx(3.0)
    assert limiter.hold_remaining() == 0.0 and limiter.acquire() == 0.0


def test_rate_limiter_paces_after_a_hold_instead_of_bursting() -> None:
    clock = Clock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.hold(2.0)
    starts = []
    for _ in range(3):
        limiter.acquire()
        starts.append(clock.now)
    assert starts == pytest.approx([2.0, 2.1, 2.2])


def test_throttling_multiplies_the_rate_by_point_seven_down_to_a_floor_and_recovers() -> None:
    limiter = RateLimiter(20.0)
    limiter.throttled()
    assert limiter.rate == pytest.approx(14.0)
    for _ in range(50):
        limiter.throttled()
    assert limiter.rate == pytest.approx(0.5)
    for _ in range(1000):
        limiter.success()
    assert limiter.rate == pytest.approx(20.0)
    unlimited = RateLimiter(None)
    unlimited.throttled()
    assert unlimited.rate is None


def test_rate_limiter_rejects_nonsense() -> None:
    for bad in (0, -1.0, float("inf")):
        with pytest.raises(ValueError):
            RateLimiter(bad)
    with pytest.raises(ValueError):
        RateLimiter(1.0, burst=0.5)
