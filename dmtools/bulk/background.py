"""Run a bulk job on a background thread, so the Jupyter kernel stays free while it runs.

The review panel applies plans through :class:`BackgroundJob`: the cell that showed the
panel returns at once, the kernel keeps answering (other cells run, buttons respond), the
progress keeps moving, and Stop asks the job to end after the requests in flight. The
journal makes this safe at any moment: a stop, a kernel interrupt of other code, or a dead
kernel leaves every operation either finished or recorded as in doubt, and resuming the
journal finishes the job exactly.

Example:
    >>> job = BackgroundJob(lambda stop, progress: plan.apply(       # doctest: +SKIP
    ...     client, journal="runs/edits.journal", stop=stop, progress=progress))
    >>> job.start(); job.stop(); result = job.wait()                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["BackgroundJob"]

log = logging.getLogger("dmtools.bulk")

T = TypeVar("T")
Work = Callable[[threading.Event, Callable[[int, int], None]], T]


class BackgroundJob(Generic[T]):
    """``work(stop, progress)`` on a daemon thread, with its progress, result or error.

    Args:
        work: the job; it must watch ``stop`` and may call ``progress(done, total)``.
        name: the thread's name.
        on_progress: called with ``(done, total)`` from the job's thread.
        on_done: called with the job itself once it ended (result or error set).
    """

    def __init__(
        self,
        work: Work[T],
        *,
        name: str = "dmtools-job",
        on_progress: Callable[[int, int], Any] | None = None,
        on_done: Callable[[BackgroundJob[T]], Any] | None = None,
    ) -> None:
        self._work = work
        self._on_progress = on_progress
        self._on_done = on_done
        self.stop_event = threading.Event()
        self.finished = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.progress: tuple[int, int] = (0, 0)
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> BackgroundJob[T]:
        """Start the thread (once); returns the job."""
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Ask the job to stop after the operations in flight (returns at once)."""
        self.stop_event.set()

    def wait(self, timeout: float | None = None) -> T:
        """The job's result once it ended (its error raised).

        Raises:
            TimeoutError: still running after ``timeout`` seconds.
        """
        if not self.finished.wait(timeout):
            raise TimeoutError(f"the job is still running after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]

    def _report(self, done: int, total: int) -> None:
        self.progress = (done, total)
        if self._on_progress is not None:
            try:
                self._on_progress(done, total)
            except Exception:  # a display problem must never stop the job
                log.exception("progress display failed")

    def _run(self) -> None:
        try:
            self.result = self._work(self.stop_event, self._report)
        except BaseException as exc:  # reported to whoever waits; the thread ends cleanly
            self.error = exc
        finally:
            self.ended_at = time.monotonic()
            try:
                if self._on_done is not None:
                    self._on_done(self)
            except Exception:
                log.exception("job completion display failed")
            finally:
                self.finished.set()  # after on_done: a waiter sees its effects
