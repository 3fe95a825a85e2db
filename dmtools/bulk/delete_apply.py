"""Carrying out a delete plan: the backup, then the DELETEs (batched where the API allows).

``DeletePlan.apply`` checks the guards (dry run, confirmation, cap, review panel), then
:func:`delete_videos` writes the backup (:class:`~dmtools.bulk.backup.BackupStep`) before
the first DELETE and runs the job with a journal (:func:`~dmtools.bulk.runner.run_job`), as
edits do. :class:`DeleteWorker` deletes one video: a 404 after an interrupted DELETE means it
is gone; a DELETE in doubt is resolved by reading the video back.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dmtools.bulk._base import ERROR_TYPES, OpStatus
from dmtools.bulk.journal import Journal
from dmtools.bulk.result import ApplyResult, OpResult
from dmtools.bulk.runner import MAX_SENDS, OpState, is_ambiguous, mark_in_doubt, run_job
from dmtools.errors import NotFound

if TYPE_CHECKING:
    from dmtools.bulk.delete_plan import DeletePlan
    from dmtools.client import Client

__all__ = ["DeleteWorker", "delete_videos", "dry_run"]


def dry_run(plan: DeletePlan) -> ApplyResult:
    """The result of a delete that is not confirmed: every video ``not_attempted``."""
    rows = [
        OpResult(i, vid, "not_attempted", message="dry run: would be deleted")
        for i, vid in enumerate(plan.video_ids, start=1)
    ]
    return ApplyResult(rows, kind=plan.kind, fingerprint=plan.fingerprint, dry_run=True)


def delete_videos(
    plan: DeletePlan,
    client: Client,
    export_path: str | os.PathLike[str] | None,
    options: Mapping[str, Any],
) -> ApplyResult:
    """Run a confirmed delete plan (its guards checked by ``DeletePlan.apply``): the backup
    (:class:`~dmtools.bulk.backup.BackupStep`) before the first DELETE, then the job, with
    ``options`` (``journal``, ``workers``, ``progress``, ``stop``, ``batch``) as for
    edits."""
    from dmtools.bulk.backup import BackupStep

    step = BackupStep(plan, client, export_path)
    options = dict(options)
    worker = functools.partial(delete_worker, client, batch=options.pop("batch", True))
    result = run_job(client, plan, worker_factory=worker, before_first_write=step, **options)
    result.export_path = step.path
    return result


def delete_worker(client: Client, journal: Journal, *, batch: bool) -> Any:
    """The worker of a delete job: with ``batch``, the pipelined
    :class:`~dmtools.bulk._batch_delete.BatchDeletes` (up to ``call_batch_size`` DELETEs
    per request: legacy multi-call), else one DELETE at a time per worker."""
    if batch:
        from dmtools.bulk._batch_delete import BatchDeletes

        return BatchDeletes(client, journal)
    return DeleteWorker(client, journal)


class DeleteWorker:
    """Deletes one video; a 404 after an interrupted DELETE means it is gone."""

    def __init__(self, client: Client, journal: Journal) -> None:
        self.client = client
        self.journal = journal

    def exists(self, video_id: str) -> bool:
        """Whether the video is still there (its own ``GET``)."""
        from dmtools.videos import get_video

        try:
            get_video(self.client, video_id, ["id"])
        except NotFound:
            return False
        return True

    def __call__(self, state: OpState) -> None:
        from dmtools.videos import delete_video

        row = state.row
        if state.in_doubt and not self.exists(row.video_id):
            self.done(state, "deleted", "confirmed by reading back: the video is gone", None)
            return
        for _ in range(MAX_SENDS):
            doubted = state.in_doubt
            self.journal.mark(row.op_id, "sending", attempt=True)
            state.in_doubt = True
            try:
                delete_video(self.client, row.video_id)
            except NotFound:
                if doubted:
                    self.done(state, "deleted", "404 after an interrupted DELETE", 404)
                else:
                    self.done(state, "already_absent", "the video did not exist", 404)
                return
            except Exception as exc:
                if not is_ambiguous(exc):
                    state.in_doubt = False
                    raise
                self.doubt(state, exc)
                if not self.exists(row.video_id):
                    self.done(
                        state,
                        "deleted",
                        "confirmed by reading back after an "
                        f"interrupted DELETE ({type(exc).__name__})",
                        getattr(exc, "status", None),
                    )
                    return
                continue
            self.done(state, "deleted", "", 200)
            return
        self.give_up(state)

    def doubt(self, state: OpState, exc: BaseException) -> None:
        """Journal an ambiguous DELETE failure (the video is read back next)."""
        mark_in_doubt(self.journal, state, exc, "reading back")

    def give_up(self, state: OpState) -> None:
        """Every DELETE of the operation was interrupted and the video is still there."""
        self.done(
            state,
            "failed",
            f"not deleted: {MAX_SENDS} DELETEs were interrupted and the video still exists",
            None,
        )

    def done(self, state: OpState, status: OpStatus, message: str, http_status: int | None) -> None:
        self.journal.mark(
            state.row.op_id,
            status,
            http_status=http_status,
            message=message,
            error_type=ERROR_TYPES.get(status),
        )
        state.in_doubt = False
