"""Delete plans (pure): the videos to delete, checked against the loaded snapshot, and the
size cap; :mod:`dmtools.bulk.delete_apply` carries them out.

Guards: a dry run by default, an exact-count confirmation, a size cap checked in one place
(:meth:`DeletePlan.check_cap`, which ``dmtools delete`` calls too), ids only from the loaded
snapshot, and a backup of the videos before the first DELETE. Deleting cannot be undone; the
backup (CSV, Excel, Parquet or JSON, see :mod:`dmtools.bulk.backup`) is the only copy of the
videos' metadata afterwards, so it is always a new file, fsynced and read back before
anything is deleted.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from dmtools.bulk._base import PlanBase
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.bulk.result import ApplyResult
    from dmtools.bulk.runner import Progress
    from dmtools.client import Client

__all__ = ["MAX_DELETES", "MAX_SHARE", "DeletePlan", "cap_rule", "delete_cap", "plan_deletes"]
#: Without ``force=True`` a delete job is limited to the smaller of this many videos...
MAX_DELETES = 50
#: ... and this share of the snapshot's rows (at least one video).
MAX_SHARE = 0.10


def delete_cap(snapshot_rows: int | None) -> int:
    """The most videos one delete may remove without ``force=True``."""
    if snapshot_rows is None:
        return MAX_DELETES
    return min(MAX_DELETES, max(1, int(snapshot_rows * MAX_SHARE)))


def cap_rule() -> str:
    """The cap in words (for help texts): ``50 videos or 10 % of the snapshot``."""
    return f"{MAX_DELETES} videos or {MAX_SHARE:.0%} of the snapshot"


class DeletePlan(PlanBase):
    """The videos to delete (sorted, de-duplicated), with the rows to export first.

    Example:
        >>> plan = dm.plan_deletes(df[df.views_total == 0], snapshot=df)   # doctest: +SKIP
        >>> plan.apply(client)                  # dry run: nothing sent   # doctest: +SKIP
        >>> plan.apply(client, confirm=len(plan), export_path="deleted.csv")  # doctest: +SKIP
    """

    kind = "delete"
    FORMAT = "dmtools.delete-plan"
    #: Version 2: the fingerprint covers the titles and the snapshot size (the cap) too.
    VERSION = 2
    NOTHING = "nothing was deleted"

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
        self.fingerprint = self._fingerprint()

    def content(self) -> dict[str, Any]:
        """The videos, their titles and the snapshot size (which sets the cap)."""
        return {
            "video_ids": list(self.video_ids),
            "labels": self.labels,
            "snapshot_rows": self.snapshot_rows,
        }

    @property
    def videos(self) -> tuple[str, ...]:
        return self.video_ids

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

    def _payload(self) -> dict[str, Any]:
        """Layout: ``"video_ids": [...], "snapshot_rows", "labels": {video_id: title}``."""
        return {
            "video_ids": list(self.video_ids),
            "snapshot_rows": self.snapshot_rows,
            "labels": self.labels,
        }

    @classmethod
    def _from_file(cls, data: Any) -> DeletePlan:
        from dmtools.bulk._planfile import check_delete_plan

        ids, rows, labels = check_delete_plan(data, cls.FORMAT, cls.VERSION)
        plan = cls(ids, snapshot_rows=rows, labels=labels)
        if len(plan) != len(ids):  # the same id twice: not a file dmtools wrote
            raise InputError(
                "the saved delete plan does not match its fingerprint (it was modified); "
                f"{cls.NOTHING}"
            )
        return plan

    def apply(
        self,
        client: Client,
        *,
        confirm: int | None = None,
        force: bool = False,
        export_path: str | os.PathLike[str] | None = None,
        journal: str | os.PathLike[str] | None = None,
        workers: int | None = None,
        progress: Progress = True,
        stop: threading.Event | None = None,
        batch: bool = True,
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
            workers, progress, stop, batch: as for edits (legacy: up to 10 DELETEs per
                multi-call request).

        Raises:
            InputError: wrong ``confirm`` count, over the cap without ``force``, the plan
                is held by a review panel (see :mod:`dmtools.bulk.gate`), or the backup
                could not be written (the error names the path and the reason); nothing
                is deleted in every case.
        """
        from dmtools.bulk import delete_apply
        from dmtools.bulk.gate import check_apply

        if confirm is None:
            return delete_apply.dry_run(self)
        check_apply(self)  # a plan held by a review panel is applied by that panel only
        if isinstance(confirm, bool) or confirm != len(self):
            raise InputError(
                f"confirm must be the exact number of videos to delete "
                f"({len(self)}), got {confirm!r}; nothing was deleted"
            )
        self.check_cap(force=force)
        options = {
            "journal": journal,
            "workers": workers,
            "progress": progress,
            "stop": stop,
            "batch": batch,
        }
        return delete_apply.delete_videos(self, client, export_path, options)


def _selected(rows: Any, snapshot: pd.DataFrame | None) -> tuple[list[Any], pd.DataFrame | None]:
    """(the ids ``rows`` selects, as given; their rows when ``rows`` is a frame)."""
    import pandas as pd

    from dmtools.frames import index_by_id

    if isinstance(rows, pd.DataFrame):
        framed = index_by_id(rows, "the selected rows", [])
        return ([] if framed is None else list(framed.index)), framed
    if isinstance(rows, pd.Series) and rows.name != "id" and rows.index.name == "id":
        return list(rows.index), None
    if snapshot is None:
        raise InputError(
            "pass snapshot=<the loaded frame> when selecting videos by id, "
            "so every id is checked against it; nothing will be deleted"
        )
    given = list(rows) if not isinstance(rows, str) else [rows]
    return [None if v is None or (isinstance(v, float) and v != v) else v for v in given], None


def _in_snapshot(
    clean: list[str], snapshot: pd.DataFrame, problems: list[Problem]
) -> tuple[int | None, pd.DataFrame | None]:
    """(the snapshot's size, its rows of ``clean``); a problem for each id it lacks."""
    from dmtools.frames import index_by_id

    framed = index_by_id(snapshot, "the snapshot", problems)
    if framed is None:
        return None, None
    known = set(framed.index)
    problems += [
        Problem(vid, "id", "not in the snapshot")
        for vid in dict.fromkeys(clean)
        if vid not in known
    ]
    return len(framed), framed.loc[~framed.index.duplicated() & framed.index.isin(clean)]


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
    ids, records = _selected(rows, snapshot)
    problems = [
        Problem(f"#{position}", "id", "missing video id")
        for position, vid in enumerate(ids)
        if vid is None or not str(vid).strip()
    ]
    clean = [str(vid) for vid in ids if vid is not None and str(vid).strip()]
    snapshot_rows: int | None = None
    if snapshot is not None:
        snapshot_rows, known = _in_snapshot(clean, snapshot, problems)
        records = records if records is not None else known
    if problems:
        raise InputError(
            f"cannot plan the deletes ({len(problems)} problem(s)); nothing will be deleted",
            problems,
        )
    labels: dict[str, str] = {}
    if records is not None:
        records = records[~records.index.duplicated()].sort_index()
        if "title" in records.columns:
            labels = {str(k): str(v) for k, v in records["title"].items() if isinstance(v, str)}
    return DeletePlan(clean, records=records, snapshot_rows=snapshot_rows, labels=labels)
