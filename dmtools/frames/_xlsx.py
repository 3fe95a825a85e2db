"""Reading one sheet of an ``.xlsx`` workbook in proportion to the cells it really holds.

openpyxl's row iterators fill every gap up to the farthest cell: one value in ``XFD1048576``
makes them build a million rows of 16,384 cells. Here the sheet's XML is walked with
openpyxl's own parser (the same cell types, shared strings and dates), which yields only the
rows and cells the file contains; rows without a value are skipped and only the columns of
the header are kept, so time and memory follow the content. A value past
:data:`~dmtools.frames._filecells.MAX_COLUMNS` columns, or more than
:data:`~dmtools.frames._filecells.MAX_ROWS` filled rows, stops the reading with an InputError naming
the cell; a value past the header's columns is reported with its row (at most once per row).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from dmtools.errors import InputError, Problem
from dmtools.frames._filecells import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, filled

__all__ = ["read_sheet"]

Rows = list[tuple[int, list[Any]]]


def _cell_name(row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(min(column, 16384))}{row}"


def _sparse_rows(book: Any, sheet: Any) -> Iterator[tuple[int, dict[int, Any]]]:
    """(row number, {column: value}) for each row of the sheet's XML holding a value."""
    from openpyxl.worksheet._reader import WorkSheetParser

    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for number, cells in parser.parse():
            values = {c["column"]: c["value"] for c in cells if filled(c["value"])}
            if values:
                yield number, values


def _check(number: int, values: dict[int, Any], name: str) -> None:
    far = max(values)
    if far > MAX_COLUMNS:
        raise InputError(
            f"{name}: cell {_cell_name(number, far)} is past column {MAX_COLUMNS} (a limit of "
            "dmtools' readers); remove it or copy the table to a new sheet"
        )
    for column, value in values.items():
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise InputError(
                f"{name}: cell {_cell_name(number, column)} holds {len(value):,} characters; "
                f"dmtools reads at most {MAX_CELL_CHARS:,}"
            )


def _table(
    rows: Iterator[tuple[int, dict[int, Any]]], name: str
) -> tuple[list[Any], Rows, list[Problem]]:
    header: list[Any] | None = None
    table: Rows = []
    extra: list[Problem] = []
    for number, values in rows:
        _check(number, values, name)
        if header is None:
            header = [values.get(c) for c in range(1, max(values) + 1)]
            continue
        if len(table) == MAX_ROWS:
            raise InputError(
                f"{name} has more than {MAX_ROWS:,} rows of videos (a limit of dmtools' "
                "readers); split it"
            )
        width = len(header)
        if max(values) > width:
            extra.append(Problem(str(number), None, "more cells than column names"))
        table.append((number, [values.get(c) for c in range(1, width + 1)]))
    if header is None:
        raise InputError(f"{name} has no header row", [Problem(None, "id", "no 'id' column")])
    return header, table, extra


def read_sheet(
    path: str | os.PathLike[str], data_sheet: str, marker_sheet: str
) -> tuple[list[Any], Rows, list[Problem], str]:
    """(header, data rows with their sheet row numbers, problems found, marker text).

    The data is ``data_sheet`` or else the first sheet that is not ``marker_sheet``; the
    marker text is cell A1 of ``marker_sheet`` ("" without one).

    Raises:
        InputError: not a readable workbook, no data sheet, or past a limit.
    """
    from openpyxl import load_workbook

    name = str(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl and zipfile raise many types on damaged files
        raise InputError(
            f"{name} is not a readable .xlsx workbook: {type(exc).__name__}: {exc}"
        ) from None
    try:
        marker = ""
        if marker_sheet in book.sheetnames:
            first = next(_sparse_rows(book, book[marker_sheet]), (0, {}))[1]
            marker = str(first.get(1) or "")
        names = [n for n in book.sheetnames if n != marker_sheet]
        if not names:
            raise InputError(f"{name} has no data sheet")
        sheet = book[data_sheet if data_sheet in names else names[0]]
        header, rows, extra = _table(_sparse_rows(book, sheet), name)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"{name} is not a readable .xlsx workbook: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        book.close()
    return header, rows, extra, marker
