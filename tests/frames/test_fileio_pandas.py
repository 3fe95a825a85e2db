"""Exports that plain pandas reads: the real columns, and one meaning for empty and <NA>."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dmtools.frames import read_csv, read_excel, to_frame, write_csv, write_excel

COLUMNS = ["title", "description", "tags", "channel", "private", "created_time", "views_total"]


def _frame() -> pd.DataFrame:
    return to_frame(
        [
            {
                "id": "x1",
                "title": "=1+1",
                "description": "a, b",
                "tags": ["x"],
                "channel": "music",
                "private": True,
                "created_time": 1_700_000_000,
                "views_total": 12,
            },
            {"id": "x2", "title": "<NA>", "description": None, "tags": [], "private": None},
        ],
        fields=COLUMNS,
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_plain_pandas_reads_the_real_columns_of_an_export(tmp_path: Path, fmt: str) -> None:
    df = _frame()
    path = tmp_path / f"videos.{fmt}"
    if fmt == "csv":
        write_csv(df, path)
        plain = pd.read_csv(path)
    else:
        write_excel(df, path)
        plain = pd.read_excel(path)
    assert plain.columns.tolist() == ["id", *COLUMNS]
    assert plain["id"].tolist() == ["x1", "x2"]
    assert plain.loc[0, "views_total"] == 12 and pd.isna(plain.loc[1, "views_total"])
    assert pd.isna(plain.loc[1, "description"])  # missing is missing for pandas too


@pytest.mark.parametrize("missing", ["", "<NA>"])
def test_empty_and_na_cells_mean_no_value_in_every_column(tmp_path: Path, missing: str) -> None:
    path = tmp_path / "hand.csv"
    cells = ",".join([missing] * len(COLUMNS))
    path.write_text(f"id,{','.join(COLUMNS)}\r\nx1,{cells}\r\nx2,{cells}\r\n", encoding="utf-8")
    df = read_csv(path)
    for column in COLUMNS:
        values = df[column].tolist()
        if column == "tags":
            assert values == [[], []]
        else:
            assert all(v is pd.NA or pd.isna(v) for v in values), (column, values)


def test_a_workbook_reads_empty_and_na_alike(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "title", "description", "views_total"])
    sheet.append(["x1", "a", "<NA>", "<NA>"])
    sheet.append(["x2", "b", None, None])
    book.save(tmp_path / "hand.xlsx")
    df = read_excel(tmp_path / "hand.xlsx")
    assert df["description"].isna().all() and df["views_total"].isna().all()
