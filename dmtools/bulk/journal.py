"""The journal of a bulk job: an SQLite file (WAL, ``synchronous=NORMAL``) per job.

It survives a killed process: every operation is marked ``sending`` (and committed) *before*
its request goes out, and its outcome is recorded after. A later run of the same job first
resolves every ``sending``/``in_doubt`` operation by reading the video back.

File layout (format ``dmtools.journal``, version 2)::

    header(key TEXT PRIMARY KEY, value TEXT)   -- format, version, kind (edit|delete),
                                               -- fingerprint, account_id, api_base, scopes,
                                               -- dmtools_version, created, plan (JSON),
                                               -- exports (deletes: backups), undo_of (undo jobs),
                                               -- digest (of every other header value)
    ops(op_id INTEGER PRIMARY KEY, video_id, kind, planned JSON, state, before JSON,
        sent JSON, attempts, http_status, error_type, message, updated, digest)

``state`` is an :data:`~dmtools.bulk._base.OpStatus` (the table of states is there).
``planned`` holds ``{field: [old, new]}`` (``{}`` for a delete), ``before`` the server's values
just before the write (what undo restores), ``sent`` the values of the last write.

**Integrity** (:mod:`dmtools.bulk._integrity`). Every operation row carries a digest over the
plan's fingerprint and every column but its timestamp, and the header one over its values;
:meth:`Journal.verify` recomputes them and compares the rows with the plan's operations, so
resume, undo and apply refuse an edited journal before any request. The digests detect edits
and rows copied between journals; they are not a signature.

**One process per job** (:mod:`dmtools.bulk._jobfiles`): the lock on ``<journal>.lock`` is
taken before the database is opened; a second run gets "another process is running this job".
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from dmtools.bulk._base import FINAL, IN_DOUBT, OpStatus
from dmtools.bulk._integrity import ROW_COLUMNS, header_digest, row_digest, verify_rows
from dmtools.bulk._jobfiles import JobLock, busy, refuse_odd_file
from dmtools.errors import JournalError, Problem

__all__ = ["FINAL", "IN_DOUBT", "Journal", "JournalError", "JournalRow"]

FORMAT = "dmtools.journal"
#: Version 2 adds the integrity digests (a version 1 journal is refused: it cannot be checked).
VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS header (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ops (
    op_id INTEGER PRIMARY KEY,
    video_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    planned TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'planned',
    before TEXT,
    sent TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    error_type TEXT,
    message TEXT NOT NULL DEFAULT '',
    updated REAL,
    digest TEXT NOT NULL DEFAULT ''
);
"""


@dataclass(frozen=True)
class JournalRow:
    op_id: int
    video_id: str
    kind: str
    planned: dict[str, Any]
    state: OpStatus
    before: dict[str, Any] | None
    sent: dict[str, Any] | None
    attempts: int
    http_status: int | None
    error_type: str | None
    message: str


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Journal:
    """One job's journal file (``path=None``: kept in memory, for runs without a file).

    The connection is shared by the worker threads under a lock; each state change is its
    own committed transaction.

    Args:
        path: the journal file (created when missing), or None.
        lock: hold the job's cross-process lock from the start (before the database is
            opened); :class:`JournalError` if another process holds it.

    Example:
        >>> with Journal.open("edits.journal") as j:      # doctest: +SKIP
        ...     j.header()["fingerprint"], j.counts()
    """

    def __init__(self, path: str | os.PathLike[str] | None, *, lock: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._joblock = JobLock(self.path) if self.path is not None else None
        self._fingerprint: str | None = None
        if self.path is not None:
            refuse_odd_file(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if lock:
                self.lock()
        target = str(self.path) if self.path is not None else ":memory:"
        try:
            self._db = sqlite3.connect(
                target, check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.unlock()
            raise self._failure(exc) from None

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, lock: bool = False) -> Journal:
        """Open an existing journal file (for resume, undo or inspection)."""
        if not Path(path).is_file():
            raise JournalError(f"no journal at {os.fspath(path)!r}")
        journal = cls(path, lock=lock)
        header = journal.header()
        if header.get("format") != FORMAT:
            busy_now = not header and journal.is_locked_elsewhere()
            journal.close()
            if busy_now:  # another run is creating the job right now
                raise busy(os.fspath(path))
            if not header:  # the run that created it stopped before recording the job
                raise JournalError(
                    f"{os.fspath(path)!r} holds no job: the run that created it "
                    "stopped before it began (nothing was sent); apply the plan "
                    "again with this journal"
                )
            raise JournalError(f"{os.fspath(path)!r} is not a dmtools journal")
        if header.get("version") != VERSION:
            journal.close()
            raise JournalError(
                f"{os.fspath(path)!r} is a journal of version {header.get('version')!r}, "
                f"written by another dmtools; this one reads version {VERSION} (its rows "
                "cannot be checked); nothing was sent"
            )
        return journal

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.unlock()
        with self._lock:
            self._db.close()

    def _failure(self, exc: sqlite3.Error) -> JournalError:
        """The JournalError of an SQLite error (busy, not a journal, cannot be written)."""
        target = self.path if self.path is not None else ":memory:"
        if "locked" in str(exc):
            return busy(self.path)
        if "not a database" in str(exc):
            return JournalError(f"{target} is not a dmtools journal ({exc})")
        return JournalError(
            f"cannot write the journal {target}: {exc} (a full disk, or a folder that cannot "
            "be written?); no request is sent without its journal entry"
        )

    def _execute(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, tuple(args)).fetchall()
        except sqlite3.OperationalError as exc:
            raise self._failure(exc) from None

    # ------------------------------------------------------------------ header
    def header(self) -> dict[str, Any]:
        with self._lock:
            rows = self._execute("SELECT key, value FROM header")
        return {key: json.loads(value) for key, value in rows}

    @property
    def is_new(self) -> bool:
        with self._lock:
            return self._execute("SELECT count(*) FROM header")[0][0] == 0

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = str(self.header().get("fingerprint", ""))
        return self._fingerprint

    def start(
        self, header: Mapping[str, Any], ops: Iterable[tuple[int, str, str, Mapping[str, Any]]]
    ) -> None:
        """Write the header and every operation as ``planned``, in one transaction."""
        values = {"format": FORMAT, "version": VERSION, "created": time.time(), **header}
        values["digest"] = header_digest(values)
        fingerprint = str(values.get("fingerprint", ""))
        rows = []
        for op_id, vid, kind, planned in ops:
            text = _dump(dict(planned))
            row = (op_id, vid, kind, text, "planned", None, None, 0, None, None, "")
            digest = row_digest(fingerprint, row)
            rows.append((op_id, vid, kind, text, digest))
        with self._lock:
            self._execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO header VALUES (?, ?)",
                    [(k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()],
                )
                self._db.executemany(
                    "INSERT INTO ops (op_id, video_id, kind, planned, digest) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._failure(exc) from None
                raise
        self._fingerprint = fingerprint

    def add_header(self, key: str, value: Any) -> None:
        """Record one more header value (and the header's new digest)."""
        values = {**self.header(), key: value}
        values.pop("digest", None)
        digest = header_digest(values)
        with self._lock:
            self._execute("BEGIN IMMEDIATE")
            try:
                for name, item in ((key, value), ("digest", digest)):
                    self._db.execute(
                        "INSERT OR REPLACE INTO header VALUES (?, ?)",
                        (name, json.dumps(item, ensure_ascii=False)),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def check(self, expected: Mapping[str, Any]) -> None:
        """Refuse (JournalError) when the journal belongs to another plan, account or host."""
        header = self.header()
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise JournalError(f"{self.path} is not a dmtools journal of version {VERSION}")
        names = {
            "kind": "kind of job",
            "fingerprint": "plan",
            "account_id": "account",
            "api_base": "API host",
        }
        problems = [
            Problem(
                None,
                key,
                f"the journal is for {names[key]} {header.get(key)!r}, "
                f"this run is for {expected[key]!r}",
            )
            for key in names
            if key in expected and header.get(key) != expected[key]
        ]
        if problems:
            raise JournalError(
                f"the journal {self.path} belongs to another job; refusing to "
                "run (nothing was sent)",
                problems,
            )

    def verify(self, ops: Iterable[tuple[int, str, str, Mapping[str, Any]]]) -> None:
        """Refuse (JournalError) a journal whose header or rows do not match their digests,
        or whose rows are not exactly ``ops`` (the operations of the plan it is run for)."""
        header = self.header()
        with self._lock:
            found = self._execute(f"SELECT {ROW_COLUMNS}, digest FROM ops ORDER BY op_id")
        problems = verify_rows(header, found, ops)
        if problems:
            raise JournalError(
                f"the journal {self.path} was modified outside dmtools ({len(problems)} "
                "problem(s)); refusing to use it (nothing was sent)",
                problems,
            )

    # ------------------------------------------------------------------ cross-process lock
    def lock(self) -> None:
        """Hold an exclusive lock on the job so two processes never run it at once."""
        if self._joblock is not None:
            self._joblock.acquire()

    def unlock(self) -> None:
        if self._joblock is not None:
            self._joblock.release()

    def is_locked_elsewhere(self) -> bool:
        """Whether another process (or another open journal) holds the job's lock now."""
        return self._joblock is not None and self._joblock.held_elsewhere()

    # ------------------------------------------------------------------ operations
    def mark(
        self,
        op_id: int,
        state: OpStatus,
        *,
        before: Mapping[str, Any] | None = None,
        sent: Mapping[str, Any] | None = None,
        attempt: bool = False,
        http_status: int | None = None,
        error_type: str | None = None,
        message: str = "",
    ) -> None:
        """Record a state change (committed before returning), with the row's new digest."""
        sets = ["state = ?", "http_status = ?", "error_type = ?", "message = ?", "updated = ?"]
        args: list[Any] = [state, http_status, error_type, message, time.time()]
        if before is not None:
            sets.append("before = ?")
            args.append(_dump(dict(before)))
        if sent is not None:
            sets.append("sent = ?")
            args.append(_dump(dict(sent)))
        if attempt:
            sets.append("attempts = attempts + 1")
        fingerprint = self.fingerprint
        with self._lock:
            old = self._execute(f"SELECT {ROW_COLUMNS} FROM ops WHERE op_id = ?", [op_id])[0]
            row = (
                *old[:4],
                state,
                _dump(dict(before)) if before is not None else old[5],
                _dump(dict(sent)) if sent is not None else old[6],
                old[7] + int(attempt),
                http_status,
                error_type,
                message,
            )
            sets.append("digest = ?")
            self._execute(
                f"UPDATE ops SET {', '.join(sets)} WHERE op_id = ?",
                [*args, row_digest(fingerprint, row), op_id],
            )

    def rows(self) -> list[JournalRow]:
        with self._lock:
            found = self._execute(
                "SELECT op_id, video_id, kind, planned, state, before, sent, attempts, "
                "http_status, error_type, message FROM ops ORDER BY op_id"
            )
        return [
            JournalRow(
                r[0],
                r[1],
                r[2],
                _load(r[3]),
                cast(OpStatus, r[4]),
                _load(r[5]),
                _load(r[6]),
                r[7],
                r[8],
                r[9],
                r[10],
            )
            for r in found
        ]

    def counts(self) -> dict[str, int]:
        with self._lock:
            found = self._execute("SELECT state, count(*) FROM ops GROUP BY state")
        return dict(found)

    def last_update(self) -> float | None:
        """When an operation last changed state (unix seconds), or None."""
        with self._lock:
            found = self._execute("SELECT max(updated) FROM ops")
        return None if found[0][0] is None else float(found[0][0])

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` answer (``"ok"`` for a sound file)."""
        with self._lock:
            return str(self._execute("PRAGMA integrity_check")[0][0])
