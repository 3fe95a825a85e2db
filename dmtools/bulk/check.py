"""What is already done: a plan against the server now, and a job against its journal.

A plan can be carried out by another path than the one in front of the user: ``plan.apply``
in code, ``dmtools apply`` in a terminal, another panel, someone on the website. Before
anything is sent, the review panel reads what the server holds (:func:`check_server`, reads
only) and what the journal of the job says (:func:`job_state`), and says it in a sentence.

Example:
    >>> found = check_server(plan, client)          # doctest: +SKIP
    >>> found.sentence()                            # doctest: +SKIP
    'Already done elsewhere: all 5 videos hold the new values; nothing is left to send.'
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.bulk.delete_plan import DeletePlan
from dmtools.bulk.journal import FINAL, IN_DOUBT, Journal, JournalError
from dmtools.bulk.plan import EditPlan
from dmtools.errors import DailymotionError, NotFound

if TYPE_CHECKING:
    from dmtools.client import Client

__all__ = [
    "RUNS_DIR",
    "JobState",
    "ServerCheck",
    "check_server",
    "default_journal",
    "job_state",
    "unfinished_jobs",
]

#: Folder of the journals the review panel keeps by default (relative to the working folder).
RUNS_DIR = "runs"


def default_journal(plan: EditPlan | DeletePlan, folder: str | os.PathLike[str] = RUNS_DIR) -> Path:
    """The journal a review panel uses for ``plan`` when none is given: one per plan
    (``runs/edit-<fingerprint>.journal``), so a panel opened again on the same plan, in a
    new kernel too, finds the job and offers to resume it."""
    return Path(folder) / f"{plan.kind}-{plan.fingerprint[:12]}.journal"


@dataclass(frozen=True)
class ServerCheck:
    """What the server holds now for each video of a plan (read only).

    ``done``: edits whose videos already hold every new value; deletes whose videos are
    gone. ``pending``: still to send. ``conflicts``: videos holding neither the plan's old
    nor its new values (changed since). ``missing``: videos of an edit that no longer exist.
    ``unread``: videos that could not be read (with why in ``errors``).
    """

    kind: str
    total: int
    done: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unread: tuple[str, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every video was read."""
        return not self.unread

    def sentence(self) -> str:
        """The check as one sentence for people."""
        n = self.total
        if n and len(self.done) == n:
            what = "are gone" if self.kind == "delete" else "hold the new values"
            return (
                f"Already done elsewhere: all {n} videos {what} (the plan was carried out "
                "from code, the command line or another panel?); nothing is left to send."
            )
        parts = []
        if self.done:
            what = "are already gone" if self.kind == "delete" else "already hold the new values"
            parts.append(f"{len(self.done)} of {n} videos {what} (done elsewhere)")
        if self.conflicts:
            parts.append(
                f"{len(self.conflicts)} changed since the plan was made (they will be reported "
                "as conflicts, not overwritten)"
            )
        if self.missing:
            parts.append(f"{len(self.missing)} no longer exist")
        if self.unread:
            parts.append(f"{len(self.unread)} could not be read")
        if not parts:
            what = "still exist" if self.kind == "delete" else "still need this change"
            return f"Checked on the server: all {n} videos {what}."
        verb = "to delete" if self.kind == "delete" else "to change"
        return "On the server now: " + "; ".join(parts) + f"; {len(self.pending)} {verb}."


def _edit_state(client: Client, op: Any) -> str:
    from dmtools.bulk.apply import read_fields

    try:
        current = read_fields(client, op.video_id, op.changes)
    except NotFound:
        return "missing"
    if current == op.target:
        return "done"
    if any(current[n] not in (old, new) for n, (old, new) in op.changes.items()):
        return "conflicts"
    return "pending"


def _delete_state(client: Client, video_id: str) -> str:
    from dmtools.videos import get_video

    try:
        get_video(client, video_id, ["id"])
    except NotFound:
        return "done"
    return "pending"


def check_server(
    plan: EditPlan | DeletePlan,
    client: Client,
    *,
    workers: int = 8,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> ServerCheck:
    """Read every video of ``plan`` (``GET /video/<id>`` with the planned fields, on
    ``workers`` threads) and sort them by what the server holds; nothing is written.

    ``stop`` ends the check early (the videos not read are ``unread``).
    """
    items: Sequence[Any] = plan.ops if isinstance(plan, EditPlan) else plan.video_ids
    found: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    lock = threading.Lock()
    counter = [0]

    def one(item: Any) -> None:
        vid = item.video_id if isinstance(plan, EditPlan) else str(item)
        if stop is not None and stop.is_set():
            state = "unread"
            errors[vid] = "check stopped"
        else:
            try:
                state = (
                    _edit_state(client, item)
                    if isinstance(plan, EditPlan)
                    else _delete_state(client, vid)
                )
            except DailymotionError as exc:
                state, errors[vid] = "unread", str(exc)
        with lock:
            found.setdefault(state, []).append(vid)
            counter[0] += 1
            if progress is not None:
                progress(counter[0], len(items))

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="dmtools-check") as pool:
        list(pool.map(one, items))
    return ServerCheck(
        kind=plan.kind,
        total=len(items),
        errors=errors,
        **{k: tuple(sorted(v)) for k, v in found.items()},
    )


@dataclass(frozen=True)
class JobState:
    """What a journal says about its job: counts per state and when it ran."""

    path: Path
    kind: str
    fingerprint: str
    total: int
    counts: dict[str, int]
    created: float | None
    last_activity: float | None

    @property
    def finished(self) -> bool:
        """True when no operation is left to send (failed ones would be tried again)."""
        return all(state in FINAL for state, n in self.counts.items() if n)

    @property
    def in_doubt(self) -> int:
        return sum(self.counts.get(s, 0) for s in IN_DOUBT)

    @property
    def done(self) -> int:
        """Operations with an outcome (final or failed)."""
        return self.total - self.counts.get("planned", 0) - self.in_doubt

    def sentence(self) -> str:
        """Where the job stands, for people."""
        when = _when(self.last_activity or self.created)
        counts = ", ".join(
            f"{state.replace('_', ' ')} {n}"
            for state, n in sorted(self.counts.items())
            if n and state != "planned"
        )
        if self.finished:
            return (
                f"This plan was already carried out{when} (journal {self.path}): "
                f"{counts or 'nothing to do'}; nothing is left to send."
            )
        left = self.counts.get("planned", 0)
        doubt = f", {self.in_doubt} in doubt (read back first on resume)" if self.in_doubt else ""
        failed = self.counts.get("failed", 0)
        again = f", {failed} failed (tried again on resume)" if failed else ""
        return (
            f"A run of this plan stopped at {self.done}/{self.total}{when} (journal "
            f"{self.path}): {counts or 'nothing sent yet'}; {left} not started{doubt}{again}. "
            "Resume finishes it exactly: nothing done is sent again."
        )


def _when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return " on " + time.strftime("%Y-%m-%d at %H:%M", time.localtime(stamp))


def job_state(path: str | os.PathLike[str]) -> JobState | None:
    """The state of the job in the journal at ``path``; None when there is no file.

    Raises:
        JournalError: the file is not a usable journal.
    """
    target = Path(path)
    if not target.is_file():
        return None
    with Journal.open(target) as store:
        header = store.header()
        counts = store.counts()
    stamps = [p.stat().st_mtime for p in (target, Path(f"{target}-wal")) if p.exists()]
    return JobState(
        path=target,
        kind=str(header.get("kind")),
        fingerprint=str(header.get("fingerprint")),
        total=sum(counts.values()),
        counts=counts,
        created=header.get("created"),
        last_activity=max(stamps) if stamps else None,
    )


def unfinished_jobs(folder: str | os.PathLike[str] = RUNS_DIR) -> list[JobState]:
    """The jobs in ``folder``'s journals that still have operations to send, newest first
    (unreadable files are skipped)."""
    found = []
    for path in sorted(Path(folder).glob("*.journal")):
        try:
            state = job_state(path)
        except JournalError:
            continue
        if state is not None and not state.finished:
            found.append(state)
    return sorted(found, key=lambda s: -(s.last_activity or 0))
