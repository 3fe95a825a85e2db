"""Hive-partitioned Parquet datasets: lossless round trips, append-only idempotent writes,
partition pruning (a filtered read never opens the other partitions), other engines."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from _support.history import analytics, videos

import dmtools as dm
from dmtools.history import History, HistoryConflict, read_dataset, write_analytics, write_videos
from dmtools.history._columns import VIDEO_COLUMNS


def _week(root: Path, profile: str = "xowner") -> list[Path]:
    return [
        write_videos(videos(4, owner=profile, views=10 * day), root, taken_at=f"2026-03-0{day}")
        for day in range(1, 8)
    ]


def test_a_video_frame_round_trips_through_the_dataset(tmp_path: Path) -> None:
    df = videos(9)
    path = write_videos(df, tmp_path, taken_at="2026-03-05T10:30:00Z")
    assert path.relative_to(tmp_path).parts[:3] == ("videos", "profile=xowner", "date=2026-03-05")
    back = read_dataset(tmp_path)
    assert set(back.profile) == {"xowner"} and set(map(str, back.date)) == {"2026-03-05"}
    assert (back.taken_at == pd.Timestamp("2026-03-05T10:30:00Z")).all()
    frame = dm.frames.conform(back.set_index("id")[list(df.columns)])
    pd.testing.assert_frame_equal(frame.sort_index(), df.sort_index())


def test_every_file_has_the_same_schema_whatever_the_frame_held(tmp_path: Path) -> None:
    small = write_videos(videos(2)[["title", "owner"]], tmp_path, taken_at="2026-03-01")
    full = write_videos(videos(2), tmp_path, taken_at="2026-03-02")
    assert pq.read_schema(small).remove_metadata() == pq.read_schema(full).remove_metadata()
    names = pq.read_schema(full).names
    assert names == ["taken_at", "id", *VIDEO_COLUMNS]
    assert str(pq.read_schema(full).field("created_time").type) == "timestamp[us, tz=UTC]"
    assert pq.read_schema(small).metadata[b"dmtools.fields"] == b"title,owner"


def test_appends_add_files_and_never_rewrite_old_ones(tmp_path: Path) -> None:
    paths = _week(tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in paths}
    again = _week(tmp_path)  # the same snapshots: nothing written
    assert again == paths and {p: p.stat().st_mtime_ns for p in paths} == stamps
    write_videos(videos(4, views=999), tmp_path, taken_at="2026-03-08")
    assert {p: p.stat().st_mtime_ns for p in paths} == stamps
    assert len(list(tmp_path.rglob("*.parquet"))) == 8


def test_different_content_for_an_existing_time_is_refused_unless_replaced(tmp_path: Path) -> None:
    path = write_videos(videos(3), tmp_path, taken_at="2026-03-01")
    changed = videos(3)
    changed.loc["x0001", "title"] = "Changed"
    with pytest.raises(HistoryConflict, match="replace=True"):
        write_videos(changed, tmp_path, taken_at="2026-03-01")
    assert read_dataset(tmp_path).title.tolist().count("Changed") == 0
    assert write_videos(changed, tmp_path, taken_at="2026-03-01", replace=True) == path
    assert "Changed" in read_dataset(tmp_path).title.tolist()
    assert not list(tmp_path.rglob("*.tmp"))


def test_filtered_reads_open_only_their_partitions(tmp_path: Path) -> None:
    paths = _week(tmp_path)
    _week(tmp_path, profile="other")
    for path in paths[:2] + paths[5:]:  # break every partition the filter rules out
        path.write_bytes(b"not parquet at all")
    middle = read_dataset(tmp_path, profile="xowner", start="2026-03-03", end="2026-03-05")
    assert sorted(set(map(str, middle.date))) == ["2026-03-03", "2026-03-04", "2026-03-05"]
    assert len(middle) == 12 and set(middle.profile) == {"xowner"}
    with pytest.raises(dm.InputError, match="(?i)cannot read the dataset.*parquet"):
        read_dataset(tmp_path, profile="xowner")  # the unfiltered read does hit them
    query = (
        f"SELECT count(*) FROM read_parquet('{tmp_path}/videos/**/*.parquet', "
        "hive_partitioning=true) WHERE profile = 'xowner' AND date BETWEEN '2026-03-03' AND '2026-03-05'"
    )
    assert duckdb.sql(query).fetchall() == [(12,)]  # DuckDB prunes the same way


def test_bad_profiles_and_kinds_are_refused_before_anything_is_touched(tmp_path: Path) -> None:
    with pytest.raises(dm.InputError, match="profile"):
        write_videos(videos(2), tmp_path, profile="../escape", taken_at="2026-03-01")
    assert not any(tmp_path.iterdir())
    with pytest.raises(dm.InputError, match="bad dataset kind"):
        read_dataset(tmp_path, "../../elsewhere")


def test_analytics_are_written_one_file_per_date_and_read_back(tmp_path: Path) -> None:
    frame = analytics(
        ["2026-03-01", "2026-03-01", "2026-03-02"], ["x0000", "x0001", "x0000"], [5, 0, 9]
    )
    written = write_analytics(frame, tmp_path, profile="xowner")
    assert [p.parent.name for p in written] == ["date=2026-03-01", "date=2026-03-02"]
    assert write_analytics(frame, tmp_path, profile="xowner") == written
    revised = frame.assign(views=pd.array([5, 0, 12], dtype="Int64"))
    with pytest.raises(HistoryConflict):
        write_analytics(revised, tmp_path, profile="xowner")
    write_analytics(revised, tmp_path, profile="xowner", replace=True)
    back = read_dataset(tmp_path, "day__video_id", start="2026-03-02")
    assert back.views.tolist() == [12] and str(back.views.dtype) == "Int64"
    assert str(back.day.dtype) == "datetime64[ns, UTC]"
    assert len(list((tmp_path / "analytics").rglob("*.parquet"))) == 2


def test_a_history_exports_its_snapshots_with_their_counters(tmp_path: Path) -> None:
    with History(":memory:") as history:
        for day in (1, 2, 3):
            history.snapshot(videos(3, views=day * 100), taken_at=f"2026-03-0{day}")
        history.add_analytics(analytics(["2026-03-01", "2026-03-02"], ["x0001"] * 2, [4, 6]))
        first = history.export(tmp_path / "lake")
        files = {p: p.stat().st_mtime_ns for p in (tmp_path / "lake").rglob("*.parquet")}
        assert history.export(tmp_path / "lake") == first
        assert {p: p.stat().st_mtime_ns for p in (tmp_path / "lake").rglob("*.parquet")} == files
        history.add_analytics(analytics(["2026-03-02"], ["x0001"], [7]))  # a revised day
        history.export(tmp_path / "lake")
    daily = read_dataset(tmp_path / "lake", "day__video_id")
    assert daily.views.tolist() == [4, 7]
    back = read_dataset(tmp_path / "lake")
    totals = back.groupby(back.date.astype(str)).views_total.sum()
    assert totals.to_dict() == {"2026-03-01": 303, "2026-03-02": 603, "2026-03-03": 903}
