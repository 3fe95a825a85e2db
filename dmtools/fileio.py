"""CSV, Excel and Parquet round trips: :mod:`dmtools.frames.files` and
:mod:`dmtools.frames.formats`.

This module keeps the names importable from ``dmtools.fileio``.
"""

from __future__ import annotations

from dmtools.frames.files import (
    FORMAT_VERSION,
    MISSING,
    read_csv,
    read_excel,
    read_parquet,
    write_csv,
    write_excel,
    write_parquet,
)
from dmtools.frames.formats import export_frame, import_frame

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
