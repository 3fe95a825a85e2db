"""Batched deletes: up to ``call_batch_size`` DELETEs per request (legacy: multi-call).

The decisions are those of :class:`~dmtools.bulk.delete_apply.DeleteWorker`; only the
requests differ. A delete sends no read first; a DELETE left in doubt (by an earlier run, or
by a batch whose answer was lost) is resolved by reading the videos back, many per request
(a video the batched read does not return is confirmed gone by its own ``GET``), before
anything is sent again. The guards and the backup written before the first DELETE are
:meth:`~dmtools.bulk.DeletePlan.apply`'s, batched or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dmtools._batch import call_batch_size, read_records, send_calls
from dmtools.bulk._pipeline import Fail, alone, chunks
from dmtools.bulk.delete_apply import DeleteWorker
from dmtools.bulk.runner import MAX_SENDS, OpState, is_ambiguous
from dmtools.errors import NotFound

if TYPE_CHECKING:
    from dmtools.bulk.journal import Journal
    from dmtools.client import Client

__all__ = ["BatchDeletes", "DeleteWrite"]


@dataclass
class DeleteWrite:
    """One operation of a DELETE group."""

    state: OpState
    sends: int = 0
    doubted: bool = False


class BatchDeletes:
    """The read (read-back only) and write stages of a batched delete job."""

    def __init__(self, client: Client, journal: Journal) -> None:
        self.client = client
        self.journal = journal
        self.single = DeleteWorker(client, journal)
        self.read_size = max(1, client.dialect.batch_read_size)

    def gone(self, states: list[OpState], fail: Fail) -> dict[int, bool]:
        """Whether each video is gone, by operation (those that could not be read are
        journaled failed, or in doubt)."""
        found = read_records(self.client, [s.row.video_id for s in states], ["id"])
        out: dict[int, bool] = {}
        for state in states:
            if state.row.video_id in found:
                out[state.row.op_id] = False
                continue
            try:
                out[state.row.op_id] = not self.single.exists(state.row.video_id)
            except Exception as exc:
                fail(state, exc)
        return out

    def prepare(self, states: list[OpState], fail: Fail) -> list[list[DeleteWrite]]:
        doubtful = [state for state in states if state.in_doubt]
        gone = self.gone(doubtful, fail) if doubtful else {}
        todo = []
        for state in states:
            if state.in_doubt:
                if state.row.op_id not in gone:
                    continue  # not read: still in doubt, or failed
                if gone[state.row.op_id]:
                    self.single.done(
                        state, "deleted", "confirmed by reading back: the video is gone", None
                    )
                    continue
            todo.append(DeleteWrite(state, doubted=state.in_doubt))
        return chunks(todo, call_batch_size(self.client))

    def write(self, group: list[DeleteWrite], fail: Fail) -> list[list[DeleteWrite]]:
        for item in group:
            self.journal.mark(item.state.row.op_id, "sending", attempt=True)
            item.state.in_doubt = True
            item.sends += 1
        calls = [self.client.dialect.delete_call(item.state.row.video_id) for item in group]
        lost: list[tuple[DeleteWrite, Exception]] = []
        for item, outcome in zip(group, send_calls(self.client, calls), strict=True):
            state = item.state
            if not isinstance(outcome, Exception):
                self.single.done(state, "deleted", "", 200)
            elif isinstance(outcome, NotFound):
                if item.doubted:
                    self.single.done(state, "deleted", "404 after an interrupted DELETE", 404)
                else:
                    self.single.done(state, "already_absent", "the video did not exist", 404)
            elif is_ambiguous(outcome):
                self.single.doubt(state, outcome)
                lost.append((item, outcome))
            else:
                state.in_doubt = False  # refused: nothing was deleted
                fail(state, outcome)
        return self.read_back(lost, fail) if lost else []

    def read_back(
        self, lost: list[tuple[DeleteWrite, Exception]], fail: Fail
    ) -> list[list[DeleteWrite]]:
        """Resolve DELETEs whose answer was lost: gone, or to send again (as groups)."""
        gone = self.gone([item.state for item, _ in lost], fail)
        again = []
        for item, exc in lost:
            state = item.state
            if state.row.op_id not in gone:
                continue
            if gone[state.row.op_id]:
                self.single.done(
                    state,
                    "deleted",
                    f"confirmed by reading back after an interrupted DELETE ({type(exc).__name__})",
                    getattr(exc, "status", None),
                )
            elif item.sends >= MAX_SENDS:
                self.single.give_up(state)
            else:
                item.doubted = True
                again.append(item)
        return alone(again)
