"""An analytics frame to a CSV or Parquet file: :func:`save_frame`.

* **CSV**: UTF-8, a header row, one row per row of the frame; times as ISO 8601 with their
  offset (``2026-04-01T00:00:00+00:00``), a missing value as an empty cell, and the formula
  guard of dmtools' files on text (a ``'`` before a title or URL a spreadsheet could run as
  a formula, see :mod:`dmtools.frames._filecells`). Plain pandas reads it back
  (``pd.read_csv(path, parse_dates=["day"])``).
* **Parquet**: the frame as it is (dtypes and time zone kept).

The file is written beside its target, then moved in place (never half a file); an existing
file is replaced only with ``overwrite``, and never through a symbolic link.

Example:
    >>> save_frame(df, "views.parquet")                                 # doctest: +SKIP
"""

from __future__ import annotations

import csv
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from dmtools.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SUFFIXES", "save_frame"]

#: File types :func:`save_frame` writes.
SUFFIXES = (".csv", ".parquet")


def _csv_cells(frame: pd.DataFrame) -> list[list[str]]:
    import pandas as pd

    from dmtools.frames._filecells import guard

    columns = []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            cells = [t.isoformat() if t is not pd.NaT else "" for t in series]
        elif pd.api.types.is_numeric_dtype(series.dtype):
            cells = [
                "" if pd.isna(v) else repr(float(v)) if isinstance(v, float) else str(v)
                for v in series
            ]
        else:
            cells = ["" if pd.isna(v) else guard(str(v), inside=True) for v in series]
        columns.append(cells)
    return [list(row) for row in zip(*columns, strict=True)]


def save_frame(
    frame: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``frame`` as CSV or Parquet, by the suffix of ``path`` (see the module notes).

    Raises:
        InputError: another suffix, a symbolic link or folder at ``path``, or an existing
            file without ``overwrite`` (nothing written).
    """
    from dmtools._safefiles import check_target, place

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"cannot write {str(target)!r}: use a {' or '.join(SUFFIXES)} file")
    check_target(target, overwrite=overwrite, hint="pass overwrite (--force) to replace it")
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        if suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            with open(temporary, "x", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([str(c) for c in frame.columns])
                writer.writerows(_csv_cells(frame))
        place(temporary, target, overwrite=overwrite)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
