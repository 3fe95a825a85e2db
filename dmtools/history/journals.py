"""The operations of bulk jobs, read from their journal files (read-only) as one DataFrame.

A journal (:mod:`dmtools.bulk.journal`) is an SQLite file; it is opened read-only and its
columns are read by name, so journals written by other dmtools versions (with more columns)
read the same. Nothing is ever written to a journal from here.

Example:
    >>> from dmtools.history.journals import read_journals
    >>> ops = read_journals(["cleanup.journal", "jobs/"])               # doctest: +SKIP
    >>> ops[ops.state == "applied"].groupby("plan").size()              # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "journal_paths", "read_journals"]

log = logging.getLogger(__name__)

FORMAT = "dmtools.journal"
#: Columns of :func:`read_journals`, in order.
COLUMNS = (
    "journal",
    "plan",
    "job_kind",
    "account_id",
    "api_base",
    "op_id",
    "video_id",
    "field",
    "old",
    "new",
    "state",
    "applied_at",
)
#: States of an operation whose change reached the API.
DONE = frozenset({"applied", "deleted"})


def journal_paths(items: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Journal files from paths: a file as given, a folder's ``*.journal`` files.

    Raises:
        InputError: a path that does not exist.
    """
    found: list[Path] = []
    missing = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.journal") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            missing.append(Problem(None, "journal", f"{os.fspath(path)!r} does not exist"))
    if missing:
        raise InputError("cannot read the journals", missing)
    return list(dict.fromkeys(found))


def _connect(path: Path) -> sqlite3.Connection:
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=10.0)


def _read_one(path: Path) -> list[dict[str, Any]]:
    """The operations of one journal, one row per changed field (one per delete)."""
    try:
        db = _connect(path)
        try:
            header = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM header")}
            cursor = db.execute("SELECT * FROM ops ORDER BY op_id")
            names = [d[0] for d in cursor.description]
            ops = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            db.close()
    except (sqlite3.Error, json.JSONDecodeError) as exc:
        raise InputError(f"{os.fspath(path)!r} is not a readable dmtools journal ({exc})") from None
    if header.get("format") != FORMAT:
        raise InputError(f"{os.fspath(path)!r} is not a dmtools journal")
    job = {
        "journal": os.fspath(path),
        "plan": header.get("fingerprint"),
        "job_kind": header.get("kind"),
        "account_id": header.get("account_id"),
        "api_base": header.get("api_base"),
    }
    rows: list[dict[str, Any]] = []
    for op in ops:
        base = {
            **job,
            "op_id": op.get("op_id"),
            "video_id": op.get("video_id"),
            "state": op.get("state"),
            "applied_at": op.get("updated"),
        }
        planned = json.loads(op["planned"]) if op.get("planned") else {}
        if op.get("kind") == "delete" or not planned:
            rows.append({**base, "field": None, "old": None, "new": None})
            continue
        for field, change in planned.items():
            old, new = change if isinstance(change, list) and len(change) == 2 else (None, change)
            rows.append({**base, "field": field, "old": old, "new": new})
    return rows


def read_journals(items: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """Every operation of the journals found in ``items`` (files, or folders of ``*.journal``).

    One row per field an edit changes (one per delete, with ``field`` null), with the columns
    of :data:`COLUMNS`: the journal file, the plan's fingerprint, the job kind (``edit`` or
    ``delete``), account and API host, the operation, the video, the field with its old and
    new values (as the plan holds them), the operation's state and ``applied_at`` (UTC, when
    its state was last recorded: for ``applied`` and ``deleted``, just after the API answered).

    Raises:
        InputError: a path that does not exist or a file that is not a dmtools journal.
    """
    import pandas as pd

    rows = [row for path in journal_paths(items) for row in _read_one(path)]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["applied_at"] = pd.to_datetime(frame["applied_at"], unit="s", utc=True)
    for column in COLUMNS:
        if column in ("op_id", "old", "new", "applied_at"):
            continue
        frame[column] = frame[column].astype(pd.StringDtype("pyarrow"))
    frame["op_id"] = frame["op_id"].astype(pd.Int64Dtype())
    log.debug("read %d operations from journals", len(frame))
    return frame
