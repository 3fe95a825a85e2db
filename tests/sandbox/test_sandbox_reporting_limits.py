"""Every documented limit, status and error of the Reporting API, over real HTTP.

Dates, dimensions, the metric/dimension matrix, permissions and scopes, two reports in
progress per key, the lifecycle on the sandbox clock (``IN_PROGRESS`` → ``FINISHED``,
``FAILED``, ``EXPIRED`` after 48 hours), unknown reports, multi-file reports, download links
and their paging, faults and latency on GraphQL and downloads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests
from _support.reporting import (
    POLL,
    ask,
    ask_ok,
    download,
    finish,
    gql,
    links,
    poll,
    public_report_token,
    refusal,
    report_input,
    report_token,
    today,
)

from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=80, seed=5) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def settle(sb: Sandbox) -> Iterator[None]:
    yield
    sb.advance_clock(sb.settings()["report_delay"] + 1)
    sb.clear_faults()


@pytest.fixture()
def token(sb: Sandbox) -> str:
    return report_token(sb)


@pytest.mark.parametrize(
    "start, end, reason",
    [
        ("2026-03-10", "2026-03-09", "invalid_date_range"),  # end before start
        ("2026-01-01", "2026-06-30", "invalid_date_range"),  # 181 days
        ("2025-01-01", "2026-01-01", "invalid_date_range"),
        ("2026-13-01", "2026-03-01", "invalid_input"),
        ("yesterday", "2026-03-01", "invalid_input"),
    ],
)
def test_date_ranges_outside_1_to_180_days_are_refused(
    sb: Sandbox, token: str, start: str, end: str, reason: str
) -> None:
    report = {"metrics": ["VIEWS"], "dimensions": ["DAY"], "startDate": start, "endDate": end}
    count = len(sb.reports())
    assert refusal(ask(sb, token, report)) == reason
    assert len(sb.reports()) == count  # nothing registered


@pytest.mark.parametrize(
    "start, end",
    [
        ("2026-03-09", "2026-03-09"),  # one day
        ("2026-01-01", "2026-06-29"),  # 180 days, both ends included
        ("2026-03-01T00:00:00Z", "2026-03-02T23:59:59+00:00"),  # ISO date-times
    ],
)
def test_one_to_180_days_inclusive_are_accepted(
    sb: Sandbox, token: str, start: str, end: str
) -> None:
    report = {"metrics": ["VIEWS"], "dimensions": ["DAY"], "startDate": start, "endDate": end}
    assert ask_ok(sb, token, report)


def test_eight_dimensions_at_most(sb: Sandbox, token: str) -> None:
    eight = ["DAY", "VIDEO_ID", "VISITOR_COUNTRY", "VISITOR_DEVICE_TYPE", "PLAYER_ID"]
    eight += ["PLAYLIST_ID", "VISITOR_DOMAIN_GROUP", "ACTION"]
    assert ask_ok(sb, token, report_input(sb, ["VIEWS"], eight, days=2))
    body = ask(sb, token, report_input(sb, ["VIEWS"], [*eight, "MEDIA_TYPE"], days=2))
    assert refusal(body) == "too_many_dimensions"
    assert "9" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "metrics, dimensions, reason",
    [
        (["VIEWS"], ["CHANNEL_SLUG"], "incompatible_metric_dimension"),
        (["ESTIMATED_EARNINGS_EUR"], ["HOUR"], "incompatible_metric_dimension"),
        (["VIEWS", "ESTIMATED_EARNINGS_USD"], ["DAY", "HOUR"], "incompatible_metric_dimension"),
        (["UPLOADS"], ["VISITOR_COUNTRY"], "incompatible_metric_dimension"),
        (["LIVE_VIEWERS"], ["PLAYLIST_ID"], "incompatible_metric_dimension"),
        (["VIEWS"], ["VISIBILITY"], "incompatible_metric_dimension"),
        (["TOTAL_INVENTORY"], ["VIDEO_ID"], "incompatible_metric_dimension"),
        (["VIEWS"], ["ACCOUNT_ID"], "incompatible_metric_dimension"),
        (["BANDWIDTH_USED_TOTAL_BYTES"], ["DAY"], "unsupported_metric"),
        ([], ["DAY"], "invalid_input"),
        (["VIEWS", "VIEWS"], ["DAY"], "invalid_input"),
        (["VIEWS"], ["DAY", "DAY"], "invalid_input"),
        (["VIEWS", None], ["DAY"], "invalid_input"),
    ],
)
def test_the_compatibility_matrix_and_malformed_lists(
    sb: Sandbox, token: str, metrics: list[str], dimensions: list[str], reason: str
) -> None:
    body = ask(sb, token, report_input(sb, metrics, dimensions))
    assert refusal(body) == reason


@pytest.mark.parametrize(
    "metrics, dimensions",
    [
        (
            ["VIEWS", "TIME_WATCHED_SECONDS", "VIEW_THROUGH_RATE", "AVERAGE_WATCH_TIME_SEC"],
            ["HOUR"],
        ),
        (["ESTIMATED_EARNINGS_EUR", "ESTIMATED_EARNINGS_USD"], ["CHANNEL_SLUG", "VISITOR_COUNTRY"]),
        (["UPLOADS", "VIEWS"], ["MONTH", "VIDEO_ID"]),
        (["LIVE_VIEWERS", "LIVE_TIME_WATCHED_SECONDS"], ["DAY", "VISITOR_DEVICE_TYPE"]),
        (["TOTAL_INVENTORY", "FILL_RATE", "ECPM_EUR"], ["DAY"]),
        (["VIEWS"], []),
    ],
)
def test_compatible_pairs_are_accepted(
    sb: Sandbox, token: str, metrics: list[str], dimensions: list[str]
) -> None:
    assert ask_ok(sb, token, report_input(sb, metrics, dimensions, days=7))


def test_earnings_and_ads_follow_the_key_permissions_and_optionally_the_token(sb: Sandbox) -> None:
    key = sb.credentials.private_key.client_id
    views_only = report_token(sb, scope="create_reports")  # asked for no access_revenue
    earnings = report_input(sb, ["ESTIMATED_EARNINGS_EUR"], ["DAY"])
    ads = report_input(sb, ["NB_IMPRESSION"], ["DAY"])
    assert ask_ok(sb, views_only, earnings)  # the key decides (scope check off)
    sb.advance_clock(10)
    sb.set_report_permissions(key, ["create_reports", "read_reports"])
    try:
        body = ask(sb, views_only, earnings)
        assert refusal(body) == "missing_scope"
        assert "access_revenue" in body["errors"][0]["message"]
        assert refusal(ask(sb, views_only, ads)) == "missing_scope"
        assert ask_ok(sb, views_only, report_input(sb, ["VIEWS"], ["DAY"]))
        sb.set_report_permissions(key, [])
        assert refusal(ask(sb, views_only, report_input(sb, ["VIEWS"], ["DAY"]))) == "missing_scope"
    finally:
        sb.set_report_permissions(key, ["create_reports", "read_reports", "delete_reports",
                                        "access_revenue", "access_ads"])  # fmt: skip
    sb.advance_clock(10)
    sb.settings(report_scope_check=True)
    try:
        assert refusal(ask(sb, views_only, earnings)) == "missing_scope"
        assert refusal(ask(sb, views_only, ads)) == "missing_scope"
        full = report_token(sb, scope="create_reports access_revenue access_ads")
        assert ask_ok(sb, full, earnings) and ask_ok(sb, full, ads)
    finally:
        sb.settings(report_scope_check=False)


def test_at_most_two_reports_in_progress_per_key(sb: Sandbox, token: str) -> None:
    report = report_input(sb, ["VIEWS"], ["DAY"])
    first = ask_ok(sb, token, report)
    ask_ok(sb, token, report)
    body = ask(sb, token, report)
    assert refusal(body) == "too_many_concurrent_reports"
    assert ask_ok(sb, public_report_token(sb), report, url=sb.reporting.public_graphql_url)
    finish(sb, token, first)  # both finish together
    assert ask_ok(sb, token, report)
    assert ask_ok(sb, token, report)
    assert refusal(ask(sb, token, report)) == "too_many_concurrent_reports"
    assert sb.settings(report_max_in_progress=3)["report_max_in_progress"] == 3
    try:
        assert ask_ok(sb, token, report)
    finally:
        sb.settings(report_max_in_progress=2)


def test_in_progress_until_the_delay_then_finished_with_links(sb: Sandbox, token: str) -> None:
    report = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))
    waiting = poll(sb, token, report)
    assert waiting["status"] == "IN_PROGRESS" and waiting["downloadLinks"]["edges"] == []
    assert dt.datetime.fromisoformat(waiting["createDate"]).tzinfo is not None
    sb.advance_clock(sb.settings()["report_delay"] - 1)
    assert poll(sb, token, report)["status"] == "IN_PROGRESS"
    sb.advance_clock(1)
    done = poll(sb, token, report)
    assert done["status"] == "FINISHED" and done["reportToken"] == report
    [url] = links(done)
    assert url.startswith(sb.url + "/reports/files/") and report not in url
    [text] = download([url])
    header, *rows = text.splitlines()
    assert header == "day,views"
    days = [row.split(",")[0] for row in rows]
    first = (today(sb) - dt.timedelta(days=29)).isoformat()
    assert days == sorted(set(days)) and first <= days[0] and days[-1] <= today(sb).isoformat()
    assert all(int(row.split(",")[1]) > 0 for row in rows)  # no empty rows


def test_a_settable_delay(sb: Sandbox, token: str) -> None:
    sb.settings(report_delay=0)
    try:
        report = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))
        assert poll(sb, token, report)["status"] == "FINISHED"
    finally:
        sb.settings(report_delay=5)


def test_failures_can_be_injected(sb: Sandbox, token: str) -> None:
    sb.fail_next_reports(1)
    doomed = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))
    healthy = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))
    assert poll(sb, token, doomed)["status"] == "IN_PROGRESS"
    sb.advance_clock(sb.settings()["report_delay"])
    failed = poll(sb, token, doomed)
    assert failed["status"] == "FAILED" and failed["downloadLinks"]["edges"] == []
    assert poll(sb, token, healthy)["status"] == "FINISHED"
    running = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))
    assert sb.fail_report(running) == "FAILED"
    assert poll(sb, token, running)["status"] == "FAILED"
    assert ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))  # a failed one is not busy


def test_reports_expire_48_hours_after_creation(sb: Sandbox, token: str) -> None:
    report = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))
    [url] = finish(sb, token, report)
    sb.advance_clock(48 * 3600 - sb.settings()["report_delay"] - 60)
    assert poll(sb, token, report)["status"] == "FINISHED"
    assert requests.get(url, timeout=10).status_code == 200
    sb.advance_clock(60)
    expired = poll(sb, token, report)
    assert expired["status"] == "EXPIRED" and expired["downloadLinks"]["edges"] == []
    gone = requests.get(url, timeout=10)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["extensions"]["reason"] == "file_not_found"
    other = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"]))
    finish(sb, token, other)
    assert sb.expire_report(other) == "EXPIRED"
    assert poll(sb, token, other)["status"] == "EXPIRED"


def test_unknown_report_tokens_are_report_not_found(sb: Sandbox, token: str) -> None:
    for value in ("nope", "", "emu_rpt_" + "x" * 32):
        body = gql(sb, token, POLL, {"reportToken": value}).json()
        assert body["data"] == {"partner": {"reportFile": None}}
        assert body["errors"][0]["extensions"] == {
            "type": "bad_request",
            "reason": "report_not_found",
        }


def test_big_reports_are_split_into_several_files(sb: Sandbox, token: str) -> None:
    report = report_input(sb, ["VIEWS"], ["DAY", "VIDEO_ID"], days=60)
    whole = download(finish(sb, token, ask_ok(sb, token, report)))
    [single] = whole
    rows = single.splitlines()[1:]
    assert len(rows) > 20
    sb.settings(report_file_rows=7)
    try:
        parts = download(finish(sb, token, ask_ok(sb, token, report)))
    finally:
        sb.settings(report_file_rows=100_000)
    assert len(parts) == -(-len(rows) // 7)
    assert all(p.splitlines()[0] == "day,video_id,views" for p in parts)
    assert [line for p in parts for line in p.splitlines()[1:]] == rows
    assert all(len(p.splitlines()) == 8 for p in parts[:-1])


def test_download_links_page_with_first_and_page(sb: Sandbox, token: str) -> None:
    sb.settings(report_file_rows=5)
    try:
        report = ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"], days=23))
        every = finish(sb, token, report)
    finally:
        sb.settings(report_file_rows=100_000)
    assert len(every) == 5
    query = (
        "query ($t: String!, $f: Int, $p: Int) { partner { reportFile(reportToken: $t) {"
        " downloadLinks(first: $f, page: $p) { totalCount pageInfo { hasNextPage nextPage }"
        " edges { node { id link } } } } } }"
    )
    seen: list[str] = []
    page = 1
    while page:
        body = gql(sb, token, query, {"t": report, "f": 2, "p": page}).json()
        connection = body["data"]["partner"]["reportFile"]["downloadLinks"]
        assert connection["totalCount"] == 5
        seen += [e["node"]["link"] for e in connection["edges"]]
        page = connection["pageInfo"]["nextPage"]
    assert seen == every
    bad = gql(sb, token, query, {"t": report, "f": 0, "p": 1}).json()
    assert bad["errors"][0]["extensions"]["reason"] == "invalid_input"


def test_download_links_need_no_credentials_and_ignore_them(sb: Sandbox, token: str) -> None:
    [url] = finish(sb, token, ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"])))
    plain = requests.get(url, timeout=10)
    noisy = requests.get(url, headers={"Authorization": "Bearer garbage"}, timeout=10)
    assert plain.status_code == noisy.status_code == 200 and plain.content == noisy.content
    assert plain.content.decode("utf-8").endswith("\n") and not plain.content.startswith(b"\xef")
    for bad in (url.replace("part-0", "part-1"), url + "x", sb.url + "/reports/files/x/part-0.csv"):
        assert requests.get(bad, timeout=10).status_code == 404
    assert requests.post(url, timeout=10).status_code == 405


def test_faults_and_latency_apply_to_graphql_and_downloads(sb: Sandbox, token: str) -> None:
    [url] = finish(sb, token, ask_ok(sb, token, report_input(sb, ["VIEWS"], ["DAY"])))
    sb.set_faults(seed=3, rules=[{"kind": "status", "status": 503, "path": "^/graphql",
                                  "retry_after": 2}])  # fmt: skip
    faulted = gql(sb, token, "{ partner { id } }")
    assert faulted.status_code == 503 and faulted.headers["Retry-After"] == "2"
    assert faulted.json()["errors"][0]["extensions"]["type"] == "server_error"
    sb.set_faults(seed=3, rules=[{"kind": "status", "status": 500, "path": "^/reports/files/"}])
    assert requests.get(url, timeout=10).status_code == 500
    sb.set_faults(seed=3, rules=[{"kind": "truncate", "path": "^/reports/files/", "bytes": 10}])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=10).content  # noqa: B018
    sb.clear_faults()
    assert requests.get(url, timeout=10).status_code == 200
    paths = [entry["path"] for entry in sb.fault_log()]
    assert paths[-3:] == ["/graphql", url[len(sb.url) :], url[len(sb.url) :]]


def test_the_clock_only_moves_forward(sb: Sandbox) -> None:
    before = sb.clock()
    assert sb.advance_clock(3600) >= before + 3600
    for bad in (-1, "soon", float("inf")):
        with pytest.raises(RuntimeError, match="400"):
            sb.advance_clock(bad)  # type: ignore[arg-type]
    assert today(sb) >= dt.date.fromtimestamp(before)
