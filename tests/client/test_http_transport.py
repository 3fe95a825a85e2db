"""Transport mechanics over real sockets against a small scripted HTTP server.

The server answers each request with the next scripted step for its path: a status with JSON
(and headers), a TCP reset after reading the request, a held response, or a truncated body.
These are the failures the sandbox also injects; here each one is pinned down in isolation.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from email.utils import formatdate
from typing import Any

import pytest
from _support.fakeapi import CANARY_TOKEN, FakeAPI, FakeAuth, FakeClock, Route, Step, err, ok

from dmtools._http import Backoff, RetryBudget, Transport
from dmtools.dialects.legacy import encode_value
from dmtools.errors import (
    APIError,
    AuthenticationError,
    InsecureTransportError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
)


def make(api: FakeAPI, clock: FakeClock, **kwargs: Any) -> Transport:
    kwargs.setdefault("auth", FakeAuth())
    kwargs.setdefault("timeout", (1.0, 2.0))
    return Transport(api.url, sleep=clock.sleep, clock=clock, rng=random.Random(3), **kwargs)


# -- basics ---------------------------------------------------------------------------------


def test_get_returns_json_and_sends_bearer_header_never_token_in_url(
    api: FakeAPI, clock: FakeClock
) -> None:
    api.script("/video/x1", ok({"id": "x1", "title": "t"}))
    with make(api, clock) as t:
        assert t.request("GET", "/video/x1", params={"fields": ["id", "title"]}) == {
            "id": "x1",
            "title": "t",
        }
    (rec,) = api.log
    assert rec["authorization"] == f"Bearer {CANARY_TOKEN}"
    assert rec["query"] == {"fields": "id,title"}
    assert CANARY_TOKEN not in rec["url"] and "access_token" not in rec["url"]
    assert rec["headers"]["Accept"] == "application/json"


def test_post_sends_form_body_with_api_wire_values(api: FakeAPI, clock: FakeClock) -> None:
    with make(api, clock) as t:
        t.request("POST", "/video/x1", data={"tags": ["a", "b"], "private": True, "title": "é"})
    assert api.log[0]["form"] == {"tags": "a,b", "private": "true", "title": "é"}
    assert (
        encode_value(None) == "" and encode_value(3) == "3" and encode_value({"a": 1}) == '{"a":1}'
    )


def test_empty_2xx_body_is_an_empty_dict(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/video/x1", {"status": 200, "raw": b""})
    with make(api, clock) as t:
        assert t.request("DELETE", "/video/x1") == {}


@pytest.mark.parametrize(
    ("status", "error_type", "cls"),
    [
        (400, "invalid_parameter", ValidationError),
        (403, "access_forbidden", PermissionDenied),
        (404, "not_found", NotFound),
        (409, "conflict", APIError),
    ],
)
def test_client_errors_are_mapped_and_never_retried(
    api: FakeAPI, clock: FakeClock, status: int, error_type: str, cls: type[APIError]
) -> None:
    api.script("/video/x1", err(status, error_type))
    with make(api, clock) as t, pytest.raises(cls) as info:
        t.request("GET", "/video/x1", params={"fields": "secret-looking-query"})
    assert len(api.log) == 1 and clock.sleeps == []
    assert info.value.status == status and info.value.method == "GET"
    assert info.value.path == "/video/x1"
    assert "secret-looking-query" not in str(info.value)


def test_redirect_is_an_error_and_is_not_followed(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/video/x1", {"status": 307, "headers": {"Location": api.url + "/elsewhere"}})
    with make(api, clock) as t, pytest.raises(APIError) as info:
        t.request("POST", "/video/x1", data={"title": "x"})
    assert info.value.status == 307
    assert api.requests_to("/elsewhere") == []


# -- retries by operation class ----------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_reads_retry_transient_statuses(api: FakeAPI, clock: FakeClock, status: int) -> None:
    api.script("/video/x1", err(status), err(status), ok())
    with make(api, clock) as t:
        assert t.request("GET", "/video/x1") == {"ok": True}
        assert t.stats["retries"] == 2 and t.stats["statuses"] == {status: 2, 200: 1}
    assert len(clock.sleeps) == 2


def test_reads_give_up_after_the_configured_attempts(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/video/x1", *[err(503)] * 10)
    with make(api, clock, retries=Backoff(attempts=4)) as t, pytest.raises(ServerError):
        t.request("GET", "/video/x1")
    assert len(api.log) == 4


@pytest.mark.parametrize("status", [500, 502, 504])
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_writes_raise_on_ambiguous_gateway_errors_without_resending(
    api: FakeAPI, clock: FakeClock, status: int, method: str
) -> None:
    api.script("/video/x1", err(status), ok())
    with make(api, clock) as t, pytest.raises(ServerError):
        t.request(method, "/video/x1", data={"title": "x"} if method == "POST" else None)
    assert len(api.log) == 1


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("op", ["edit", "delete", "auth"])
def test_writes_retry_when_the_server_said_not_processed(
    api: FakeAPI, clock: FakeClock, status: int, op: Any
) -> None:
    api.script("/video/x1", err(status), ok())
    with make(api, clock) as t:
        assert t.request("POST", "/video/x1", op=op) == {"ok": True}
    assert len(api.log) == 2


@pytest.mark.parametrize("status", [429, 500, 503])
def test_creates_are_never_resent_after_reaching_the_server(
    api: FakeAPI, clock: FakeClock, status: int
) -> None:
    api.script("/me/videos", err(status), ok())
    with make(api, clock) as t, pytest.raises(APIError):
        t.request("POST", "/me/videos", data={"url": "u"}, op="create")
    assert len(api.log) == 1


def test_reset_after_send_on_edit_is_ambiguous_and_not_resent(
    api: FakeAPI, clock: FakeClock
) -> None:
    api.script("/video/x1", {"reset": True}, ok())
    with make(api, clock) as t, pytest.raises(TransportError) as info:
        t.request("POST", "/video/x1", data={"title": "new"})
    assert (
        info.value.sent is True and info.value.method == "POST" and info.value.path == "/video/x1"
    )
    assert len(api.log) == 1 and api.log[0]["form"] == {"title": "new"}


def test_reset_on_read_is_retried(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/video/x1", {"reset": True}, ok({"id": "x1"}))
    with make(api, clock) as t:
        assert t.request("GET", "/video/x1") == {"id": "x1"}
        assert t.stats["failure.reset"] == 1
    assert len(api.log) == 2


@pytest.mark.parametrize("step", [{"truncate": True}, {"raw": b'{"id": "x1", "ti'}])
def test_truncated_2xx_is_ambiguous_for_writes_and_retried_for_reads(
    api: FakeAPI, clock: FakeClock, step: Step
) -> None:
    api.script("/video/x1", {"status": 200, "json": {"id": "x1"}, **step})
    with make(api, clock) as t, pytest.raises(TransportError) as info:
        t.request("POST", "/video/x1", data={"title": "x"})
    assert info.value.sent is True
    api.script("/video/x1", {"status": 200, "json": {"id": "x1"}, **step}, ok({"id": "x1"}))
    with make(api, clock) as t:
        assert t.request("GET", "/video/x1") == {"id": "x1"}


@pytest.mark.parametrize("op", ["read", "edit", "delete", "create"])
def test_connection_refused_is_not_sent_and_retried_for_every_op(clock: FakeClock, op: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    t = Transport(
        f"http://127.0.0.1:{port}",
        auth=FakeAuth(),
        sleep=clock.sleep,
        clock=clock,
        retries=Backoff(attempts=3),
    )
    with t, pytest.raises(TransportError) as info:
        t.request("POST", "/video/x1", op=op)
    assert info.value.sent is False
    assert t.stats["sent"] == 3 and t.stats["failure.connect"] == 3


# -- Retry-After, rate limiting, budget -----------------------------------------------------


def test_retry_after_seconds_is_honoured_as_the_larger_of_it_and_backoff(
    api: FakeAPI, clock: FakeClock
) -> None:
    api.script("/video/x1", err(429, "rate_limit_exceeded", headers={"Retry-After": "7"}), ok())
    with make(api, clock) as t:
        t.request("GET", "/video/x1")
    assert clock.sleeps == [7.0]


def test_retry_after_http_date_is_honoured(api: FakeAPI, clock: FakeClock) -> None:
    date = formatdate(time.time() + 30, usegmt=True)
    api.script("/video/x1", err(503, headers={"Retry-After": date}), ok())
    with make(api, clock) as t:
        t.request("POST", "/video/x1")
    assert 27 <= clock.sleeps[0] <= 31


def test_malformed_retry_after_falls_back_to_backoff(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/video/x1", err(503, headers={"Retry-After": "soon-ish"}), ok())
    with make(api, clock) as t:
        assert t.request("GET", "/video/x1") == {"ok": True}
    assert 0 <= clock.sleeps[0] <= 0.5


def test_retry_after_beyond_the_cap_raises_rate_limited_instead_of_blocking(
    api: FakeAPI, clock: FakeClock
) -> None:
    api.script("/video/x1", err(429, "rate_limit_exceeded", headers={"Retry-After": "3600"}))
    with make(api, clock) as t:
        with pytest.raises(RateLimited) as info:
            t.request("GET", "/video/x1")
        assert info.value.retry_after == 3600 and clock.sleeps == []
        assert len(api.log) == 1


def test_retry_after_holds_every_later_request_until_the_advertised_time(
    api: FakeAPI, clock: FakeClock
) -> None:
    api.script("/a", err(429, "rate_limit_exceeded", headers={"Retry-After": "5"}))
    with make(api, clock, retries=0) as t:
        with pytest.raises(RateLimited):
            t.request("GET", "/a")
        started = clock.now
        t.request("GET", "/b")
    assert clock.now - started == pytest.approx(5.0)


def test_429_slows_the_client_rate_down_by_thirty_percent(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/a", err(429, "rate_limit_exceeded"))
    with make(api, clock, rate_limit=10.0) as t:
        t.request("GET", "/a")
        assert t.limiter.rate == pytest.approx(7.0 + 10.0 * 0.001)  # 70 %, then one success


def test_retry_budget_stops_a_retry_storm(api: FakeAPI, clock: FakeClock) -> None:
    api.script("/a", *[err(503)] * 20)
    budget = RetryBudget(capacity=10, retry_cost=5)
    with make(api, clock, budget=budget) as t:
        with pytest.raises(ServerError):
            t.request("GET", "/a")
        with pytest.raises(ServerError):
            t.request("GET", "/a")
        assert t.stats["retries"] == 2 and budget.exhausted
    assert len(api.log) == 4


def test_client_side_rate_limit_paces_real_requests(api: FakeAPI) -> None:
    with Transport(api.url, auth=FakeAuth(), rate_limit=50.0) as t:
        started = time.monotonic()
        threads = [
            threading.Thread(target=lambda: [t.request("GET", "/a") for _ in range(5)])
            for _ in range(4)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join(10)
    elapsed = time.monotonic() - started
    assert len(api.log) == 20 and elapsed >= 19 / 50 * 0.95
    # Arrival times carry the machine's scheduling delays (never negative), so pairwise gaps
    # can shrink on a busy machine; any 10 consecutive arrivals still span at least half of
    # their 9 departure intervals (unpaced, all 20 would arrive within a few milliseconds).
    times = sorted(entry["time"] for entry in api.log)
    spans = [b - a for a, b in zip(times, times[9:], strict=False)]
    assert min(spans) >= 9 / 50 * 0.5


# -- 401 and the auth seam ------------------------------------------------------------------


def _unauthorized() -> Step:
    return {
        "status": 401,
        "json": {
            "error": {
                "code": 401,
                "type": "invalid_token",
                "message": "The access token has expired.",
            }
        },
        "headers": {
            "WWW-Authenticate": 'Bearer error="invalid_token", '
            'error_description="The access token has expired."'
        },
    }


def test_401_refreshes_once_and_replays_with_the_new_token(api: FakeAPI, clock: FakeClock) -> None:
    auth = FakeAuth()
    api.script("/me", _unauthorized(), ok({"id": "u1"}))
    with make(api, clock, auth=auth) as t:
        assert t.request("POST", "/me", op="create") == {"id": "u1"}
    assert auth.unauthorized == [CANARY_TOKEN]
    assert [r["authorization"] for r in api.log] == [
        f"Bearer {CANARY_TOKEN}",
        f"Bearer {CANARY_TOKEN}-1",
    ]


def test_a_second_401_surfaces(api: FakeAPI, clock: FakeClock) -> None:
    auth = FakeAuth()
    api.script("/me", _unauthorized(), _unauthorized(), ok())
    with make(api, clock, auth=auth) as t, pytest.raises(AuthenticationError) as info:
        t.request("GET", "/me")
    assert len(api.log) == 2 and len(auth.unauthorized) == 1
    assert CANARY_TOKEN not in str(info.value) and CANARY_TOKEN not in repr(info.value)


def test_unauthenticated_requests_send_no_authorization_header(
    api: FakeAPI, clock: FakeClock
) -> None:
    with make(api, clock, auth=None) as t:
        t.request("GET", "/echo", params={"message": "hi"})
    assert api.log[0]["authorization"] is None


# -- timeouts, threads, environment -----------------------------------------------------------


def _client_threads() -> set[threading.Thread]:
    return {
        th
        for th in threading.enumerate()
        if "process_request_thread" not in th.name and not th.name.startswith("fakeapi")
    }


def test_stalled_server_fails_within_the_read_timeout_and_leaks_no_thread(api: FakeAPI) -> None:
    before = _client_threads()
    api.script("/video/x1", {"hold": api.hold_event(), "json": {}})
    with Transport(api.url, auth=FakeAuth(), timeout=(1.0, 1.0)) as t:
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            t.request("POST", "/video/x1", data={"title": "x"})
        elapsed = time.monotonic() - started
    assert info.value.sent is True
    assert 1.0 <= elapsed < 5.0  # at the read timeout, not when the server lets go (10 s)
    assert _client_threads() == before


def test_read_timeouts_on_reads_are_retried_and_cost_more_budget(
    api: FakeAPI, clock: FakeClock
) -> None:
    api.script("/a", {"hold": api.hold_event()}, ok())
    budget = RetryBudget()
    with make(api, clock, timeout=(1.0, 0.3), budget=budget) as t:
        assert t.request("GET", "/a") == {"ok": True}
        assert t.stats["failure.timeout"] == 1
    assert budget.available == 500 - 10 + 1


def test_non_loopback_plain_http_is_refused_before_any_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connects: list[Any] = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(
        socket.socket,
        "connect",
        lambda self, addr: connects.append(addr) or real_connect(self, addr),
    )
    for url in (
        "http://api.dailymotion.com",
        "http://127.0.0.1.example.com",
        "http://localhost:80@attacker.test",
        "ftp://127.0.0.1",
    ):
        with pytest.raises(InsecureTransportError):
            Transport(url)
    with Transport("https://api.dailymotion.com") as t:
        with pytest.raises(ValueError):
            t.request("GET", "http://evil.test/video/x1")
    assert connects == []


def test_sandbox_sessions_ignore_proxy_variables_and_netrc(
    api: FakeAPI, clock: FakeClock, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    trap = FakeAPI()
    try:
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login trap password NETRC-CANARY\n")
        netrc.chmod(0o600)
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, trap.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("NETRC", str(netrc))
        environ = dict(os.environ)
        with make(api, clock) as t:
            t.request("GET", "/a")
            t.request("POST", "/b", data={"x": 1})
        assert trap.log == [] and len(api.log) == 2
        assert all(r["authorization"] == f"Bearer {CANARY_TOKEN}" for r in api.log)
        assert dict(os.environ) == environ
    finally:
        trap.close()


def test_sixteen_threads_each_use_their_own_session(api: FakeAPI, clock: FakeClock) -> None:
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []
    with make(api, clock) as t:

        def work() -> None:
            try:
                barrier.wait(5)
                for _ in range(3):
                    t.request("GET", "/a")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(10)
        stats = t.stats
    assert errors == []
    assert stats["sessions"] == 16 and stats["sessions_shared"] == 0 and stats["sent"] == 48


def test_closed_transport_refuses_to_send(api: FakeAPI, clock: FakeClock) -> None:
    t = make(api, clock)
    t.close()
    with pytest.raises(Exception, match="closed"):
        t.request("GET", "/a")
    assert api.log == []


def test_logs_carry_no_token(
    api: FakeAPI, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="dmtools.http")
    api.script("/me", _unauthorized(), err(503), ok())
    with make(api, clock) as t:
        t.request("GET", "/me", params={"fields": "id"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /me" in text and "retrying" in text
    assert CANARY_TOKEN not in text


# -- paging -----------------------------------------------------------------------------------


def _listing(total: int, *, lie_has_more: bool = False) -> Route:
    def route(record: dict[str, Any]) -> Step:
        page, limit = int(record["query"]["page"]), int(record["query"]["limit"])
        if page * limit > 1000:
            return err(400, "invalid_parameter")
        items = [{"id": f"x{i}"} for i in range((page - 1) * limit, min(total, page * limit))]
        has_more = lie_has_more or page * limit < total
        return ok({"page": page, "limit": limit, "total": 5, "has_more": has_more, "list": items})

    return route


def test_iterate_follows_has_more_and_ignores_total(api: FakeAPI, clock: FakeClock) -> None:
    api.routes["/me/videos"] = _listing(250)
    with make(api, clock) as t:
        ids = [v["id"] for v in t.iterate("/me/videos", {"fields": "id"})]
    assert ids == [f"x{i}" for i in range(250)]
    assert [r["query"]["page"] for r in api.log] == ["1", "2", "3"]
    assert all(r["query"]["limit"] == "100" and r["query"]["fields"] == "id" for r in api.log)


def test_iterate_stops_at_the_result_ceiling_without_requesting_a_refused_page(
    api: FakeAPI, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="dmtools.http")
    api.routes["/me/videos"] = _listing(5000, lie_has_more=True)
    with make(api, clock) as t:
        assert sum(1 for _ in t.iterate("/me/videos", {"limit": 30})) == 990
    assert [int(r["query"]["page"]) for r in api.log] == list(range(1, 34))
    assert "ceiling" in caplog.text


def test_iterate_rejects_a_limit_the_api_would_refuse(api: FakeAPI, clock: FakeClock) -> None:
    with make(api, clock) as t, pytest.raises(ValueError):
        list(t.iterate("/me/videos", limit=101))
    assert api.log == []


def test_a_dead_service_costs_at_most_one_hundred_retries_in_total(
    api: FakeAPI, clock: FakeClock
) -> None:
    api.routes["/a"] = lambda record: err(503)
    with make(api, clock) as t:
        failures = 0
        for _ in range(150):
            with pytest.raises(ServerError):
                t.request("GET", "/a")
            failures += 1
        assert t.stats["retries"] == 100 and t.budget.exhausted
    assert failures == 150 and len(api.log) == 150 + 100
