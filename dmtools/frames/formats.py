"""One suffix table for every file dmtools reads or writes: :data:`FORMATS`.

=============  ==================  ========================================================
suffix         format              read / written by
=============  ==================  ========================================================
``.csv``       CSV                 :func:`~dmtools.frames.read_csv` / ``write_csv``
``.xlsx``      Excel workbook      :func:`~dmtools.frames.read_excel` / ``write_excel``
``.xlsm``      Excel (macros)      read only
``.parquet``   Parquet             :func:`~dmtools.frames.read_parquet` / ``write_parquet``
``.pq``        Parquet             the same
``.json``      JSON records        delete backups (a list of records, read back by id)
=============  ==================  ========================================================

:func:`import_frame` and :func:`export_frame` (tables only), the planner's file input
(``plan_edits(df, "edited.xlsx")``), ``dmtools export``/``plan`` and the delete backups all
look suffixes up here, so they agree on every one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dmtools.errors import InputError
from dmtools.frames.files import (
    PathLike,
    csv_file,
    excel_file,
    parquet_file,
    read_csv,
    read_excel,
    read_parquet,
    write_with,
)

__all__ = [
    "FORMATS",
    "FileFormat",
    "export_frame",
    "file_format",
    "import_frame",
    "read_json_records",
    "suffixes",
    "write_frame",
]


# -- JSON records (delete backups) --------------------------------------------------------------


def _json_file(df: pd.DataFrame, target: Path) -> None:
    text = df.reset_index().to_json(orient="records", date_format="iso")
    target.write_text(json.dumps(json.loads(text), ensure_ascii=False, indent=1), "utf-8")


def read_json_records(path: PathLike) -> pd.DataFrame:
    """The records of a JSON list (as a ``.json`` backup holds them), indexed by ``id``; the
    values are as JSON gives them (this reads backups back; it is not an import).

    Raises:
        InputError: not a JSON list of objects with an ``id``.
    """
    try:
        records = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path} is not a JSON file of videos: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) and "id" in r for r in records):
        raise InputError(f"{path} is not a JSON list of video records")
    return pd.DataFrame.from_records(records, columns=_json_columns(records)).set_index("id")


def _json_columns(records: list[dict[str, object]]) -> list[str]:
    return list(dict.fromkeys(["id", *(k for r in records for k in r)]))


# -- by suffix ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileFormat:
    """How one kind of file is read and written.

    Attributes:
        name: for people (``CSV``).
        read: reads a file of videos into a frame (None: dmtools does not read it).
        write: writes the complete file at a path (None: dmtools does not write it).
        table: a typed table of videos people edit (CSV, workbook, Parquet), written from a
            conformed frame; JSON records are written as the frame holds them.
    """

    name: str
    read: Callable[[PathLike], pd.DataFrame] | None
    write: Callable[[pd.DataFrame, Path], None] | None
    table: bool = True


CSV = FileFormat("CSV", read_csv, csv_file)
EXCEL = FileFormat("Excel", read_excel, excel_file)
PARQUET = FileFormat("Parquet", read_parquet, parquet_file)
#: Every file suffix dmtools reads or writes.
FORMATS: dict[str, FileFormat] = {
    ".csv": CSV,
    ".xlsx": EXCEL,
    ".xlsm": FileFormat("Excel (macros)", read_excel, None),
    ".parquet": PARQUET,
    ".pq": PARQUET,
    ".json": FileFormat("JSON", read_json_records, _json_file, table=False),
}


def file_format(path: PathLike, *, writing: bool, tables_only: bool = True) -> FileFormat:
    """The format of ``path`` by its suffix.

    Raises:
        InputError: a suffix dmtools cannot read (or write), naming those it can.
    """
    suffix = Path(path).suffix.lower()
    usable = suffixes(writing=writing, tables_only=tables_only)
    if suffix not in usable:
        verb = "write" if writing else "read"
        raise InputError(
            f"cannot {verb} {os.fspath(path)!r} ({suffix or 'no suffix'}): "
            f"use a {', '.join(usable)} file"
        )
    return FORMATS[suffix]


def suffixes(*, writing: bool, tables_only: bool = True) -> tuple[str, ...]:
    """The suffixes dmtools reads (or writes), tables only by default."""
    return tuple(
        s
        for s, f in FORMATS.items()
        if (f.write if writing else f.read) is not None and (f.table or not tables_only)
    )


def write_frame(
    df: pd.DataFrame,
    path: PathLike,
    *,
    overwrite: bool = True,
    mode: int = 0o666,
    fsync: bool = False,
    check: Callable[[Path], object] | None = None,
) -> Path:
    """Write ``df`` in the format of ``path``'s suffix (JSON records too), through
    :func:`~dmtools._safefiles.atomic_write` with its ``overwrite``, ``mode``, ``fsync`` and
    ``check`` (the temporary file keeps the suffix, so ``check`` can read it).

    Raises:
        InputError: an unknown suffix, or a frame that does not fit (nothing written).
    """
    fmt = file_format(path, writing=True, tables_only=False)
    assert fmt.write is not None
    return write_with(
        fmt.write,
        df,
        path,
        typed=fmt.table,
        overwrite=overwrite,
        mode=mode,
        fsync=fsync,
        check=check,
        suffix=Path(path).suffix,
    )


def export_frame(df: pd.DataFrame, path: PathLike, *, overwrite: bool = True) -> None:
    """Write ``df`` as CSV, Excel or Parquet, by the suffix of ``path`` (``overwrite=False``
    refuses an existing file).

    Example:
        ``export_frame(df, "videos.xlsx")``
    """
    write = file_format(path, writing=True).write
    assert write is not None
    write_with(write, df, path, overwrite=overwrite)


def import_frame(path: PathLike) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file of videos, by the suffix of ``path``.

    Example:
        ``df = import_frame("videos.xlsx")``
    """
    read = file_format(path, writing=False).read
    assert read is not None
    return read(path)
