"""The job journal: an SQLite WAL file that refuses other jobs and records every state."""

from __future__ import annotations

import sqlite3

import pytest

from dmtools.bulk.journal import Journal, JournalError

IDENTITY = {
    "kind": "edit",
    "fingerprint": "f" * 64,
    "account_id": "x1user",
    "api_base": "http://127.0.0.1:1",
}
OPS = [(1, "xa", "edit", {"title": ["a", "b"]}), (2, "xb", "edit", {"private": [False, True]})]


def started(path) -> Journal:
    journal = Journal(path)
    journal.start({**IDENTITY, "plan": {"ops": []}}, OPS)
    return journal


def test_a_new_journal_is_wal_with_every_operation_planned(tmp_path) -> None:
    path = tmp_path / "job.journal"
    with started(path) as journal:
        assert not journal.is_new
        assert [(r.op_id, r.video_id, r.state, r.planned) for r in journal.rows()] == [
            (1, "xa", "planned", {"title": ["a", "b"]}),
            (2, "xb", "planned", {"private": [False, True]}),
        ]
        assert journal.header()["fingerprint"] == "f" * 64
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_state_changes_are_committed_and_counted(tmp_path) -> None:
    path = tmp_path / "job.journal"
    with started(path) as journal:
        journal.mark(1, "sending", before={"title": "a"}, sent={"title": "b"}, attempt=True)
        journal.mark(2, "failed", http_status=400, error_type="ValidationError", message="bad")
    # a second connection (as after a crash) sees every committed change
    with Journal.open(path) as again:
        rows = {r.op_id: r for r in again.rows()}
        assert (rows[1].state, rows[1].before, rows[1].sent, rows[1].attempts) == (
            "sending",
            {"title": "a"},
            {"title": "b"},
            1,
        )
        assert (rows[2].state, rows[2].http_status, rows[2].error_type) == (
            "failed",
            400,
            "ValidationError",
        )
        assert again.counts() == {"sending": 1, "failed": 1}
        assert again.integrity_check() == "ok"


@pytest.mark.parametrize(
    "key, value",
    [
        ("fingerprint", "0" * 64),
        ("account_id", "x2other"),
        ("api_base", "https://api.dailymotion.com"),
        ("kind", "delete"),
    ],
)
def test_a_journal_refuses_another_job(tmp_path, key: str, value: str) -> None:
    with started(tmp_path / "job.journal") as journal:
        journal.check(IDENTITY)
        with pytest.raises(JournalError) as exc:
            journal.check({**IDENTITY, key: value})
        assert [p.column for p in exc.value.problems] == [key]


def test_only_one_process_at_a_time_runs_a_job(tmp_path) -> None:
    path = tmp_path / "job.journal"
    with started(path) as first, Journal(path) as second:
        first.lock()
        with pytest.raises(JournalError, match="another process"):
            second.lock()
        first.unlock()
        second.lock()


def test_opening_something_that_is_not_a_journal_is_refused(tmp_path) -> None:
    with pytest.raises(JournalError):
        Journal.open(tmp_path / "missing.journal")
    bogus = tmp_path / "bogus.journal"
    bogus.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(JournalError):
        Journal.open(bogus)
