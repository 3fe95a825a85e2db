"""Bulk edit and bulk delete: plan (pure), review, apply (journaled), resume, undo.

Example:
    >>> plan = dm.plan_edits(df, edited)            # pure: validates, lists the changes
    >>> plan                                         # a table in Jupyter       # doctest: +SKIP
    >>> result = plan.apply(client, journal="edits.journal")                    # doctest: +SKIP
    >>> result.to_frame()                            # one row per operation    # doctest: +SKIP
    >>> dm.bulk.resume("edits.journal", client)     # after a crash            # doctest: +SKIP
    >>> result.undo_plan().apply(client)             # put the old values back  # doctest: +SKIP
    >>> dm.plan_deletes(df[df.views_total == 0], snapshot=df).apply(client, confirm=12)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dmtools.bulk._base import OpStatus
from dmtools.bulk.delete_plan import DeletePlan, plan_deletes
from dmtools.bulk.journal import Journal, JournalError
from dmtools.bulk.plan import EditOp, EditPlan, plan_edits
from dmtools.bulk.result import STATUSES, ApplyResult, OpResult
from dmtools.bulk.status import JobStatus, job_status
from dmtools.bulk.undo import undo_plan

if TYPE_CHECKING:
    from dmtools.bulk.runner import Progress
    from dmtools.client import Client

__all__ = [
    "STATUSES",
    "ApplyResult",
    "DeletePlan",
    "EditOp",
    "EditPlan",
    "JobStatus",
    "Journal",
    "JournalError",
    "OpResult",
    "OpStatus",
    "plan_deletes",
    "job_status",
    "plan_edits",
    "resume",
    "undo_plan",
]


def resume(
    journal: str | os.PathLike[str],
    client: Client,
    *,
    workers: int | None = None,
    progress: Progress = True,
    override_conflicts: bool = False,
    batch: bool = True,
) -> ApplyResult:
    """Finish the job recorded in a journal file (after a crash, a kill or failures).

    The plan is read from the journal. Operations left in doubt are resolved by reading the
    videos back before anything is sent; finished operations are never sent again; failed
    ones are tried again (``batch``: as for ``apply``). A delete job keeps the confirmation given when it started, and
    reuses its backup if the file is intact (else it writes a new one before deleting).

    Raises:
        JournalError: no such journal, one modified outside dmtools, or one that belongs to
            another account or API host (nothing is sent).

    Example:
        >>> result = dm.bulk.resume("edits.journal", client)     # doctest: +SKIP
    """
    from dmtools.bulk.status import open_verified

    with open_verified(journal) as (_, plan):
        pass
    if isinstance(plan, DeletePlan):
        return plan.apply(
            client,
            confirm=len(plan),
            force=True,
            journal=journal,
            workers=workers,
            progress=progress,
            batch=batch,
        )
    return plan.apply(
        client,
        journal=journal,
        workers=workers,
        progress=progress,
        override_conflicts=override_conflicts,
        batch=batch,
    )
