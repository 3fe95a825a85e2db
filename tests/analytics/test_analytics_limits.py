"""Every limit, status and error of the Reporting API, as ``dm.load_analytics`` meets them
over real HTTP: refused before any request, or mapped onto the error tree; 2 reports in
flight, the rest queued; FAILED and EXPIRED asked again once, then reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests
from analytics_support import client, clock_sleep, graphql_requests, last_seq, load, today

import dmtools as dm
from dmtools._answers import error_from_response
from dmtools.analytics._wire import GRAPHQL, ReportingApi
from dmtools.analytics.runner import Poll
from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=60, seed=5) as sandbox:
        yield sandbox


@pytest.fixture()
def fresh(sb: Sandbox) -> Iterator[Sandbox]:
    """The module's sandbox with no report in progress and no fault."""
    sb.advance_clock(3 * 3600)
    yield sb
    sb.clear_faults()
    sb.fail_next_reports(0)
    sb.settings(report_delay=5)


def _asks(sb: Sandbox, since: int) -> int:
    return sum(1 for r in sb.reports() if r["created_at"] >= since)


@pytest.mark.parametrize(
    "metrics,dimensions,needed",
    [
        ("views", "day video_id visitor_country visitor_device_type player_id playlist_id "
         "visitor_domain_group action content_tag", "at most 8"),
        ("estimated_earnings_eur", "hour", "cannot be broken down by hour"),
        ("viewz", "day", "unknown metric 'viewz'"),
        ("views", "dai", "unknown dimension 'dai'"),
    ],
)  # fmt: skip
def test_limits_are_input_errors_before_any_request(
    fresh: Sandbox, metrics: str, dimensions: str, needed: str
) -> None:
    with client(fresh) as c:
        seq = last_seq(fresh)
        with pytest.raises(dm.InputError, match=needed):
            load(fresh, c, metrics, dimensions, start="2026-01-01", end="2026-01-31")
    assert graphql_requests(fresh, seq) == []


def test_a_token_without_the_scopes_is_refused_before_any_request_naming_them(
    fresh: Sandbox,
) -> None:
    with client(fresh, scope=["read_videos"]) as c:
        seq = last_seq(fresh)
        with pytest.raises(dm.InputError) as caught:
            load(fresh, c, ["views", "estimated_earnings_eur", "fill_rate"], "day",
                 start="2026-01-01", end="2026-01-02")  # fmt: skip
    reasons = [p.reason for p in caught.value.problems]
    assert reasons == [
        "create_reports is needed to ask for reports",
        "access_ads is needed for fill_rate",
        "access_revenue is needed for estimated_earnings_eur",
    ]
    assert "dm.analytics.SCOPES" in caught.value.message
    assert graphql_requests(fresh, seq) == []


def test_a_key_without_the_permission_is_a_permission_error_naming_it(fresh: Sandbox) -> None:
    key = fresh.credentials.private_key.client_id
    fresh.set_report_permissions(key, ["create_reports", "read_reports"])
    try:
        with client(fresh) as c, pytest.raises(dm.PermissionDenied) as caught:
            load(fresh, c, "estimated_earnings_eur", "day", start="2026-01-01", end="2026-01-02")
    finally:
        fresh.set_report_permissions(key, dm.analytics.SCOPES + ("delete_reports",))
    assert caught.value.missing_scope == "access_revenue"
    assert caught.value.type == "missing_scope" and caught.value.status == 403


def test_an_undocumented_pair_is_left_to_the_api_and_its_refusal_named(fresh: Sandbox) -> None:
    with client(fresh) as c, pytest.raises(dm.ValidationError) as caught:
        load(fresh, c, "nb_impression", "day video_id", start="2026-01-01", end="2026-01-02")
    assert caught.value.type == "incompatible_metric_dimension"
    assert "NB_IMPRESSION" in caught.value.message and "VIDEO_ID" in caught.value.message


def test_at_most_two_reports_are_in_flight_and_the_rest_wait(fresh: Sandbox) -> None:
    peaks: list[int] = []

    def sleep(seconds: float) -> None:
        peaks.append(sum(r["status"] == "IN_PROGRESS" for r in fresh.reports()))
        fresh.advance_clock(seconds)

    since = fresh.clock()
    with client(fresh) as c:
        df = load(fresh, c, "views", "day", start=today(fresh) - dt.timedelta(days=899),
                  end=today(fresh), sleep=sleep)  # fmt: skip
    assert _asks(fresh, since) == 5  # 900 days: five reports
    assert max(peaks) == 2 and peaks[0] == 2
    assert df["day"].is_unique and len(df) >= 800


def test_reports_another_program_keeps_in_progress_make_this_load_wait(fresh: Sandbox) -> None:
    with client(fresh) as c:
        other = ReportingApi(c)
        first = dm.analytics.build_query("views", "day", start="2026-01-01", end="2026-01-02")
        held = [other.ask(first).token, other.ask(first).token]
        since = fresh.clock()
        df = load(fresh, c, "views", "day", start="2026-02-01", end="2026-02-03")
        other.close()
    assert len(df) == 3 and len(held) == 2
    created = sorted(r["created_at"] for r in fresh.reports() if r["created_at"] >= since - 1)
    assert len(created) == 3  # asked once the other program's reports had finished (5 s)
    assert created[2] - created[0] >= fresh.settings()["report_delay"]


def test_a_failed_report_is_asked_again_once(fresh: Sandbox) -> None:
    fresh.fail_next_reports(1)
    since = fresh.clock()
    with client(fresh) as c:
        df = load(fresh, c, "views", "day", start="2026-03-01", end="2026-03-31")
    assert len(df) == 31
    assert [r["status"] for r in fresh.reports() if r["created_at"] >= since] == [
        "FAILED",
        "FINISHED",
    ]


def test_a_report_failing_twice_is_reported_with_its_dates(fresh: Sandbox) -> None:
    fresh.fail_next_reports(2)
    with client(fresh) as c, pytest.raises(dm.ReportError) as caught:
        load(fresh, c, "views", "day", start="2026-03-01", end="2026-03-31")
    error = caught.value
    assert error.report_status == "FAILED" and (error.start, error.end) == (
        "2026-03-01",
        "2026-03-31",
    )
    assert "ended FAILED twice" in str(error) and isinstance(error, dm.APIError)


@pytest.mark.parametrize("times,ok", [(1, True), (2, False)])
def test_an_expired_report_is_asked_again_once(fresh: Sandbox, times: int, ok: bool) -> None:
    expired: list[str] = []

    def sleep(seconds: float) -> None:  # the report expires while the load waits for it
        reports = [r for r in fresh.reports() if r["status"] == "IN_PROGRESS"]
        if reports and len(expired) < times:
            expired.append(fresh.expire_report(reports[-1]["token"]))
        fresh.advance_clock(seconds)

    with client(fresh) as c:
        if ok:
            assert len(load(fresh, c, "views", "day", start="2026-04-01", end="2026-04-30",
                            sleep=sleep)) == 30  # fmt: skip
        else:
            with pytest.raises(dm.ReportError, match="ended EXPIRED twice"):
                load(fresh, c, "views", "day", start="2026-04-01", end="2026-04-30", sleep=sleep)
    assert expired == ["EXPIRED"] * times


def test_a_report_not_finished_in_time_is_reported_and_kept_for_later(
    fresh: Sandbox, tmp_path: object
) -> None:
    fresh.settings(report_delay=600)
    state = f"{tmp_path}/reports.sqlite"
    with client(fresh) as c:
        with pytest.raises(dm.ReportError) as caught:
            load(fresh, c, "views", "day", start="2026-05-01", end="2026-05-31", state=state,
                 poll=Poll(interval=10, max=60, timeout=300))  # fmt: skip
        assert caught.value.report_status == "IN_PROGRESS"
        assert "the same call within 48 hours picks them up" in str(caught.value)
        since = fresh.clock()
        df = load(fresh, c, "views", "day", start="2026-05-01", end="2026-05-31", state=state)
    assert len(df) == 31 and _asks(fresh, since) == 0  # picked up, not asked again


def test_graphql_errors_map_onto_the_error_tree(fresh: Sandbox) -> None:
    with client(fresh) as c, ReportingApi(c) as api:
        with pytest.raises(dm.NotFound) as missing:
            api.status("emu_rpt_no-such-report")
        assert missing.value.type == "report_not_found" and missing.value.path == "/graphql"
        fresh.expire_tokens()
        query = dm.analytics.build_query("views", "day", start="2026-01-01", end="2026-01-01")
        assert api.ask(query).token  # the transport renewed the expired token and replayed once
    for headers, reason in (
        ({"Authorization": "Bearer nope"}, "invalid_token"),
        ({}, "missing_token"),
    ):
        answer = requests.post(fresh.reporting.graphql_url, json={"query": "{ partner { id } }"},
                               headers=headers, timeout=10)  # fmt: skip
        error = error_from_response(answer, read_body=GRAPHQL.read_error)
        assert isinstance(error, dm.AuthenticationError) and error.status == 401
        assert error.type == reason and GRAPHQL.stale_token(error) == (reason != "missing_token")


def test_faults_on_graphql_and_files_are_retried_by_the_transport(fresh: Sandbox) -> None:
    fresh.set_faults(seed=4, rules=[
        {"kind": "status", "status": 503, "path": "^/graphql", "at": [1, 3]},
        {"kind": "reset", "path": "^/graphql", "at": [5]},
        {"kind": "status", "status": 500, "path": "^/reports/files/", "at": [1]},
        {"kind": "truncate", "path": "^/reports/files/", "bytes": 10, "at": [2]},
    ])  # fmt: skip
    with client(fresh) as c:
        df = load(fresh, c, "views", "day", start="2026-06-01", end="2026-06-30")
    assert len(df) == 30 and df["views"].sum() > 0
    kinds = sorted(f["kind"] for f in fresh.fault_log())
    assert kinds == ["reset", "status", "status", "status", "truncate"]  # each cured by a retry


def test_links_are_fetched_without_a_token_and_only_over_https_or_loopback(
    fresh: Sandbox,
) -> None:
    import http.server
    import threading

    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            body = b"day,views\n2026-01-01,3\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with client(fresh) as c, ReportingApi(c) as api:
            link = f"http://127.0.0.1:{server.server_address[1]}/files/part-0.csv"
            assert api.download(link) == b"day,views\n2026-01-01,3\n"
            seq = last_seq(fresh)
            for bad in ("http://files.example.com/part-0.csv", "ftp://127.0.0.1/x", "file:///etc"):
                with pytest.raises(dm.InsecureTransportError):
                    api.download(bad)
            assert fresh.request_log(seq) == []
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [None]


def test_a_report_finished_when_asked_is_read_without_waiting(fresh: Sandbox) -> None:
    fresh.settings(report_delay=0)
    waits: list[float] = []
    with client(fresh) as c:
        df = load(fresh, c, "views", "day", start="2026-07-01", end="2026-07-31",
                  sleep=clock_sleep(fresh, waits))  # fmt: skip
    assert len(df) == 31 and waits == []
