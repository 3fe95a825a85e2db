"""Applying an edit plan: compare-before-write, write only the changes, resolve doubt.

For each operation (one video), on a worker thread:

1. ``GET /video/<id>`` for the planned fields: the only read before the write. If an earlier
   run left the operation ``sending``/``in_doubt``, it is also the read-back: values equal to
   what was sent → ``applied`` (nothing resent); equal to the values before the write → carry
   on below; anything else → ``conflict``.
2. All planned fields already at the target → ``unchanged``. A field holding neither the
   plan's old value nor its target → ``conflict`` (nothing written) unless
   ``override_conflicts``.
3. Journal ``sending`` (committed), then ``POST /video/<id>`` with the fields still to change.
   Success → ``applied``. An ambiguous failure (reset or timeout after sending, truncated
   answer, 500/502/504) → ``in_doubt`` and exactly one read-back: target → ``applied``;
   before-values → send again (at most :data:`~dmtools.bulk.runner.MAX_SENDS` writes);
   anything else → ``conflict``.

429 and 503 are retried by the transport (the server did not process them). Any other error
fails the operation only; authentication errors stop the job (see :mod:`.runner`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from dmtools.bulk._base import ERROR_TYPES, OpStatus
from dmtools.bulk._values import Value
from dmtools.bulk.journal import Journal
from dmtools.bulk.plan import EditPlan, check_plan_values
from dmtools.bulk.render import show
from dmtools.bulk.runner import (
    MAX_SENDS,
    OpState,
    Progress,
    is_ambiguous,
    mark_in_doubt,
    run_job,
)

if TYPE_CHECKING:
    from dmtools.bulk.result import ApplyResult
    from dmtools.client import Client

__all__ = ["apply_edits"]

_MISSING = object()


def read_fields(client: Client, video_id: str, fields: Iterable[str]) -> dict[str, Any]:
    """Current values of ``fields`` in canonical form (a value that cannot be read as its
    field stays as the server sent it, so it compares unequal to anything planned)."""
    from dmtools.videos import get_video

    names = list(fields)
    return canonical(get_video(client, video_id, names), names)


def canonical(raw: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The values of ``names`` in a video record, in canonical form (see :func:`read_fields`)."""
    from dmtools.frames._cells import BadCell, cell_value

    values: dict[str, Any] = {}
    for name in names:
        try:
            values[name] = cell_value(name, raw.get(name))
        except BadCell:
            values[name] = raw.get(name, _MISSING)
    return values


def _differences(current: Mapping[str, Any], reference: Mapping[str, Value]) -> str:
    return "; ".join(
        f"{name}: expected {show(reference[name], 40)}, server has {show(current[name], 40)}"
        for name in reference
        if current[name] != reference[name]
    )


def fields_to_read(state: OpState) -> list[str]:
    """The fields read before writing an operation: its planned fields, and the fields of
    an earlier write in doubt (the read-back)."""
    sent = state.row.sent if state.in_doubt and state.row.sent else {}
    return list(dict.fromkeys([*state.row.planned, *sent]))


class EditWorker:
    """Carries out one edit operation (called on worker threads)."""

    def __init__(self, client: Client, journal: Journal, *, override: bool) -> None:
        self.client = client
        self.journal = journal
        self.override = override

    def __call__(self, state: OpState) -> None:
        # one read serves both the read-back of an earlier write and the compare-before-write
        read = read_fields(self.client, state.row.video_id, fields_to_read(state))
        decided = self.judge(state, read)
        if decided is not None:
            self._send(state, *decided)

    def judge(
        self, state: OpState, read: Mapping[str, Any]
    ) -> tuple[dict[str, Value], dict[str, Any]] | None:
        """Decide an operation from what the server holds (``read``: every field of
        :func:`fields_to_read`): journal its outcome and return None, or return the fields
        still to send and their values before the write."""
        row = state.row
        target = {name: new for name, (_, new) in row.planned.items()}
        expected = {name: old for name, (old, _) in row.planned.items()}
        sent = row.sent if state.in_doubt and row.sent else None
        if sent is not None:
            before = row.before or {}
            written = {name: read[name] for name in sent}
            if written == sent:
                self.done(state, "applied", "confirmed by reading the video back")
                return None
            if written != before and not self.override:
                self.done(
                    state,
                    "conflict",
                    "after an interrupted write the server holds "
                    "other values: " + _differences(written, sent),
                )
                return None
        current = {name: read[name] for name in target}
        if current == target:
            self.done(state, "unchanged", "the server already holds the planned values")
            return None
        others = {n: v for n, v in expected.items() if current[n] not in (v, target[n])}
        if others and not self.override:
            self.done(
                state,
                "conflict",
                "changed since the plan was made: " + _differences(current, others),
            )
            return None
        send = {name: value for name, value in target.items() if current[name] != value}
        return send, {name: current[name] for name in send}

    def _send(self, state: OpState, send: dict[str, Value], before: dict[str, Any]) -> None:
        from dmtools.videos import update_video

        op_id, video_id = state.row.op_id, state.row.video_id
        for _ in range(MAX_SENDS):
            self.journal.mark(op_id, "sending", before=before, sent=send, attempt=True)
            state.in_doubt = True
            try:
                update_video(self.client, video_id, return_fields=["id"], **send)
            except Exception as exc:
                if not is_ambiguous(exc):
                    state.in_doubt = False  # the API refused it: nothing was written
                    raise
                self.doubt(state, exc)
                current = read_fields(self.client, video_id, send)
                if self.resolve(state, exc, current, send, before):
                    return
                continue
            self.done(state, "applied", "", http_status=200)
            return
        self.give_up(state)

    def doubt(self, state: OpState, exc: BaseException) -> None:
        """Journal an ambiguous write failure (the video is read back next)."""
        mark_in_doubt(self.journal, state, exc, "reading the video back")

    def resolve(
        self,
        state: OpState,
        exc: BaseException,
        current: Mapping[str, Any],
        send: Mapping[str, Value],
        before: Mapping[str, Any],
    ) -> bool:
        """After an interrupted write, decide from the read-back ``current``: True when the
        operation has its outcome, False when it must be sent again."""
        code = getattr(exc, "status", None)
        if current == send:
            self.done(
                state,
                "applied",
                "confirmed by reading the video back after "
                f"an interrupted write ({type(exc).__name__})",
                http_status=code,
            )
            return True
        if current == before or self.override:
            return False
        self.done(
            state,
            "conflict",
            "after an interrupted write the server holds "
            "other values: " + _differences(current, send),
            http_status=code,
        )
        return True

    def give_up(self, state: OpState) -> None:
        """Every write of the operation was interrupted and the old values stay."""
        self.done(
            state,
            "failed",
            f"not applied: {MAX_SENDS} writes were interrupted and "
            "the server still holds the old values",
        )

    def done(
        self, state: OpState, status: OpStatus, message: str, *, http_status: int | None = None
    ) -> None:
        self.journal.mark(
            state.row.op_id,
            status,
            http_status=http_status,
            error_type=ERROR_TYPES.get(status),
            message=message,
        )
        state.in_doubt = False


def edit_worker(client: Client, journal: Journal, *, override: bool, batch: bool) -> Any:
    """The worker of an edit job: with ``batch``, the pipelined
    :class:`~dmtools.bulk._batch_edit.BatchEdits` (as many videos per request as the
    client's API allows: one where it has no batching), else one operation at a time."""
    if batch:
        from dmtools.bulk._batch_edit import BatchEdits

        return BatchEdits(client, journal, override=override)
    return EditWorker(client, journal, override=override)


def apply_edits(
    plan: EditPlan,
    client: Client,
    *,
    journal: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    progress: Progress = True,
    override_conflicts: bool = False,
    stop: threading.Event | None = None,
    batch: bool = True,
) -> ApplyResult:
    """Apply an edit plan; one result row per operation.

    Args:
        plan: the plan (from :func:`~dmtools.bulk.plan_edits` or ``EditPlan.load``).
        client: a logged-in :class:`~dmtools.Client` with the ``manage_videos`` scope.
        journal: path of the job's journal file; an existing one is resumed (it must belong
            to the same plan, account and API host). None keeps the journal in memory.
        workers: with ``batch`` (the default), the number of requests in flight (default
            32, see :data:`~dmtools.bulk.runner.BATCH_WORKERS`): reads of the next videos go out while earlier writes fly. With
            ``batch=False``, the number of operations at a time, each a read then a write
            (default 4).
        progress: True for a progress bar, False for none, or ``callback(done, total)``.
        override_conflicts: write even where the server no longer holds the plan's old values.
        stop: set it (from another thread) to stop after the operations in flight; the rest
            is reported ``not_attempted`` and a later run of the journal finishes the job.
        batch: read and write as many videos per request as the API allows (legacy:
            ``ids`` reads of 100, multi-calls of 10, single calls for a server that refuses
            multi-call; API v2: one video per request), with requests pipelined. False:
            one operation at a time per worker, one request per read and per write.

    Raises:
        InputError: a value breaks the key's limits, or the journal belongs to another job
            (nothing sent in both cases).

    Example:
        >>> result = plan.apply(client, journal="edits.journal", workers=8)  # doctest: +SKIP
        >>> result.to_frame().status.value_counts()                          # doctest: +SKIP
    """
    check_plan_values(
        plan,
        client.limits,
        lambda target: client.dialect.check_edit(target, partner=client.is_partner),
    )
    return run_job(
        client,
        plan,
        journal=journal,
        workers=workers,
        progress=progress,
        worker_factory=lambda store: edit_worker(
            client, store, override=override_conflicts, batch=batch
        ),
        stop=stop,
        extra_header={"undo_of": plan.undo_of} if plan.undo_of else None,
    )
