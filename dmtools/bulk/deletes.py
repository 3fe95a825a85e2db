"""Bulk delete, with guards: dry run by default, exact-count confirmation, a size cap,
ids only from the loaded snapshot, and a backup of the videos before the first DELETE.

Deleting cannot be undone; the backup (CSV, Excel, Parquet or JSON, see
:mod:`dmtools.bulk.backup`) is the only copy of the videos' metadata afterwards, so it is
always a new file, fsynced and read back before anything is deleted.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.bulk._integrity import plan_ops
from dmtools.bulk.gate import check_apply
from dmtools.bulk.journal import Journal
from dmtools.bulk.plan import fingerprint_of
from dmtools.bulk.result import ApplyResult, OpResult
from dmtools.bulk.runner import MAX_SENDS, OpState, Progress, is_ambiguous, run_job
from dmtools.errors import InputError, NotFound, Problem

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.client import Client

__all__ = ["DeletePlan", "delete_cap", "plan_deletes"]

PLAN_FORMAT = "dmtools.delete-plan"
#: Version 2: the fingerprint covers the titles and the snapshot size (the cap) too.
PLAN_VERSION = 2
#: Without ``force=True`` a delete job is limited to the smaller of this many videos...
MAX_DELETES = 50
#: ... and this share of the snapshot's rows (at least one video).
MAX_SHARE = 0.10


def delete_cap(snapshot_rows: int | None) -> int:
    """The most videos one delete may remove without ``force=True``."""
    if snapshot_rows is None:
        return MAX_DELETES
    return min(MAX_DELETES, max(1, int(snapshot_rows * MAX_SHARE)))


class DeletePlan:
    """The videos to delete (sorted, de-duplicated), with the rows to export first.

    Example:
        >>> plan = dm.plan_deletes(df[df.views_total == 0], snapshot=df)   # doctest: +SKIP
        >>> plan.apply(client)                  # dry run: nothing sent   # doctest: +SKIP
        >>> plan.apply(client, confirm=len(plan), export_path="deleted.csv")  # doctest: +SKIP
    """

    kind = "delete"

    def __init__(
        self,
        video_ids: Iterable[str],
        *,
        records: pd.DataFrame | None = None,
        snapshot_rows: int | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.video_ids: tuple[str, ...] = tuple(sorted(dict.fromkeys(str(v) for v in video_ids)))
        self.records = records
        self.snapshot_rows = snapshot_rows
        self.labels = {k: str(v) for k, v in (labels or {}).items() if k in self.video_ids}
        self.fingerprint = fingerprint_of(
            self.kind,
            {
                "video_ids": list(self.video_ids),
                "labels": self.labels,
                "snapshot_rows": self.snapshot_rows,
            },
        )

    def __len__(self) -> int:
        return len(self.video_ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self.video_ids)

    @property
    def changes_present(self) -> bool:
        return bool(self.video_ids)

    @property
    def cap(self) -> int:
        """Videos this plan may delete without ``force=True``."""
        return delete_cap(self.snapshot_rows)

    def check_cap(self, *, force: bool = False) -> None:
        """Raise InputError when the plan deletes more than :attr:`cap` videos without
        ``force`` (nothing is deleted)."""
        if len(self) > self.cap and not force:
            raise InputError(
                f"{len(self):,} videos is over the limit of {self.cap:,} for one delete (the "
                f"smaller of {MAX_DELETES} or {MAX_SHARE:.0%} of the {self.snapshot_rows} "
                "loaded rows); force it (--force, force=True) to delete them anyway; "
                "nothing was deleted"
            )

    def summary(self) -> dict[str, Any]:
        return {"deletes": len(self), "snapshot_rows": self.snapshot_rows, "cap": self.cap}

    def select(self, ids: Any) -> DeletePlan:
        """A new plan deleting only the chosen videos (see :mod:`dmtools.bulk.selection`);
        its fingerprint follows the selection and the cap stays that of the snapshot."""
        from dmtools.bulk.selection import subset_deletes

        return subset_deletes(self, ids, keep=True)

    def drop(self, ids: Any) -> DeletePlan:
        """A new plan that no longer deletes the given videos."""
        from dmtools.bulk.selection import subset_deletes

        return subset_deletes(self, ids, keep=False)

    def to_frame(self) -> pd.DataFrame:
        """The rows to delete (all loaded columns when the plan was made from a frame)."""
        import pandas as pd

        if self.records is not None:
            return self.records.copy()
        return pd.DataFrame(index=pd.Index(self.video_ids, name="id"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "fingerprint": self.fingerprint,
            "video_ids": list(self.video_ids),
            "snapshot_rows": self.snapshot_rows,
            "labels": self.labels,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeletePlan:
        """Rebuild a plan from :meth:`to_dict` (every part checked, fingerprint matched)."""
        from dmtools.bulk._planfile import check_delete_plan

        ids, rows, labels = check_delete_plan(data, PLAN_FORMAT, PLAN_VERSION)
        plan = cls(ids, snapshot_rows=rows, labels=labels)
        if plan.fingerprint != data.get("fingerprint") or len(plan) != len(ids):
            raise InputError(
                "the saved delete plan does not match its fingerprint (it was modified); "
                "nothing was deleted"
            )
        return plan

    def save(self, path: str | os.PathLike[str]) -> Path:
        from dmtools.bulk._files import write_json_atomic

        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DeletePlan:
        """Read a plan written by :meth:`save` (InputError for anything else)."""
        from dmtools.bulk._planfile import read_plan_file

        return cls.from_dict(read_plan_file(path))

    def __repr__(self) -> str:
        from dmtools.bulk.render import delete_text

        return delete_text(self)

    def _repr_html_(self) -> str:
        from dmtools.bulk.render import delete_html

        return delete_html(self)

    def apply(
        self,
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
        """Delete the videos, or (without ``confirm``) report what would be deleted.

        Args:
            confirm: the exact number of videos to delete; None makes a dry run (no request).
            force: allow more than :attr:`cap` videos.
            export_path: a NEW file where the videos' metadata is written, fsynced and read
                back before the first DELETE (``.csv``, ``.xlsx``, ``.parquet`` or
                ``.json``); default ``runs/deleted-<fingerprint>-<UTC time>.json``. An
                existing path (file, directory, symlink) is refused, never replaced. The
                result's ``export_path`` names the file that holds the videos.
            journal: journal file; re-running a finished job sends nothing.
            workers, progress, stop: as for edits.

        Raises:
            InputError: wrong ``confirm`` count, over the cap without ``force``, the plan
                is held by a review panel (see :mod:`dmtools.bulk.gate`), or the backup
                could not be written (the error names the path and the reason); nothing
                is deleted in every case.
        """
        if confirm is None:
            rows = [
                OpResult(i, vid, "not_attempted", message="dry run: would be deleted")
                for i, vid in enumerate(self.video_ids, start=1)
            ]
            return ApplyResult(rows, kind=self.kind, fingerprint=self.fingerprint, dry_run=True)
        check_apply(self)  # a plan held by a review panel is applied by that panel only
        if isinstance(confirm, bool) or confirm != len(self):
            raise InputError(
                f"confirm must be the exact number of videos to delete "
                f"({len(self)}), got {confirm!r}; nothing was deleted"
            )
        self.check_cap(force=force)
        from dmtools.bulk.backup import BackupStep

        step = BackupStep(self, client, export_path)
        result = run_job(
            client,
            kind=self.kind,
            fingerprint=self.fingerprint,
            plan_data=self.to_dict(),
            ops=plan_ops(self),
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

    def _done(self, state: OpState, status: str, message: str, http_status: int | None) -> None:
        self.journal.mark(
            state.row.op_id,
            status,
            http_status=http_status,
            message=message,
            error_type="Interrupted" if status == "failed" else None,
        )
        state.in_doubt = False


def plan_deletes(rows: Any, *, snapshot: pd.DataFrame | None = None) -> DeletePlan:
    """Plan deleting the selected rows (a frame indexed by id, or ids).

    Args:
        rows: the selected rows (``df[df.views_total == 0]``), a list/Index/Series of ids.
        snapshot: the loaded frame the ids must come from; it also sets the size cap (10 %
            of its rows). Without it, ``rows`` must be a slice of a loaded frame and the cap
            is 50 videos.

    Raises:
        InputError: ids that are missing or not in the snapshot (nothing is planned).

    Example:
        >>> plan = dm.plan_deletes(df[df.views_total == 0], snapshot=df)   # doctest: +SKIP
    """
    import pandas as pd

    from dmtools.frames import index_by_id

    problems: list[Problem] = []
    records: pd.DataFrame | None = None
    if isinstance(rows, pd.DataFrame):
        framed = index_by_id(rows, "the selected rows", [])
        ids = [] if framed is None else list(framed.index)
        records = framed
    elif isinstance(rows, pd.Series) and rows.name != "id" and rows.index.name == "id":
        ids = list(rows.index)
    else:
        if snapshot is None:
            raise InputError(
                "pass snapshot=<the loaded frame> when selecting videos by id, "
                "so every id is checked against it; nothing will be deleted"
            )
        ids = [
            None if v is None or (isinstance(v, float) and v != v) else v
            for v in (list(rows) if not isinstance(rows, str) else [rows])
        ]
    clean: list[str] = []
    for position, vid in enumerate(ids):
        if vid is None or not str(vid).strip():
            problems.append(Problem(f"#{position}", "id", "missing video id"))
        else:
            clean.append(str(vid))
    snapshot_rows: int | None = None
    if snapshot is not None:
        framed_snapshot = index_by_id(snapshot, "the snapshot", problems)
        if framed_snapshot is not None:
            snapshot_rows = len(framed_snapshot)
            known = set(framed_snapshot.index)
            problems += [
                Problem(vid, "id", "not in the snapshot")
                for vid in dict.fromkeys(clean)
                if vid not in known
            ]
            if records is None:
                records = framed_snapshot.loc[
                    ~framed_snapshot.index.duplicated() & framed_snapshot.index.isin(clean)
                ]
    if problems:
        raise InputError(
            f"cannot plan the deletes ({len(problems)} problem(s)); nothing will be deleted",
            problems,
        )
    if records is not None:
        records = records[~records.index.duplicated()].sort_index()
    labels: dict[str, str] = {}
    if records is not None and "title" in records.columns:
        labels = {str(k): str(v) for k, v in records["title"].items() if isinstance(v, str)}
    return DeletePlan(clean, records=records, snapshot_rows=snapshot_rows, labels=labels)
