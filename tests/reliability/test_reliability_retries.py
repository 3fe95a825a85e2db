"""R-04: retry classification, backoff bounds and Retry-After, as one table.

Complements ``test_http_transport.py`` (which pins each mechanism once) with the checklist's
full matrix: every status and operation class, the default of five attempts, backoff delays
drawn from a seeded RNG and recorded by a fake sleep, and every Retry-After form. The scripted
server is the real-socket one of ``test_http_transport``.
"""

from __future__ import annotations

import random
import socket
import time
from email.utils import formatdate
from typing import Any

import pytest
from _support.fakeapi import CANARY_TOKEN, FakeAPI, FakeAuth, FakeClock, err, ok

from dmtools._http import Backoff, Op, RetryBudget, Transport
from dmtools.errors import APIError, AuthenticationError, RateLimited, TransportError

METHODS: dict[Op, str] = {"read": "GET", "edit": "POST", "delete": "DELETE"}
TRANSIENT = [408, 429, 500, 502, 503, 504]


def make(api: FakeAPI, clock: FakeClock, seed: int = 3, **kwargs: Any) -> Transport:
    kwargs.setdefault("auth", FakeAuth())
    kwargs.setdefault("timeout", (1.0, 2.0))
    return Transport(api.url, sleep=clock.sleep, clock=clock, rng=random.Random(seed), **kwargs)


def call(t: Transport, op: Op, path: str = "/video/x1") -> Any:
    return t.request(METHODS[op], path, data={"title": "t"} if op == "edit" else None, op=op)


# -- the status matrix -----------------------------------------------------------------------


@pytest.mark.parametrize("op", list(METHODS))
@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_parameter"),
        (403, "access_forbidden"),
        (404, "not_found"),
        (409, "conflict"),
        (412, "precondition_failed"),
        (422, "unprocessable_entity"),
    ],
)
def test_client_errors_are_never_retried_for_any_operation(
    api: FakeAPI, clock: FakeClock, op: Op, status: int, error_type: str
) -> None:
    api.script("/video/x1", err(status, error_type), ok())
    with make(api, clock) as t, pytest.raises(APIError) as info:
        call(t, op)
    assert info.value.status == status
    assert len(api.log) == 1 and clock.sleeps == [] and t.stats.get("retries", 0) == 0


@pytest.mark.parametrize("op", list(METHODS))
def test_a_401_renews_the_token_once_and_replays_once(
    api: FakeAPI, clock: FakeClock, op: Op
) -> None:
    unauthorized = {
        "status": 401,
        "json": {"error": {"code": 401, "type": "invalid_token", "message": "expired"}},
    }
    auth = FakeAuth()
    api.script("/video/x1", unauthorized, ok({"id": "x1"}))
    with make(api, clock, auth=auth) as t:
        assert call(t, op) == {"id": "x1"}
    assert auth.unauthorized == [CANARY_TOKEN] and len(api.log) == 2
    # A second 401 in a row is not replayed again: one renewal per call, no loop.
    api.log.clear()
    api.script("/video/x1", unauthorized, unauthorized, ok())
    with make(api, clock, auth=auth) as t, pytest.raises(AuthenticationError):
        call(t, op)
    assert len(auth.unauthorized) == 2 and len(api.log) == 2


@pytest.mark.parametrize("status", TRANSIENT)
def test_reads_try_transient_statuses_five_times_by_default(
    api: FakeAPI, clock: FakeClock, status: int
) -> None:
    api.script("/video/x1", *[err(status)] * 10)
    with make(api, clock) as t, pytest.raises(APIError) as info:
        call(t, "read")
    assert info.value.status == status
    assert len(api.log) == 5 and len(clock.sleeps) == 4


def test_reads_try_five_times_after_connection_errors_by_default(clock: FakeClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there
    with Transport(
        f"http://127.0.0.1:{port}",
        auth=FakeAuth(),
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(1),
    ) as t:
        with pytest.raises(TransportError) as info:
            t.request("GET", "/video/x1")
        assert info.value.sent is False
        assert t.stats["sent"] == 5 and t.stats["failure.connect"] == 5
    assert len(clock.sleeps) == 4


@pytest.mark.parametrize("op", ["edit", "delete"])
@pytest.mark.parametrize("status", TRANSIENT)
def test_writes_retry_only_what_the_server_certainly_did_not_process(
    api: FakeAPI, clock: FakeClock, op: Op, status: int
) -> None:
    api.script("/video/x1", *[err(status)] * 10)
    with make(api, clock) as t, pytest.raises(APIError):
        call(t, op)
    # 429 and 503 say "not processed": retried like reads. The others may have been
    # processed: surfaced at once, for the caller to read back.
    assert len(api.log) == (5 if status in (429, 503) else 1)


# -- backoff --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_backoff_delays_stay_within_full_jitter_bounds(api: FakeAPI, seed: int) -> None:
    clock = FakeClock()
    api.script("/video/x1", *[err(503)] * 12)
    backoff = Backoff(attempts=10)  # long enough to reach the 20 s cap
    with make(api, clock, seed=seed, retries=backoff, budget=RetryBudget(10_000)) as t:
        with pytest.raises(APIError):
            call(t, "read")
    assert len(clock.sleeps) == 9
    for k, delay in enumerate(clock.sleeps):
        assert 0.0 <= delay <= min(20.0, 0.5 * 2**k)
    # Seeded: the same seed gives the same delays.
    again = FakeClock()
    api.script("/video/x1", *[err(503)] * 12)
    with make(api, again, seed=seed, retries=backoff, budget=RetryBudget(10_000)) as t:
        with pytest.raises(APIError):
            call(t, "read")
    assert again.sleeps == clock.sleeps


def test_backoff_uses_the_whole_jitter_range() -> None:
    delays = [Backoff().delay(3, random.Random(seed)) for seed in range(400)]
    assert min(delays) < 0.4 and max(delays) > 3.6  # spread over [0, 4], not clustered


# -- Retry-After ----------------------------------------------------------------------------


def _throttled(value: str, status: int = 429) -> dict[str, Any]:
    return err(status, "rate_limit_exceeded", headers={"Retry-After": value})


def test_retry_after_in_seconds_is_waited_exactly(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/video/x1", _throttled("120"), ok())
    with make(api, clock) as t:
        assert call(t, "read") == {"ok": True}
    assert clock.sleeps == [120.0]


def test_retry_after_as_a_past_http_date_means_now(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/video/x1", _throttled(formatdate(time.time() - 3600, usegmt=True)), ok())
    with make(api, clock) as t:
        assert call(t, "read") == {"ok": True}
    (delay,) = clock.sleeps
    assert 0.0 <= delay <= 0.5  # no wait asked for: only the first backoff delay


@pytest.mark.parametrize(
    "value",
    [
        "soon",
        "",
        "-5",
        "inf",
        "nan",
        "1e9",
        "0x10",
        "12 s",
        "9" * 400,
        "\u0661\u0662",
        "Wed, 99 Foo 2015 07:28:00 GMT",
    ],
)
def test_a_malformed_retry_after_is_ignored(api: FakeAPI, clock: FakeClock, value: str) -> None:
    api.script("/video/x1", _throttled(value, 503), ok())
    with make(api, clock) as t:
        assert call(t, "read") == {"ok": True}
    (delay,) = clock.sleeps
    assert 0.0 <= delay <= 0.5  # the backoff delay, as if there were no header


@pytest.mark.parametrize("value", ["301", "3600"])
def test_a_retry_after_beyond_five_minutes_raises_at_once_and_later_calls_wait_for_it(
    api: FakeAPI, clock: FakeClock, value: str
) -> None:
    api.script("/video/x1", _throttled(value), ok())
    with make(api, clock) as t:
        with pytest.raises(RateLimited) as info:
            call(t, "read")
        assert info.value.retry_after == float(value)
        assert clock.sleeps == [] and len(api.log) == 1  # the caller is not blocked
        # Until that time, other calls fail fast too, without sending anything.
        with pytest.raises(RateLimited) as again:
            call(t, "edit", "/video/x2")
        assert again.value.retry_after == pytest.approx(float(value))
        assert clock.sleeps == [] and len(api.log) == 1
        clock.sleep(float(value))
        assert call(t, "read") == {"ok": True}
    assert len(api.log) == 2


def test_a_far_http_date_retry_after_raises_with_the_seconds_left(
    api: FakeAPI, clock: FakeClock
) -> None:
    api.script("/video/x1", _throttled(formatdate(time.time() + 3600, usegmt=True), 503))
    with make(api, clock) as t, pytest.raises(APIError) as info:
        call(t, "read")
    assert clock.sleeps == [] and len(api.log) == 1
    assert info.value.status == 503
