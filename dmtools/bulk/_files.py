"""File helpers of the bulk package: edited files in, plans and backups out, ``runs/``.

Suffixes are looked up in the frame layer's one table (:mod:`dmtools.frames.formats`), and
every file is written with :func:`dmtools._safefiles.atomic_write`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools._safefiles import atomic_write
from dmtools.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: Where run artefacts go by default (journals, locks, results, backups, snapshots).
RUNS_DIR = "runs"
_IGNORE = "# run artefacts of dmtools (journals, results, backups)\n*\n"


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
                atomic_write(ignore, _IGNORE, mode=0o644, fsync=False, overwrite=False)
            except InputError:  # made by another process meanwhile: theirs is as good
                pass
    return folder


def read_edited_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an edited CSV, Excel or Parquet file with the frames readers (typed, lossless)."""
    from dmtools.frames.formats import file_format

    read = file_format(path, writing=False).read
    assert read is not None
    if not Path(path).is_file():
        raise InputError(f"no such file: {os.fspath(path)!r}")
    return read(path)


def write_json_atomic(path: str | os.PathLike[str], data: Mapping[str, Any] | list[Any]) -> Path:
    """Write JSON to ``path`` atomically (0600, on disk before it has its name)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=1, default=str)
    return atomic_write(target, text)
