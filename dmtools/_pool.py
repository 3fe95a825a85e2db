"""Queued reads served by a fixed set of threads (for :mod:`dmtools.loader`).

Each thread takes the next queued read as soon as it is free, without waiting for the
thread that plans the load to read the answer it just got: the planner reads answers one at
a time (:meth:`Reads.next`) and queues what they call for (:meth:`Reads.push`), while every
thread keeps a request in flight as long as anything is queued. Reads are taken in order of
priority (``later`` False first), then in the order they were queued.

Example:
    >>> with Reads(2, lambda n: n * n, "example") as reads:
    ...     for n in (1, 2, 3):
    ...         reads.push(n)
    ...     sorted(reads.next()[1] for _ in range(3))
    [1, 4, 9]
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Reads"]

J = TypeVar("J")
R = TypeVar("R")


class Reads(Generic[J, R]):
    """``workers`` threads applying ``work`` to queued jobs; answers come back in the order
    they are done."""

    def __init__(self, workers: int, work: Callable[[J], R], name: str) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self._work = work
        self._heap: list[tuple[int, int, J]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._done: queue.SimpleQueue[tuple[J, Any, bool]] = queue.SimpleQueue()
        self._closed = False
        self.waiting = 0  # pushed and not yet answered through next()
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def push(self, job: J, later: bool = False) -> None:
        """Queue ``job``; jobs pushed with ``later`` go after every other queued job."""
        with self._ready:
            heapq.heappush(self._heap, (int(later), next(self._order), job))
            self._ready.notify()
        self.waiting += 1

    def queued(self) -> int:
        """Jobs no thread has taken yet."""
        return len(self._heap)

    def next(self) -> tuple[J, R]:
        """The next job done and its answer (blocks); a job's exception is raised here."""
        job, answer, failed = self._done.get()
        self.waiting -= 1
        if failed:
            raise answer
        return job, answer

    def close(self) -> None:
        """Drop what is queued; wait for the requests in flight to end."""
        with self._ready:
            self._closed = True
            self._heap.clear()
            self._ready.notify_all()
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> Reads[J, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._heap or self._closed)
                if self._closed:
                    return
                job = heapq.heappop(self._heap)[2]
            try:
                self._done.put((job, self._work(job), False))
            except BaseException as error:  # handed to the planner, raised by next()
                self._done.put((job, error, True))
