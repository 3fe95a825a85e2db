"""CSV, Excel and Parquet round trips, now in :mod:`dmtools.frames.files` (readers and
writers) and :mod:`dmtools.frames.formats` (the suffix table).

This module keeps ``dmtools.fileio`` importable: it is those modules' names.
"""

from __future__ import annotations

from dmtools.frames.files import *  # noqa: F403
from dmtools.frames.files import __all__ as _FILES
from dmtools.frames.formats import export_frame, import_frame

__all__ = [*_FILES, "export_frame", "import_frame"]
