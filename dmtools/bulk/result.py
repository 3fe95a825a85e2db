"""Per-operation outcomes of an apply, as objects and as a frame."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dmtools.bulk._base import STATUSES, OpStatus

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.bulk.journal import Journal
    from dmtools.bulk.plan import EditPlan

__all__ = ["STATUSES", "ApplyResult", "OpResult"]


@dataclass(frozen=True)
class OpResult:
    """What happened to one operation.

    Attributes:
        op_id: the operation's id in the plan.
        video_id: the video it touched.
        status: one of :data:`STATUSES` (see :data:`~dmtools.bulk._base.OpStatus`).
        http_status: status of the last response for this operation (None if no answer).
        error_type: exception class name or API error type, for failures and conflicts.
        message: human-readable reason (why it failed, which fields conflict...).
        attempts: number of write requests sent for it (over all runs of the journal).

    Example:
        >>> [r for r in result if r.status == "conflict"][0].message    # doctest: +SKIP
        "changed since the plan was made: title: expected 'A', server has 'B'"
    """

    op_id: int
    video_id: str
    status: OpStatus
    http_status: int | None = None
    error_type: str | None = None
    message: str = ""
    attempts: int = 0


class ApplyResult:
    """One row per planned operation; join it back onto your frame with :meth:`to_frame`.

    Example:
        >>> result = plan.apply(client, journal="edits.journal")   # doctest: +SKIP
        >>> result.counts()                                        # doctest: +SKIP
        {'applied': 97, 'conflict': 3, ...}
        >>> df.join(result.to_frame()[["status", "message"]])      # doctest: +SKIP
    """

    def __init__(
        self,
        rows: Sequence[OpResult],
        *,
        kind: str,
        fingerprint: str,
        journal_path: str | os.PathLike[str] | None = None,
        dry_run: bool = False,
        export_path: str | os.PathLike[str] | None = None,
        stopped: str | None = None,
    ) -> None:
        self.rows: tuple[OpResult, ...] = tuple(sorted(rows, key=lambda r: r.op_id))
        self.kind = kind
        self.fingerprint = fingerprint
        self.journal_path = Path(journal_path) if journal_path is not None else None
        self.dry_run = dry_run
        self.export_path = Path(export_path) if export_path is not None else None
        #: Why the run stopped early, or None: a fatal authentication error, or
        #: ``"service unavailable: ..."`` when the API kept failing after the transport's
        #: retry budget was spent (the circuit breaker).
        self.stopped = stopped
        #: True when the journal's job was already finished before this run: nothing was
        #: sent, the rows are what the earlier runs recorded (see ``dm.bulk.job_status``).
        self.already_finished = False
        #: The in-memory journal of a run without a journal file (kept for undo).
        self._journal: Journal | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[OpResult]:
        return iter(self.rows)

    def counts(self) -> dict[str, int]:
        """Number of operations per status (every status listed, zeros included)."""
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        """True when no operation failed, conflicted or was left unattempted."""
        return not any(r.status in ("failed", "conflict", "not_attempted") for r in self.rows)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a frame indexed by video id (``id``), ready to join onto the data.

        Columns: ``op_id``, ``op_status`` (named so that it does not collide with the video
        ``status`` field when joined), ``http_status``, ``error_type``, ``message``,
        ``attempts``.
        """
        import pandas as pd

        frame = pd.DataFrame(
            [asdict(r) for r in self.rows], columns=list(OpResult.__dataclass_fields__)
        )
        frame = frame.astype(
            {
                "op_id": "Int64",
                "video_id": "string",
                "http_status": "Int64",
                "error_type": "string",
                "message": "string",
                "attempts": "Int64",
            }
        )
        frame["status"] = pd.Categorical(frame["status"], categories=list(STATUSES))
        frame = frame.rename(columns={"status": "op_status"})
        return frame.set_index(pd.Index(frame.pop("video_id"), name="id"))

    def undo_plan(self) -> EditPlan:
        """An edit plan restoring what this run changed (see :func:`dmtools.bulk.undo_plan`).

        Raises:
            InputError: the run had no journal file to read the before-values from.
        """
        from dmtools.bulk.undo import undo_plan
        from dmtools.errors import InputError

        if self._journal is not None:
            return undo_plan(self._journal)
        if self.journal_path is None:
            raise InputError("this result has no journal to undo from (a dry run?)")
        return undo_plan(self.journal_path)

    def __repr__(self) -> str:
        from dmtools.bulk.render import result_text

        return result_text(self)

    def _repr_html_(self) -> str:
        from dmtools.bulk.render import result_html

        return result_html(self)
