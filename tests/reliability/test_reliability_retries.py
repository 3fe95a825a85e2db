"""R-04: retry classification, backoff bounds and Retry-After, as one table, on both API dialects.

Complements ``test_http_transport.py`` (which pins each mechanism once) with the checklist's
full matrix: every status and operation class, the default of five attempts, backoff delays
drawn from a seeded RNG and recorded by a fake sleep, and every Retry-After form. The scripted
server is the real-socket one of ``test_http_transport``, speaking the wire of the ``dialect``
under test (:mod:`_support.fakewire`): on the legacy API a ``POST`` edit of
``/rest/video/<id>`` answered with the video and ``{"error": {"code": 404, "type"...}}``
errors; on API v2 a JSON ``PATCH`` of ``/v2/videos/<id>`` answered 204, deletes answered 204,
``{"error": {"code": "RESOURCE_NOT_FOUND", "details"...}}`` errors and its own token endpoint.
"""

from __future__ import annotations

import random
import socket
import time
from email.utils import formatdate
from typing import Any

import pytest
from _support.fakeapi import CANARY_TOKEN, FakeAPI, FakeAuth, FakeClock
from _support.fakewire import Wire

from dmtools._http import Backoff, Op, RetryBudget, Transport
from dmtools.errors import APIError, AuthenticationError, RateLimited, TransportError

OPS: list[Op] = ["read", "edit", "delete"]
TRANSIENT = [408, 429, 500, 502, 503, 504]


@pytest.fixture()
def wire(dialect: str) -> Wire:
    """The scripted server's words in the dialect under test."""
    return Wire(dialect)


def make(api: FakeAPI, clock: FakeClock, wire: Wire, seed: int = 3, **kwargs: Any) -> Transport:
    kwargs.setdefault("auth", FakeAuth())
    kwargs.setdefault("timeout", (1.0, 2.0))
    return Transport(
        wire.base(api),
        dialect=wire.dialect,
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(seed),
        **kwargs,
    )


def call(t: Transport, wire: Wire, op: Op, vid: str = "x1") -> Any:
    return t.send(wire.call(op, vid))


# -- the status matrix -----------------------------------------------------------------------


@pytest.mark.parametrize("op", OPS)
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
    api: FakeAPI, clock: FakeClock, wire: Wire, op: Op, status: int, error_type: str
) -> None:
    api.script(wire.video(), wire.error(status, error_type), wire.done(op))
    with make(api, clock, wire) as t, pytest.raises(APIError) as info:
        call(t, wire, op)
    assert info.value.status == status
    assert len(api.log) == 1 and clock.sleeps == [] and t.stats.get("retries", 0) == 0
    # the dialect's own wire: a form POST (legacy), a JSON PATCH (v2)
    (sent,) = api.log
    assert (sent["method"], sent["path"]) == (wire.method(op), wire.video())
    if op == "edit":
        assert (sent["json"], sent["form"]) == (
            ({"title": "t"}, {}) if wire.v2 else (None, {"title": "t"})
        )


@pytest.mark.parametrize("op", OPS)
def test_a_401_renews_the_token_once_and_replays_once(
    api: FakeAPI, clock: FakeClock, wire: Wire, op: Op
) -> None:
    auth = FakeAuth()
    done = wire.done(op)
    api.script(wire.video(), wire.unauthorized(), done)
    with make(api, clock, wire, auth=auth) as t:
        assert call(t, wire, op) == wire.result(done)
    assert auth.unauthorized == [CANARY_TOKEN] and len(api.log) == 2
    assert [r["authorization"] for r in api.log] == [
        f"Bearer {CANARY_TOKEN}",
        f"Bearer {CANARY_TOKEN}-1",
    ]
    # A second 401 in a row is not replayed again: one renewal per call, no loop.
    api.log.clear()
    api.script(wire.video(), wire.unauthorized(), wire.unauthorized(), done)
    with make(api, clock, wire, auth=auth) as t, pytest.raises(AuthenticationError):
        call(t, wire, op)
    assert len(auth.unauthorized) == 2 and len(api.log) == 2


@pytest.mark.parametrize("op", OPS)
def test_a_401_fetches_one_token_at_the_dialects_token_endpoint_and_replays_with_it(
    api: FakeAPI, clock: FakeClock, wire: Wire, op: Op
) -> None:
    issued = wire.serve_tokens(api)
    manager = wire.login(api)
    try:
        done = wire.done(op)
        api.script(wire.video(), wire.unauthorized(), done)
        with make(api, clock, wire, auth=manager) as t:
            assert call(t, wire, op) == wire.result(done)
        # login + one renewal, each a client_credentials request at this API's endpoint
        tokens = api.requests_to(wire.token_path)
        assert [r["form"]["grant_type"] for r in tokens] == ["client_credentials"] * 2
        assert [r["authorization"] for r in api.requests_to(wire.video())] == [
            f"Bearer {issued[0]}",
            f"Bearer {issued[1]}",
        ]
        # refused again right after a renewal: one more token, one replay, then the error
        api.script(wire.video(), wire.unauthorized(), wire.unauthorized(), done)
        with make(api, clock, wire, auth=manager) as t, pytest.raises(AuthenticationError):
            call(t, wire, op)
        assert len(issued) == 3 and len(api.requests_to(wire.video())) == 4
    finally:
        manager.close()


@pytest.mark.parametrize("status", TRANSIENT)
def test_reads_try_transient_statuses_five_times_by_default(
    api: FakeAPI, clock: FakeClock, wire: Wire, status: int
) -> None:
    api.script(wire.video(), *[wire.error(status)] * 10)
    with make(api, clock, wire) as t, pytest.raises(APIError) as info:
        call(t, wire, "read")
    assert info.value.status == status
    assert len(api.log) == 5 and len(clock.sleeps) == 4


def test_reads_try_five_times_after_connection_errors_by_default(
    clock: FakeClock, wire: Wire
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there
    with Transport(
        wire.base(f"http://127.0.0.1:{port}"),
        auth=FakeAuth(),
        dialect=wire.dialect,
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(1),
    ) as t:
        with pytest.raises(TransportError) as info:
            call(t, wire, "read")
        assert info.value.sent is False
        assert t.stats["sent"] == 5 and t.stats["failure.connect"] == 5
    assert len(clock.sleeps) == 4


@pytest.mark.parametrize("op", ["edit", "delete"])
@pytest.mark.parametrize("status", TRANSIENT)
def test_writes_retry_only_what_the_server_certainly_did_not_process(
    api: FakeAPI, clock: FakeClock, wire: Wire, op: Op, status: int
) -> None:
    api.script(wire.video(), *[wire.error(status)] * 10)
    with make(api, clock, wire) as t, pytest.raises(APIError):
        call(t, wire, op)
    # 429 and 503 say "not processed": retried like reads. The others may have been
    # processed: surfaced at once, for the caller to read back.
    assert len(api.log) == (5 if status in (429, 503) else 1)
    assert {r["method"] for r in api.log} == {wire.method(op)}


# -- backoff --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_backoff_delays_stay_within_full_jitter_bounds(api: FakeAPI, wire: Wire, seed: int) -> None:
    clock = FakeClock()
    api.script(wire.video(), *[wire.error(503)] * 12)
    backoff = Backoff(attempts=10)  # long enough to reach the 20 s cap
    with make(api, clock, wire, seed=seed, retries=backoff, budget=RetryBudget(10_000)) as t:
        with pytest.raises(APIError):
            call(t, wire, "read")
    assert len(clock.sleeps) == 9
    for k, delay in enumerate(clock.sleeps):
        assert 0.0 <= delay <= min(20.0, 0.5 * 2**k)
    # Seeded: the same seed gives the same delays.
    again = FakeClock()
    api.script(wire.video(), *[wire.error(503)] * 12)
    with make(api, again, wire, seed=seed, retries=backoff, budget=RetryBudget(10_000)) as t:
        with pytest.raises(APIError):
            call(t, wire, "read")
    assert again.sleeps == clock.sleeps


def test_backoff_uses_the_whole_jitter_range() -> None:
    delays = [Backoff().delay(3, random.Random(seed)) for seed in range(400)]
    assert min(delays) < 0.4 and max(delays) > 3.6  # spread over [0, 4], not clustered


# -- Retry-After ----------------------------------------------------------------------------


def _throttled(wire: Wire, value: str, status: int = 429) -> dict[str, Any]:
    return wire.error(status, "rate_limit_exceeded", headers={"Retry-After": value})


def test_retry_after_in_seconds_is_waited_exactly(
    api: FakeAPI, clock: FakeClock, wire: Wire
) -> None:
    done = wire.done("read")
    api.script(wire.video(), _throttled(wire, "120"), done)
    with make(api, clock, wire) as t:
        assert call(t, wire, "read") == wire.result(done)
    assert clock.sleeps == [120.0]


def test_retry_after_as_a_past_http_date_means_now(
    api: FakeAPI, clock: FakeClock, wire: Wire
) -> None:
    done = wire.done("read")
    api.script(wire.video(), _throttled(wire, formatdate(time.time() - 3600, usegmt=True)), done)
    with make(api, clock, wire) as t:
        assert call(t, wire, "read") == wire.result(done)
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
def test_a_malformed_retry_after_is_ignored(
    api: FakeAPI, clock: FakeClock, wire: Wire, value: str
) -> None:
    done = wire.done("read")
    api.script(wire.video(), _throttled(wire, value, 503), done)
    with make(api, clock, wire) as t:
        assert call(t, wire, "read") == wire.result(done)
    (delay,) = clock.sleeps
    assert 0.0 <= delay <= 0.5  # the backoff delay, as if there were no header


@pytest.mark.parametrize("value", ["301", "3600"])
def test_a_retry_after_beyond_five_minutes_raises_at_once_and_later_calls_wait_for_it(
    api: FakeAPI, clock: FakeClock, wire: Wire, value: str
) -> None:
    done = wire.done("read")
    api.script(wire.video(), _throttled(wire, value), done)
    with make(api, clock, wire) as t:
        with pytest.raises(RateLimited) as info:
            call(t, wire, "read")
        assert info.value.retry_after == float(value)
        assert clock.sleeps == [] and len(api.log) == 1  # the caller is not blocked
        # Until that time, other calls fail fast too, without sending anything.
        with pytest.raises(RateLimited) as again:
            call(t, wire, "edit", "x2")
        assert again.value.retry_after == pytest.approx(float(value))
        assert clock.sleeps == [] and len(api.log) == 1
        clock.sleep(float(value))
        assert call(t, wire, "read") == wire.result(done)
    assert len(api.log) == 2


def test_a_far_http_date_retry_after_raises_with_the_seconds_left(
    api: FakeAPI, clock: FakeClock, wire: Wire
) -> None:
    api.script(wire.video(), _throttled(wire, formatdate(time.time() + 3600, usegmt=True), 503))
    with make(api, clock, wire) as t, pytest.raises(APIError) as info:
        call(t, wire, "read")
    assert clock.sleeps == [] and len(api.log) == 1
    assert info.value.status == 503
