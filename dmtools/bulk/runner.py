"""The job runner shared by edits and deletes: journal set-up, workers, progress, results.

A job is a plan plus a journal. :func:`run_job` opens (or creates) the journal, refuses one
that belongs to another plan, account or API host before sending anything, then runs every
operation that is not final on a bounded thread pool, operations left in doubt by an earlier
run first. A fatal authentication error (session gone, token revoked, missing scope) stops
the job, and so does a failure once the transport's retry budget is spent (the service is
down: a circuit breaker). Operations not started stay ``planned`` and are reported
``not_attempted``; running the job again from its journal picks them up.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from dmtools._progress import progress_bar
from dmtools.bulk._base import FINAL, IN_DOUBT, reported
from dmtools.bulk.journal import Journal, JournalRow
from dmtools.bulk.result import ApplyResult, OpResult
from dmtools.errors import (
    APIError,
    AuthenticationError,
    InputError,
    PermissionDenied,
    ServerError,
    TransportError,
)

if TYPE_CHECKING:
    from dmtools.bulk._base import PlanBase
    from dmtools.client import Client

log = logging.getLogger("dmtools.bulk")

#: 5xx answers that do not prove the write was not processed (resolved by reading back).
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})
#: Most write requests sent for one operation in one run (the first and two resends).
MAX_SENDS = 3
#: Default concurrency: operations at a time of a job run one operation per worker
#: (:data:`WORKERS`), requests in flight of a pipelined batch job (:data:`BATCH_WORKERS`).
WORKERS = 4
BATCH_WORKERS = 32

Progress = bool | Callable[[int, int], Any] | None
#: ``ApplyResult.stopped`` of a job stopped through its ``stop`` event (a Stop button).
STOPPED_ON_REQUEST = "stopped on request"


def is_ambiguous(exc: BaseException) -> bool:
    """A write failure after which the write may or may not have happened."""
    if isinstance(exc, TransportError):
        return exc.sent
    return isinstance(exc, ServerError) and exc.status in AMBIGUOUS_STATUSES


def is_fatal(exc: BaseException) -> bool:
    """An error that no other operation of the job can avoid: stop the job."""
    if isinstance(exc, AuthenticationError):
        return True
    return isinstance(exc, PermissionDenied) and exc.missing_scope is not None


def service_down(client: Client, exc: BaseException) -> bool:
    """The API keeps failing and the transport's retry budget is spent: stop sending."""
    budget = getattr(client, "budget", None)
    if budget is None or not budget.exhausted:
        return False
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, APIError) and exc.status in (429, 500, 502, 503, 504)


def mark_in_doubt(journal: Journal, state: OpState, exc: BaseException, then: str) -> None:
    """Journal an ambiguous write failure of ``state``'s operation (``then``: what is done
    next, e.g. reading the video back)."""
    journal.mark(
        state.row.op_id,
        "in_doubt",
        http_status=getattr(exc, "status", None),
        error_type=type(exc).__name__,
        message=f"{exc}; {then}",
    )


def describe(exc: BaseException) -> dict[str, Any]:
    """Journal fields (http_status, error_type, message) for an exception."""
    status = exc.status if isinstance(exc, APIError) else None
    return {"http_status": status or None, "error_type": type(exc).__name__, "message": str(exc)}


def api_base(client: Client) -> str:
    """The API base URL the client writes to (partner ``/rest`` base for private keys)."""
    return str(client.base_url)


def job_identity(client: Client, kind: str, fingerprint: str) -> dict[str, Any]:
    """What a journal must match to be run by this client (read without any request)."""
    return {"kind": kind, "fingerprint": fingerprint, "api_base": api_base(client)}


class OpState:
    """Per-operation bookkeeping used by the workers: is a write of it in doubt?"""

    def __init__(self, row: JournalRow) -> None:
        self.row = row
        self.in_doubt = row.state in IN_DOUBT


Worker = Callable[[OpState], None]


class Job:
    """Runs the operations of one journal with ``workers`` threads.

    ``stop``, when set by another thread, ends the job after the operations in flight: the
    rest stays ``planned`` for a later run, and :attr:`stopped` says ``stopped on request``.
    """

    def __init__(
        self,
        journal: Journal,
        worker: Worker,
        *,
        workers: int,
        progress: Progress,
        description: str,
        breaker: Callable[[BaseException], bool] = lambda exc: False,
        stop: threading.Event | None = None,
    ) -> None:
        self.journal = journal
        self.worker = worker
        self.workers = workers
        self.progress = progress
        self.description = description
        self.breaker = breaker
        self.stop = stop if stop is not None else threading.Event()
        self.stopped: str | None = None
        self._stop_lock = threading.Lock()

    def _one(self, state: OpState) -> None:
        if self.stop.is_set():
            return
        try:
            self.worker(state)
        except Exception as exc:  # one bad operation never stops the others
            self.fail(state, exc)

    def fail(self, state: OpState, exc: Exception) -> None:
        """Record ``exc`` as the outcome of ``state``'s operation (``in_doubt`` while a write
        of it is in doubt, else ``failed``) and stop the job when no operation can succeed."""
        fields = describe(exc)
        if state.in_doubt:
            fields["message"] = (
                f"{fields['message']}; the outcome is unknown: run the job "
                "again to resolve it by reading the video back"
            )
        self.journal.mark(state.row.op_id, "in_doubt" if state.in_doubt else "failed", **fields)
        if is_fatal(exc):
            self._halt(f"{type(exc).__name__}: {exc}")
        elif self.breaker(exc):
            self._halt(f"service unavailable: {type(exc).__name__}: {exc}")
        elif not isinstance(exc, APIError | TransportError):
            log.error(
                "operation %s on %s failed unexpectedly",
                state.row.op_id,
                state.row.video_id,
                exc_info=exc,
            )

    def _halt(self, reason: str) -> None:
        with self._stop_lock:
            if self.stopped is None:
                self.stopped = reason
                log.error("stopping the job: %s", reason)
        self.stop.set()

    def run(self) -> None:
        """Run every operation that is not final (those in doubt first), with progress."""
        rows = self.journal.rows()
        pending = sorted(
            (r for r in rows if r.state not in FINAL),
            key=lambda r: (r.state not in IN_DOUBT, r.op_id),
        )
        tally = Tally(self.progress, len(rows), len(rows) - len(pending), self.description)
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="dmtools-bulk") as pool:
                self._drive(pool, [OpState(row) for row in pending], tally)
            if self.stop.is_set() and self.stopped is None:
                self.stopped = STOPPED_ON_REQUEST
            tally.finish()  # stopped early: the rest is left for a later run
        finally:
            tally.close()

    def _drive(self, pool: ThreadPoolExecutor, states: list[OpState], tally: Tally) -> None:
        """Run ``states`` on ``pool``, one operation per task."""
        queue = iter(states)
        # A short window of submitted operations keeps this loop's cost per finished
        # operation independent of the job's size (waiting on every pending future
        # at once would cost O(N) per operation, O(N^2) for the job).
        running: set[Future[None]] = set()
        try:
            while True:
                while len(running) < 2 * self.workers and not self.stop.is_set():
                    state = next(queue, None)
                    if state is None:
                        break
                    running.add(pool.submit(self._one, state))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    tally.add(1)
        except BaseException:
            self.stop.set()  # e.g. KeyboardInterrupt: let running operations finish
            for future in running:
                future.cancel()
            raise


class Tally:
    """Progress of a job: a tqdm bar, a ``callback(done, total)``, or nothing."""

    def __init__(self, progress: Progress, total: int, done: int, description: str) -> None:
        self.total, self.done = total, done
        self.bar, self.callback = _progress(progress, total, done, description)

    def add(self, step: int) -> None:
        """``step`` more operations have their outcome."""
        if step <= 0:
            return
        self.done += step  # a batch's operations at once: one call with the new count
        if self.bar is not None:
            self.bar.update(step)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def finish(self) -> None:
        """Count the operations left for a later run, so that the bar ends full."""
        self.add(self.total - self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _progress(
    progress: Progress, total: int, done: int, description: str
) -> tuple[Any, Callable[[int, int], Any] | None]:
    if callable(progress):
        return None, progress
    if not progress:
        return None, None
    return progress_bar(True, total=total, initial=done, desc=description, unit="op"), None


def result_from(
    journal: Journal,
    *,
    kind: str,
    fingerprint: str,
    stopped: str | None = None,
    export_path: str | os.PathLike[str] | None = None,
) -> ApplyResult:
    """The ApplyResult of a journal: one row per operation, in op_id order."""
    rows = []
    for r in journal.rows():
        message = r.message
        if r.state == "planned" and not message:
            message = f"not attempted ({stopped})" if stopped else "not attempted"
        elif r.state in IN_DOUBT and "outcome is unknown" not in message:
            message = (message + "; " if message else "") + (
                "the outcome is unknown: run the job again to resolve it"
            )
        rows.append(
            OpResult(
                r.op_id,
                r.video_id,
                reported(r.state),
                r.http_status,
                r.error_type,
                message,
                r.attempts,
            )
        )
    result = ApplyResult(
        rows,
        kind=kind,
        fingerprint=fingerprint,
        journal_path=journal.path,
        export_path=export_path,
        stopped=stopped,
    )
    result._journal = journal if journal.path is None else None
    return result


def run_job(
    client: Client,
    plan: PlanBase,
    *,
    journal: str | os.PathLike[str] | None,
    worker_factory: Callable[[Journal], Any],
    workers: int | None,
    progress: Progress,
    extra_header: Mapping[str, Any] | None = None,
    export_path: str | os.PathLike[str] | None = None,
    before_first_write: Callable[[Journal], None] | None = None,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Open or resume the journal of ``plan``'s job, run it, and report (``stop``: see
    ``Job``). ``worker_factory`` makes the job's worker: a per-operation :data:`Worker`
    (a :class:`Job`), or a batch worker with ``prepare`` and ``write`` stages (a
    :class:`~dmtools.bulk._pipeline.BatchJob`)."""
    from dmtools.bulk._integrity import plan_ops

    kind, fingerprint, ops = plan.kind, plan.fingerprint, plan_ops(plan)
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or workers < 1
    ):
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    store = Journal(journal, lock=True)  # the lock first: one process per job
    try:
        header = {"plan": plan.to_dict(), **(extra_header or {})}
        finished = _open_job(store, client, kind, fingerprint, ops, header)
        if before_first_write is not None:
            before_first_write(store)
        worker = worker_factory(store)
        job_class: Any = Job
        if hasattr(worker, "prepare"):  # a batch worker (reads and writes many per request)
            from dmtools.bulk._pipeline import BatchJob as job_class
        if workers is None:
            workers = BATCH_WORKERS if job_class is not Job else WORKERS
        job = job_class(
            store,
            worker,
            workers=workers,
            progress=progress,
            description=f"{kind} {fingerprint[:8]}",
            breaker=lambda exc: service_down(client, exc),
            stop=stop,
        )
        job.run()
        result = result_from(
            store, kind=kind, fingerprint=fingerprint, stopped=job.stopped, export_path=export_path
        )
        result.already_finished = finished
        return result
    finally:
        if store.path is not None:
            store.close()
        else:
            store.unlock()


def _open_job(
    store: Journal,
    client: Client,
    kind: str,
    fingerprint: str,
    ops: Sequence[tuple[int, str, str, Mapping[str, Any]]],
    header: Mapping[str, Any],
) -> bool:
    """Start the journal of a new job, or check a resumed one belongs to this plan, account
    and API host (JournalError otherwise, before any request but ``/me``). True when the
    resumed job was already finished."""
    identity = job_identity(client, kind, fingerprint)
    resumed = not store.is_new
    if resumed:  # before the account id, which may need a request
        store.check(identity)
        store.verify(ops)
    identity["account_id"] = str(client.account_id)
    if resumed:
        store.check(identity)
        return all(r.state in FINAL for r in store.rows())
    extra = {"scopes": list(client.scopes), "dmtools_version": _version()}
    store.start({**identity, **extra, **header}, ops)
    return False


def _version() -> str:
    from dmtools import __version__

    return __version__
