"""``dmtools history``: snapshots, listing, point-in-time, changes, effect, export, demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from _support.cli import Cli, first_error_line

import dmtools as dm
from dmtools.history import History, read_dataset
from dmtools.testing import connect_sandbox


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_history_from_the_command_line(cli: Cli) -> None:
    before, after = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    first = cli("history", "snapshot", "--at", _iso(before), "--no-progress", creds="public")
    assert first.exit_code == 0, first.stderr
    assert "Stored snapshot 1 of" in first.stdout and "(120 videos)" in first.stdout
    again = cli("history", "snapshot", "--at", _iso(before), "--no-progress", creds="public")
    assert again.exit_code == 0 and "Already stored: snapshot 1" in again.stdout
    with connect_sandbox(cli.sb) as client:
        df = dm.load_videos(client, progress=False)
        edited = df.copy()
        edited.loc[df.index[:3], "title"] = "Retitled by a plan"
        plan = dm.plan_edits(df, edited)
        plan.apply(client, journal=cli.work / "retitle.journal", progress=False)
    second = cli("history", "snapshot", "--at", _iso(after), "--no-progress", creds="public")
    assert "Stored snapshot 2" in second.stdout

    listing = cli("history", "list")
    rows = [line.split() for line in listing.stdout.splitlines()[2:]]
    assert listing.exit_code == 0 and [r[0] for r in rows] == ["1", "2"]
    assert {r[4] for r in rows} == {"120"}  # snapshot_id, profile, taken_at (2 words), videos

    changes = cli(
        "history", "changes", _iso(before), _iso(after), "--journal", ".", "--out", "changes.csv"
    )
    assert changes.exit_code == 0, changes.stderr
    assert "3 changes, 3 made by a bulk job" in changes.stderr
    table = pd.read_csv(cli.work / "changes.csv")
    assert set(table.plan) == {plan.fingerprint} and set(table.after) == {"Retitled by a plan"}

    old = cli("history", "as-of", _iso(before), "--out", "then.csv")
    assert old.exit_code == 0 and "Wrote 120 videos" in old.stdout
    assert "Retitled by a plan" not in set(dm.read_csv(cli.work / "then.csv").title)

    effect = cli("history", "effect", "retitle.journal", "--days", "2")
    assert effect.exit_code == 0, effect.stderr
    assert "3 videos edited" in effect.stderr

    export = cli("history", "export", "lake")
    assert (
        export.exit_code == 0
        and "2 snapshots" in export.stdout
        and "(2 written now)" in export.stdout
    )
    assert len(read_dataset(cli.work / "lake")) == 240


def test_history_commands_say_what_is_wrong(cli: Cli) -> None:
    missing = cli("history", "list", "--db", "nowhere.duckdb")
    assert missing.exit_code == 2
    assert "no history at" in first_error_line(missing)
    with History(cli.work / "h.duckdb") as history:
        history.snapshot(
            dm.to_frame([{"id": "x1", "owner": "me", "title": "a"}]), taken_at="2026-03-02"
        )
    early = cli("history", "changes", "2026-03-01", "2026-03-05", "--db", "h.duckdb")
    assert early.exit_code == 2 and "no snapshot of 'me' at or before 2026-03-01" in early.stderr
    bad = cli("history", "as-of", "not a date", "--db", "h.duckdb")
    assert bad.exit_code == 2 and "when" in first_error_line(bad)
    cli.sb.clear_logs()
    late = cli("history", "snapshot", "--at", "someday", "--no-progress", creds="public")
    assert late.exit_code == 2 and "--at" in first_error_line(late)
    (cli.work / "notes.txt").write_text("my notes")
    other = cli("history", "snapshot", "--db", "notes.txt", "--no-progress", creds="public")
    assert other.exit_code == 2 and "not a DuckDB file" in first_error_line(other)
    assert cli.sb.request_log() == []  # bad input: not a single request
    assert (cli.work / "notes.txt").read_text() == "my notes"


def test_the_demo_shows_a_week_and_the_effect_of_the_edit(cli: Cli) -> None:
    result = cli("history", "demo", "--db", "demo.duckdb", "--videos", "80", "--edited", "5")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("snapshot") >= 7 and "day +3" in result.stdout
    assert "5 titles changed" in result.stdout and "5 attributed to the plan" in result.stdout
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert abs(float(lines["edited"][-1]) - 0.5) < 0.03 and float(lines["control"][-1]) == 0.0
    again = cli("history", "demo", "--db", "demo.duckdb")
    assert again.exit_code == 2 and "exists" in again.stderr


def test_the_demo_on_api_v2_reads_the_views_from_the_reporting_api(cli: Cli) -> None:
    result = cli("history", "demo", "--db", "v2.duckdb", "--edited", "10", "--api", "v2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("snapshot") >= 7 and "10 titles changed" in result.stdout
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    edited, control = float(lines["edited"][-1]), float(lines["control"][-1])
    assert (1 + edited) / (1 + control) == pytest.approx(1.5, abs=0.2)  # daily views vary
    with History(cli.work / "v2.duckdb") as history:
        assert history.as_of(history.snapshots().taken_at.max())["views_total"].isna().all()
    wrong = cli("history", "demo", "--db", "x.duckdb", "--api", "v3")
    assert wrong.exit_code == 2 and not (cli.work / "x.duckdb").exists()


def test_an_api_v2_history_gets_its_views_from_the_reporting_api(cli: Cli) -> None:
    """v2 snapshots hold no view counts: ``history views`` fetches the daily views per video
    with the same private key's partner login, and the store reads them."""
    cli.sb.settings(report_delay=0)  # commands wait in real time: no wait here
    profile = cli.sb.credentials.private_key.profiles[0]
    snap = cli("history", "snapshot", "--profile", profile, "--no-progress", creds="v2")
    assert snap.exit_code == 0, snap.stderr
    with History(cli.work / "history.duckdb") as history:
        no_views = history.snapshots()
    assert list(no_views.profile) == [profile]
    fetched = cli("history", "views", "--days", "7", "--no-progress", creds="v2")
    assert fetched.exit_code == 0, fetched.stderr
    assert f"rows of daily views per video of {profile} (7 days)" in fetched.stdout
    tokens = [e["path"] for e in cli.sb.request_log() if "token" in e["path"]]
    assert "/oauth/v1/token" in tokens  # the partner login of the same key
    with History(cli.work / "history.duckdb") as history:
        daily = history.views()
    assert len(daily) > 0 and daily.views_per_day.notna().all()
    again = cli("history", "views", "--days", "7", "--no-progress", creds="v2")
    assert again.exit_code == 0 and "Stored 0 of" in again.stdout  # identical rows once
    other = cli("history", "views", "--db", "empty.duckdb", "--no-progress", creds="v2")
    assert other.exit_code == 2 and "history snapshot" in first_error_line(other)
    assert not (cli.work / "empty.duckdb").exists()
