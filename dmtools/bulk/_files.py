"""File helpers of the bulk package: edited files in, plans and exports out."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

_READERS = {
    ".csv": "read_csv",
    ".xlsx": "read_excel",
    ".xlsm": "read_excel",
    ".parquet": "read_parquet",
}
_WRITERS = {".csv": "write_csv", ".xlsx": "write_excel", ".parquet": "write_parquet"}
#: Where run artefacts go by default (journals, locks, results, backups, snapshots).
RUNS_DIR = "runs"


def runs_dir(*, create: bool = True) -> Path:
    """The folder of run artefacts: ``$DMTOOLS_RUNS_DIR``, else ``runs/`` in the current
    directory. Created with a ``.gitignore`` of ``*`` inside, so git ignores everything in it
    (like a virtual environment does).

    Example:
        >>> runs_dir()                                   # doctest: +SKIP
        PosixPath('/home/me/project/runs')
    """
    folder = Path(os.environ.get("DMTOOLS_RUNS_DIR") or RUNS_DIR).absolute()
    if create:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not os.path.lexists(ignore):
            try:
                fd = os.open(ignore, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write("# run artefacts of dmtools (journals, results, backups)\n*\n")
    return folder


def read_edited_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an edited CSV, Excel or Parquet file with the frames readers (typed, lossless)."""
    from dmtools import frames

    suffix = Path(path).suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise InputError(f"cannot read {os.fspath(path)!r}: use a .csv, .xlsx or .parquet file")
    if not Path(path).is_file():
        raise InputError(f"no such file: {os.fspath(path)!r}")
    frame: pd.DataFrame = getattr(frames, reader)(path)
    return frame


def write_json_atomic(path: str | os.PathLike[str], data: Mapping[str, Any] | list[Any]) -> Path:
    """Write JSON to ``path`` through a temporary file and ``os.replace`` (never partial)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_export(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Export rows by suffix: CSV/Excel/Parquet through frames, anything else as JSON."""
    target = Path(path)
    writer = _WRITERS.get(target.suffix.lower())
    if writer is None:
        records = json.loads(frame.reset_index().to_json(orient="records", date_format="iso"))
        return write_json_atomic(target, records)
    from dmtools import frames

    target.parent.mkdir(parents=True, exist_ok=True)
    getattr(frames, writer)(frame, target)
    return target
