"""Batched jobs: many operations per request, several requests in flight.

Where the API reads many videos in one request and carries many writes in one request
(:attr:`~dmtools.dialects.Dialect.batch_read_size`,
:func:`~dmtools._batch.call_batch_size`), :class:`BatchJob` runs a job in two kinds of tasks
on its thread pool:

* a **read** task takes the next chunk of up to ``batch_read_size`` operations, reads their
  videos in one request (compare-before-write, and the read-back of writes an earlier run
  left in doubt) and journals those already decided; it yields **write groups** of up to
  ``call_batch_size`` operations;
* a **write** task journals each operation of one group ``sending`` (committed), sends the
  group in one request and journals each call's outcome; calls whose answer was lost are
  read back (one request for the group) before anything is sent again, and those still at
  their old values come back as a new group.

Reads run ahead of the writes, in parallel (their groups are released in the journal's
order), so the ``workers`` threads (requests in flight) stay busy. The journal, the statuses, the resume
order (operations in doubt first), the stop event and the circuit breaker are those of
:class:`~dmtools.bulk.runner.Job`: a kill leaves at most ``workers * call_batch_size``
operations in doubt, and the next run reads them back first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from dmtools.bulk.runner import Job, OpState, Tally

__all__ = ["BatchJob", "BatchWorker", "Fail", "HasState", "alone", "chunks"]

#: Records an exception as an operation's outcome (:meth:`Job.fail`).
Fail = Callable[[OpState, Exception], None]

T = TypeVar("T")


class HasState(Protocol):
    """An item of a write group: one operation and what its write sends."""

    @property
    def state(self) -> OpState: ...


class BatchWorker(Protocol):
    """The two stages of a batched job (edits: :mod:`dmtools.bulk._batch_edit`)."""

    #: Operations per read task.
    read_size: int

    def prepare(self, states: list[OpState], fail: Fail) -> list[list[Any]]:
        """Read and decide ``states``; the write groups of those still to send."""

    def write(self, group: list[Any], fail: Fail) -> list[list[Any]]:
        """Send one group; the groups to send again (read back first: still old values)."""


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into lists of at most ``size`` (``size`` < 1 counts as 1)."""
    size = max(1, size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def alone(items: Sequence[T]) -> list[list[T]]:
    """Writes to send again, each in a request of its own: a batch whose answer was lost may
    have lost it for any one of its calls (a reset stops the calls after it), so sent
    together again each would run the others' risk once more, and fail after three sends
    through no fault of its own."""
    return [[item] for item in items]


class BatchJob(Job):
    """A :class:`~dmtools.bulk.runner.Job` whose tasks read and write operations in batches
    (see the module notes); ``workers`` is the number of requests in flight."""

    def __init__(self, journal: Any, batcher: BatchWorker, **options: Any) -> None:
        super().__init__(journal, lambda state: None, **options)
        self.batcher = batcher

    def _stage(self, step: Callable[[list[Any], Fail], list[list[Any]]], items: list[Any]) -> Any:
        """Run one task; (groups to queue, operations that got their outcome)."""
        if self.stop.is_set():
            return [], 0
        try:
            groups = step(items, self.fail)
        except Exception as exc:  # the batch's shared request failed
            return [], self._fail_all(items, exc)
        return groups, len(items) - sum(len(g) for g in groups)

    def _fail_all(self, items: list[Any], exc: Exception) -> int:
        """Record ``exc`` for each operation of a batch whose shared request failed; the
        number recorded. When the first one stops the job (the session is gone, the service
        is down) the others are left as they are for the next run, as every operation not
        started yet is."""
        states = [item if isinstance(item, OpState) else item.state for item in items]
        for count, state in enumerate(states, start=1):
            self.fail(state, exc)
            if self.stopped is not None:
                return count
        return len(states)

    def _drive(self, pool: ThreadPoolExecutor, states: list[OpState], tally: Tally) -> None:
        size = self.batcher.read_size
        reads: Iterator[list[OpState]] = iter(chunks(states, size))
        writes = _Writes()
        running: dict[Future[Any], tuple[int | None, int]] = {}  # (read ticket, ops read)
        ahead = self.workers * size  # operations read ahead of their writes, at most
        more = True
        try:
            while True:
                while len(running) < self.workers and not self.stop.is_set():
                    reading = sum(n for _, n in running.values())
                    if more and writes.ops() + reading < ahead:
                        chunk = next(reads, None)
                        if chunk is not None:
                            task = pool.submit(self._stage, self.batcher.prepare, chunk)
                            running[task] = (writes.ticket(), len(chunk))
                            continue
                        more = False
                    group = writes.next_group()
                    if group is None:
                        break
                    running[pool.submit(self._stage, self.batcher.write, group)] = (None, 0)
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    ticket, _ = running.pop(future)
                    groups, done = future.result()
                    writes.add(ticket, groups)
                    tally.add(done)
        except BaseException:
            self.stop.set()  # e.g. KeyboardInterrupt: let the requests in flight finish
            for future in running:
                future.cancel()
            raise


class _Writes:
    """The write groups waiting for a request, in the journal's order: the groups of a read
    are released once every earlier read is in (reads run in parallel; operations in doubt,
    read first, are written first); groups to send again go last."""

    def __init__(self) -> None:
        self.queue: deque[list[Any]] = deque()
        self.held: dict[int, list[list[Any]]] = {}
        self.issued = 0
        self.released = 0

    def ticket(self) -> int:
        """The place of the next read."""
        self.issued += 1
        return self.issued - 1

    def add(self, ticket: int | None, groups: list[list[Any]]) -> None:
        """The groups a read (``ticket``) or a write (None: resends) gave."""
        if ticket is None:
            self.queue.extend(groups)
            return
        self.held[ticket] = groups
        while self.released in self.held:
            self.queue.extend(self.held.pop(self.released))
            self.released += 1

    def next_group(self) -> list[Any] | None:
        return self.queue.popleft() if self.queue else None

    def ops(self) -> int:
        """Operations read and not sent yet."""
        held = sum(len(g) for groups in self.held.values() for g in groups)
        return held + sum(len(g) for g in self.queue)
