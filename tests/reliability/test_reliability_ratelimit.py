"""R-06: client-side rate limiting against a server that enforces 20 requests/s, burst 20.

Every part where a client meets a server runs on both API dialects (the ``dialect`` fixture):
reads of ``/video/<id>`` on the legacy API, of ``/v2/videos/<id>`` on API v2, whose 429 is
``RATE_LIMITED`` in v2's error body with the same ``Retry-After``.

The server answers an empty token bucket (the sandbox's :class:`TokenBucket`) with 429
``rate_limit_exceeded`` and a ``Retry-After``. Two clients: one **configured below the
limit** (19 requests/s, burst 1), one **configured above it** (40 requests/s, twice the limit).

On the test's clock (the figures; the same on a busy machine as on an idle one): the real
transport and limiter send over real HTTP to a server whose bucket runs on the same fake clock,
which moves only when the client waits. After the first 200 requests fewer than 1 % of the
answers are 429 (none at all below the limit), at least 16 requests/s (80 % of the limit)
succeed, and no 1-second window holds more requests than the client's limiter allows in one
second (``burst + rate * 1 s``). The client above the limit is told off during warm-up, then
its 429 share drops below its warm-up share and its rate moves around the server's.

On the wall clock (the same two clients against real sandboxes, in child processes, four
threads sharing one client as a bulk job does; the two clients of both dialects all at once):
the client below the limit is never refused and never slowed down; the one above it is told
off and adapts; every request is answered; and no request leaves while a ``Retry-After`` the client received holds it (checked
in the order the limiter's lock saw the answer and the departure, not on timestamps). Window
counts there allow for the machine's scheduling: a request is noted after it leaves (and
logged by the server after it arrives), so each of the four threads can carry one request into
a later window, never more (a thread sends its next request only after noting the last one).

The limiter rules these rely on are pinned down deterministically at the end (fake clock);
they send nothing, so they run once, not once per dialect.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from _support.dialects import DIALECTS, VIDEO_PATH, channel, login
from _support.fakeapi import FakeAPI, FakeAuth, Step
from _support.fakewire import Wire

import dmtools as dm
from dmtools._http import Transport
from dmtools._retry import RECOVERY, RateLimiter
from dmtools.sandbox import Sandbox
from dmtools.sandbox.faults.ratelimit import TokenBucket

SERVER_RATE, SERVER_BURST = 20.0, 20
THREADS = 4
WARM_UP = 200


@dataclass
class Run:
    """What one workload did: the sandbox's view of it and the client's."""

    client_rate: float
    client_burst: float
    statuses: list[int] = field(default_factory=list)  # in arrival order
    times: list[float] = field(default_factory=list)  # arrival times (epoch seconds)
    elapsed: float = 0.0
    final_rate: float | None = None
    departures: list[float] = field(default_factory=list)  # noted once the client let each go
    early_sends: list[float] = field(default_factory=list)  # let go while told to wait
    holds: int = 0  # Retry-After answers the client received
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
    """The client's limiter, noting each request it lets go and each Retry-After it gets.

    Its clock numbers every reading. The limiter reads its clock under its lock both when it
    lets a request go (the last reading of ``acquire``) and when it takes a ``Retry-After`` in
    (``hold``), so the numbers order departures and holds exactly as the limiter saw them,
    whatever the machine's scheduling; the times are the limiter's own (monotonic seconds).
    """

    def __init__(self, rate: float) -> None:
        self._order = itertools.count()
        self._last = threading.local()
        super().__init__(rate, clock=self._read)
        self.departures: list[tuple[int, float]] = []  # (order, noted once let go)
        self.holds: list[tuple[int, float]] = []  # (order, the time it holds until)
        self._record = threading.Lock()

    def _read(self) -> float:
        now = time.monotonic()
        self._last.reading = (next(self._order), now)
        return now

    def acquire(self) -> float:
        waited = super().acquire()
        order, _ = self._last.reading  # the reading that let this request go
        noted = time.monotonic()  # at or after the departure
        with self._record:
            self.departures.append((order, noted))
        return waited

    def hold(self, seconds: float) -> None:
        super().hold(seconds)
        order, now = self._last.reading  # the reading that put the hold in force
        with self._record:
            self.holds.append((order, now + max(0.0, seconds)))

    def early_sends(self) -> list[float]:
        """Requests let go after a hold was in force and before the time it held until."""
        return [
            noted
            for order, noted in self.departures
            for held_at, until in self.holds
            if held_at < order and noted < until
        ]


def _busiest_second(times: list[float]) -> int:
    """Most of ``times`` (sorted) in any window [t, t + 1 s)."""
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


def _workload(rate_limit: float, requests: int, seed: int, dialect: str) -> Run:
    """``requests`` reads of one video by four threads sharing one rate-limited client."""
    limiter = RecordingLimiter(rate_limit)
    with (
        Sandbox(videos=20, seed=seed, mode="process") as sb,
        login(sb, dialect, rate_limit=limiter) as client,
    ):
        first_video = dm.first_video(client, owner=channel(sb, dialect), fields=["id"])
        assert first_video is not None
        video, path = str(first_video["id"]), VIDEO_PATH[dialect].format(first_video["id"])
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
                    dm.get_video(client, video, ["id"])
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
        run.departures = sorted(noted for _, noted in limiter.departures[first:])
        run.early_sends = limiter.early_sends()
        run.holds = len(limiter.holds)
        log = sorted(
            (r for r in sb.request_log()[mark:] if r["path"] == path),
            key=lambda r: r["time"],
        )
        run.statuses = [r["status"] for r in log]
        run.times = [r["time"] for r in log]
    return run


@pytest.fixture(scope="module")
def all_runs() -> dict[tuple[str, str], Run]:
    """Both workloads on both API dialects, the four at the same time (about 17 s in all;
    each against its own sandbox, so the clients do not share a bucket)."""
    plans = {"below": (19.0, 240, 61), "above": (2 * SERVER_RATE, 330, 62)}
    results: dict[tuple[str, str], Run] = {}
    failures: list[BaseException] = []

    def go(name: str, dialect: str) -> None:
        try:
            results[name, dialect] = _workload(*plans[name], dialect)
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=go, args=(name, dialect)) for name in plans for dialect in DIALECTS
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(180)
    if failures:
        raise failures[0]
    return results


@pytest.fixture()
def runs(all_runs: dict[tuple[str, str], Run], dialect: str) -> dict[str, Run]:
    """The two workloads of the API dialect under test."""
    return {name: run for (name, api), run in all_runs.items() if api == dialect}


def test_a_client_limited_below_the_server_rate_is_never_refused_and_keeps_80_percent(
    runs: dict[str, Run], dialect: str
) -> None:
    run = runs["below"]
    print(
        f"\nR-06 below ({dialect}), wall clock: {run.successes_per_second:.1f} requests/s succeeded"
    )
    assert run.errors == []
    assert len(run.statuses) == 240  # every request reached the server once (no retry needed)
    assert run.statuses.count(429) == 0 and run.holds == 0
    assert run.final_rate == run.client_rate  # never slowed down
    assert run.allowance == 20
    # the requests as they leave the client and as the server logs them (see the docstring)
    assert _busiest_second(run.departures) <= run.allowance + THREADS
    assert _busiest_second(run.times) <= run.allowance + THREADS


def test_a_client_configured_above_the_server_rate_converges_without_retry_after_violations(
    runs: dict[str, Run], dialect: str
) -> None:
    run = runs["above"]
    print(
        f"\nR-06 above ({dialect}), wall clock: {run.successes_per_second:.1f} requests/s succeeded, "
        f"429s {run.share_429(0, WARM_UP):.1%} in warm-up, {run.share_429(WARM_UP):.1%} after"
    )
    assert run.errors == []
    assert run.statuses.count(200) == 330  # every read succeeded in the end
    assert run.share_429(0, WARM_UP) > 0  # it really was too fast, and was told so
    assert run.holds == run.statuses.count(429)  # each Retry-After reached the limiter
    # It no longer tries 40/s: its rate moves around the server's 20 (additive increase,
    # multiplicative decrease), well below what it was configured with.
    assert run.final_rate is not None and run.final_rate <= 0.7 * run.client_rate
    # Once told to wait, the client sends nothing until the announced time.
    assert run.early_sends == []
    assert _busiest_second(run.departures) <= run.allowance + THREADS


# -- the figures, on the test's clock -------------------------------------------------------


@dataclass
class Simulated:
    """One client on the test's clock: the server's view of every request, and the client's."""

    statuses: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # on the test's clock
    retry_after: list[tuple[float, float]] = field(default_factory=list)  # (sent, not before)
    final_rate: float | None = None

    def share_429(self, start: int, stop: int | None = None) -> float:
        part = self.statuses[start:stop]
        return part.count(429) / len(part)

    def successes_per_second(self, start: int) -> float:
        return self.statuses[start:].count(200) / (self.times[-1] - self.times[start])


def _simulate(rate: float, requests: int, wire: Wire) -> Simulated:
    """``requests`` reads by the real transport and limiter, over real HTTP, from a server with
    the sandbox's token bucket speaking ``wire``; both on one fake clock, which moves only when
    the client waits (for its pace, or for a ``Retry-After``)."""
    clock = FakeClock()
    bucket = TokenBucket(SERVER_RATE, SERVER_BURST, clock=clock)
    seen = Simulated()

    def answer(record: dict[str, Any]) -> Step:
        wait = bucket.take()
        seen.times.append(clock.now)
        if wait is None:
            seen.statuses.append(200)
            return wire.done("read")
        seen.statuses.append(429)
        seen.retry_after.append((clock.now, clock.now + math.ceil(wait)))
        headers = {"Retry-After": str(math.ceil(wait))}
        return wire.error(429, "rate_limit_exceeded", headers=headers)

    api = FakeAPI()
    api.routes[wire.video("x1")] = answer
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    try:
        with Transport(
            wire.base(api),
            dialect=wire.dialect,
            auth=FakeAuth(),
            rate_limit=limiter,
            clock=clock,
            sleep=clock.sleep,
            rng=random.Random(6),
        ) as transport:
            for _ in range(requests):
                transport.send(wire.call("read", "x1"))
        assert {r["path"] for r in api.log} == {wire.video("x1")}
    finally:
        api.close()
    seen.final_rate = limiter.rate
    return seen


def test_on_the_tests_clock_a_client_below_the_limit_is_never_refused_and_keeps_its_rate(
    dialect: str,
) -> None:
    run = _simulate(19.0, 240, Wire(dialect))
    print(
        f"\nR-06 below ({dialect}), test clock: {run.successes_per_second(WARM_UP):.1f} requests/s"
    )
    assert run.statuses.count(429) == 0 and len(run.statuses) == 240
    assert run.successes_per_second(WARM_UP) >= 0.8 * SERVER_RATE
    assert _busiest_second(run.times) <= 1 + 19.0 * 1.0  # burst + a second's rate
    assert run.final_rate == 19.0


def test_on_the_tests_clock_a_client_above_the_limit_adapts_and_keeps_80_percent(
    dialect: str,
) -> None:
    run = _simulate(2 * SERVER_RATE, 330, Wire(dialect))
    warm_up, after = run.share_429(0, WARM_UP), run.share_429(WARM_UP)
    print(
        f"\nR-06 above ({dialect}), test clock: {run.successes_per_second(WARM_UP):.1f} requests/s, "
        f"429s {warm_up:.1%} in warm-up, {after:.1%} after"
    )
    assert run.statuses.count(200) == 330  # every read succeeded in the end
    assert warm_up > 0 and after < 0.01 and after < warm_up
    assert run.final_rate is not None and run.final_rate <= 0.7 * 2 * SERVER_RATE
    assert run.successes_per_second(WARM_UP) >= 0.8 * SERVER_RATE
    # nothing arrives before a time a Retry-After announced
    assert all(not sent < t < until for sent, until in run.retry_after for t in run.times)


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
