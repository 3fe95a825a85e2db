"""Changes between dates attributed to the bulk jobs that made them (journals read-only),
and views before and after an edit, on a sandbox."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import dmtools as dm
from dmtools.history import History, read_journals
from dmtools.history.demo import edited_vs_control, simulate_week
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

FIELDS = ["id", "title", "tags", "private", "owner", "created_time", "views_total"]


@pytest.fixture()
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=120, seed=13) as sandbox:
        yield sandbox


def _snap(history: History, client: dm.Client, when: datetime) -> pd.DataFrame:
    df = dm.load_videos(client, fields=FIELDS, progress=False)
    history.snapshot(df, taken_at=when)
    return df


def test_changes_are_attributed_to_the_plan_that_made_them(sb: Sandbox, tmp_path: Path) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=1)
    with connect_sandbox(sb) as client, History(tmp_path / "h.duckdb") as history:
        df = _snap(history, client, t0)
        ids = df.index[:6].tolist()
        edited = df.copy()
        edited.loc[ids[:3], "title"] = "Planned title"
        edited.loc[ids[3], "tags"] = ["planned"]
        plan = dm.plan_edits(df, edited)
        result = plan.apply(client, journal=tmp_path / "a.journal", progress=False)
        assert result.counts()["applied"] == 4
        sb.edit_video(ids[4], title="Changed in the web interface")  # outside dmtools
        dm.plan_deletes(df.loc[[ids[5]]], snapshot=df).apply(
            client,
            confirm=1,
            journal=tmp_path / "d.journal",
            export_path=tmp_path / "deleted.json",
            progress=False,
        )
        sb.add_videos(1)
        _snap(history, client, datetime.now(UTC) + timedelta(seconds=1))
        found = history.changes(t0, datetime.now(UTC) + timedelta(days=1), journals=[tmp_path])
    by = {
        (r.video_id, r.change, None if pd.isna(r.field) else r.field): r for r in found.itertuples()
    }
    for video in ids[:3]:
        row = by[(video, "edited", "title")]
        assert (row.before, row.after) == (df.loc[video, "title"], "Planned title")
        assert row.plan == plan.fingerprint and row.matches and row.journal.endswith("a.journal")
    assert by[(ids[3], "edited", "tags")].after == ["planned"]
    outside = by[(ids[4], "edited", "title")]
    assert pd.isna(outside.plan) and pd.isna(outside.matches)  # no job explains it
    deleted = by[(ids[5], "deleted", None)]
    assert deleted.journal.endswith("d.journal") and deleted.matches
    assert sum(1 for key in by if key[1] == "added") == 1
    assert len(found) == 3 + 1 + 1 + 1 + 1  # nothing else: views and updated_time are no change


def test_a_value_changed_again_after_the_plan_does_not_match_it(
    sb: Sandbox, tmp_path: Path
) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=1)
    with connect_sandbox(sb) as client, History(":memory:") as history:
        df = _snap(history, client, t0)
        video = df.index[0]
        edited = df.copy()
        edited.loc[video, "title"] = "From the plan"
        dm.plan_edits(df, edited).apply(client, journal=tmp_path / "a.journal", progress=False)
        sb.edit_video(video, title="Then by hand")
        _snap(history, client, datetime.now(UTC) + timedelta(seconds=1))
        row = history.changes(t0, datetime.now(UTC) + timedelta(days=1), journals=[tmp_path]).iloc[
            0
        ]
    assert row.after == "Then by hand" and not pd.isna(row.plan) and row["matches"] == False  # noqa: E712 (a numpy/pandas boolean, not NA)


def test_every_snapshot_shows_a_change_that_was_undone(sb: Sandbox, tmp_path: Path) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=1)
    with connect_sandbox(sb) as client, History(":memory:") as history:
        df = _snap(history, client, t0)
        edited = df.copy()
        edited.loc[df.index[0], "private"] = not df.loc[df.index[0], "private"]
        result = dm.plan_edits(df, edited).apply(
            client, journal=tmp_path / "a.journal", progress=False
        )
        _snap(history, client, datetime.now(UTC))  # after the edit, before the undo
        result.undo_plan().apply(client, journal=tmp_path / "undo.journal", progress=False)
        _snap(history, client, datetime.now(UTC) + timedelta(seconds=1))
        end = datetime.now(UTC) + timedelta(days=1)
        assert history.changes(t0, end).empty  # net: nothing changed
        steps = history.changes(t0, end, journals=[tmp_path], every_snapshot=True)
    assert steps.field.tolist() == ["private", "private"]
    assert [Path(j).name for j in steps.journal] == ["a.journal", "undo.journal"]


def test_journals_are_read_by_column_name_and_never_written(sb: Sandbox, tmp_path: Path) -> None:
    with connect_sandbox(sb) as client:
        df = dm.load_videos(client, fields=FIELDS, progress=False)
        edited = df.copy()
        edited.loc[df.index[:2], "title"] = "x"
        dm.plan_edits(df, edited).apply(client, journal=tmp_path / "a.journal", progress=False)
    future = tmp_path / "future.journal"
    shutil.copy(tmp_path / "a.journal", future)
    with sqlite3.connect(future) as db:  # a later format: more columns, in another order
        db.execute("ALTER TABLE ops ADD COLUMN row_digest TEXT DEFAULT 'abc'")
        db.execute("INSERT INTO header VALUES ('digests', '\"blake2b\"')")
    before = future.read_bytes()
    ops = read_journals([future])
    assert future.read_bytes() == before
    assert ops.state.tolist() == ["applied", "applied"] and set(ops.field) == {"title"}
    assert ops.applied_at.notna().all() and str(ops.applied_at.dtype) == "datetime64[ns, UTC]"
    (tmp_path / "notes.txt").write_text("not a journal")
    with pytest.raises(dm.InputError, match="not a readable dmtools journal"):
        read_journals([tmp_path / "notes.txt"])
    with pytest.raises(dm.InputError, match="does not exist"):
        read_journals([tmp_path / "missing.journal"])


def test_a_simulated_week_shows_the_effect_of_a_bulk_edit_on_views(
    sb: Sandbox, tmp_path: Path
) -> None:
    with connect_sandbox(sb) as client, History(":memory:") as history:
        week = simulate_week(
            sb, client, history, journal=tmp_path / "w.journal", edited=10, lift=1.5
        )
        assert len(week.snapshots) == 7 and week.result.counts()["applied"] == 10
        effect = history.edit_effect([week.journal], days=3)
        assert sorted(effect.video_id) == sorted(week.edited)
        assert ((effect.change - 0.5).abs() < 0.03).all()  # 1.5 times (to whole views)
        assert (effect.days_before > 0).all() and (effect.days_after > 0).all()
        table = edited_vs_control(history, week)
        assert table.loc["edited", "change"] == pytest.approx(0.5, abs=0.02)
        assert table.loc["control", "change"] == pytest.approx(0.0, abs=1e-9)
        found = history.changes(
            week.snapshots[0].taken_at, week.snapshots[-1].taken_at, journals=[tmp_path]
        )
        assert set(found.video_id) == set(week.edited) and found.plan.notna().all()
