"""Streaming the rows of a CSV file within dmtools' limits (see :mod:`dmtools.frames._filecells`).

Lines are read one at a time with a length limit, empty rows are skipped without being kept,
and reading stops at the first row past a limit: a file of a million blank lines costs time
in proportion to its size and no memory; a single huge field stops at the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from dmtools.errors import InputError, Problem
from dmtools.frames._filecells import MAX_CELL_CHARS, MAX_COLUMNS, MAX_LINE_CHARS, MAX_ROWS

__all__ = ["bounded_lines", "csv_rows", "sniff"]


def bounded_lines(handle: IO[str], name: str) -> Iterator[str]:
    """The lines of a text file, refusing one longer than :data:`MAX_LINE_CHARS`."""
    number = 0
    while True:
        line = handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise InputError(
                f"{name}: line {number} is longer than {MAX_LINE_CHARS:,} characters "
                "(a limit of dmtools' CSV reader); not a file of videos"
            )
        yield line


def csv_rows(reader: Any, name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows (with their line numbers), within the limits."""
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not any(cells):
            continue
        if len(cells) > MAX_COLUMNS:
            raise InputError(
                f"{name}: line {reader.line_num} has {len(cells):,} cells; dmtools reads at "
                f"most {MAX_COLUMNS} columns"
            )
        longest = max(map(len, cells))
        if longest > MAX_CELL_CHARS:
            raise InputError(
                f"{name}: a cell on line {reader.line_num} holds {longest:,} characters; "
                f"dmtools reads at most {MAX_CELL_CHARS:,}"
            )
        if header is None:
            header = cells
            continue
        if len(rows) == MAX_ROWS:
            raise InputError(
                f"{name} has more than {MAX_ROWS:,} rows of videos (a limit of dmtools' "
                "readers); split it"
            )
        rows.append((reader.line_num, cells))
    if header is None:
        raise InputError(f"{name} has no header row", [Problem(None, "id", "no 'id' column")])
    return header, rows


def sniff(header_line: str) -> str:
    for delimiter in (",", ";", "\t"):
        if "id" in (
            cell.strip().strip('"').lstrip("\ufeff") for cell in header_line.split(delimiter)
        ):
            return delimiter
    return ","
