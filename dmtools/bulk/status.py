"""What a journal knows about its job, read without any request: :func:`job_status`.

A re-run of a plan must say what already happened ("already applied on …; undone on …;
nothing sent") rather than print counts as if it had just done the work. The CLI, the review
panel and code all read the same :class:`JobStatus`.

Example:
    >>> status = dm.bulk.job_status("runs/videos.plan-0a1b2c3d4e5f.journal")   # doctest: +SKIP
    >>> status.finished, status.undone                                         # doctest: +SKIP
    (True, True)
    >>> print(status.describe())                                               # doctest: +SKIP
    already applied on 2026-01-05 10:47 UTC (20 applied); undone on 2026-01-05 10:52 UTC (20 restored)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.bulk._integrity import plan_ops
from dmtools.bulk.journal import FINAL, IN_DOUBT, Journal, JournalError

if TYPE_CHECKING:
    from dmtools.bulk.delete_plan import DeletePlan
    from dmtools.bulk.plan import EditPlan

__all__ = ["JobStatus", "job_status", "open_verified", "plan_of_header", "undo_journal_path"]

_WORD = {"edit": "applied", "delete": "deleted"}


def plan_of_header(header: dict[str, Any]) -> EditPlan | DeletePlan:
    """The plan recorded in a journal header (its content checked against its fingerprint)."""
    from dmtools.bulk.delete_plan import DeletePlan
    from dmtools.bulk.plan import EditPlan

    data = header.get("plan") or {}
    plan = (DeletePlan if header.get("kind") == "delete" else EditPlan).from_dict(data)
    if plan.fingerprint != header.get("fingerprint"):
        raise JournalError("the journal's plan does not match its fingerprint; nothing was sent")
    return plan


@contextmanager
def open_verified(
    path: str | os.PathLike[str], *, lock: bool = False
) -> Iterator[tuple[Journal, EditPlan | DeletePlan]]:
    """An existing journal and its plan, after checking every row against the plan and its
    digest (:class:`JournalError` otherwise; nothing is sent)."""
    with Journal.open(path, lock=lock) as store:
        plan = plan_of_header(store.header())
        store.verify(plan_ops(plan))
        yield store, plan


def undo_journal_path(journal: str | os.PathLike[str]) -> Path:
    """Where the undo job of a job keeps its journal by default: ``x.journal`` ->
    ``x.undo.journal`` beside it."""
    path = Path(journal)
    return path.with_name(path.name.removesuffix(".journal") + ".undo.journal")


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "an unknown time"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))


@dataclass(frozen=True)
class JobStatus:
    """A job as its journal records it.

    Attributes:
        path: the journal file.
        kind: ``"edit"`` or ``"delete"``.
        fingerprint: the plan's fingerprint.
        started: when the job was recorded (unix seconds).
        updated: when an operation last changed (unix seconds), or None.
        counts: operations per journal state (``applied``, ``planned``, ``in_doubt``...).
        running: another process holds the job's lock right now.
        undo: the status of the job that undid this one, when there is one.
        undo_of: for an undo job, the journal of the job it undoes.
    """

    path: Path
    kind: str
    fingerprint: str
    started: float | None
    updated: float | None
    counts: dict[str, int] = field(default_factory=dict)
    running: bool = False
    undo: JobStatus | None = None
    undo_of: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> bool:
        """Every operation is final: running the job again sends nothing."""
        return not self.running and all(state in FINAL for state in self.counts)

    @property
    def in_doubt(self) -> int:
        """Operations interrupted mid-write (resolved by reading back on the next run)."""
        return sum(n for state, n in self.counts.items() if state in IN_DOUBT)

    @property
    def undone(self) -> bool:
        """An undo job of this job has finished."""
        return self.undo is not None and self.undo.finished

    def _counts_text(self, renamed: dict[str, str] | None = None) -> str:
        shown = {k: v for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1]) if v}
        names = renamed or {}
        return (
            ", ".join(f"{n:,} {names.get(state, state)}" for state, n in shown.items())
            or "no operation"
        )

    def describe(self) -> str:
        """One line: what happened, when, and what a re-run would do."""
        if self.running:
            return f"running now in another process ({self._counts_text()})"
        word = _WORD.get(self.kind, "applied")
        if not self.finished:
            left = self.total - sum(n for s, n in self.counts.items() if s in FINAL)
            text = (
                f"started on {_when(self.started)} and not finished ({self._counts_text()}): "
                f"{left:,} operation(s) left; running it again resumes it"
            )
        else:
            text = f"already {word} on {_when(self.updated)} ({self._counts_text()})"
        if self.undo is not None:
            if self.undo.finished:
                restored = self.undo._counts_text({"applied": "restored"})
                text += f"; undone on {_when(self.undo.updated)} ({restored})"
            else:
                text += f"; an undo was started on {_when(self.undo.started)} and not finished"
        return text


def _status(store: Journal) -> tuple[dict[str, Any], dict[str, int], float | None]:
    return store.header(), store.counts(), store.last_update()


def job_status(journal: str | os.PathLike[str], *, with_undo: bool = True) -> JobStatus:
    """The status of the job recorded in ``journal`` (no request; the file is only read).

    Args:
        journal: the job's journal file.
        with_undo: also look for the job that undid it (``x.undo.journal`` beside it, or any
            journal in the same folder recording ``undo_of`` this one).

    Raises:
        JournalError: no journal there, or one that was modified outside dmtools.

    Example:
        >>> dm.bulk.job_status("runs/videos.plan-0a1b2c3d4e5f.journal").describe()  # doctest: +SKIP
    """
    path = Path(journal)
    with open_verified(path) as (store, _):
        header, counts, updated = _status(store)
        running = store.is_locked_elsewhere()
    undo = _find_undo(path, str(header.get("fingerprint"))) if with_undo else None
    undo_of = header.get("undo_of") or {}
    return JobStatus(
        path=path,
        kind=str(header.get("kind")),
        fingerprint=str(header.get("fingerprint")),
        started=header.get("created"),
        updated=updated,
        counts=counts,
        running=running,
        undo=undo,
        undo_of=undo_of.get("journal") if isinstance(undo_of, dict) else None,
    )


def _find_undo(path: Path, fingerprint: str) -> JobStatus | None:
    candidates = [undo_journal_path(path)]
    candidates += sorted(p for p in path.parent.glob("*.journal") if p not in candidates)
    found: list[JobStatus] = []
    for candidate in candidates:
        if candidate == path or not candidate.is_file():
            continue
        try:
            with Journal.open(candidate) as store:
                undo_of = store.header().get("undo_of") or {}
        except JournalError:
            continue
        if not isinstance(undo_of, dict) or undo_of.get("fingerprint") != fingerprint:
            continue
        recorded = Path(str(undo_of.get("journal") or ""))
        if recorded.resolve() == path.resolve() or candidate == undo_journal_path(path):
            try:
                found.append(job_status(candidate, with_undo=False))
            except JournalError:
                continue
    if not found:
        return None
    return max(found, key=lambda s: s.started or 0.0)
