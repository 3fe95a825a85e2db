"""R-06: client-side rate limiting against a sandbox that enforces 20 requests/s, burst 20.

The sandbox answers an empty token bucket with 429 ``rate_limit_exceeded`` and a
``Retry-After``; its request log (one entry per request, with the time it arrived) and its fault
log (one entry per 429, with ``not_before``, the earliest time its ``Retry-After`` allows) are
the source of truth. Two clients run at the same time, each against its own sandbox (in a child
process, so server timing does not share this process's GIL), with four threads sharing one
client as a bulk job does:

* **configured below the limit** (19 requests/s, burst 1): after the first 200 requests fewer
  than 1 % of the answers are 429 (none at all, in fact), at least 16 requests/s (80 % of the
  limit) succeed, and no 1-second window holds more requests than the client's limiter allows
  in one second (``burst + rate * 1 s`` = 20): as the requests leave the client (give or take
  one, for when the departure is noted), and in the sandbox's log, whose arrival times also
  carry the scheduling jitter of two busy processes, give or take one request per other thread;
* **configured above the limit** (40 requests/s, twice the limit): the client adapts. It
  is told off during warm-up (429s in the first 200 requests), then its 429 share drops below
  both 1 % and its warm-up share, its rate moves around the server's (at most 70 % of what it
  was configured with), at least 16 requests/s still succeed, and once a ``Retry-After``
  reached the client nothing leaves before the announced time (at the server, only requests
  already on their way when the 429 was sent arrive early).

The two limiter rules these rely on are pinned down deterministically at the end (fake clock).
"""

from __future__ import annotations

import bisect
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import dmtools as dm
from dmtools._retry import RECOVERY, RateLimiter
from dmtools.client import Client
from dmtools.sandbox import Sandbox

SERVER_RATE, SERVER_BURST = 20.0, 20
THREADS = 4
WARM_UP = 200
#: A departure is noted just after the limiter lets the request go; on a busy machine the note
#: can come late enough to slip into the next window (the exact rule is pinned with a fake clock
#: at the end of this file).
NOTE_SLACK = 1


@dataclass
class Run:
    """What one workload did: the sandbox's view of it and the client's."""

    client_rate: float
    client_burst: float
    statuses: list[int] = field(default_factory=list)  # in arrival order
    times: list[float] = field(default_factory=list)  # arrival times (epoch seconds)
    elapsed: float = 0.0
    final_rate: float | None = None
    departures: list[float] = field(default_factory=list)  # when the client let each go
    early_sends: list[float] = field(default_factory=list)  # let go while told to wait
    early_arrivals: list[int] = field(default_factory=list)  # per 429: arrivals before its time
    errors: list[BaseException] = field(default_factory=list)

    @property
    def successes_per_second(self) -> float:
        return self.statuses.count(200) / self.elapsed

    def share_429(self, start: int, stop: int | None = None) -> float:
        part = self.statuses[start:stop]
        return part.count(429) / len(part)

    @property
    def allowance(self) -> float:
        """What the client's limiter lets go in one second: its burst plus a second's rate."""
        return self.client_burst + self.client_rate * 1.0


class RecordingLimiter(RateLimiter):
    """The client's limiter, noting when each request is let go and each Retry-After it got
    (epoch seconds, like the sandbox's logs)."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.departures: list[float] = []
        self.holds: list[tuple[float, float]] = []  # (received, seconds)
        self._record = threading.Lock()

    def acquire(self) -> float:
        waited = super().acquire()
        with self._record:
            self.departures.append(time.time())
        return waited

    def hold(self, seconds: float) -> None:
        super().hold(seconds)
        with self._record:  # noted once in force: a request let go before may be noted after
            self.holds.append((time.time(), seconds))


def _busiest_second(times: list[float]) -> int:
    """Most of ``times`` (sorted) in any window [t, t + 1 s)."""
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


def _login(sb: Sandbox, rate_limit: RateLimiter) -> Client:
    c = sb.credentials
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the password grant is legacy and says so
        return dm.connect(
            "password",
            client_id=c.public_key.client_id,
            client_secret=c.public_key.client_secret,
            username=c.user.username,
            password=c.user.password,
            scope=["manage_videos"],
            endpoints=sb.endpoints,
            rate_limit=rate_limit,
        )


def _workload(rate_limit: float, requests: int, seed: int) -> Run:
    """``requests`` reads of one video by four threads sharing one rate-limited client."""
    limiter = RecordingLimiter(rate_limit)
    with Sandbox(videos=20, seed=seed, mode="process") as sb, _login(sb, limiter) as client:
        video = client.get("/me/videos", {"fields": "id", "limit": 1})["list"][0]["id"]
        assert client.transport.limiter is limiter
        run = Run(client_rate=float(limiter.max_rate or 0), client_burst=limiter.burst)
        sb.set_rate_limit(SERVER_RATE, SERVER_BURST)
        mark = len(sb.request_log())
        first = len(limiter.departures)
        left = iter(range(requests))
        lock = threading.Lock()

        def work() -> None:
            try:
                while True:
                    with lock:
                        if next(left, None) is None:
                            return
                    client.get(f"/video/{video}", {"fields": "id"})
            except BaseException as exc:  # reported by the tests
                run.errors.append(exc)

        threads = [threading.Thread(target=work, name=f"r06-{i}") for i in range(THREADS)]
        started = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        run.elapsed = time.monotonic() - started
        run.final_rate = limiter.rate
        run.departures = sorted(limiter.departures[first:])
        run.early_sends = [
            d
            for d in run.departures
            for received, seconds in limiter.holds
            if received < d < received + seconds
        ]
        log = sorted(
            (r for r in sb.request_log()[mark:] if r["path"] == f"/video/{video}"),
            key=lambda r: r["time"],
        )
        run.statuses = [r["status"] for r in log]
        run.times = [r["time"] for r in log]
        for fault in sb.fault_log():
            if fault["kind"] == "rate_limit":
                run.early_arrivals.append(
                    sum(fault["time"] < t < fault["not_before"] for t in run.times)
                )
    return run


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Run]]:
    """Both workloads, run at the same time (about 17 s in all)."""
    plans = {"below": (19.0, 240, 61), "above": (2 * SERVER_RATE, 330, 62)}
    results: dict[str, Run] = {}
    failures: list[BaseException] = []

    def go(name: str) -> None:
        try:
            results[name] = _workload(*plans[name])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=go, args=(name,)) for name in plans]
    for th in threads:
        th.start()
    for th in threads:
        th.join(180)
    if failures:
        raise failures[0]
    yield results


def test_a_client_limited_below_the_server_rate_is_never_refused_and_keeps_80_percent(
    runs: dict[str, Run],
) -> None:
    run = runs["below"]
    assert run.errors == []
    assert len(run.statuses) == 240  # every request reached the server once (no retry needed)
    assert run.share_429(WARM_UP) < 0.01
    assert run.statuses.count(429) == 0
    assert run.successes_per_second >= 0.8 * SERVER_RATE
    assert run.allowance == 20
    assert _busiest_second(run.departures) <= run.allowance + NOTE_SLACK
    # Arrivals also carry the scheduling jitter of two busy processes: at most one request of
    # each other thread may land in a window early.
    assert _busiest_second(run.times) <= run.allowance + THREADS - 1


def test_a_client_configured_above_the_server_rate_converges_without_retry_after_violations(
    runs: dict[str, Run],
) -> None:
    run = runs["above"]
    assert run.errors == []
    assert run.statuses.count(200) == 330  # every read succeeded in the end
    warm_up, after = run.share_429(0, WARM_UP), run.share_429(WARM_UP)
    assert warm_up > 0  # it really was too fast, and was told so
    assert after < 0.01 and after < warm_up
    # It no longer tries 40/s: its rate moves around the server's 20 (additive increase,
    # multiplicative decrease), well below what it was configured with.
    assert run.final_rate is not None and run.final_rate <= 0.7 * run.client_rate
    assert run.successes_per_second >= 0.8 * SERVER_RATE
    # Once told to wait, the client sends nothing until the announced time; at the server,
    # only requests already on their way when the 429 left can arrive before it.
    assert run.early_sends == []
    assert all(early <= THREADS - 1 for early in run.early_arrivals), run.early_arrivals
    assert len(run.early_arrivals) == run.statuses.count(429)
    assert _busiest_second(run.departures) <= run.allowance + NOTE_SLACK


# -- the limiter rules behind these figures (fake clock, no sockets) ---------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.during_sleep: list[Any] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        for action in self.during_sleep:
            action()
        self.during_sleep.clear()
        self.now += seconds


def test_a_retry_after_received_while_a_request_waits_for_its_slot_holds_that_request_too() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    assert limiter.acquire() == 0.0
    # Another thread's answer (Retry-After: 2) arrives while this one sleeps towards t = 0.1.
    clock.during_sleep.append(lambda: limiter.hold(2.0))
    waited = limiter.acquire()
    assert clock.now >= 2.0 and waited == pytest.approx(clock.now)
    assert limiter.acquire() == pytest.approx(0.1)  # pacing resumes after the hold


def test_one_throttling_episode_slows_the_client_once_and_it_recovers_slowly() -> None:
    clock = FakeClock()
    limiter = RateLimiter(40.0, clock=clock, sleep=clock.sleep)
    limiter.throttled()
    limiter.hold(1.0)  # the first 429's Retry-After
    limiter.throttled()  # requests already in flight get 429 as well: same episode
    limiter.throttled()
    assert limiter.rate == pytest.approx(28.0)
    clock.now += 1.0  # the hold is over: a new 429 is a new episode
    limiter.throttled()
    assert limiter.rate == pytest.approx(19.6)
    for _ in range(100):  # five seconds of successes at about 20/s
        limiter.success()
    assert limiter.rate == pytest.approx(19.6 + 100 * 40.0 * RECOVERY)  # 0.1 % a success


def test_callers_that_wake_up_late_leave_one_interval_apart_not_together() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()  # leaves at t = 0
    # The next caller's slot is t = 0.1, but a busy machine wakes it only at t = 0.35 ...
    clock.during_sleep.append(lambda: setattr(clock, "now", clock.now + 0.25))
    limiter.acquire()
    assert clock.now == pytest.approx(0.35)
    # ... and the caller whose slot was t = 0.2, woken at the same moment, leaves one
    # interval later instead of right behind it.
    assert limiter.acquire() == pytest.approx(0.1)
    assert clock.now == pytest.approx(0.45)


def test_a_retry_after_received_during_the_spacing_pause_holds_that_request_too() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.during_sleep.append(lambda: setattr(clock, "now", clock.now + 0.25))
    limiter.acquire()  # woke up late, at t = 0.35: the next caller must keep its distance
    clock.during_sleep.append(lambda: limiter.hold(2.0))  # ... and a 429 arrives meanwhile
    limiter.acquire()
    assert clock.now >= 0.35 + 2.0
