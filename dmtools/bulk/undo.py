"""Undo: an edit plan that puts back what a job changed, built from its journal.

For every edit the journal holds the values written (``sent``) and the values the server held
just before (``before``). The undo plan writes ``before`` back, with ``sent`` as the expected
old values, so it goes through the same conflict check: a video changed again since (by
anyone) is reported as a conflict, never overwritten.

Operations left **in doubt** by an interrupted run (the write may or may not have reached the
server) are part of the undo plan too: applying it reads each video first, restores the ones
that hold the job's values, leaves alone (``unchanged``) the ones the write never reached, and
reports any other value as a conflict. So an undo never reports success while a video still
holds the job's values. A job still running in another process is refused.

Deletes cannot be undone; they are listed in the plan's notes with the path of the export
made before deleting.
"""

from __future__ import annotations

import os
from typing import Any

from dmtools.bulk._values import Value
from dmtools.bulk.journal import IN_DOUBT, Journal, JournalRow
from dmtools.bulk.plan import EditPlan

__all__ = ["undo_plan"]


def undo_plan(journal: str | os.PathLike[str] | Journal) -> EditPlan:
    """The edit plan that restores the values a job overwrote.

    Args:
        journal: the job's journal file (or an open :class:`~dmtools.bulk.Journal`).

    Raises:
        JournalError: no journal, one modified outside dmtools (its rows do not match the
            plan or their digests), or a job another process is running.

    Example:
        >>> undo = dm.bulk.undo_plan("edits.journal")     # doctest: +SKIP
        >>> undo                                           # review it, then
        >>> undo.apply(client, journal="undo.journal")     # doctest: +SKIP
    """
    from dmtools.bulk._integrity import plan_ops
    from dmtools.bulk.status import open_verified, plan_of_header

    if isinstance(journal, Journal):
        journal.verify(plan_ops(plan_of_header(journal.header())))
        return _from(journal)
    with open_verified(journal, lock=True) as (store, undone):
        plan = _from(store)
    plan.undo_of = {"journal": os.path.abspath(journal), "fingerprint": undone.fingerprint}
    return plan


def _delete_notes(header: dict[str, Any], rows: list[JournalRow]) -> list[str]:
    gone = [r.video_id for r in rows if r.state == "deleted"]
    doubt = [r.video_id for r in rows if r.state in IN_DOUBT]
    notes = []
    if gone:
        shown = ", ".join(gone[:10]) + (" …" if len(gone) > 10 else "")
        paths = [str(e.get("path")) for e in header.get("exports") or [] if isinstance(e, dict)]
        notes.append(
            f"{len(gone)} deleted video(s) cannot be restored ({shown}); their "
            f"metadata was saved before deleting to {', '.join(paths) or '(no backup found)'}"
        )
    if doubt:
        notes.append(
            f"{len(doubt)} delete(s) were interrupted and are in doubt; run the job again "
            "to know whether those videos are gone"
        )
    return notes


def _from(store: Journal) -> EditPlan:
    header = store.header()
    rows = store.rows()
    plan_data: dict[str, Any] = header.get("plan") or {}
    labels = plan_data.get("labels") or {}
    if header.get("kind") == "delete":
        return EditPlan({}, notes=_delete_notes(header, rows))
    changes: dict[str, dict[str, tuple[Value, Value]]] = {}
    doubted = 0
    for row in rows:
        if row.state not in ("applied", *IN_DOUBT) or not row.sent:
            continue
        before = row.before or {}
        changes[row.video_id] = {
            name: (value, before.get(name)) for name, value in row.sent.items() if name in before
        }
        doubted += row.state in IN_DOUBT
    notes = []
    if doubted:
        notes.append(
            f"{doubted} operation(s) were interrupted mid-write: each of those videos is read "
            "first, restored if it holds the job's values, left alone if it never changed"
        )
    return EditPlan(changes, labels=labels, notes=notes)
