"""The threads of a load: each takes the next queued read as soon as it is free."""

from __future__ import annotations

import threading

import pytest

from dmtools._pool import Reads

WAIT = 10.0  # far longer than any of these steps takes on a loaded machine


def test_a_free_thread_takes_the_next_read_before_the_planner_reads_the_answer() -> None:
    started = threading.Event()

    def work(job: str) -> str:
        if job == "second":
            started.set()
        return job

    with Reads(1, work, "t") as reads:
        reads.push("first")
        reads.push("second")
        assert started.wait(WAIT), "the second read waited for the first answer to be read"
        assert [reads.next()[0] for _ in range(2)] == ["first", "second"]
        assert reads.waiting == 0


def test_reads_are_taken_by_priority_then_in_queue_order() -> None:
    gate, taken = threading.Event(), []

    def work(job: str) -> str:
        if job == "hold":
            assert gate.wait(WAIT)
        taken.append(job)
        return job

    with Reads(1, work, "t") as reads:
        reads.push("hold")  # keeps the one thread busy while the rest is queued
        for job, later in [("a", True), ("b", False), ("c", True), ("d", False)]:
            reads.push(job, later)
        assert reads.queued() in (4, 5)
        gate.set()
        for _ in range(5):
            reads.next()
    assert taken == ["hold", "b", "d", "a", "c"]


def test_no_more_than_the_workers_run_at_once() -> None:
    state = threading.Condition()
    running, released = [0], [False]

    def work(job: int) -> int:
        with state:
            running[0] += 1
            state.notify_all()
            assert state.wait_for(lambda: released[0], WAIT)
            running[0] -= 1
        return job

    with Reads(3, work, "t") as reads:
        for n in range(10):
            reads.push(n)
        with state:
            assert state.wait_for(lambda: running[0] == 3, WAIT)
            assert reads.queued() == 7  # the other reads wait for a thread to be free
            released[0] = True
            state.notify_all()
        assert sorted(reads.next()[1] for _ in range(10)) == list(range(10))


def test_an_error_of_a_read_is_raised_to_the_planner_and_the_threads_go_on() -> None:
    def work(job: int) -> int:
        if job == 2:
            raise KeyError("two")
        return job

    with Reads(2, work, "t") as reads:
        for n in (1, 2, 3):
            reads.push(n)
        answers, errors = [], []
        for _ in range(3):
            try:
                answers.append(reads.next()[1])
            except KeyError as error:
                errors.append(str(error))
    assert sorted(answers) == [1, 3] and errors == ["'two'"]


def test_closing_drops_the_queue_and_waits_for_reads_in_flight() -> None:
    inside, leave, done = threading.Event(), threading.Event(), []

    def work(job: int) -> int:
        inside.set()
        assert leave.wait(WAIT)
        done.append(job)
        return job

    reads = Reads(1, work, "t")
    for n in range(5):
        reads.push(n)
    assert inside.wait(WAIT)
    closer = threading.Thread(target=reads.close)
    closer.start()
    with reads._ready:  # close() empties the queue and wakes the threads under this lock
        assert reads._ready.wait_for(lambda: reads._closed, WAIT)
    leave.set()
    closer.join(WAIT)
    assert not closer.is_alive()
    assert done == [0]  # the read in flight ended; the queued ones were never sent
    assert not any(t.name.startswith("t-") for t in threading.enumerate())


@pytest.mark.parametrize("workers", [0, -1])
def test_no_thread_is_refused(workers: int) -> None:
    with pytest.raises(ValueError, match="workers"):
        Reads(workers, lambda job: job, "t")
