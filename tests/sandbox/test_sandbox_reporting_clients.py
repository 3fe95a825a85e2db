"""Third-party Reporting API clients, unchanged but for their base URLs, against the sandbox.

Three small clients written the way public ones are (plain ``requests``, no dmtools):

* a revenue poller run every hour by a scheduler: a new partner token for every call, the
  report token persisted in a state file between runs, ``errors[0].message`` on failure,
  every file concatenated, keys lower-cased defensively;
* a ``Report`` class that creates a report and polls it every few seconds (the interval is a
  parameter, so the test does not wait long);
* an analytics pipeline asking two reports in one aliased mutation (hourly views, daily
  earnings), concatenating several CSV files per report with pandas, joining them by day and
  enriching the rows with video titles read by ``POST /rest/video/<id>``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from dmtools.sandbox import Sandbox

# -- the revenue poller ---------------------------------------------------------------------

PARTNER = "https://partner.api.dailymotion.com"


class RevenuePoller:
    """One hourly run: ask yesterday's revenue, or collect the report asked last time."""

    def __init__(self, base: str, key: str, secret: str, channel: str, state: Path) -> None:
        self.base, self.key, self.secret = base.rstrip("/"), key, secret
        self.channel, self.state = channel, state

    def _token(self) -> str:
        r = requests.post(
            self.base + "/oauth/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.key,
                "client_secret": self.secret,
                "scope": "create_reports manage_reports",
            },
            timeout=30,
        )
        body = r.json()
        token, kind, expires, refresh, scope = (
            body["access_token"], body["token_type"], body["expires_in"],
            body["refresh_token"], body["scope"],
        )  # fmt: skip
        assert kind == "Bearer" and expires > 0 and refresh is None and scope
        return str(token)

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        r = requests.post(
            self.base + "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": "Bearer " + self._token()},
            timeout=30,
        )
        body = r.json()
        if r.status_code != 200 or "errors" in body:
            raise RuntimeError(body["errors"][0]["message"])
        return dict(body["data"])

    def run(self, day: dt.date) -> dict[str, float] | None:
        """Revenue per day once the report is in; None while it is not."""
        saved = json.loads(self.state.read_text()) if self.state.exists() else None
        if saved is None:
            data = self._graphql(
                "mutation ($input: AskPartnerReportFileInput!) { askPartnerReportFile"
                "(input: $input) { reportFile { reportToken } } }",
                {"input": {"metrics": ["ESTIMATED_EARNINGS_EUR", "VIEWS"],
                           "dimensions": ["DAY"], "product": "CONTENT",
                           "filters": {"videoOwnerChannelSlug": self.channel},
                           "startDate": str(day - dt.timedelta(days=6)), "endDate": str(day)}},
            )  # fmt: skip
            token = data["askPartnerReportFile"]["reportFile"]["reportToken"]
            self.state.write_text(json.dumps({"token": token}))
            return None
        data = self._graphql(
            "query PartnerGetReportFile($reportToken: String!) { partner { reportFile"
            "(reportToken: $reportToken) { status downloadLinks { edges { node { link } } } } } }",
            {"reportToken": saved["token"]},
        )
        report = data["partner"]["reportFile"]
        if report["status"] == "IN_PROGRESS":
            return None
        self.state.unlink()
        if report["status"] != "FINISHED":  # FAILED or EXPIRED: ask again next run
            return None
        revenue: dict[str, float] = {}
        for edge in report["downloadLinks"]["edges"]:
            text = requests.get(edge["node"]["link"], timeout=30).text  # no token needed
            for row in csv.DictReader(io.StringIO(text)):
                row = {k.lower(): v for k, v in row.items()}
                revenue[row["day"]] = revenue.get(row["day"], 0.0) + float(
                    row["estimated_earnings_eur"]
                )
        return revenue


# -- the Report class ------------------------------------------------------------------------


class Report:
    """Create a report, poll it every ``poll_interval`` seconds, read its rows."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        metrics: list[str],
        dimensions: list[str],
        start: str,
        end: str,
        *,
        base_url: str = PARTNER,
        poll_interval: float = 5.0,
        timeout: float = 7200.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.input = {"metrics": metrics, "dimensions": dimensions, "startDate": start,
                      "endDate": end}  # fmt: skip
        self.poll_interval, self.timeout = poll_interval, timeout
        self.session = requests.Session()
        r = self.session.post(
            self.base_url + "/oauth/v1/token",
            data={"client_id": client_id, "client_secret": client_secret,
                  "grant_type": "client_credentials", "scope": "create_reports"},
            timeout=30,
        )  # fmt: skip
        r.raise_for_status()
        self.session.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        self.report_token: str | None = None
        self.polls = 0

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        r = self.session.post(
            self.base_url + "/graphql", json={"query": query, "variables": variables}, timeout=30
        )
        r.raise_for_status()
        if "errors" in r.json():
            raise RuntimeError(r.json()["errors"][0]["message"])
        return dict(r.json()["data"])

    def create(self) -> str:
        data = self._query(
            "mutation ($input: AskPartnerReportFileInput!) {\n"
            "  askPartnerReportFile(input: $input) { reportFile { reportToken } }\n}",
            {"input": self.input},
        )
        self.report_token = data["askPartnerReportFile"]["reportFile"]["reportToken"]
        return self.report_token

    def wait(self) -> list[str]:
        deadline = time.monotonic() + self.timeout
        while True:
            data = self._query(
                "query ($reportToken: String!) { partner { reportFile(reportToken: $reportToken)"
                " { status downloadLinks { edges { node { link } } } } } }",
                {"reportToken": self.report_token},
            )
            self.polls += 1
            status = data["partner"]["reportFile"]["status"]
            if status == "FINISHED":
                edges = data["partner"]["reportFile"]["downloadLinks"]["edges"]
                return [e["node"]["link"] for e in edges]
            if status != "IN_PROGRESS":
                raise RuntimeError(f"report {status}")
            if time.monotonic() > deadline:
                raise TimeoutError("report still in progress")
            time.sleep(self.poll_interval)

    def rows(self) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for link in self.wait():
            out += list(csv.DictReader(io.StringIO(requests.get(link, timeout=30).text)))
        return out


# -- the analytics pipeline -------------------------------------------------------------------


def pipeline(base: str, key: str, secret: str, start: str, end: str) -> pd.DataFrame:
    """Hourly views and daily earnings per video, with titles, one row per (hour, video)."""
    token = requests.post(
        base + "/oauth/v1/token",
        data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret,
              "scope": "create_reports read_reports access_revenue read_videos"},
        timeout=30,
    ).json()["access_token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}

    def graphql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = requests.post(base + "/graphql", json={"query": query, "variables": variables},
                             headers=headers, timeout=30).json()  # fmt: skip
        assert "errors" not in body, body["errors"][0]["message"]
        return dict(body["data"])

    common = {"startDate": start, "endDate": end, "filters": None}
    asked = graphql(
        "mutation ($item: AskPartnerReportFileInput!, $money: AskPartnerReportFileInput!) {"
        " report1: askPartnerReportFile(input: $item) { reportFile { reportToken } }"
        " report2: askPartnerReportFile(input: $money) { reportFile { reportToken } } }",
        {"item": {**common, "metrics": ["VIEWS", "TIME_WATCHED_SECONDS"],
                  "dimensions": ["HOUR", "VIDEO_ID"]},
         "money": {**common, "metrics": ["ESTIMATED_EARNINGS_EUR"],
                   "dimensions": ["DAY", "VIDEO_ID"]}},
    )  # fmt: skip
    frames = {}
    for name in ("report1", "report2"):
        report_token = asked[name]["reportFile"]["reportToken"]
        while True:
            found = graphql(
                "query ($t:String!){partner{reportFile(reportToken:$t){status downloadLinks"
                "{edges{node{link}}}}}}",
                {"t": report_token},
            )["partner"]["reportFile"]
            if found["status"] == "FINISHED":
                break
            time.sleep(0.05)
        links = [e["node"]["link"] for e in found["downloadLinks"]["edges"]]
        frames[name] = pd.concat(
            [pd.read_csv(io.StringIO(requests.get(u, timeout=30).text)) for u in links],
            ignore_index=True,
        )
        frames[name].attrs["files"] = len(links)
    hourly, money = frames["report1"], frames["report2"]
    hourly["hour"] = pd.to_datetime(hourly["hour"], utc=True)
    hourly["day"] = hourly["hour"].dt.strftime("%Y-%m-%d")
    table = hourly.merge(money, on=["day", "video_id"], how="left")
    titles = {}
    for xid in table["video_id"].unique():
        answer = requests.post(base + f"/rest/video/{xid}", data={"fields": "id,title"},
                               headers=headers, timeout=30)  # fmt: skip
        titles[xid] = answer.json()["title"]
    table["title"] = table["video_id"].map(titles)
    table.attrs["files"] = (frames["report1"].attrs["files"], frames["report2"].attrs["files"])
    return table


# -- the tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=40, seed=21) as sandbox:
        yield sandbox


def _day(sb: Sandbox, back: int = 1) -> dt.date:
    return dt.datetime.fromtimestamp(sb.clock(), dt.UTC).date() - dt.timedelta(days=back)


def test_the_hourly_revenue_poller_across_runs(sb: Sandbox, tmp_path: Path) -> None:
    key = sb.credentials.private_key
    slug = requests.get(sb.url + f"/user/{key.channels[0]}?fields=username", timeout=10)
    state = tmp_path / "report.json"
    poller = RevenuePoller(sb.url, key.client_id, key.client_secret, slug.json()["username"], state)
    yesterday = _day(sb)
    assert poller.run(yesterday) is None and state.exists()  # run 1: asked
    assert poller.run(yesterday) is None and state.exists()  # run 2: still in progress
    sb.advance_clock(3600)  # an hour later
    revenue = poller.run(yesterday)  # run 3: collected
    assert revenue is not None and not state.exists()
    assert set(revenue) <= {str(yesterday - dt.timedelta(days=n)) for n in range(7)}
    assert sum(revenue.values()) > 0
    sb.fail_next_reports(1)
    assert poller.run(yesterday) is None
    sb.advance_clock(3600)
    assert poller.run(yesterday) is None and not state.exists()  # FAILED: forgotten
    assert poller.run(yesterday) is None  # asked again
    sb.advance_clock(3600)
    assert poller.run(yesterday) == revenue  # the same numbers as before


def test_the_report_class_polls_until_finished(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    sb.settings(report_delay=1)
    try:
        start, end = str(_day(sb, 14)), str(_day(sb))
        report = Report(key.client_id, key.client_secret, ["VIEWS", "VIEW_THROUGH_RATE"],
                        ["DAY", "VISITOR_COUNTRY"], start, end, base_url=sb.url,
                        poll_interval=0.1)  # fmt: skip
        assert report.create().startswith("emu_rpt_")
        rows = report.rows()
    finally:
        sb.settings(report_delay=5)
    assert report.polls >= 2  # it saw IN_PROGRESS, waited, polled again
    assert rows and set(rows[0]) == {"day", "visitor_country", "views", "view_through_rate"}
    assert {r["day"] for r in rows} <= {str(_day(sb, n)) for n in range(15)}
    failing = Report(key.client_id, key.client_secret, ["VIEWS"], ["DAY"], start, end,
                     base_url=sb.url, poll_interval=0.01)  # fmt: skip
    failing.create()
    sb.fail_report(str(failing.report_token))
    with pytest.raises(RuntimeError, match="FAILED"):
        failing.wait()
    refused = Report(key.client_id, key.client_secret, ["VIEWS"], ["DAY"], end, start,
                     base_url=sb.url)  # fmt: skip
    with pytest.raises(RuntimeError, match="before"):
        refused.create()


def test_the_analytics_pipeline_concatenates_several_files(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    start, end = str(_day(sb, 6)), str(_day(sb))
    sb.settings(report_delay=0, report_file_rows=5)
    try:
        table = pipeline(sb.url, key.client_id, key.client_secret, start, end)
        sb.settings(report_file_rows=100_000)
        whole = pipeline(sb.url, key.client_id, key.client_secret, start, end)
    finally:
        sb.settings(report_delay=5, report_file_rows=100_000)
    assert table.attrs["files"][0] > 1 and table.attrs["files"][1] >= 1
    assert whole.attrs["files"] == (1, 1)
    pd.testing.assert_frame_equal(table, whole)  # the files add up to the whole report
    assert str(table["hour"].dt.tz) == "UTC"
    assert table["title"].notna().all() and table["views"].gt(0).all()
    daily = table.groupby(["day", "video_id"])["views"].sum()
    token = requests.post(
        sb.url + "/oauth/v1/token",
        data={"grant_type": "client_credentials", "client_id": key.client_id,
              "client_secret": key.client_secret, "scope": "create_reports"},
        timeout=10,
    ).json()["access_token"]  # fmt: skip
    check = Report(key.client_id, key.client_secret, ["VIEWS"], ["DAY", "VIDEO_ID"], start, end,
                   base_url=sb.url, poll_interval=0.01)  # fmt: skip
    assert token
    sb.settings(report_delay=0)
    try:
        check.create()
        expected = {(r["day"], r["video_id"]): int(r["views"]) for r in check.rows()}
    finally:
        sb.settings(report_delay=5)
    assert {k: int(v) for k, v in daily.items()} == expected  # hours add up to days


def test_the_reporting_urls_are_discoverable(sb: Sandbox) -> None:
    assert sb.endpoints.graphql_url == sb.reporting.graphql_url == sb.url + "/graphql"
    assert sb.endpoints.partner_token_url == sb.reporting.token_url
    assert sb.credentials.reporting == sb.reporting
    assert sb.reporting.public_token_url == sb.url + "/graphql-api/oauth/token"
    from dmtools.config import Endpoints

    assert Endpoints().graphql_url == "https://partner.api.dailymotion.com/graphql"


def test_reports_and_the_clock_survive_a_restart_in_process_mode(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox(videos=20, seed=4, db_path=db, mode="process") as first:
        key = first.credentials.private_key
        first.advance_clock(7 * 86400)
        moved = first.clock()
        report = Report(key.client_id, key.client_secret, ["VIEWS"], ["DAY"],
                        str(_day(first, 29)), str(_day(first)), base_url=first.url)  # fmt: skip
        report.create()
    with Sandbox(videos=20, seed=4, db_path=db, mode="process") as again:
        assert again.clock() >= moved  # the clock kept its advance
        again.advance_clock(10)
        resumed = Report(key.client_id, key.client_secret, ["VIEWS"], ["DAY"], "", "",
                         base_url=again.url, poll_interval=0.01)  # fmt: skip
        resumed.report_token = report.report_token  # a token persisted by the client
        rows = resumed.rows()
        assert rows and all(r["day"] <= str(_day(again)) for r in rows)
