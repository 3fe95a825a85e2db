"""The files around a job's journal: its lock, and the checks made before opening it.

The lock is ``<journal>.lock``, held with ``flock`` (exclusive, non-blocking) for as long as a
run uses the journal; it is taken before the database is opened, so a second run of the same
job meets one clear error instead of SQLite's "database is locked" or a duplicate header.
The lock file is opened without following a symlink, and a journal path that is a symlink,
a directory or a file that is not a journal is refused before anything is written.

A job run again on purpose (``dmtools apply --again``, the review panel's Apply again) gets a
new journal beside the first: ``x.journal``, then ``x.run2.journal``, ``x.run3.journal``…
(:func:`job_runs`, :func:`next_run`).
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from dmtools.errors import JournalError

__all__ = ["JobLock", "busy", "job_runs", "next_run", "refuse_odd_file"]

_RUN = re.compile(r"\.run(\d+)$")

#: The first bytes of every SQLite file.
SQLITE_MAGIC = b"SQLite format 3\x00"


def busy(path: Path | str | None) -> JournalError:
    """The error of a job that another process (or another run in this one) is running."""
    return JournalError(
        f"another process is running this job (journal {path}); wait for it to finish, "
        "then run the command again; nothing was sent by this one"
    )


def refuse_odd_file(path: Path) -> None:
    """Refuse a journal path that is a symlink, not a regular file, or another kind of file."""
    if path.is_symlink():
        raise JournalError(
            f"{path} is a symbolic link; dmtools never writes through one: choose another path"
        )
    if not path.exists():
        return
    if not path.is_file():
        raise JournalError(f"{path} is not a regular file; choose another journal path")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise JournalError(f"{path} is not a dmtools journal (it would be overwritten)")


class JobLock:
    """The exclusive lock of one journal (a no-op where ``fcntl`` does not exist)."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.name = str(journal) + ".lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise :func:`busy` when another holder has it."""
        if self._fd is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no cross-process lock
            return
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.name, flags, 0o600)
        except OSError as exc:
            raise JournalError(f"cannot use the lock file {self.name}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise busy(self.journal) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def held_elsewhere(self) -> bool:
        """Whether another process (or another open journal) holds the lock now."""
        if self._fd is not None or not os.path.exists(self.name):
            return False
        try:
            self.acquire()
        except JournalError:
            return True
        self.release()
        return False


def _run_number(path: Path) -> int:
    match = _RUN.search(path.name.removesuffix(".journal"))
    return int(match.group(1)) if match else 1


def _first_run(journal: Path) -> Path:
    return journal.with_name(_RUN.sub("", journal.name.removesuffix(".journal")) + ".journal")


def job_runs(journal: Path) -> list[Path]:
    """The existing journals of a job's runs (``journal`` may be any of them), oldest first."""
    first = _first_run(journal)
    pattern = glob.escape(first.name.removesuffix(".journal")) + ".run*.journal"
    again = [p for p in first.parent.glob(pattern) if _RUN.search(p.name[: -len(".journal")])]
    return ([first] if first.exists() else []) + sorted(again, key=_run_number)


def next_run(journal: Path) -> Path:
    """The journal of one more run of a job: its first journal while none exists, else
    ``x.run<N>.journal`` after the last run."""
    runs = job_runs(journal)
    first = _first_run(journal)
    if not runs:
        return first
    return first.with_name(
        f"{first.name.removesuffix('.journal')}.run{_run_number(runs[-1]) + 1}.journal"
    )
