"""Undo: an edit plan that puts back what a finished job changed, built from its journal.

For every applied edit the journal holds the values written (``sent``) and the values the
server held just before (``before``). The undo plan writes ``before`` back, with ``sent`` as
the expected old values, so it goes through the same conflict check: a video changed again
since (by anyone) is reported as a conflict, never overwritten. Deletes cannot be undone;
they are listed in the plan's notes with the path of the export made before deleting.
"""

from __future__ import annotations

import os
from typing import Any

from dmtools.bulk._values import Value
from dmtools.bulk.journal import Journal
from dmtools.bulk.plan import EditPlan

__all__ = ["undo_plan"]


def undo_plan(journal: str | os.PathLike[str] | Journal) -> EditPlan:
    """The edit plan that restores the values a job overwrote.

    Args:
        journal: the job's journal file (or an open :class:`~dmtools.bulk.Journal`).

    Example:
        >>> undo = dm.bulk.undo_plan("edits.journal")     # doctest: +SKIP
        >>> undo                                           # review it, then
        >>> undo.apply(client, journal="undo.journal")     # doctest: +SKIP
    """
    if isinstance(journal, Journal):
        return _from(journal)
    with Journal.open(journal) as store:
        return _from(store)


def _from(store: Journal) -> EditPlan:
    header = store.header()
    rows = store.rows()
    plan_data: dict[str, Any] = header.get("plan") or {}
    labels = plan_data.get("labels") or {}
    if header.get("kind") == "delete":
        gone = [r.video_id for r in rows if r.state == "deleted"]
        notes = []
        if gone:
            shown = ", ".join(gone[:10]) + (" …" if len(gone) > 10 else "")
            notes.append(
                f"{len(gone)} deleted video(s) cannot be restored ({shown}); their "
                f"metadata was exported to {header.get('export_path')}"
            )
        return EditPlan({}, notes=notes, labels={k: v for k, v in labels.items() if k in gone})
    changes: dict[str, dict[str, tuple[Value, Value]]] = {}
    for row in rows:
        if row.state != "applied" or not row.sent:
            continue
        before = row.before or {}
        changes[row.video_id] = {
            name: (value, before.get(name)) for name, value in row.sent.items() if name in before
        }
    return EditPlan(changes, labels={k: v for k, v in labels.items() if k in changes})
