"""The DuckDB history store: idempotent append-only snapshots, point-in-time queries,
Reporting API frames, bad input refused before any write."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from _support.history import analytics, videos

import dmtools as dm
from dmtools.history import History, HistoryConflict
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


def _counts(history: History) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        history.rows(f"SELECT count(*) FROM {t}")[0][0]
        for t in ("snapshots", "versions", "snapshot_videos")
    )


def test_the_same_snapshot_twice_stores_once() -> None:
    with History(":memory:") as history:
        df = videos(5)
        first = history.snapshot(df, taken_at="2026-03-01")
        again = history.snapshot(df.copy(), taken_at="2026-03-01T00:00:00Z")
        assert first.stored and not again.stored
        assert again.snapshot_id == first.snapshot_id
        assert _counts(history) == (1, 5, 5)


def test_a_different_frame_at_a_time_already_taken_is_refused_and_nothing_is_written() -> None:
    with History(":memory:") as history:
        history.snapshot(videos(5), taken_at="2026-03-01")
        changed = videos(5)
        changed.loc["x0001", "title"] = "Another title"
        with pytest.raises(HistoryConflict, match="append-only"):
            history.snapshot(changed, taken_at="2026-03-01")
        assert _counts(history) == (1, 5, 5)


def test_an_unchanged_channel_costs_no_rows_and_versions_are_shared() -> None:
    with History(":memory:") as history:
        df = videos(4)
        history.snapshot(df, taken_at="2026-03-01")
        history.snapshot(df, taken_at="2026-03-02")  # nothing moved: no rows at all
        assert _counts(history) == (2, 4, 4)
        df["views_total"] = df["views_total"] + 10  # views moved, metadata did not
        history.snapshot(df, taken_at="2026-03-03")
        assert _counts(history) == (3, 4, 8)
        assert history.snapshots().shares_rows_of.tolist() == [pd.NA, 1, pd.NA]


def test_as_of_returns_the_latest_snapshot_at_or_before_the_time_with_load_videos_dtypes() -> None:
    with History(":memory:") as history:
        monday, tuesday = videos(6), videos(6, views=100)
        tuesday.loc["x0002", "title"] = "Renamed on Tuesday"
        tuesday.loc["x0003", "tags"] = ["new"]
        history.snapshot(monday, taken_at="2026-03-02T08:00:00Z")
        history.snapshot(tuesday, taken_at="2026-03-03T08:00:00Z")
        on_monday = history.as_of("2026-03-02")  # a date: the end of that day
        pd.testing.assert_frame_equal(on_monday.sort_index(), monday.sort_index())
        assert history.as_of("2026-03-03T07:59:59Z").loc["x0002", "title"] == "Video 2"
        on_tuesday = history.as_of("2026-03-03T08:00:00+00:00")
        assert on_tuesday.loc["x0002", "title"] == "Renamed on Tuesday"
        assert on_tuesday.loc["x0003", "tags"] == ["new"]
        assert on_tuesday.dtypes.equals(monday.dtypes)
        assert history.as_of("2026-03-09", ids=["x0001"]).index.tolist() == ["x0001"]
        with pytest.raises(dm.InputError, match="no snapshot"):
            history.as_of("2026-03-01")


def test_timeline_shows_one_video_through_time() -> None:
    with History(":memory:") as history:
        for day in range(1, 4):
            df = videos(3, views=day * 10)
            if day == 3:
                df.loc["x0001", "title"] = "Third title"
            history.snapshot(df, taken_at=f"2026-03-0{day}")
        line = history.timeline("x0001", fields=["title", "views_total"])
        assert line.title.tolist() == ["Video 1", "Video 1", "Third title"]
        assert line.views_total.tolist() == [11, 21, 31]
        assert str(line.index.dtype) == "datetime64[ns, UTC]"
        with pytest.raises(dm.InputError, match="unknown columns"):
            history.timeline("x0001", fields=["title", "colour"])


def test_frames_with_fewer_fields_keep_their_own_columns() -> None:
    with History(":memory:") as history:
        small = videos(3)[["title", "owner", "views_total"]]
        history.snapshot(small, taken_at="2026-03-01")
        back = history.as_of("2026-03-01")
        assert list(back.columns) == ["title", "owner", "views_total"]


def test_bad_frames_are_refused_before_any_write() -> None:
    with History(":memory:") as history:
        twice = pd.concat([videos(2), videos(2)])
        with pytest.raises(dm.InputError, match="repeats video ids"):
            history.snapshot(twice, taken_at="2026-03-01")
        mixed = videos(2)
        mixed.loc["x0001", "owner"] = "someone-else"
        with pytest.raises(dm.InputError, match="2 owners"):
            history.snapshot(mixed, taken_at="2026-03-01")
        with pytest.raises(dm.InputError, match="unknown video field"):
            history.snapshot(videos(2).assign(colour="red"), taken_at="2026-03-01")
        with pytest.raises(dm.InputError, match="taken_at"):
            history.snapshot(videos(2), taken_at="the day before yesterday")
        assert _counts(history) == (0, 0, 0)
        stored = history.snapshot(mixed, taken_at="2026-03-01", profile="org")
        assert stored.profile == "org" and _counts(history)[0] == 1


def test_a_history_file_persists_and_opens_read_only(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    with History(path) as history:
        history.snapshot(videos(3), taken_at="2026-03-01")
    with History(path, read_only=True) as history:
        assert len(history.as_of("2026-03-01")) == 3
        with pytest.raises(dm.InputError, match="read-only"):
            history.snapshot(videos(3), taken_at="2026-03-02")
    with pytest.raises(dm.InputError, match="no history"):
        History(tmp_path / "missing.duckdb", read_only=True)


def test_a_duckdb_file_that_is_not_a_history_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(dm.InputError, match="not a dmtools history"):
        History(path)


def test_a_file_that_is_not_duckdb_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "videos.csv"
    path.write_bytes(b"id,title\nx1,Hello\n")
    with pytest.raises(dm.InputError, match="not a DuckDB file"):
        History(path)
    assert path.read_bytes() == b"id,title\nx1,Hello\n"


def test_what_is_not_a_frame_or_a_time_range_is_refused() -> None:
    with History(":memory:") as history:
        with pytest.raises(dm.InputError, match="not str"):
            history.snapshot("videos.csv", taken_at="2026-03-01")  # type: ignore[arg-type]
        history.snapshot(videos(2), taken_at="2026-03-01")
        with pytest.raises(dm.InputError, match="not list"):
            history.add_analytics([1, 2])  # type: ignore[arg-type]
        with pytest.raises(dm.InputError, match="earlier than start"):
            history.changes("2026-03-05", "2026-03-01")


def test_several_profiles_need_a_profile_argument() -> None:
    with History(":memory:") as history:
        history.snapshot(videos(2, owner="a"), taken_at="2026-03-01")
        history.snapshot(videos(2, owner="b"), taken_at="2026-03-01")
        with pytest.raises(dm.InputError, match="several profiles"):
            history.as_of("2026-03-01")
        assert len(history.as_of("2026-03-01", profile="b")) == 2


def test_analytics_frames_are_stored_once_and_revisions_win() -> None:
    with History(":memory:") as history:
        history.snapshot(videos(2), taken_at="2026-03-01")
        frame = analytics(
            ["2026-03-01", "2026-03-01", "2026-03-02"], ["x0000", "x0001"] + ["x0000"], [5, 7, 9]
        )
        assert history.add_analytics(frame).stored == 3
        assert history.add_analytics(frame.copy()).stored == 0
        revised = frame.copy()
        revised.loc[2, "views"] = 12
        assert history.add_analytics(revised).stored == 1
        back = history.analytics(["day", "video_id"])
        assert back.views.tolist() == [5, 7, 12]
        assert back.time_watched_seconds.tolist() == [150, 210, 270]  # earlier value kept
        assert str(back.views.dtype) == "Int64" and str(back.day.dtype) == "datetime64[ns, UTC]"
        assert back.view_through_rate.dtype == "float64"
        march2 = history.analytics(["video_id", "day"], start="2026-03-02", end="2026-03-03")
        assert march2.views.tolist() == [12]


def test_bad_analytics_frames_are_refused_with_every_problem_and_nothing_written() -> None:
    with History(":memory:") as history:
        history.snapshot(videos(2), taken_at="2026-03-01")
        frame = analytics(["2026-03-01", "2026-03-01"], ["x0000", "x0000"], [1, 2])
        with pytest.raises(dm.InputError, match="repeats the dimensions"):
            history.add_analytics(frame)
        naive = analytics(["2026-03-01"], ["x0000"], [1])
        naive["day"] = naive["day"].dt.tz_localize(None)
        naive["views"] = ["many"]
        with pytest.raises(dm.InputError) as caught:
            history.add_analytics(naive.rename(columns={"video_id": "Video Id"}))
        columns = {p.column for p in caught.value.problems}
        assert {"day", "views", "Video Id"} <= columns
        assert (
            history.rows(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'analytics__%'"
            )[0][0]
            == 0
        )


def test_views_come_from_analytics_when_stored_else_from_snapshots() -> None:
    with History(":memory:") as history:
        for day, views in ((1, 0), (2, 10), (4, 50)):
            history.snapshot(videos(2, views=views), taken_at=f"2026-03-0{day}")
        from_snapshots = history.views(ids=["x0001"])
        assert from_snapshots.views.tolist() == [10, 40]
        assert from_snapshots.views_per_day.tolist() == [10.0, 20.0]
        assert set(from_snapshots.source) == {"snapshots"}
        history.add_analytics(analytics(["2026-03-02", "2026-03-03"], ["x0001", "x0001"], [11, 19]))
        daily = history.views(ids=["x0001"])
        assert daily.views.tolist() == [11, 19] and set(daily.source) == {"analytics"}
        assert history.views(ids=["x0001"], source="snapshots").views.tolist() == [10, 40]


def test_a_snapshot_of_a_sandbox_channel_reads_back_equal() -> None:
    with (
        Sandbox(videos=250, seed=11) as sb,
        connect_sandbox(sb) as client,
        History(":memory:") as history,
    ):
        df = dm.load_videos(client, fields="all", progress=False)
        snap = history.snapshot(df, taken_at="2026-03-01")
        assert snap.profile == client.account_id and snap.videos == 250
        pd.testing.assert_frame_equal(history.as_of("2026-03-01"), df)


def test_importing_the_history_and_the_cli_loads_no_engine() -> None:
    import subprocess
    import sys

    code = (
        "import sys, dmtools.history, dmtools.cli, dmtools.spark; "
        "print(sorted({'duckdb', 'pandas', 'pyspark', 'pyarrow'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
