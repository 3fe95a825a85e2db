"""The frame layer as one package: cell values owned once (one internal error, an InputError
naming the cell at every edge, dates of any year included), one suffix table for every
reader and writer, and the old import paths still working."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dmtools as dm
from dmtools import cells, fileio, frames
from dmtools.bulk._files import read_edited_file
from dmtools.errors import InputError
from dmtools.frames._cells import PARSERS, BadCell, parse

FAR = [
    datetime(9999, 1, 1),
    datetime(1, 1, 1),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    date(9999, 1, 1),
    np.datetime64("9999-01-01"),
    np.datetime64("0001-01-01T00:00:00", "s"),
    pd.Timestamp("9999-01-01"),
    "9999-01-01T00:00:00Z",
    "0001-01-01",
]


@pytest.mark.parametrize("value", FAR, ids=repr)
def test_a_date_past_what_a_frame_holds_is_an_input_error_naming_the_cell(value: Any) -> None:
    with pytest.raises(InputError) as caught:
        dm.to_frame([{"id": "x1", "title": "a"}, {"id": "x2", "created_time": value}])
    assert [(p.row, p.column) for p in caught.value.problems] == [("x2", "created_time")]
    assert "date" in caught.value.problems[0].reason
    with pytest.raises(InputError, match="created_time"):
        frames.canonical("created_time", value)


def test_dates_in_range_keep_their_exact_second_whatever_their_type() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 600_000)  # rounds up to :06
    paris = timezone(timedelta(hours=1))
    seconds = 1704164646
    for value in (
        moment,
        moment.replace(tzinfo=UTC),
        (moment + timedelta(hours=1)).replace(tzinfo=paris),
        np.datetime64(moment),
        pd.Timestamp(moment),
        "2024-01-02T03:04:05.6Z",
        seconds,
    ):
        assert frames.canonical("created_time", value) == seconds, value
    assert frames.canonical("created_time", date(2262, 4, 11)) == 9_223_286_400
    df = dm.to_frame([{"id": "x1", "created_time": datetime(2262, 4, 11)}])
    assert df.loc["x1", "created_time"] == pd.Timestamp("2262-04-11", tz="UTC")


HOSTILE: list[Any] = [
    10**400,
    -(10**30),
    float("inf"),
    float("nan"),
    Decimal("1e999999"),
    object(),
    b"\xff\xfe",
    {"a": 1},
    [1, 2],
    "\ud800",
    complex(1, 2),
    np.float64("inf"),
    np.datetime64("NaT"),
]


@pytest.mark.parametrize("kind", sorted(k for k in PARSERS if k != "object"))
def test_parsers_raise_only_the_one_internal_error(kind: str) -> None:
    for value in HOSTILE:
        try:
            parse(kind, value)
        except BadCell as exc:
            assert exc.reason and isinstance(exc, ValueError)


def test_the_planner_reports_a_bad_cell_with_its_row_and_column() -> None:
    df = dm.to_frame([{"id": "x1", "title": "a", "private": False}], fields=["title", "private"])
    edited = df.astype(object)
    edited.loc["x1", "private"] = 10**400
    with pytest.raises(InputError) as caught:
        dm.plan_edits(df, edited)
    assert [(p.row, p.column) for p in caught.value.problems] == [("x1", "private")]


def test_one_id_normaliser_serves_frames_and_plans() -> None:
    unnamed = pd.DataFrame({"title": ["a", "b"]}, index=["x1", "x2"])  # ids as text, no name
    assert frames.conform(unnamed).index.tolist() == ["x1", "x2"]
    assert dm.plan_edits(unnamed, unnamed).summary()["unchanged_rows"] == 2
    with pytest.raises(InputError, match="no video id"):
        frames.conform(pd.DataFrame({"title": ["a"]}))
    problems: list[Any] = []
    assert frames.index_by_id(pd.DataFrame({"title": ["a"]}), "the frame", problems) is None
    assert problems and problems[0].column == "id"


def _frame() -> pd.DataFrame:
    return dm.to_frame(
        [
            {"id": "x1", "title": "=1+1", "tags": ["a, b"], "private": True},
            {"id": "x2", "title": "plain", "tags": [], "private": False},
        ],
        fields=["title", "tags", "private"],
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".pq"])
def test_every_reader_and_writer_agrees_on_every_suffix(tmp_path: Path, suffix: str) -> None:
    df = _frame()
    path = tmp_path / f"videos{suffix}"
    frames.export_frame(df, path)
    pd.testing.assert_frame_equal(frames.import_frame(path), df)
    pd.testing.assert_frame_equal(read_edited_file(path), df)
    edited = df.copy()
    edited.loc["x2", "title"] = "changed"
    frames.export_frame(edited, path)
    plan = dm.plan_edits(df, path)  # the planner reads the same suffixes
    assert [op.changes for op in plan.ops] == [{"title": ("plain", "changed")}]


def test_a_suffix_no_format_has_is_refused_the_same_way_everywhere(tmp_path: Path) -> None:
    df = _frame()
    for call in (
        lambda p: frames.export_frame(df, p),
        lambda p: frames.import_frame(p),
        lambda p: read_edited_file(p),
    ):
        with pytest.raises(InputError, match=r"\.csv, \.xlsx"):
            call(tmp_path / "videos.txt")
    with pytest.raises(InputError, match="cannot write"):
        frames.export_frame(df, tmp_path / "videos.json")  # JSON records: delete backups only
    assert list(tmp_path.iterdir()) == []


def test_exports_are_written_whole_with_the_users_usual_mode(tmp_path: Path) -> None:
    df = _frame()
    target = tmp_path / "videos.csv"
    dm.write_csv(df, target)
    with pytest.raises(InputError, match="already exists"):
        dm.write_csv(df, target, overwrite=False)
    bad = df.astype(object)
    bad.loc["x1", "private"] = "perhaps"
    with pytest.raises(InputError):
        dm.write_excel(bad, tmp_path / "bad.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["videos.csv"]  # nothing partial
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode & 0o600 == 0o600 and mode & 0o022 == 0  # the umask applies, as for any file


def test_the_old_import_paths_are_the_same_objects() -> None:
    assert cells.canonical is frames.canonical and cells.PARSERS is frames.PARSERS
    assert fileio.read_csv is frames.read_csv is dm.read_csv
    assert fileio.export_frame is frames.export_frame
    assert fileio.FORMAT_VERSION == frames.FORMAT_VERSION == 2
    assert not hasattr(frames, "__getattr__")  # no lazy cycle between frames and files
