"""Fault injection of the sandbox, over real HTTP on 127.0.0.1.

A tiny WSGI app stands in for the sandbox API: it records every call (the "commit") and
answers JSON; the fault middleware is wrapped around it and served by werkzeug's threaded
server, as the sandbox does.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import psutil
import pytest
import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from dmtools import errors
from dmtools.dialects.legacy import LEGACY
from dmtools.sandbox.faults import FaultController, FaultMiddleware, controller
from dmtools.sandbox.faults.ratelimit import TokenBucket

TIMEOUT = 5.0
#: A hold or latency far longer than any wait of these tests on a busy machine: a request
#: answered within a fraction of it was not held or delayed.
HOLD = 60.0


@dataclass
class Recorder:
    """The stand-in app's commits; ``wait_for`` blocks until a count is reached."""

    calls: list[tuple[str, str, bytes]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, call: tuple[str, str, bytes]) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    def wait_for(self, count: int, timeout: float = TIMEOUT) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.calls) >= count, timeout)

    def clear(self) -> None:
        with self.cond:
            self.calls.clear()


def make_app(recorder: Recorder) -> Any:
    @Request.application
    def app(request: Request) -> Response:
        body = request.get_data()
        if not request.path.startswith("/__sandbox__/"):
            recorder.add((request.method, request.path, body))
        payload = {
            "id": request.path.rsplit("/", 1)[-1],
            "title": "A title " * 8,
            "method": request.method,
        }
        return Response(json.dumps(payload), content_type="application/json")

    return app


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Served:
    url: str
    ctl: FaultController
    recorder: Recorder
    server: BaseWSGIServer

    def request(
        self, method: str, path: str, *, timeout: float = TIMEOUT, **kwargs: Any
    ) -> requests.Response:
        return requests.request(method, self.url + path, timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def served_module() -> Iterator[Served]:
    recorder = Recorder()
    ctl = FaultController()
    server = make_server(
        "127.0.0.1",
        0,
        FaultMiddleware(make_app(recorder), ctl),
        threaded=True,
        request_handler=QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.port}", ctl, recorder, server)
    finally:
        ctl.close()
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


@pytest.fixture
def served(served_module: Served, caplog: pytest.LogCaptureFixture) -> Iterator[Served]:
    served_module.ctl.clear()
    served_module.ctl.clear_log()
    served_module.recorder.clear()
    caplog.set_level(logging.INFO, logger="werkzeug")
    yield served_module
    served_module.ctl.clear()
    problems = [r for r in caplog.records if r.name == "werkzeug" and r.levelno >= logging.WARNING]
    assert not problems, [r.getMessage() for r in problems]


def join_request_threads() -> None:
    """Wait for the server's request threads, which close their sockets as they end."""
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(TIMEOUT)
            assert not thread.is_alive(), f"{thread.name} still serving after {TIMEOUT} s"


def assert_no_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    _, err = capfd.readouterr()
    assert "Traceback" not in err and "Exception occurred" not in err, err


def status_rule(**extra: Any) -> dict[str, Any]:
    return {"kind": "status", "status": 503, **extra}


# -- status faults --------------------------------------------------------------------------


def test_status_fault_answers_the_api_error_json_without_calling_the_app(served: Served) -> None:
    served.ctl.configure(rules=[status_rule(retry_after=2)])
    before = time.time()
    response = served.request("POST", "/video/x1", data={"title": "t"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    error = response.json()["error"]
    assert error["code"] == 503 and error["type"] == "server_error" and error["message"]
    assert set(error) == {"code", "message", "type", "error_data", "more_info"}
    assert served.recorder.calls == []
    [entry] = served.ctl.log()
    assert entry["kind"] == "status" and entry["status"] == 503 and entry["after_commit"] is False
    assert (entry["method"], entry["path"], entry["retry_after"]) == ("POST", "/video/x1", "2")
    assert before + 2 <= entry["not_before"] <= time.time() + 2
    exc = errors.error_from_response(response, read_body=LEGACY.read_error)
    assert isinstance(exc, errors.ServerError) and exc.status == 503


def test_status_fault_can_send_an_html_page_and_an_http_date_retry_after(served: Served) -> None:
    served.ctl.configure(
        rules=[status_rule(status=502, html=True, retry_after=3, retry_after_format="http-date")]
    )
    response = served.request("GET", "/video/x1")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text
    header = response.headers["Retry-After"]
    assert header.endswith(" GMT")
    wait = errors.parse_retry_after(header)
    assert wait is not None and 0.0 < wait <= 4.0
    [entry] = served.ctl.log()
    assert entry["retry_after"] == header and entry["not_before"] == int(entry["not_before"])
    assert parsedate_to_datetime(header).timestamp() == entry["not_before"]
    assert entry["time"] + 3 <= entry["not_before"] < entry["time"] + 4  # rounded up to a second
    assert isinstance(
        errors.error_from_response(response, read_body=LEGACY.read_error), errors.ServerError
    )


def test_429_fault_reads_as_rate_limit_exceeded(served: Served) -> None:
    served.ctl.configure(rules=[status_rule(status=429, retry_after=1)])
    response = served.request("GET", "/video/x1")
    exc = errors.error_from_response(response, read_body=LEGACY.read_error)
    assert isinstance(exc, errors.RateLimited)
    assert exc.type == "rate_limit_exceeded" and exc.retry_after == 1.0


def test_status_fault_after_commit_runs_the_app_and_discards_its_answer(served: Served) -> None:
    served.ctl.configure(rules=[status_rule(status=500, after_commit=True)])
    response = served.request("POST", "/video/x2", data=b"title=new")
    assert response.status_code == 500
    assert served.recorder.calls == [("POST", "/video/x2", b"title=new")]
    [entry] = served.ctl.log()
    assert entry["after_commit"] is True and entry["inner_status"] == 200


def test_status_fault_can_send_a_raw_body(served: Served) -> None:
    served.ctl.configure(rules=[status_rule(status=200, body='{"id": "x1", "ti')])
    response = served.request("GET", "/video/x1")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


# -- resets ---------------------------------------------------------------------------------


def test_reset_before_commit_never_calls_the_app_and_the_server_keeps_serving(
    served: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    served.ctl.configure(rules=[{"kind": "reset", "rate": 1.0, "methods": ["POST"]}])
    with pytest.raises(requests.ConnectionError):
        served.request("POST", "/video/x1", data=b"title=" + b"a" * 20_000)
    assert served.recorder.calls == []
    assert served.request("GET", "/video/x1").status_code == 200
    [entry] = served.ctl.log()
    assert entry["kind"] == "reset" and entry["after_commit"] is False and entry["rst"] is True
    assert_no_traceback(capfd)


def test_reset_after_commit_calls_the_app_and_the_client_sees_a_connection_error(
    served: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    served.ctl.configure(
        rules=[{"kind": "reset", "rate": 1.0, "after_commit": True, "path": "^/video/"}]
    )
    with pytest.raises(requests.ConnectionError):
        served.request("POST", "/video/x3", data=b"title=new")
    assert served.recorder.calls == [("POST", "/video/x3", b"title=new")]
    served.ctl.clear()
    assert served.request("GET", "/video/x3").status_code == 200
    assert [e["after_commit"] for e in served.ctl.log()] == [True]
    assert_no_traceback(capfd)


@pytest.mark.parametrize("after_commit", [False, True])
def test_reset_is_a_tcp_rst(served: Served, after_commit: bool) -> None:
    served.ctl.configure(rules=[{"kind": "reset", "after_commit": after_commit}])
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /video/x1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)


def test_many_resets_leak_no_file_descriptor_and_print_nothing(
    served: Served, capfd: pytest.CaptureFixture[str]
) -> None:
    served.ctl.configure(seed=3, rules=[{"kind": "reset", "rate": 0.5, "after_commit": True}])
    me = psutil.Process()
    join_request_threads()
    fds = me.num_fds()
    outcomes = []
    for _ in range(40):
        try:
            outcomes.append(served.request("GET", "/video/x1").status_code)
        except requests.ConnectionError:
            outcomes.append("reset")
    assert outcomes.count("reset") == len(served.ctl.log()) > 5
    assert outcomes.count(200) > 5
    # The server closes a connection in its own thread after the client has seen the reset:
    # count once every request thread has ended, so a socket still being closed is no leak.
    join_request_threads()
    assert me.num_fds() <= fds + 2
    assert_no_traceback(capfd)


# -- hold and truncate ----------------------------------------------------------------------


def test_hold_times_the_client_out_after_the_commit_without_blocking_others(served: Served) -> None:
    served.ctl.configure(rules=[{"kind": "hold", "seconds": HOLD, "methods": ["POST"]}])
    with pytest.raises(requests.ReadTimeout):
        served.request("POST", "/video/x4", data=b"title=held", timeout=0.2)
    assert served.recorder.wait_for(1)
    assert served.recorder.calls == [("POST", "/video/x4", b"title=held")]
    # Answered within a read timeout far below the hold: the held answer blocks nobody else.
    assert served.request("GET", "/video/x4", timeout=HOLD / 4).status_code == 200
    [entry] = served.ctl.log()
    assert entry["kind"] == "hold" and entry["after_commit"] is True and entry["seconds"] == HOLD


def test_clear_sends_held_responses_at_once(served: Served) -> None:
    served.ctl.configure(rules=[{"kind": "hold", "seconds": HOLD}])
    results: list[Any] = []
    client = threading.Thread(
        target=lambda: results.append(
            served.request("POST", "/video/x5", data=b"a", timeout=HOLD / 2)
        )
    )
    client.start()
    assert served.recorder.wait_for(1)
    served.ctl.clear()
    client.join(HOLD / 4)  # answered long before the hold would have ended
    assert not client.is_alive()
    assert results[0].status_code == 200 and results[0].json()["id"] == "x5"


def test_truncate_sends_a_short_body_after_the_commit(served: Served) -> None:
    served.ctl.configure(rules=[{"kind": "truncate", "methods": ["POST"]}])
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        served.request("POST", "/video/x6", data=b"title=t")
    assert served.recorder.calls == [("POST", "/video/x6", b"title=t")]
    [entry] = served.ctl.log()
    assert entry["kind"] == "truncate" and entry["status"] == 200
    assert 0 < entry["sent"] < entry["declared"]


def test_truncated_response_declares_more_bytes_than_it_sends(served: Served) -> None:
    served.ctl.configure(rules=[{"kind": "truncate", "bytes": 10}])
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /video/x7 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    assert body == b'{"id": "x7' and length > len(body)


# -- latency, determinism, filters ----------------------------------------------------------


def delays(
    served: Served, monkeypatch: pytest.MonkeyPatch, count: int
) -> list[tuple[float, float]]:
    """(delay the controller asked for, seconds the request took) of ``count`` requests."""
    asked: list[float] = []
    wait = served.ctl._wait

    def recorded(seconds: float) -> bool:
        asked.append(seconds)
        return wait(seconds)

    monkeypatch.setattr(served.ctl, "_wait", recorded)
    spent = []
    for _ in range(count):
        started = time.monotonic()
        assert served.request("GET", "/video/x1").status_code == 200
        spent.append(time.monotonic() - started)
    monkeypatch.undo()
    assert len(asked) == count
    return list(zip(asked, spent, strict=True))


def test_latency_and_jitter_delay_every_request(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    served.ctl.configure(latency=0.12, jitter=0.04, seed=5)
    delayed = delays(served, monkeypatch, 8)
    assert all(0.08 <= asked <= 0.16 for asked, _ in delayed)  # latency +- jitter
    assert len({asked for asked, _ in delayed}) > 1  # jittered, not constant
    assert all(spent >= asked for asked, spent in delayed)  # and really waited
    served.ctl.configure(latency=0.12, jitter=0.04, seed=5)
    assert [asked for asked, _ in delays(served, monkeypatch, 8)] == [a for a, _ in delayed]
    assert served.ctl.log() == []


def faulted_positions(served: Served, seed: int, count: int = 40) -> list[int]:
    served.ctl.configure(seed=seed, rules=[status_rule(rate=0.3)])
    codes = [served.request("GET", "/video/x1").status_code for _ in range(count)]
    return [i + 1 for i, code in enumerate(codes) if code == 503]


def test_same_seed_gives_the_same_decisions(served: Served) -> None:
    first = faulted_positions(served, seed=11)
    assert first == faulted_positions(served, seed=11)
    assert first != faulted_positions(served, seed=12)
    assert 3 <= len(first) <= 25


def test_concurrency_does_not_change_which_positions_fault(served: Served) -> None:
    sequential = faulted_positions(served, seed=21)
    served.ctl.clear_log()
    served.ctl.configure(seed=21, rules=[status_rule(rate=0.3)])
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: served.request("GET", "/video/x1"), range(40)))
    assert sorted(e["n"] for e in served.ctl.log()) == sequential


def test_rules_apply_only_to_their_methods_and_paths(served: Served) -> None:
    served.ctl.configure(rules=[status_rule(methods=["post"], path=r"^/video/\w+$")])
    assert served.request("GET", "/video/x1").status_code == 200
    assert served.request("POST", "/user/x1").status_code == 200
    assert served.request("POST", "/video/x1/extra").status_code == 200
    assert served.request("POST", "/video/x1").status_code == 503
    assert [(e["method"], e["path"], e["n"]) for e in served.ctl.log()] == [
        ("POST", "/video/x1", 1)
    ]


def test_at_lists_the_positions_that_always_fault(served: Served) -> None:
    served.ctl.configure(rules=[status_rule(at=[2, 4], name="second-and-fourth")])
    codes = [served.request("GET", "/video/x1").status_code for _ in range(5)]
    assert codes == [200, 503, 200, 503, 200]
    assert {e["name"] for e in served.ctl.log()} == {"second-and-fourth"}


def test_first_firing_rule_wins(served: Served) -> None:
    served.ctl.configure(rules=[status_rule(status=502, at=[1]), status_rule(status=500)])
    assert [served.request("GET", "/v/x").status_code for _ in range(2)] == [502, 500]


def test_admin_paths_are_never_faulted_delayed_or_rate_limited(served: Served) -> None:
    served.ctl.configure(latency=HOLD, rules=[status_rule(), {"kind": "reset"}])
    served.ctl.set_rate_limit(rate=0.1, burst=1)
    codes = [
        served.request("GET", "/__sandbox__/status", timeout=HOLD / 4).status_code for _ in range(5)
    ]
    assert codes == [200] * 5
    assert served.ctl.log() == []


# -- rate limiter, clear, configuration -----------------------------------------------------


class BucketClock:
    """The rate limiter's clock, moved by the test (the bucket's own time seam)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_a_burst_then_answers_429_and_refills(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = BucketClock()
    monkeypatch.setattr(controller, "TokenBucket", functools.partial(TokenBucket, clock=clock))
    served.ctl.set_rate_limit(rate=20.0, burst=3)
    codes = [served.request("POST", "/video/x8", data=b"a").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert len(served.recorder.calls) == 3
    response = served.request("POST", "/video/x8", data=b"a")
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    exc = errors.error_from_response(response, read_body=LEGACY.read_error)
    assert isinstance(exc, errors.RateLimited) and exc.type == "rate_limit_exceeded"
    assert len(served.recorder.calls) == 3
    clock.now += 0.04  # 20 tokens/s: not yet one token
    assert served.request("POST", "/video/x8", data=b"a").status_code == 429
    clock.now += 0.01  # now one token (0.05 s)
    assert served.request("POST", "/video/x8", data=b"a").status_code == 200
    assert served.request("POST", "/video/x8", data=b"a").status_code == 429
    clock.now += 10.0  # refilled up to the burst, not beyond
    codes = [served.request("POST", "/video/x8", data=b"a").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    entries = served.ctl.log()
    assert [e["kind"] for e in entries] == ["rate_limit"] * 5
    assert all(e["status"] == 429 and e["not_before"] == e["time"] + 1 for e in entries)


def test_clear_removes_faults_latency_and_rate_limit_but_keeps_the_log(served: Served) -> None:
    served.ctl.configure(latency=0.5, rules=[status_rule()])
    served.ctl.set_rate_limit(rate=0.1, burst=1)
    assert served.request("GET", "/video/x1").status_code == 503
    served.ctl.configure(latency=HOLD, rules=[status_rule()])  # the rate limit is kept
    served.ctl.clear()
    codes = [served.request("GET", "/video/x1", timeout=HOLD / 4).status_code for _ in range(3)]
    assert codes == [200] * 3
    assert len(served.ctl.log()) == 1
    assert served.ctl.settings() == {
        "latency": 0.0,
        "jitter": 0.0,
        "seed": 0,
        "rules": [],
        "rate_limit": None,
    }


def test_settings_reflect_the_configuration() -> None:
    ctl = FaultController()
    rules = [{"kind": "hold", "seconds": 2, "rate": 0.1}]
    ctl.configure(latency=0.05, jitter=0.01, seed=1, rules=rules)
    ctl.set_rate_limit(rate=20.0, burst=20)
    rules[0]["seconds"] = 99
    assert ctl.settings() == {
        "latency": 0.05,
        "jitter": 0.01,
        "seed": 1,
        "rules": [{"kind": "hold", "seconds": 2, "rate": 0.1}],
        "rate_limit": {"rate": 20.0, "burst": 20},
    }


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"kind": "explode"}, "kind must be one of"),
        ({"kind": "status", "retry-after": 1}, "'retry-after'"),
        ({"kind": "status", "retry_after": "http-date"}, "'retry_after' (seconds)"),
        ({"kind": "status", "retry_after_format": "date"}, "'retry_after_format'"),
        ({"kind": "reset", "rate": 1.5}, "'rate'"),
        ({"kind": "hold", "after_commit": False}, "after the commit"),
        ({"kind": "truncate", "path": "("}, "'path' is not a valid regex"),
        ({"kind": "status", "at": [0]}, "'at'"),
    ],
)
def test_bad_rules_are_refused_with_the_rule_and_key_named(
    rule: dict[str, Any], words: str
) -> None:
    ctl = FaultController()
    ctl.configure(rules=[{"kind": "reset", "rate": 0.5}])
    with pytest.raises(ValueError, match="fault rule 1") as info:
        ctl.configure(rules=[{"kind": "reset"}, rule])
    assert words in str(info.value)
    assert ctl.settings()["rules"] == [{"kind": "reset", "rate": 0.5}]


def test_rules_must_be_a_list_of_dicts() -> None:
    ctl = FaultController()
    with pytest.raises(ValueError, match="list of dicts"):
        ctl.configure(rules={"kind": "reset"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fault rule 0: expected a dict"):
        ctl.configure(rules=["reset"])  # type: ignore[list-item]
    ctl.configure(rules=None)
    assert ctl.settings()["rules"] == []


def test_bad_rate_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        FaultController().set_rate_limit(rate=5.0, burst=0)


def test_fault_log_is_a_bounded_ring() -> None:
    ctl = FaultController(log_size=5)
    ctl.configure(rules=[status_rule()])
    app = FaultMiddleware(make_app(Recorder()), ctl)
    for i in range(8):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/video/x{i}"}
        app(environ, lambda status, headers, exc_info=None: lambda data: None)
    assert [e["path"] for e in ctl.log()] == [f"/video/x{i}" for i in range(3, 8)]


def test_close_ends_holds_and_latency_for_good() -> None:
    ctl = FaultController()
    ctl.configure(latency=HOLD, rules=[{"kind": "hold", "seconds": HOLD}])
    ctl.close()
    recorder = Recorder()
    app = FaultMiddleware(make_app(recorder), ctl)
    started = time.monotonic()
    statuses: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/video/x1", "wsgi.input": io.BytesIO()}
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert time.monotonic() - started < HOLD / 4  # neither the latency nor the hold was waited
    assert statuses == ["200 OK"] and json.loads(body)["id"] == "x1"
    assert len(recorder.calls) == 1 and ctl.log()[0]["kind"] == "hold"


# -- through the sandbox --------------------------------------------------------------------


def test_faults_through_the_sandbox_admin_api() -> None:
    from dmtools.sandbox import Sandbox

    with Sandbox(videos=5, seed=7) as sb:
        creds = sb.credentials
        token = requests.post(
            sb.url + "/oauth/token",
            timeout=TIMEOUT,
            data={
                "grant_type": "password",
                "client_id": creds.public_key.client_id,
                "client_secret": creds.public_key.client_secret,
                "username": creds.user.username,
                "password": creds.user.password,
                "scope": "manage_videos",
            },
        ).json()["access_token"]
        [video_id] = sb.add_videos(1)
        path = f"/video/{video_id}"
        sb.set_faults(
            seed=1,
            rules=[
                {
                    "kind": "status",
                    "status": 503,
                    "retry_after": 1,
                    "methods": ["POST"],
                    "path": "^/video/",
                    "at": [1],
                },
                {
                    "kind": "reset",
                    "after_commit": True,
                    "methods": ["POST"],
                    "path": "^/video/",
                    "at": [2],
                },
            ],
        )

        def edit(title: str) -> requests.Response:
            return requests.post(
                sb.url + path,
                data={"title": title},
                timeout=TIMEOUT,
                headers={"Authorization": f"Bearer {token}"},
            )

        refused = edit("First")
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        with pytest.raises(requests.ConnectionError):
            edit("Second")
        assert edit("Third").status_code == 200
        assert [c["fields"]["title"] for c in sb.commits() if c["video_id"] == video_id] == [
            "Second",
            "Third",
        ]
        assert [(f["kind"], f["after_commit"], f["path"]) for f in sb.fault_log()] == [
            ("status", False, path),
            ("reset", True, path),
        ]
        assert [r["status"] for r in sb.request_log() if r["path"] == path][0] == 503
        assert (sb.get_video(video_id) or {})["title"] == "Third"

        sb.set_faults(rules=[{"kind": "reset"}])  # everything but the admin API
        with pytest.raises(requests.ConnectionError):
            requests.get(sb.url + path, timeout=TIMEOUT)
        assert len(sb.fault_log()) == 3
        sb.clear_faults()
        sb.set_rate_limit(rate=0.5, burst=1)
        codes = [requests.get(sb.url + path, timeout=TIMEOUT).status_code for _ in range(2)]
        assert codes == [200, 429] and sb.fault_log()[-1]["kind"] == "rate_limit"
        sb.clear_faults()
        assert requests.get(sb.url + path, timeout=TIMEOUT).status_code == 200
