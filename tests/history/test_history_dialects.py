"""A channel history on both API dialects: snapshots of one shape, views from the snapshots'
counters (legacy) or from the Reporting API (API v2, which has no view counts), the
simulated week's edit effect, and a clear error when a history holds no views at all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from _support.dialects import login

import dmtools as dm
from dmtools.history import History
from dmtools.history.demo import FIELDS, edited_vs_control, simulate_week
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=300, seed=7) as sandbox:
        yield sandbox


def _reports(sb: Sandbox, dialect: str) -> dm.Client:
    """The Reporting API login that goes with a ``dialect`` client: the demo user with the
    report scopes (legacy), the same private key's partner login (API v2)."""
    if dialect == "legacy":
        return connect_sandbox(sb, scope=[*dm.analytics.SCOPES, "manage_videos"])
    return connect_sandbox(sb, grant="client_credentials", scope=dm.analytics.SCOPES)


def _channel(client: dm.Client) -> pd.DataFrame:
    """One channel's default frame: the demo channel (legacy), the largest profile (v2)."""
    if client.dialect.name == "legacy":
        return dm.load_videos(client, progress=False)
    every = dm.load_videos(client, fields=["id", "owner"], progress=False)
    return dm.load_videos(client, profile=str(every.owner.mode()[0]), progress=False)


def test_snapshots_have_one_shape_and_fetched_views_are_the_channels_only(
    sb: Sandbox, dialect: str
) -> None:
    with login(sb, dialect) as client, _reports(sb, dialect) as reports:
        df = _channel(client)
        with History(":memory:") as history:
            history.snapshot(df, taken_at="2026-03-01")
            back = history.as_of("2026-03-01")
            assert list(back.columns) == list(df.columns)
            assert back.dtypes.astype(str).tolist() == df.dtypes.astype(str).tolist()
            end = datetime.now(UTC).date() - timedelta(days=1)
            loaded = history.fetch_views(reports, end=end, days=28, progress=False, state=False)
            stored = history.analytics(["day", "video_id"])
            assert loaded.table == "analytics__day__video_id" and loaded.stored == len(stored)
            every = dm.load_analytics(
                reports, "views", ["day", "video_id"], start=end - timedelta(27), end=end,
                progress=False, state=False,
            )  # fmt: skip
            mine = every[every.video_id.isin(df.index)]
            assert 0 < len(stored) == len(mine) and set(stored.video_id) <= set(df.index)
            assert stored.views.sum() == mine.views.sum()
            daily = history.views()
            assert set(daily.source) == {"analytics"} and daily.views.sum() == mine.views.sum()
            again = history.fetch_views(reports, end=end, days=28, progress=False, state=False)
            assert again.stored == 0  # the same days twice: nothing new


def test_a_history_without_views_says_where_they_come_from(sb: Sandbox, dialect: str) -> None:
    with login(sb, dialect) as client, History(":memory:") as history:
        df = _channel(client)
        history.snapshot(df, taken_at="2026-03-01")
        history.snapshot(df, taken_at="2026-03-02")
        if dialect == "legacy":  # the snapshots' counters are views (no change: zero)
            assert history.views().views.sum() == 0
            return
        assert df["views_total"].isna().all()  # API v2: the column is there, empty
        with pytest.raises(dm.InputError, match=r"no view counts .*history\.fetch_views"):
            history.views()
        with pytest.raises(dm.InputError, match="no views per video from the Reporting API"):
            history.views(source="analytics")


def test_the_simulated_week_shows_the_edit_against_a_control_group(
    sb: Sandbox, dialect: str, tmp_path: Path
) -> None:
    with (
        login(sb, dialect) as client,
        _reports(sb, dialect) as reports,
        History(tmp_path / "h.duckdb") as history,
    ):
        week = simulate_week(
            sb, client, history, journal=tmp_path / "w.journal", edited=10, reports=reports
        )
        assert len(week.snapshots) == 7 and week.result.counts()["applied"] == 10
        assert len(week.edited) == len(week.control) == 10
        frame = history.as_of(week.snapshots[-1].taken_at)
        assert list(frame.columns) == [c for c in dm.frames.frame_dtypes(FIELDS)]
        assert str(frame["views_total"].dtype) == "Int64"
        effect = history.edit_effect([week.journal], days=3)
        assert sorted(effect.video_id) == sorted(week.edited)
        assert (effect.days_before > 0).all() and (effect.days_after > 0).all()
        table = edited_vs_control(history, week)
        lift = (1 + table.loc["edited", "change"]) / (1 + table.loc["control", "change"])
        found = history.changes(
            week.snapshots[0].taken_at, week.snapshots[-1].taken_at, journals=[tmp_path]
        )
        assert set(found.video_id) == set(week.edited) and found.plan.notna().all()
        if dialect == "legacy":
            assert set(effect.source) == {"snapshots"} and frame["views_total"].notna().all()
            assert lift == pytest.approx(1.5, abs=0.02)
            return
        assert set(effect.source) == {"analytics"} and frame["views_total"].isna().all()
        assert week.profile in sb.credentials.private_key.channels
        assert lift == pytest.approx(1.5, abs=0.2)  # daily views: weekdays and noise
        days = history.views(ids=week.edited)
        assert days.start.dt.normalize().nunique() == 6  # 3 days before, the edit's, 2 after
    commits = [c for c in sb.commits() if c["video_id"] in week.edited]
    assert len(commits) >= 10


def test_the_simulated_week_on_api_v2_needs_a_reports_login(sb: Sandbox, tmp_path: Path) -> None:
    with login(sb, "v2") as client, History(":memory:") as history:
        with pytest.raises(dm.InputError, match="pass reports="):
            simulate_week(sb, client, history, journal=tmp_path / "w.journal")
        assert history.snapshots().empty
