"""Hostile spreadsheets cost time and memory in proportion to what they really hold.

A small ``.xlsx`` with far-away sparse cells made openpyxl's row iterator build every empty
cell up to the farthest one (about 20 s and 1.6 GB for 67 KB); a CSV with millions of blank
lines or one huge field was read whole. The readers now keep only filled rows and stop at
documented limits with an error naming the cell, the line or the limit. Memory is measured
with tracemalloc (Python allocations, the part that grew with the empty cells).
"""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dmtools.errors import InputError
from dmtools.frames import _csv, _xlsx, read_csv, read_excel
from dmtools.frames._filecells import MAX_CELL_CHARS, MAX_COLUMNS, MAX_LINE_CHARS

MiB = 2**20


def peak(call: Callable[[], Any]) -> tuple[Any, int]:
    """(result or the InputError raised, peak bytes allocated while it ran)."""
    tracemalloc.start()
    try:
        try:
            result: Any = call()
        except InputError as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def workbook(path: Path, cells: dict[str, Any]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for ref, value in cells.items():
        sheet[ref] = value
    book.save(path)
    return path


def test_far_away_cells_are_refused_without_building_the_gap(tmp_path) -> None:
    cells: dict[str, Any] = {"A1": "id", "B1": "title", "A2": "x1", "B2": "a"}
    for row in range(3, 100_000, 200):  # 500 rows with a value in the last column
        cells[f"XFD{row}"] = "far away"
    cells["XFD1048576"] = "the corner"
    path = workbook(tmp_path / "far.xlsx", cells)
    assert path.stat().st_size < 100_000
    error, used = peak(lambda: read_excel(path))
    assert isinstance(error, InputError)
    assert "XFD3" in str(error) and f"column {MAX_COLUMNS}" in str(error)
    assert used < 20 * MiB


def test_rows_far_down_the_sheet_cost_nothing_for_the_gap(tmp_path) -> None:
    path = workbook(
        tmp_path / "tall.xlsx",
        {
            "A1": "id",
            "B1": "title",
            "A2": "x1",
            "B2": "first",
            "A1048576": "x2",
            "B1048576": "last row of Excel",
        },
    )
    df, used = peak(lambda: read_excel(path))
    assert not isinstance(df, InputError), df
    assert df["title"].tolist() == ["first", "last row of Excel"]
    assert used < 20 * MiB


def test_scattered_cells_within_the_limits_are_read_or_named_by_row(tmp_path) -> None:
    rng = random.Random(7)
    cells: dict[str, Any] = {"A1": "id", "B1": "views_total"}
    rows = sorted(rng.sample(range(2, 1_000_000), 2000))
    for n, row in enumerate(rows):
        cells[f"A{row}"] = f"x{n}"
        cells[f"B{row}"] = n
    cells[f"GR{rows[5]}"] = "a stray note in column 200"
    path = workbook(tmp_path / "sparse.xlsx", cells)
    error, used = peak(lambda: read_excel(path))
    assert isinstance(error, InputError)
    assert [(p.row, p.reason) for p in error.problems] == [
        (str(rows[5]), "more cells than column names")
    ]
    assert used < 40 * MiB
    del cells[f"GR{rows[5]}"]
    df = read_excel(workbook(tmp_path / "sparse2.xlsx", cells))
    assert len(df) == 2000 and df["views_total"].tolist() == list(range(2000))


def test_a_huge_number_of_blank_csv_lines_costs_no_memory(tmp_path) -> None:
    path = tmp_path / "blank.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id,title\r\n")
        out.write("\r\n" * 300_000)
        out.write(",,\r\n" * 50_000)
        out.write("x1,the only video\r\n")
    df, used = peak(lambda: read_csv(path))
    assert not isinstance(df, InputError), df
    assert df["title"].tolist() == ["the only video"]
    assert used < 2 * MiB  # reading the whole file, or keeping its rows, costs more


def test_a_huge_csv_field_is_refused_at_the_limit(tmp_path) -> None:
    path = tmp_path / "field.csv"
    path.write_text('id,title\r\nx1,"' + "y" * (MAX_CELL_CHARS + 10) + '"\r\n', encoding="utf-8")
    error, used = peak(lambda: read_csv(path))
    assert isinstance(error, InputError)
    assert f"{MAX_CELL_CHARS:,}" in str(error) or "field larger than field limit" in str(error)
    assert used < 20 * MiB


def test_a_huge_csv_line_is_refused_at_the_limit(tmp_path) -> None:
    path = tmp_path / "line.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id,title\r\nx1,")
        out.write("z" * (3 * MAX_LINE_CHARS))
        out.write("\r\n")
    error, used = peak(lambda: read_csv(path))
    assert isinstance(error, InputError) and "line 2" in str(error)
    assert used < 4 * MAX_LINE_CHARS + 20 * MiB  # one line at most, not the file (3x that)


def test_a_line_with_too_many_cells_is_named(tmp_path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("id,title\r\nx1,a" + "," * 10_000 + "\r\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"line 2 has 10,002 cells.*{MAX_COLUMNS}"):
        read_csv(path)


@pytest.mark.parametrize("reader", ["csv", "xlsx"])
def test_the_row_limit_is_enforced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    monkeypatch.setattr(_csv, "MAX_ROWS", 50)
    monkeypatch.setattr(_xlsx, "MAX_ROWS", 50)
    frame = pd.DataFrame({"id": [f"x{i}" for i in range(51)], "title": "t"})
    path = tmp_path / f"rows.{reader}"
    if reader == "csv":
        frame.to_csv(path, index=False)
        with pytest.raises(InputError, match="more than 50 rows"):
            read_csv(path)
    else:
        frame.to_excel(path, index=False)
        with pytest.raises(InputError, match="more than 50 rows"):
            read_excel(path)
    frame.iloc[:50].to_csv(tmp_path / "ok.csv", index=False)
    assert len(read_csv(tmp_path / "ok.csv")) == 50
