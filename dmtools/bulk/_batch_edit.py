"""Batched edits: compare-before-write for many videos per read, writes in multi-calls.

The decisions are those of :class:`~dmtools.bulk.apply.EditWorker` (one place: its
:meth:`~dmtools.bulk.apply.EditWorker.judge` and
:meth:`~dmtools.bulk.apply.EditWorker.resolve`); only the requests differ:

* **read** (:meth:`BatchEdits.prepare`): the videos of up to ``batch_read_size`` operations
  in one request (legacy: ``GET /me/videos?ids=...``); a video the batched read does not
  return is read alone (a 404 fails its operation only);
* **write** (:meth:`BatchEdits.write`): each operation of a group of up to
  ``call_batch_size`` is journaled ``sending`` with its before-values and the values sent,
  then the group goes as one multi-call; each call's result is its operation's outcome.
  Calls whose answer was lost (the whole batch's, or one call's 500/502/504) are journaled
  ``in_doubt`` and read back, in one request for the group, before anything is resent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dmtools._batch import call_batch_size, read_records, send_calls
from dmtools.bulk._pipeline import Fail, alone, chunks
from dmtools.bulk.apply import EditWorker, canonical, fields_to_read, read_fields
from dmtools.bulk.runner import MAX_SENDS, OpState, is_ambiguous

if TYPE_CHECKING:
    from dmtools.bulk._values import Value
    from dmtools.bulk.journal import Journal
    from dmtools.client import Client

__all__ = ["BatchEdits", "EditWrite"]


@dataclass
class EditWrite:
    """One operation of a write group: what it sends and the values before the write."""

    state: OpState
    send: dict[str, Value]
    before: dict[str, Any]
    sends: int = 0


class BatchEdits:
    """The read and write stages of a batched edit job (see the module notes)."""

    def __init__(self, client: Client, journal: Journal, *, override: bool) -> None:
        self.client = client
        self.journal = journal
        self.single = EditWorker(client, journal, override=override)
        self.read_size = max(1, client.dialect.batch_read_size)

    def read(
        self, states: list[OpState], fields: dict[int, list[str]], fail: Fail
    ) -> dict[int, dict[str, Any]]:
        """Canonical values of ``fields[op_id]`` for each operation whose video was read
        (the others are journaled failed, or in doubt while a write of them is)."""
        names = list(dict.fromkeys(name for state in states for name in fields[state.row.op_id]))
        found = read_records(self.client, [s.row.video_id for s in states], names)
        values: dict[int, dict[str, Any]] = {}
        for state in states:
            wanted = fields[state.row.op_id]
            record = found.get(state.row.video_id)
            try:
                values[state.row.op_id] = (
                    canonical(record, wanted)
                    if record is not None
                    else read_fields(self.client, state.row.video_id, wanted)
                )
            except Exception as exc:  # e.g. NotFound: this operation only
                fail(state, exc)
        return values

    def prepare(self, states: list[OpState], fail: Fail) -> list[list[EditWrite]]:
        fields = {state.row.op_id: fields_to_read(state) for state in states}
        read = self.read(states, fields, fail)
        writes = []
        for state in states:
            if state.row.op_id in read:
                decided = self.single.judge(state, read[state.row.op_id])
                if decided is not None:
                    writes.append(EditWrite(state, *decided))
        return chunks(writes, call_batch_size(self.client))

    def write(self, group: list[EditWrite], fail: Fail) -> list[list[EditWrite]]:
        dialect = self.client.dialect
        for item in group:
            self.journal.mark(
                item.state.row.op_id, "sending", before=item.before, sent=item.send, attempt=True
            )
            item.state.in_doubt = True
            item.sends += 1
        calls = [dialect.edit_call(i.state.row.video_id, i.send, ["id"]) for i in group]
        lost: list[tuple[EditWrite, Exception]] = []
        for item, outcome in zip(group, send_calls(self.client, calls), strict=True):
            if not isinstance(outcome, Exception):
                self.single.done(item.state, "applied", "", http_status=200)
            elif is_ambiguous(outcome):
                self.single.doubt(item.state, outcome)
                lost.append((item, outcome))
            else:
                item.state.in_doubt = False  # the API refused it: nothing was written
                fail(item.state, outcome)
        return self.read_back(lost, fail) if lost else []

    def read_back(
        self, lost: list[tuple[EditWrite, Exception]], fail: Fail
    ) -> list[list[EditWrite]]:
        """Resolve writes whose answer was lost by reading their videos back (one request):
        written, changed by someone else, or to send again (returned as groups)."""
        fields = {item.state.row.op_id: list(item.send) for item, _ in lost}
        current = self.read([item.state for item, _ in lost], fields, fail)
        again = []
        for item, exc in lost:
            values = current.get(item.state.row.op_id)
            if values is None:
                continue  # not read: journaled in doubt, resolved by the next run
            if self.single.resolve(item.state, exc, values, item.send, item.before):
                continue
            if item.sends >= MAX_SENDS:
                self.single.give_up(item.state)
            else:
                again.append(item)
        return alone(again)
