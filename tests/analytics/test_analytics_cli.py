"""``dmtools analytics`` (CSV and Parquet, never over a file without --force, never through
a symlink, errors before any request, reports picked up after an interruption) and the
Audience section of ``dmtools report``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from analytics_support import cli, client, graphql_requests, last_seq, load, today

import dmtools as dm
from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=150, seed=13) as sandbox:
        sandbox.settings(report_delay=0)  # commands wait in real time: no wait here
        yield sandbox


def test_analytics_writes_csv_and_parquet_with_the_frame_of_load_analytics(
    sb: Sandbox, tmp_path: Path
) -> None:
    args = ["--metrics", "views,time_watched_seconds,estimated_earnings_eur",
            "--dimensions", "day,video_id", "--days", "20", "--no-progress"]  # fmt: skip
    for name in ("out.csv", "out.parquet"):
        result = cli(sb, tmp_path, "analytics", tmp_path / name, *args)
        assert result.exit_code == 0, result.stderr
        assert f"to {tmp_path / name}" in result.stdout and "1 report" in result.stderr
    last = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    with client(sb) as c:
        expected = load(sb, c, ["views", "time_watched_seconds", "estimated_earnings_eur"],
                        "day video_id", start=last - dt.timedelta(days=19), end=last)  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), expected)
    text = pd.read_csv(tmp_path / "out.csv", dtype={"video_id": "string"})
    assert list(text.columns) == list(expected.columns) and len(text) == len(expected)
    assert (pd.to_datetime(text["day"], utc=True) == expected["day"]).all()
    assert text["views"].sum() == expected["views"].sum()
    assert os.stat(tmp_path / "data" / "reports.sqlite").st_mode & 0o777 == 0o600


def test_an_existing_file_or_a_symlink_is_never_written(sb: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "kept.csv"
    target.write_text("mine\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    for path in (target, link):
        result = cli(sb, tmp_path, "analytics", path, "--days", "3", "--no-progress")
        assert result.exit_code == 2 and target.read_text() == "mine\n"
    assert "--force" in result.stderr and "symbolic link" in result.stderr
    forced = cli(sb, tmp_path, "analytics", link, "--days", "3", "--force", "--no-progress")
    assert forced.exit_code == 2 and target.read_text() == "mine\n"
    replaced = cli(sb, tmp_path, "analytics", target, "--days", "3", "--force", "--no-progress")
    assert replaced.exit_code == 0 and target.read_text().startswith("day,views\n")


def test_bad_input_and_missing_scopes_exit_before_any_report_request(
    sb: Sandbox, tmp_path: Path
) -> None:
    seq = last_seq(sb)
    for args, needed in (
        (["--days", "2", "--metrics", "viewz"], "unknown metric 'viewz'"),
        (["--days", "2", "--dimensions", "hour", "--metrics", "estimated_earnings_usd"],
         "cannot be broken down"),
        (["--start", "2026-02-01", "--end", "2026-01-01"], "before the start"),
        (["--days", "2", "--filter", "colour=red"], "unknown filter 'colour'"),
        (["--start", "2026-01-01", "--days", "3"], "not both"),
        ([], "give --start DATE, or --days N"),
        (["--days", "3", "--tz", "Mars/Olympus"], "unknown zone"),
    ):  # fmt: skip
        result = cli(sb, tmp_path, "analytics", tmp_path / "x.csv", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert needed in result.stderr
    assert cli(sb, tmp_path, "analytics", tmp_path / "x.txt").exit_code == 2
    assert graphql_requests(sb, seq) == [] and not (tmp_path / "x.csv").exists()
    cli(sb, tmp_path, "login", "--sandbox-url", sb.url, creds="public")  # no report scopes
    saved = cli(sb, tmp_path, "analytics", tmp_path / "x.csv", "--days", "2", creds=None)
    assert saved.exit_code == 2 and "dmtools login --scope create_reports" in saved.stderr
    assert graphql_requests(sb, seq) == []


def test_a_command_picks_up_the_reports_of_an_interrupted_load(sb: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "data" / "reports.sqlite"
    sb.settings(report_delay=600)
    start, end = today(sb) - dt.timedelta(days=9), today(sb)
    try:
        with client(sb) as c, pytest.raises(KeyboardInterrupt):
            load(sb, c, "views", "day", start=start, end=end, state=state,
                 sleep=lambda s: (_ for _ in ()).throw(KeyboardInterrupt))  # fmt: skip
        sb.advance_clock(600)  # the report is finished meanwhile
        since = sb.clock()
        result = cli(sb, tmp_path, "analytics", tmp_path / "v.csv", "--start", start,
                     "--end", end, "--no-progress")  # fmt: skip
    finally:
        sb.settings(report_delay=0)
    assert result.exit_code == 0, result.stderr
    assert [r for r in sb.reports() if r["created_at"] >= since] == []  # nothing asked again


def test_report_adds_the_audience_section_when_the_login_allows_it(
    sb: Sandbox, tmp_path: Path
) -> None:
    plain = cli(sb, tmp_path, "report", "--out", tmp_path / "plain", "--no-progress")
    assert plain.exit_code == 0, plain.stderr
    assert "Audience section left out: this login has no access" in plain.stderr
    html = (tmp_path / "plain" / "report.html").read_text()
    assert "deprecated on 2026-03-09" in html
    rich = cli(sb, tmp_path, "report", "--out", tmp_path / "rich", "--audience", "--no-progress")
    assert rich.exit_code == 0, rich.stderr
    html = (tmp_path / "rich" / "report.html").read_text()
    assert "deprecated on 2026-03-09" not in html and "<h2>Audience, " in html
    assert (tmp_path / "rich" / "png" / "audience-views.png").exists()
    off = cli(sb, tmp_path, "report", "--out", tmp_path / "off", "--no-audience", "--no-progress")
    assert off.exit_code == 0 and "Audience section" not in off.stderr
    assert dm.analytics.SCOPES[0] == "create_reports"
