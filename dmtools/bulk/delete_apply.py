"""Carrying out a delete plan: the guards, the backup, then one DELETE per video.

:func:`apply_deletes` (``DeletePlan.apply``) checks the confirmation and the cap before
anything else, writes the backup (:class:`~dmtools.bulk.backup.BackupStep`) before the first
DELETE, and runs the job with a journal (:func:`~dmtools.bulk.runner.run_job`), as edits do.
:class:`DeleteWorker` deletes one video: a 404 after an interrupted DELETE means it is gone;
a DELETE in doubt is resolved by reading the video back.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from dmtools.bulk._base import ERROR_TYPES, OpStatus
from dmtools.bulk._integrity import plan_ops
from dmtools.bulk.gate import check_apply
from dmtools.bulk.journal import Journal
from dmtools.bulk.result import ApplyResult, OpResult
from dmtools.bulk.runner import MAX_SENDS, OpState, Progress, is_ambiguous, run_job
from dmtools.errors import InputError, NotFound

if TYPE_CHECKING:
    from dmtools.bulk.delete_plan import DeletePlan
    from dmtools.client import Client

__all__ = ["DeleteWorker", "apply_deletes"]


def _dry_run(plan: DeletePlan) -> ApplyResult:
    rows = [
        OpResult(i, vid, "not_attempted", message="dry run: would be deleted")
        for i, vid in enumerate(plan.video_ids, start=1)
    ]
    return ApplyResult(rows, kind=plan.kind, fingerprint=plan.fingerprint, dry_run=True)


def apply_deletes(
    plan: DeletePlan,
    client: Client,
    *,
    confirm: int | None = None,
    force: bool = False,
    export_path: str | os.PathLike[str] | None = None,
    journal: str | os.PathLike[str] | None = None,
    workers: int = 4,
    progress: Progress = True,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Delete the plan's videos, or (without ``confirm``) report what would be deleted.

    Args:
        confirm: the exact number of videos to delete; None makes a dry run (no request).
        force: allow more than the plan's :attr:`~dmtools.bulk.DeletePlan.cap` videos.
        export_path: a NEW file where the videos' metadata is written, fsynced and read
            back before the first DELETE (``.csv``, ``.xlsx``, ``.parquet`` or ``.json``);
            default ``runs/deleted-<fingerprint>-<UTC time>.json``. An existing path (file,
            directory, symlink) is refused, never replaced. The result's ``export_path``
            names the file that holds the videos.
        journal: journal file; re-running a finished job sends nothing.
        workers, progress, stop: as for edits.

    Raises:
        InputError: wrong ``confirm`` count, over the cap without ``force``, the plan is held
            by a review panel (see :mod:`dmtools.bulk.gate`), or the backup could not be
            written (the error names the path and the reason); nothing is deleted in every
            case.
    """
    if confirm is None:
        return _dry_run(plan)
    check_apply(plan)  # a plan held by a review panel is applied by that panel only
    if isinstance(confirm, bool) or confirm != len(plan):
        raise InputError(
            f"confirm must be the exact number of videos to delete "
            f"({len(plan)}), got {confirm!r}; nothing was deleted"
        )
    plan.check_cap(force=force)
    from dmtools.bulk.backup import BackupStep

    step = BackupStep(plan, client, export_path)
    result = run_job(
        client,
        kind=plan.kind,
        fingerprint=plan.fingerprint,
        plan_data=plan.to_dict(),
        ops=plan_ops(plan),
        journal=journal,
        workers=workers,
        progress=progress,
        worker_factory=lambda store: DeleteWorker(client, store),
        before_first_write=step,
        stop=stop,
    )
    result.export_path = step.path
    return result


class DeleteWorker:
    """Deletes one video; a 404 after an interrupted DELETE means it is gone."""

    def __init__(self, client: Client, journal: Journal) -> None:
        self.client = client
        self.journal = journal

    def _exists(self, video_id: str) -> bool:
        from dmtools.videos import get_video

        try:
            get_video(self.client, video_id, ["id"])
        except NotFound:
            return False
        return True

    def __call__(self, state: OpState) -> None:
        from dmtools.videos import delete_video

        row = state.row
        if state.in_doubt and not self._exists(row.video_id):
            self._done(state, "deleted", "confirmed by reading back: the video is gone", None)
            return
        for _ in range(MAX_SENDS):
            doubted = state.in_doubt
            self.journal.mark(row.op_id, "sending", attempt=True)
            state.in_doubt = True
            try:
                delete_video(self.client, row.video_id)
            except NotFound:
                if doubted:
                    self._done(state, "deleted", "404 after an interrupted DELETE", 404)
                else:
                    self._done(state, "already_absent", "the video did not exist", 404)
                return
            except Exception as exc:
                if not is_ambiguous(exc):
                    state.in_doubt = False
                    raise
                code = getattr(exc, "status", None)
                self.journal.mark(
                    row.op_id,
                    "in_doubt",
                    http_status=code,
                    error_type=type(exc).__name__,
                    message=f"{exc}; reading back",
                )
                if not self._exists(row.video_id):
                    self._done(
                        state,
                        "deleted",
                        "confirmed by reading back after an "
                        f"interrupted DELETE ({type(exc).__name__})",
                        code,
                    )
                    return
                continue
            self._done(state, "deleted", "", 200)
            return
        self._done(
            state,
            "failed",
            f"not deleted: {MAX_SENDS} DELETEs were interrupted and the video still exists",
            None,
        )

    def _done(
        self, state: OpState, status: OpStatus, message: str, http_status: int | None
    ) -> None:
        self.journal.mark(
            state.row.op_id,
            status,
            http_status=http_status,
            message=message,
            error_type=ERROR_TYPES.get(status),
        )
        state.in_doubt = False
