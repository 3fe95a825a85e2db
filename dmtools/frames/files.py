"""Lossless CSV, Excel and Parquet round trips of video frames.

``read_*(write_*(df))`` gives back a frame equal to ``conform(df)`` (same values, same dtypes),
for every value a person can type: ``NA``, ``null``, ``""``, ``00123``, ``1e5``, ``TRUE``,
``2024-01-02``, ``=1+1``, emoji, right-to-left text, NFC and NFD forms, CRLF inside a
description, tags containing commas or quotes. Timestamps are stored to the second.

How dmtools writes a CSV or Excel file (format 2):

* **A plain table.** A CSV file is its header row and its data rows, nothing else, so
  ``pandas.read_csv`` gives the real columns. The format's metadata lives where no reader
  trips on it: in the snapshot ``dmtools export`` writes beside it (Parquet metadata), and in
  a workbook's hidden sheet ``dmtools``. Files of format 1 (whose first line is
  ``# dmtools export format 1 ...``) are still read.
* **Missing values.** An empty cell and ``<NA>`` both mean "no value", in every column; a
  text that really is ``<NA>`` is written ``'<NA>``.
* **Formula guard.** See :mod:`dmtools.frames._filecells`: a ``'`` goes before text that a
  spreadsheet could run as a formula (at the start of a cell, and in CSV also after ``;``,
  tab, CR or LF, where a spreadsheet splitting on another delimiter starts a cell), and
  reading removes exactly those.
* **Tags** are one cell holding a JSON list (``["a, b", "say \\"hi\\""]``). Reading also
  accepts ``a, b, c`` (comma-separated, trimmed) typed by hand.
* **Values:** booleans ``true``/``false`` (any of true/false/yes/no/1/0 on reading), integers
  as digits, dates as ``2024-01-02T03:04:05Z`` (unix seconds are accepted on reading). In a
  workbook booleans, integers and dates are native cells (dates in UTC), and characters XML
  cannot hold (control characters, a carriage return) use Excel's own ``_xHHHH_`` escapes.
* **CSV details:** UTF-8 with a BOM (so spreadsheets detect it), RFC 4180 quoting, CRLF
  between rows. Reading accepts a BOM or none, UTF-16 with a BOM, and ``,``/``;``/tab
  separators. No text is ever turned into a missing value except ``<NA>`` and empty cells.
* **Limits:** reading streams the file and keeps only filled rows, so it costs time and
  memory in proportion to the content (a workbook's far-away sparse cells cost nothing);
  beyond :data:`~dmtools.frames._filecells.MAX_ROWS` rows, :data:`~dmtools.frames._filecells.MAX_COLUMNS`
  columns, :data:`~dmtools.frames._filecells.MAX_CELL_CHARS` characters in a cell or
  :data:`~dmtools.frames._filecells.MAX_LINE_CHARS` on a CSV line it stops with an InputError.

Anything that cannot be read raises :class:`~dmtools.errors.InputError` listing every bad
row, column and reason. Files are written with :func:`dmtools._safefiles.atomic_write`, so a
failed export never leaves a partial file; ``overwrite=False`` never replaces an existing file.
Which suffix is which format is :data:`dmtools.frames.formats.FORMATS`.

Example::

    from dmtools.frames import read_csv, to_frame, write_csv

    df = to_frame([{"id": "x1", "title": "=1+1"}], fields=["title"])
    write_csv(df, "videos.csv")          # the cell holds '=1+1; pandas.read_csv reads it
    assert read_csv("videos.csv").equals(df)
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable
from itertools import chain
from pathlib import Path

import pandas as pd

from dmtools._safefiles import atomic_write
from dmtools.errors import InputError, Problem
from dmtools.frames._build import conform
from dmtools.frames._csv import bounded_lines, csv_rows, sniff
from dmtools.frames._filecells import MISSING, decode, encode

__all__ = [
    "FORMAT_VERSION",
    "MISSING",
    "read_csv",
    "read_excel",
    "read_parquet",
    "write_csv",
    "write_excel",
    "write_parquet",
    "write_with",
]

#: Version 2: no marker line in CSV files; ``<NA>`` and empty cells mean the same; the
#: formula guard also protects the text after ``;``/tab/CR/LF in CSV cells.
FORMAT_VERSION = 2
_MARK = "dmtools export format "
_MARKER_TEXT = (
    f"{_MARK}{FORMAT_VERSION} - an empty cell or {MISSING} is a missing value - a ' is added "
    "before text a spreadsheet could run as a formula"
)
_MARKER_SHEET = "dmtools"
_DATA_SHEET = "videos"
_EXCEL_MAX_CHARS = 32767
_XML_BAD = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_XML_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")
PathLike = str | os.PathLike[str]


def write_with(
    write: Callable[[pd.DataFrame, Path], object],
    df: pd.DataFrame,
    path: PathLike,
    *,
    typed: bool = True,
    overwrite: bool = True,
    mode: int = 0o666,
    fsync: bool = False,
    check: Callable[[Path], object] | None = None,
    suffix: str = "",
) -> Path:
    """Write ``df`` at ``path`` with ``write(frame, temporary_path)`` through
    :func:`~dmtools._safefiles.atomic_write` (its ``overwrite``, ``mode``, ``fsync``, ``check``
    and ``suffix``; by default a new file gets what any new file of the user gets). A ``typed``
    format gets the conformed frame, so bad input is refused before any file is made."""
    frame = conform(df) if typed else df
    return atomic_write(
        path,
        lambda target: write(frame, target),
        mode=mode,
        fsync=fsync,
        overwrite=overwrite,
        check=check,
        suffix=suffix,
    )


def _excel_escape(text: str) -> str:
    return _XML_BAD.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def _excel_unescape(text: str) -> str:
    return _XML_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


# -- CSV ----------------------------------------------------------------------------------------


def csv_file(df: pd.DataFrame, target: Path) -> None:
    header, cols = encode(df, excel=False)
    try:
        with open(target, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(zip(*cols, strict=True))
    except UnicodeEncodeError as exc:
        raise InputError(
            f"a value cannot be written as UTF-8 ({exc.reason}: "
            f"{exc.object[exc.start : exc.end]!r})"
        ) from None


def write_csv(df: pd.DataFrame, path: PathLike, *, overwrite: bool = True) -> None:
    """Write a video frame to a dmtools CSV file (see the module notes for the format).

    Args:
        overwrite: False refuses an existing file (InputError), even one that appears while
            the file is written.

    Raises:
        InputError: the frame has unknown columns or values that do not fit (nothing written).

    Example:
        ``write_csv(df, "videos.csv")``
    """
    write_with(csv_file, df, path, overwrite=overwrite)


def read_csv(path: PathLike) -> pd.DataFrame:
    """Read a CSV file of videos (a dmtools export, or one typed or saved by a spreadsheet).

    Raises:
        InputError: the file is not readable text, lacks an ``id`` column, has unknown
            columns, has cells that do not fit their column (every one is listed), or is
            past a limit (rows, columns, cell or line length).

    Example:
        ``df = read_csv("videos.csv")``
    """
    name = str(path)
    with Path(path).open("rb") as raw:
        codec = "utf-16" if raw.read(2) in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    with open(path, encoding=codec, newline="") as handle:
        lines = bounded_lines(handle, name)
        try:
            first = next(lines, "")
            old_format = first.lstrip('"').startswith("# " + _MARK)
            if old_format:
                _check_version(first.lstrip('"')[len("# " + _MARK) :])
            peeked = [] if old_format else [first]
            while not (peeked and peeked[-1].strip()):  # the header: the first line with text
                line = next(lines, None)
                if line is None:
                    break
                peeked.append(line)
            delimiter = sniff(peeked[-1] if peeked else "")
            reader = csv.reader(chain(peeked, lines), delimiter=delimiter)
            header, rows = csv_rows(reader, name)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{name} is not {'UTF-16' if codec == 'utf-16' else 'UTF-8'} text "
                f"({exc.reason}); save it as 'CSV UTF-8'",
                [Problem(None, None, "not UTF-8 text")],
            ) from None
        except csv.Error as exc:
            raise InputError(f"{name} is not a valid CSV file: {exc}") from None
    return decode(header, rows, excel=False, old_format=old_format)


def _check_version(rest: str) -> None:
    found = re.match(r"\d+", rest)
    if found and int(found.group(0)) > FORMAT_VERSION:
        raise InputError(
            f"the file uses dmtools export format {found.group(0)}; this dmtools "
            f"reads format {FORMAT_VERSION} (upgrade dmtools)"
        )


# -- Excel --------------------------------------------------------------------------------------


def excel_file(df: pd.DataFrame, target: Path) -> None:
    from openpyxl import Workbook

    header, cols = encode(df, excel=True)
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
    marker.append([_MARKER_TEXT])
    book.save(target)


def write_excel(df: pd.DataFrame, path: PathLike, *, overwrite: bool = True) -> None:
    """Write a video frame to an ``.xlsx`` workbook (sheet ``videos`` + hidden marker sheet).

    Args:
        overwrite: False refuses an existing file (InputError).

    Raises:
        InputError: unknown columns, values that do not fit, or a cell longer than Excel's
            32,767 characters (every one listed; nothing written).

    Example:
        ``write_excel(df, "videos.xlsx")``
    """
    write_with(excel_file, df, path, overwrite=overwrite)


def read_excel(path: PathLike) -> pd.DataFrame:
    """Read an ``.xlsx`` workbook of videos (a dmtools export, or one made by hand).

    The data is the sheet ``videos``, or else the first sheet. Only the cells the file holds
    are read (see :mod:`dmtools.frames._xlsx`): a cell far away costs nothing, and one past the
    column or row limits is reported.

    Raises:
        InputError: not a readable workbook, no ``id`` column, unknown columns, cells that
            do not fit their column (every one listed), or past a limit.

    Example:
        ``df = read_excel("videos.xlsx")``
    """
    from dmtools.frames._xlsx import read_sheet

    Path(path).stat()  # a missing file is an OSError, not bad input
    header, rows, extra, marker = read_sheet(path, _DATA_SHEET, _MARKER_SHEET)
    if marker.startswith(_MARK):
        _check_version(marker[len(_MARK) :])
    unescaped = [(n, [_excel_unescape(c) if isinstance(c, str) else c for c in r]) for n, r in rows]
    names = [_excel_unescape(h) if isinstance(h, str) else h for h in header]
    return decode(
        names, unescaped, excel=True, old_format=marker.startswith(_MARK + "1"), extra=extra
    )


# -- Parquet ------------------------------------------------------------------------------------


def parquet_file(df: pd.DataFrame, target: Path, metadata: dict[str, str] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=True)  # conformed by the caller
    if metadata:
        extra = {f"dmtools.{k}".encode(): str(v).encode() for k, v in metadata.items()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    pq.write_table(table, target)


def write_parquet(
    df: pd.DataFrame,
    path: PathLike,
    *,
    overwrite: bool = True,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write a video frame to a Parquet file (typed; no text encoding needed).

    Args:
        overwrite: False refuses an existing file (InputError).
        metadata: extra key/values for the file's schema metadata (a snapshot records the
            export format and the file it belongs to there).

    Example:
        ``write_parquet(df, "videos.parquet")``
    """
    write_with(
        lambda frame, target: parquet_file(frame, target, metadata), df, path, overwrite=overwrite
    )


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
