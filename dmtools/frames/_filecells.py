"""Cells of CSV and Excel files: the formula guard, missing values, limits, and the frame <->
cells conversions shared by :mod:`dmtools.frames.files`' readers and writers.

**Formula guard** (a policy, lossless through dmtools' own readers):

* *Cell start.* A text cell is *dangerous* when, after any spaces and double quotes, it
  starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a NUL: a spreadsheet
  may run it as a formula (OWASP; some spreadsheets drop a leading NUL or quote). Such a
  cell, one that starts with ``'``, and one that is exactly ``<NA>``, are written with one
  ``'`` in front.
* *Inside a CSV cell.* A spreadsheet that splits the file on another delimiter (``;`` in many
  European locales, or tab), or that breaks a record at a newline its quoting does not
  protect, starts a new cell after ``;``, tab, CR or LF. So the same rule applies to the text
  after each of those characters: a ``'`` is inserted there when what follows is dangerous or
  starts with ``'``. (Workbooks hold cells natively: only the cell-start rule applies.)
* *Reading* removes exactly the ``'`` the rule would have added: one at the start of a cell
  when the rest is dangerous, starts with ``'`` or is ``<NA>``; and, in a CSV cell, one right
  after ``;``/tab/CR/LF when what follows is dangerous or starts with ``'``. Reading a written
  cell gives back the original text for every text (a property test checks it). A hand-typed
  ``'=x`` is read as ``=x``, which is what a spreadsheet user means by it.

**Missing values.** An empty cell and ``<NA>`` both mean "no value", in every column (text
included); a text that really is ``<NA>`` is written ``'<NA>``. An empty text and a missing
one are the same value in a file (the planner treats them alike in every field).

**Limits** (reading costs time and memory in proportion to the content, and stops with an
:class:`~dmtools.errors.InputError` naming the limit beyond them): :data:`MAX_ROWS` data rows,
:data:`MAX_COLUMNS` columns, :data:`MAX_CELL_CHARS` characters in a cell, and
:data:`MAX_LINE_CHARS` characters on one line of a CSV file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from dmtools.errors import InputError, Problem
from dmtools.frames._build import assemble, conform
from dmtools.frames._cells import is_missing, value_kind
from dmtools.schema import VIDEO_FIELDS, Field, column_field, field_for

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_LINE_CHARS",
    "MAX_ROWS",
    "MISSING",
    "decode",
    "encode",
    "guard",
    "unguard",
]

#: How a text that really is ``<NA>`` is kept apart from a missing value: ``'<NA>``.
MISSING = "<NA>"
#: Data rows a CSV or Excel file may hold (Excel itself stops at 1,048,576 rows).
MAX_ROWS = 1_000_000
#: Columns a CSV or Excel file may hold (a video frame has about 40).
MAX_COLUMNS = 256
#: Characters in one cell (Python's CSV field limit; Excel cells hold 32,767).
MAX_CELL_CHARS = 131_072
#: Characters on one line of a CSV file.
MAX_LINE_CHARS = 4 * 1024 * 1024

_TRIGGERS = frozenset("=+-@\t\r\x00")
_SKIPPED = frozenset(' "')
_SEPARATORS = frozenset(";\t\r\n")


def _dangerous(text: str, start: int = 0) -> bool:
    i, n = start, len(text)
    while i < n and text[i] in _SKIPPED:
        i += 1
    return i < n and text[i] in _TRIGGERS


def _needs_mark(text: str, start: int = 0) -> bool:
    return text.startswith("'", start) or _dangerous(text, start)


def guard(text: str, *, inside: bool) -> str:
    """``text`` as written in a file cell (``inside``: also after ``;``/tab/CR/LF, for CSV)."""
    head = "'" if _needs_mark(text) or text == MISSING else ""
    if not inside or not any(c in _SEPARATORS for c in text):
        return head + text
    out = [head]
    for i, char in enumerate(text):
        if i and text[i - 1] in _SEPARATORS and _needs_mark(text, i):
            out.append("'")
        out.append(char)
    return "".join(out)


def unguard(cell: str, *, inside: bool) -> str:
    """The text a file cell holds: exactly what :func:`guard` added is removed."""
    if cell.startswith("'") and (_needs_mark(cell, 1) or cell[1:] == MISSING):
        cell = cell[1:]
    if not inside or "'" not in cell or not any(c in _SEPARATORS for c in cell):
        return cell
    out: list[str] = []
    for i, char in enumerate(cell):
        if char == "'" and i and cell[i - 1] in _SEPARATORS and _needs_mark(cell, i + 1):
            continue
        out.append(char)
    return "".join(out)


# -- a frame into cells -----------------------------------------------------------------------


def encode(df: pd.DataFrame, *, excel: bool) -> tuple[list[str], list[list[Any]]]:
    """Header and columns of cells (str for CSV; native values in a workbook)."""
    frame = conform(df)
    header = ["id", *map(str, frame.columns)]
    cols: list[list[Any]] = [_encode_column(VIDEO_FIELDS["id"], frame.index, excel)]
    for column in frame.columns:
        cols.append(_encode_column(field_for(str(column)), frame[column], excel))
    return header, cols


def _encode_column(spec: Field, values: Any, excel: bool) -> list[Any]:
    kind = value_kind(spec)
    items = values.tolist()
    empty = None if excel else ""
    if kind in ("text", "category"):
        return [
            empty if is_missing(v) or v == "" else guard(str(v), inside=not excel) for v in items
        ]
    if kind == "tags":
        texts = [json.dumps(list(v), ensure_ascii=False) for v in items]
        return texts if excel else [guard(t, inside=True) for t in texts]
    if kind == "bool":
        return [
            empty if is_missing(v) else (bool(v) if excel else ("true" if v else "false"))
            for v in items
        ]
    if kind == "int":
        return [empty if is_missing(v) else (int(v) if excel else str(int(v))) for v in items]
    if kind == "date":
        stamps = pd.Series(values).dt.floor("s")
        if excel:
            naive = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
            return [empty if is_missing(v) else v.to_pydatetime() for v in naive.tolist()]
        text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return [empty if is_missing(v) else v for v in text.tolist()]
    if kind == "float":
        return [empty if is_missing(v) else (float(v) if excel else repr(float(v))) for v in items]
    return [empty if is_missing(v) else json.dumps(v, ensure_ascii=False) for v in items]


# -- cells into a frame -----------------------------------------------------------------------


def filled(cell: Any) -> bool:
    return cell is not None and cell != ""


def _cell(kind: str, cell: Any, inside: bool, old_format: bool) -> Any:
    """A file cell as a Python value for the frame builder (None = missing)."""
    if cell is None:
        return None
    if not isinstance(cell, str):
        return cell
    if cell in ("", MISSING) or (kind != "text" and cell.strip() in ("", MISSING)):
        return None  # " " is a text; it is nothing in a number, date or category column
    if kind in ("text", "category"):
        if old_format:  # format 1 files: one leading ' removed, nothing inside
            return cell[1:] if cell.startswith("'") else cell
        return unguard(cell, inside=inside)
    if kind == "tags" and inside and not old_format:
        return unguard(cell, inside=True)
    return cell


def _specs(names: list[str], rows: Sequence[tuple[int, Sequence[Any]]]) -> dict[int, Field]:
    problems: list[Problem] = []
    specs: dict[int, Field] = {}
    for position, name in enumerate(names):
        if not name:
            if any(position < len(r) and filled(r[position]) for _, r in rows):
                problems.append(Problem(None, f"#{position + 1}", "a column without a name"))
            continue
        spec = column_field(name)
        if spec is None:
            problems.append(Problem(None, name, "unknown video field"))
        elif spec in specs.values():
            problems.append(Problem(None, name, "duplicate column"))
        else:
            specs[position] = spec
    if not problems and VIDEO_FIELDS["id"] not in specs.values():
        problems.append(Problem(None, "id", "no 'id' column"))
    if problems:
        raise InputError("the file's columns cannot be read", problems)
    return specs


def decode(
    header: Sequence[Any],
    rows: Sequence[tuple[int, Sequence[Any]]],
    *,
    excel: bool,
    old_format: bool = False,
    extra: Sequence[Problem] = (),
) -> pd.DataFrame:
    """A frame from a header and ``(row number, cells)`` data rows (empty rows left out).

    ``extra``: problems the reader found already (cells past the header, for instance).
    """
    names = [("" if h is None else str(h)).strip().lstrip("\ufeff") for h in header]
    specs = _specs(names, rows)
    problems = list(extra)
    width = len(names)
    for number, row in rows:
        if any(filled(cell) for cell in row[width:]):
            problems.append(Problem(str(number), None, "more cells than column names"))
    columns: dict[str, list[Any]] = {}
    for position, spec in specs.items():
        kind = value_kind(spec)
        cells = [row[position] if position < len(row) else None for _, row in rows]
        columns[spec.name] = [_cell(kind, c, not excel, old_format) for c in cells]
    ids = columns.pop("id")
    numbers = [n for n, _ in rows]

    def label(i: int) -> str:
        vid = ids[i] if i < len(ids) else None
        return f"{numbers[i]} (id {vid})" if isinstance(vid, str) and vid else str(numbers[i])

    fields = [s for s in VIDEO_FIELDS.values() if s in specs.values()]
    return assemble(fields, ids, columns, label, problems)
