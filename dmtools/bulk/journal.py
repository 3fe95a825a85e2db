"""The journal of a bulk job: an SQLite file (WAL, ``synchronous=NORMAL``) per job.

It survives a killed process: every operation is marked ``sending`` (and committed) *before*
its request goes out, and its outcome is recorded after. A later run of the same job first
resolves every ``sending``/``in_doubt`` operation by reading the video back.

File layout (format ``dmtools.journal``, version 1)::

    header(key TEXT PRIMARY KEY, value TEXT)   -- format, version, kind (edit|delete),
                                               -- fingerprint, account_id, api_base, scopes,
                                               -- dmtools_version, created, plan (JSON),
                                               -- export_path (deletes)
    ops(op_id INTEGER PRIMARY KEY, video_id, kind, planned JSON, state, before JSON,
        sent JSON, attempts, http_status, error_type, message, updated)

``planned`` holds ``{field: [old, new]}`` (``{}`` for a delete), ``before`` the server's values
just before the write (what undo restores), ``sent`` the values of the last write.

Operation states: ``planned``, ``sending``, ``in_doubt`` (the write may or may not have
happened), and the final ``applied``, ``unchanged``, ``conflict``, ``failed``, ``deleted``,
``already_absent``. ``failed`` operations are tried again by a later run of the same job;
the other final states are never sent again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dmtools.errors import JournalError, Problem

__all__ = ["FINAL", "IN_DOUBT", "Journal", "JournalError", "JournalRow"]

FORMAT = "dmtools.journal"
VERSION = 1
IN_DOUBT = frozenset({"sending", "in_doubt"})
#: States an operation never leaves (no request is sent for it again).
FINAL = frozenset({"applied", "unchanged", "conflict", "deleted", "already_absent"})

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
    updated REAL
);
"""


@dataclass(frozen=True)
class JournalRow:
    op_id: int
    video_id: str
    kind: str
    planned: dict[str, Any]
    state: str
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

    Example:
        >>> with Journal.open("edits.journal") as j:      # doctest: +SKIP
        ...     j.header()["fingerprint"], j.counts()
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._lockfile: IO[bytes] | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
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
            raise JournalError(f"{target} is not a dmtools journal ({exc})") from None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        """Open an existing journal file (for resume, undo or inspection)."""
        if not Path(path).is_file():
            raise JournalError(f"no journal at {os.fspath(path)!r}")
        journal = cls(path)
        header = journal.header()
        if header.get("format") != FORMAT:
            journal.close()
            if not header:  # the run that created it stopped before recording the job
                raise JournalError(
                    f"{os.fspath(path)!r} holds no job: the run that created it "
                    "stopped before it began (nothing was sent); apply the plan "
                    "again with this journal"
                )
            raise JournalError(f"{os.fspath(path)!r} is not a dmtools journal")
        return journal

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.unlock()
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ header
    def header(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM header").fetchall()
        return {key: json.loads(value) for key, value in rows}

    @property
    def is_new(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM header").fetchone()[0] == 0

    def start(
        self, header: Mapping[str, Any], ops: Iterable[tuple[int, str, str, Mapping[str, Any]]]
    ) -> None:
        """Write the header and every operation as ``planned``, in one transaction."""
        values = {"format": FORMAT, "version": VERSION, "created": time.time(), **header}
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO header VALUES (?, ?)",
                    [(k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()],
                )
                self._db.executemany(
                    "INSERT INTO ops (op_id, video_id, kind, planned) VALUES (?, ?, ?, ?)",
                    [(op_id, vid, kind, _dump(dict(planned))) for op_id, vid, kind, planned in ops],
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

    # ------------------------------------------------------------------ cross-process lock
    def lock(self) -> None:
        """Hold an exclusive lock on the job so two processes never run it at once."""
        if self.path is None or self._lockfile is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no cross-process lock
            return
        handle = open(str(self.path) + ".lock", "ab")  # held until unlock()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise JournalError(f"another process is running the job in {self.path}") from None
        self._lockfile = handle

    def unlock(self) -> None:
        if self._lockfile is not None:
            self._lockfile.close()
            self._lockfile = None

    # ------------------------------------------------------------------ operations
    def mark(
        self,
        op_id: int,
        state: str,
        *,
        before: Mapping[str, Any] | None = None,
        sent: Mapping[str, Any] | None = None,
        attempt: bool = False,
        http_status: int | None = None,
        error_type: str | None = None,
        message: str = "",
    ) -> None:
        """Record a state change (committed before returning)."""
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
        with self._lock:
            self._db.execute(f"UPDATE ops SET {', '.join(sets)} WHERE op_id = ?", [*args, op_id])

    def rows(self) -> list[JournalRow]:
        with self._lock:
            found = self._db.execute(
                "SELECT op_id, video_id, kind, planned, state, before, sent, attempts, "
                "http_status, error_type, message FROM ops ORDER BY op_id"
            ).fetchall()
        return [
            JournalRow(
                r[0],
                r[1],
                r[2],
                _load(r[3]),
                r[4],
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
            found = self._db.execute("SELECT state, count(*) FROM ops GROUP BY state").fetchall()
        return dict(found)

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` answer (``"ok"`` for a sound file)."""
        with self._lock:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])
