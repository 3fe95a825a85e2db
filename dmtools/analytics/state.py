"""Report tokens kept on disk, so an interrupted load picks its reports up again.

A Reporting API report takes minutes to hours to make and lives 48 hours. Each report a load
asks for is recorded, keyed by the account (GraphQL endpoint, API key, user or channel) and
the exact request, as soon as the API gives its token; a later load of the same request, in
a restarted kernel or another run of ``dmtools analytics``, polls those reports instead of
asking again. A load that returns its frame forgets its tokens. Records older than
:data:`LIFETIME` are dropped (the API deletes reports after 48 hours), as is a report the
API no longer knows.

The file is SQLite (``reports.sqlite``), in the user's data folder (``$DMTOOLS_DATA_DIR``,
else the platform's, e.g. ``~/.local/share/dmtools``), created 0600 in a 0700 folder and
never through a symbolic link; every change is one transaction (atomic, and safe with
several processes). A report token alone gives nothing: polling needs the same key's access
token. Download links, which are capabilities, are never stored.

Example:
    >>> state = ReportState(default_state_path())                     # doctest: +SKIP
    >>> state.put(account, chunk_key, "emu_rpt_...", attempts=1)       # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dmtools.errors import InputError

__all__ = ["LIFETIME", "ReportState", "SavedReport", "data_dir", "default_state_path"]

#: Seconds a report token is worth keeping (the API deletes reports after 48 hours).
LIFETIME = 48 * 3600
_SCHEMA = """CREATE TABLE IF NOT EXISTS reports (
    account TEXT NOT NULL, request TEXT NOT NULL, token TEXT NOT NULL, asked_at REAL NOT NULL,
    attempts INTEGER NOT NULL, PRIMARY KEY (account, request))"""


def data_dir() -> Path:
    """dmtools' data folder: ``$DMTOOLS_DATA_DIR``, else the platform's user data folder."""
    if os.environ.get("DMTOOLS_DATA_DIR"):
        return Path(os.environ["DMTOOLS_DATA_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("dmtools", appauthor=False))


def default_state_path() -> Path:
    """Where report tokens are kept by default."""
    return data_dir() / "reports.sqlite"


def private_folder(folder: Path) -> Path:
    """``folder``, created 0700 if missing; never a symbolic link."""
    if folder.is_symlink():
        raise InputError(f"{folder} is a symbolic link; dmtools never writes through one")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class SavedReport:
    """A report asked for earlier: its token, when (POSIX seconds), how many times asked."""

    token: str
    asked_at: float
    attempts: int


class ReportState:
    """The report tokens of one file (``None``: kept in memory only, for this load)."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self._open(), check_same_thread=False, timeout=30)
        with self._transaction() as db:
            db.execute(_SCHEMA)
            db.execute("DELETE FROM reports WHERE asked_at < ?", (time.time() - LIFETIME,))

    def _open(self) -> str:
        if self.path is None:
            return ":memory:"
        private_folder(self.path.parent)
        if self.path.is_symlink():
            raise InputError(f"{self.path} is a symbolic link; dmtools never writes through one")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)
        return str(self.path)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:  # commits, or rolls back on an error
            yield self._db

    def close(self) -> None:
        self._db.close()

    def get(self, account: str, request: str) -> SavedReport | None:
        """The report kept for this account and request, if younger than :data:`LIFETIME`."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT token, asked_at, attempts FROM reports WHERE account = ? AND request = ?",
                (account, request),
            ).fetchone()
        if row is None or row[1] < time.time() - LIFETIME:
            return None
        return SavedReport(str(row[0]), float(row[1]), int(row[2]))

    def put(self, account: str, request: str, token: str, *, attempts: int) -> None:
        """Keep a report just asked for (replacing an earlier one of the same request)."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO reports VALUES (?, ?, ?, ?, ?)",
                (account, request, token, time.time(), attempts),
            )

    def forget(self, account: str, requests: Iterable[str]) -> None:
        """Drop the reports of these requests."""
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM reports WHERE account = ? AND request = ?",
                [(account, r) for r in requests],
            )

    def count(self) -> int:
        """Reports kept (all accounts)."""
        with self._transaction() as db:
            return int(db.execute("SELECT count(*) FROM reports").fetchone()[0])
