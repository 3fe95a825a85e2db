"""Lossless CSV, Excel and Parquet round trips of video frames.

``read_*(write_*(df))`` gives back a frame equal to ``conform(df)`` (same values, same dtypes),
for every value a person can type: ``NA``, ``null``, ``""``, ``00123``, ``1e5``, ``TRUE``,
``2024-01-02``, ``=1+1``, emoji, right-to-left text, NFC and NFD forms, CRLF inside a
description, tags containing commas or quotes. Timestamps are stored to the second.

How dmtools writes a CSV or Excel file (format 1):

* **Marker.** A CSV starts with the line ``# dmtools export format 1 ...``; a workbook has a
  hidden sheet ``dmtools`` whose cell A1 says the same. Only marked files get the two
  reversals below; a file without the marker (typed by hand, or made by another program) is
  read as plain text.
* **Missing text.** In a text column, a missing value is written ``<NA>`` and an empty cell is
  the empty string. In other columns (booleans, numbers, dates, categories) a missing value is
  an empty cell, and ``<NA>`` is accepted there too. Missing tags are an empty list.
* **Formula guard.** A text cell whose value starts with ``=``, ``+``, ``-``, ``@``, a tab, a
  carriage return or ``'`` -- or that is exactly ``<NA>`` -- gets one ``'`` in front, so a
  spreadsheet shows it as text and never runs it. Reading a marked file removes exactly one
  leading ``'`` from a text cell, so values that really start with ``'`` survive too.
* **Tags** are one cell holding a JSON list (``["a, b", "say \\"hi\\""]``). Reading also
  accepts ``a, b, c`` (comma-separated, trimmed) typed by hand.
* **Values:** booleans ``true``/``false`` (any of true/false/yes/no/1/0 on reading), integers
  as digits, dates as ``2024-01-02T03:04:05Z`` (unix seconds are accepted on reading). In a
  workbook booleans, integers and dates are native cells (dates in UTC), and characters XML
  cannot hold (control characters, a carriage return) use Excel's own ``_xHHHH_`` escapes.
* **CSV details:** UTF-8 with a BOM (so spreadsheets detect it), RFC 4180 quoting, CRLF
  between rows. Reading accepts a BOM or none, UTF-16 with a BOM, and ``,``/``;``/tab
  separators. No text is ever turned into a missing value except ``<NA>`` as described.

Anything that cannot be read raises :class:`~dmtools.errors.InputError` listing every bad
row, column and reason. Files are written to a temporary name and renamed, so a failed export
never leaves a partial file.

Example::

    from dmtools.frames import read_csv, to_frame, write_csv

    df = to_frame([{"id": "x1", "title": "=1+1"}], fields=["title"])
    write_csv(df, "videos.csv")          # the cell holds '=1+1
    assert read_csv("videos.csv").equals(df)
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dmtools.cells import field_for, is_missing, value_kind
from dmtools.errors import InputError, Problem
from dmtools.frames import _assemble, conform
from dmtools.schema import VIDEO_FIELDS, Field

__all__ = [
    "FORMAT_VERSION",
    "MISSING",
    "export_frame",
    "import_frame",
    "read_csv",
    "read_excel",
    "read_parquet",
    "write_csv",
    "write_excel",
    "write_parquet",
]

FORMAT_VERSION = 1
#: How a missing value of a text column is written.
MISSING = "<NA>"
_MARK = "dmtools export format "
_MARKER_TEXT = (
    f"# {_MARK}{FORMAT_VERSION} - {MISSING} is a missing value - a ' is added "
    "before text starting with = + - @ ' tab or CR"
)
_MARKER_SHEET = "dmtools"
_DATA_SHEET = "videos"
_GUARDED = ("=", "+", "-", "@", "\t", "\r", "'")
_EXCEL_MAX_CHARS = 32767
_XML_BAD = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_XML_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")
PathLike = str | os.PathLike[str]


def _guard(text: str) -> str:
    return "'" + text if text.startswith(_GUARDED) or text == MISSING else text


def _excel_escape(text: str) -> str:
    return _XML_BAD.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def _excel_unescape(text: str) -> str:
    return _XML_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


# -- encoding a frame into cells ----------------------------------------------------------------


def _encode(df: pd.DataFrame, *, excel: bool) -> tuple[list[str], list[list[Any]]]:
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
    if kind == "text":
        return [MISSING if is_missing(v) else _guard(v) for v in items]
    if kind == "category":
        return ["" if is_missing(v) else _guard(str(v)) for v in items]
    if kind == "tags":
        return [json.dumps(list(v), ensure_ascii=False) for v in items]
    empty = None if excel else ""
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


# -- decoding cells into a frame ----------------------------------------------------------------


def _decode(
    header: Sequence[Any],
    rows: Sequence[Sequence[Any]],
    *,
    marked: bool,
    first_row: int,
    excel: bool,
) -> pd.DataFrame:
    """A frame from a header and data rows; ``first_row`` is the sheet row of ``rows[0]``."""
    problems: list[Problem] = []
    names = [("" if h is None else str(h)).strip().lstrip("\ufeff") for h in header]
    specs: dict[int, Field] = {}
    for position, name in enumerate(names):
        if not name:
            if any(position < len(r) and _filled(r[position]) for r in rows):
                problems.append(Problem(None, f"#{position + 1}", "a column without a name"))
            continue
        spec = VIDEO_FIELDS.get(name) or _column_field(name)
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
    kept = [(first_row + i, row) for i, row in enumerate(rows) if any(map(_filled, row))]
    width = len(names)
    for number, row in kept:
        if any(_filled(cell) for cell in row[width:]):
            problems.append(Problem(str(number), None, "more cells than column names"))
    columns: dict[str, list[Any]] = {}
    for position, spec in specs.items():
        kind = value_kind(spec)
        cells = [row[position] if position < len(row) else None for _, row in kept]
        if excel:
            cells = [_excel_unescape(c) if isinstance(c, str) else c for c in cells]
        columns[spec.name] = [_cell(kind, c, marked) for c in cells]
    ids = columns.pop("id")
    numbers = [n for n, _ in kept]

    def label(i: int) -> str:
        vid = ids[i] if i < len(ids) else None
        return f"{numbers[i]} (id {vid})" if isinstance(vid, str) and vid else str(numbers[i])

    fields = [s for s in VIDEO_FIELDS.values() if s in specs.values()]
    return _assemble(fields, ids, columns, label, problems)


def _column_field(name: str) -> Field | None:
    try:
        return field_for(name)
    except InputError:
        return None


def _filled(cell: Any) -> bool:
    return cell is not None and cell != ""


def _cell(kind: str, cell: Any, marked: bool) -> Any:
    """A file cell as a Python value for the frame builder (None = missing)."""
    if kind == "text":
        if cell is None:
            return ""
        if marked and isinstance(cell, str):
            return None if cell == MISSING else (cell[1:] if cell.startswith("'") else cell)
        return cell
    if cell is None or (isinstance(cell, str) and cell.strip() in ("", MISSING)):
        return None
    if kind == "category" and marked and isinstance(cell, str) and cell.startswith("'"):
        return cell[1:]
    return cell


# -- CSV ----------------------------------------------------------------------------------------


def write_csv(df: pd.DataFrame, path: PathLike) -> None:
    """Write a video frame to a dmtools CSV file (see the module notes for the format).

    Raises:
        InputError: the frame has unknown columns or values that do not fit (nothing written).

    Example:
        ``write_csv(df, "videos.csv")``
    """
    header, cols = _encode(df, excel=False)

    def write(target: str) -> None:
        with open(target, "x", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([_MARKER_TEXT])
            writer.writerow(header)
            writer.writerows(zip(*cols, strict=True))

    try:
        _atomic(path, write)
    except UnicodeEncodeError as exc:
        raise InputError(
            f"a value cannot be written as UTF-8 ({exc.reason}: "
            f"{exc.object[exc.start : exc.end]!r})"
        ) from None


def read_csv(path: PathLike) -> pd.DataFrame:
    """Read a CSV file of videos (a dmtools export, or one typed or saved by a spreadsheet).

    Raises:
        InputError: the file is not readable text, lacks an ``id`` column, has unknown
            columns, or has cells that do not fit their column (every one is listed).

    Example:
        ``df = read_csv("videos.csv")``
    """
    text = _decode_text(Path(path).read_bytes(), str(path))
    lines = text[:65536].splitlines()
    marked = bool(lines) and lines[0].lstrip('"').startswith("# " + _MARK)
    if marked:
        _check_version(lines[0].lstrip('"')[len("# " + _MARK) :])
    header_line = next((line for line in lines[int(marked) :] if line.strip()), "")
    delimiter = _sniff(header_line)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InputError(f"{path} is not a valid CSV file: {exc}") from None
    start = 1 if marked else 0
    while start < len(rows) and not any(rows[start]):
        start += 1
    if start >= len(rows):
        raise InputError(f"{path} has no header row", [Problem(None, "id", "no 'id' column")])
    return _decode(rows[start], rows[start + 1 :], marked=marked, first_row=start + 2, excel=False)


def _decode_text(raw: bytes, name: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    else:
        codec = "utf-8-sig"
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{name} is not UTF-8 text (byte {exc.start}, line {line}); save it as 'CSV UTF-8'",
            [Problem(str(line), None, "not UTF-8 text")],
        ) from None
    return text


def _sniff(header_line: str) -> str:
    for delimiter in (",", ";", "\t"):
        if "id" in (
            cell.strip().strip('"').lstrip("\ufeff") for cell in header_line.split(delimiter)
        ):
            return delimiter
    return ","


def _check_version(rest: str) -> None:
    found = re.match(r"\d+", rest)
    if found and int(found.group(0)) > FORMAT_VERSION:
        raise InputError(
            f"the file uses dmtools export format {found.group(0)}; this dmtools "
            f"reads format {FORMAT_VERSION} (upgrade dmtools)"
        )


# -- Excel --------------------------------------------------------------------------------------


def write_excel(df: pd.DataFrame, path: PathLike) -> None:
    """Write a video frame to an ``.xlsx`` workbook (sheet ``videos`` + hidden marker sheet).

    Raises:
        InputError: unknown columns, values that do not fit, or a cell longer than Excel's
            32,767 characters (every one listed; nothing written).

    Example:
        ``write_excel(df, "videos.xlsx")``
    """
    from openpyxl import Workbook

    header, cols = _encode(df, excel=True)
    problems: list[Problem] = []
    for name, col in zip(header, cols, strict=True):
        for i, cell in enumerate(col):
            if isinstance(cell, str):
                col[i] = cell = _excel_escape(cell)
                if len(cell) > _EXCEL_MAX_CHARS:
                    problems.append(
                        Problem(
                            f"{i + 2} (id {cols[0][i]})",
                            name,
                            f"{len(cell)} characters; Excel cells hold "
                            f"at most {_EXCEL_MAX_CHARS:,}",
                        )
                    )
    if problems:
        raise InputError("the frame does not fit in an Excel workbook", problems)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_DATA_SHEET)
    sheet.freeze_panes = "B2"
    sheet.append(header)
    for row in zip(*cols, strict=True):
        sheet.append(row)
    marker = book.create_sheet(_MARKER_SHEET)
    marker.sheet_state = "hidden"
    marker.append([_MARKER_TEXT[2:]])
    _atomic(path, book.save)


def read_excel(path: PathLike) -> pd.DataFrame:
    """Read an ``.xlsx`` workbook of videos (a dmtools export, or one made by hand).

    The data is the sheet ``videos``, or else the first sheet.

    Raises:
        InputError: not a readable workbook, no ``id`` column, unknown columns, or cells that
            do not fit their column (every one listed).

    Example:
        ``df = read_excel("videos.xlsx")``
    """
    from openpyxl import load_workbook

    Path(path).stat()  # a missing file is an OSError, not bad input
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            marked = False
            if _MARKER_SHEET in book.sheetnames:
                first = next(book[_MARKER_SHEET].iter_rows(max_row=1, values_only=True), ())
                text = str(first[0]) if first and first[0] is not None else ""
                marked = text.startswith(_MARK)
                if marked:
                    _check_version(text[len(_MARK) :])
            names = [n for n in book.sheetnames if n != _MARKER_SHEET]
            if not names:
                raise InputError(f"{path} has no data sheet")
            sheet = book[_DATA_SHEET if _DATA_SHEET in names else names[0]]
            sheet.reset_dimensions()  # do not trust the size the file claims
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many types on damaged files
        raise InputError(
            f"{path} is not a readable .xlsx workbook: {type(exc).__name__}: {exc}"
        ) from None
    start = 0
    while start < len(rows) and not any(map(_filled, rows[start])):
        start += 1
    if start >= len(rows):
        raise InputError(f"{path} has no header row", [Problem(None, "id", "no 'id' column")])
    return _decode(rows[start], rows[start + 1 :], marked=marked, first_row=start + 2, excel=True)


# -- Parquet ------------------------------------------------------------------------------------


def write_parquet(df: pd.DataFrame, path: PathLike) -> None:
    """Write a video frame to a Parquet file (typed; no text encoding needed).

    Example:
        ``write_parquet(df, "videos.parquet")``
    """
    frame = conform(df)
    _atomic(path, lambda target: frame.to_parquet(target, engine="pyarrow", index=True))


def read_parquet(path: PathLike) -> pd.DataFrame:
    """Read a Parquet file of videos, with the dtypes :func:`dmtools.frames.to_frame` gives.

    Raises:
        InputError: not a readable Parquet file, or columns/values that do not fit.

    Example:
        ``df = read_parquet("videos.parquet")``
    """
    Path(path).stat()
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ValueError...
        raise InputError(
            f"{path} is not a readable Parquet file: {type(exc).__name__}: {exc}"
        ) from None
    return conform(frame)


# -- by suffix ----------------------------------------------------------------------------------

_WRITERS: dict[str, Callable[[pd.DataFrame, PathLike], None]] = {
    ".csv": write_csv,
    ".xlsx": write_excel,
    ".parquet": write_parquet,
    ".pq": write_parquet,
}
_READERS: dict[str, Callable[[PathLike], pd.DataFrame]] = {
    ".csv": read_csv,
    ".xlsx": read_excel,
    ".xlsm": read_excel,
    ".parquet": read_parquet,
    ".pq": read_parquet,
}


def export_frame(df: pd.DataFrame, path: PathLike) -> None:
    """Write ``df`` as CSV, Excel or Parquet, by the suffix of ``path``.

    Example:
        ``export_frame(df, "videos.xlsx")``
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _WRITERS:
        raise InputError(
            f"cannot export to {suffix or 'a file without suffix'!r}: "
            f"use one of {', '.join(_WRITERS)}"
        )
    _WRITERS[suffix](df, path)


def import_frame(path: PathLike) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file of videos, by the suffix of ``path``.

    Example:
        ``df = import_frame("videos.xlsx")``
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _READERS:
        raise InputError(
            f"cannot import {suffix or 'a file without suffix'!r}: use one of {', '.join(_READERS)}"
        )
    return _READERS[suffix](path)


def _atomic(path: PathLike, write: Callable[[str], Any]) -> None:
    """Run ``write(temporary_path)`` then rename it to ``path`` (never a partial file)."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        write(str(temporary))
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
