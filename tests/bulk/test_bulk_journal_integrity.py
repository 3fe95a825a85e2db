"""Resume and undo write only what the plan and the server said; undo after a kill is
complete; one process per job.

* A journal whose operation rows were edited (another video, another target value, another
  before-image, another state) is refused by resume, undo and apply with 0 requests.
* A plan file whose titles (or counts, or a delete plan's snapshot size) were edited is refused.
* After a killed apply, undo restores the videos whose write was in flight too (or leaves
  them alone when the write never landed): no video keeps the job's values.
* A second run of a job that is running gets one clear error, never an SQLite one.

Every test runs on both API dialects (``tests/_support/dialects.py``).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _support import ROOT
from _support.dialects import EDIT_METHOD, connect_options, load_channel, login

import dmtools as dm
from dmtools.bulk import (
    DeletePlan,
    EditPlan,
    JournalError,
    plan_deletes,
    plan_edits,
    resume,
    undo_plan,
)
from dmtools.errors import InputError
from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=200, seed=29) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox, dialect: str) -> Iterator[dm.Client]:
    """The tests below run on both API dialects."""
    with login(sb, dialect) as logged_in:
        yield logged_in


@pytest.fixture(scope="module")
def df(client: dm.Client) -> pd.DataFrame:
    return load_channel(client, progress=False)


@pytest.fixture(scope="module")
def pick(df: pd.DataFrame) -> Any:
    remaining = iter(list(df.index))
    return lambda n: [next(remaining) for _ in range(n)]


@pytest.fixture(autouse=True)
def runs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DMTOOLS_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))


def _seq(sb: Sandbox) -> int:
    log = sb.request_log()
    return log[-1]["seq"] if log else 0


def _retitle(df: pd.DataFrame, ids: list[str], text: str) -> EditPlan:
    edited = df.copy()
    for vid in ids:
        edited.loc[vid, "title"] = f"{text} {vid}"
    return plan_edits(df, edited)


def _sql(path: Path, statement: str, *args: Any) -> None:
    raw = sqlite3.connect(path)
    with raw:
        raw.execute(statement, args)
    raw.close()


def _half_applied(sb: Sandbox, client: dm.Client, df: pd.DataFrame, ids: list[str], path: Path):
    """Apply a plan of ``ids`` where the last two writes are refused (failed: resumable)."""
    plan = _retitle(df, ids, "Journaled")
    write = EDIT_METHOD[client.dialect.name]
    sb.set_faults(
        seed=1,
        rules=[
            {"kind": "status", "status": 400, "rate": 1.0, "methods": [write], "path": p}
            for p in (f"/videos?/{ids[-1]}$", f"/videos?/{ids[-2]}$")
        ],
    )
    try:
        result = plan.apply(client, journal=path, progress=False)
    finally:
        sb.clear_faults()
    assert result.counts()["applied"] == len(ids) - 2 and result.counts()["failed"] == 2
    return plan


# -- edited journals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column", ["video_id", "planned", "before", "state", "sent", "message", "attempts"]
)
def test_an_edited_journal_row_is_refused_by_resume_and_undo(
    sb, client, df, pick, tmp_path, column
) -> None:
    ids = pick(5)
    outsider = pick(1)[0]
    journal = tmp_path / "job.journal"
    plan = _half_applied(sb, client, df, ids, journal)
    failed, applied = ids[-1], ids[0]
    edits = {
        "video_id": ("UPDATE ops SET video_id = ? WHERE video_id = ?", outsider, failed),
        "planned": (
            "UPDATE ops SET planned = ? WHERE video_id = ?",
            json.dumps({"title": [df.loc[failed, "title"], "Not in the plan"]}),
            failed,
        ),
        "before": (
            "UPDATE ops SET before = ? WHERE video_id = ?",
            json.dumps({"title": "A value the server never had"}),
            applied,
        ),
        "state": ("UPDATE ops SET state = 'applied' WHERE video_id = ?", failed),
        "sent": (
            "UPDATE ops SET sent = ? WHERE video_id = ?",
            json.dumps({"title": "Something else"}),
            applied,
        ),
        "message": ("UPDATE ops SET message = 'all fine' WHERE video_id = ?", failed),
        "attempts": ("UPDATE ops SET attempts = 0 WHERE video_id = ?", applied),
    }
    _sql(journal, *edits[column])
    start = _seq(sb)
    with pytest.raises(JournalError, match="modified outside dmtools"):
        resume(journal, client, progress=False)
    with pytest.raises(JournalError, match="modified outside dmtools"):
        plan.apply(client, journal=journal, progress=False)
    with pytest.raises(JournalError, match="modified outside dmtools"):
        undo_plan(journal)
    assert sb.request_log(start) == []
    assert (sb.get_video(outsider) or {})["title"] == df.loc[outsider, "title"]
    assert (sb.get_video(applied) or {})["title"] == f"Journaled {applied}"


def test_a_row_copied_from_another_jobs_journal_is_refused(sb, client, df, pick, tmp_path):
    one, two = tmp_path / "one.journal", tmp_path / "two.journal"
    _half_applied(sb, client, df, pick(4), one)
    _half_applied(sb, client, df, pick(4), two)
    raw = sqlite3.connect(one)
    row = raw.execute("SELECT * FROM ops WHERE op_id = 1").fetchone()
    raw.close()
    raw = sqlite3.connect(two)
    with raw:
        marks = ",".join("?" * len(row))
        raw.execute(f"INSERT OR REPLACE INTO ops VALUES ({marks})", row)
    raw.close()
    start = _seq(sb)
    with pytest.raises(JournalError):
        undo_plan(two)
    with pytest.raises(JournalError):
        resume(two, client, progress=False)
    assert sb.request_log(start) == []


def test_an_edited_header_plan_is_refused(sb, client, df, pick, tmp_path) -> None:
    journal = tmp_path / "job.journal"
    _half_applied(sb, client, df, pick(4), journal)
    raw = sqlite3.connect(journal)
    plan = json.loads(raw.execute("SELECT value FROM header WHERE key = 'plan'").fetchone()[0])
    raw.close()
    plan["labels"] = {vid: "Another title" for vid in plan["labels"]}
    _sql(journal, "UPDATE header SET value = ? WHERE key = 'plan'", json.dumps(plan))
    start = _seq(sb)
    with pytest.raises(InputError):
        resume(journal, client, progress=False)
    with pytest.raises(InputError):
        undo_plan(journal)
    assert sb.request_log(start) == []


def test_an_untouched_journal_resumes_and_undoes(sb, client, df, pick, tmp_path) -> None:
    ids = pick(4)
    journal = tmp_path / "job.journal"
    _half_applied(sb, client, df, ids, journal)
    assert resume(journal, client, progress=False).counts()["applied"] == 4
    undone = undo_plan(journal).apply(client, journal=tmp_path / "undo.journal", progress=False)
    assert undone.counts()["applied"] == 4
    assert [(sb.get_video(v) or {})["title"] for v in ids] == [df.loc[v, "title"] for v in ids]


# -- edited plan files ---------------------------------------------------------------------------


def test_the_titles_shown_in_review_are_covered_by_the_fingerprint(df, tmp_path) -> None:
    plan = _retitle(df, list(df.index[:3]), "Reviewed")
    path = plan.save(tmp_path / "p.plan.json")
    data = json.loads(path.read_text())
    assert set(data["labels"]) == set(df.index[:3])
    for labels in (
        {**data["labels"], df.index[0]: "A title the reviewer never saw"},
        {k: v for k, v in data["labels"].items() if k != df.index[1]},  # a title removed
    ):
        path.write_text(json.dumps({**data, "labels": labels}))
        with pytest.raises(InputError, match="fingerprint"):
            EditPlan.load(path)


def test_a_delete_plans_titles_and_cap_are_covered_by_the_fingerprint(df, tmp_path) -> None:
    plan = plan_deletes(df.iloc[:3], snapshot=df)
    path = plan.save(tmp_path / "d.plan.json")
    data = json.loads(path.read_text())
    for key, value in (
        ("labels", {**data["labels"], df.index[0]: "Something harmless"}),
        ("snapshot_rows", 100_000),  # would lift the cap
    ):
        path.write_text(json.dumps({**data, key: value}))
        with pytest.raises(InputError, match="fingerprint"):
            DeletePlan.load(path)


# -- undo after a killed apply -------------------------------------------------------------------

KILLED = textwrap.dedent("""
    import json, os, signal, sys
    import dmtools as dm
    import dmtools.videos
    from dmtools.bulk import EditPlan

    cfg = json.loads(sys.argv[1])
    real, calls = dmtools.videos.update_video, []

    def update_then_die(*args, **kwargs):
        calls.append(1)
        if len(calls) == cfg["kill_at"] and not cfg["landed"]:
            os.kill(os.getpid(), signal.SIGKILL)  # "sending" recorded, nothing sent
        answer = real(*args, **kwargs)
        if len(calls) == cfg["kill_at"]:
            os.kill(os.getpid(), signal.SIGKILL)  # the write landed, its outcome not recorded
        return answer

    dmtools.videos.update_video = update_then_die
    client = dm.connect(endpoints=dm.Endpoints.sandbox(cfg["url"]), **cfg["credentials"])
    EditPlan.load(cfg["plan"]).apply(client, journal=cfg["journal"], workers=1, progress=False,
                                     batch=False)
""")


@pytest.mark.parametrize("landed", [True, False], ids=["write landed", "write never sent"])
def test_undo_after_a_killed_apply_restores_every_video(
    sb, client, dialect, df, pick, tmp_path, landed
) -> None:
    ids = sorted(pick(5))
    plan = _retitle(df, ids, "Killed")
    journal = tmp_path / "killed.journal"
    cfg = {
        "url": sb.url,
        "credentials": connect_options(sb, dialect),
        "plan": str(plan.save(tmp_path / "p.plan.json")),
        "journal": str(journal),
        "kill_at": 3,
        "landed": landed,
    }
    child = subprocess.run(
        [sys.executable, "-c", KILLED, json.dumps(cfg)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    titles = [(sb.get_video(v) or {})["title"] for v in ids]
    assert titles[:2] == [f"Killed {v}" for v in ids[:2]]
    assert titles[2] == (f"Killed {ids[2]}" if landed else df.loc[ids[2], "title"])
    undo = undo_plan(journal)
    result = undo.apply(client, journal=tmp_path / "undo.journal", progress=False)
    assert result.ok
    assert [(sb.get_video(v) or {})["title"] for v in ids] == [df.loc[v, "title"] for v in ids]
    counts = result.counts()
    assert (counts["applied"], counts["unchanged"]) == ((3, 0) if landed else (2, 1))


# -- one process per job -----------------------------------------------------------------------


def test_a_running_job_refuses_a_second_run_with_one_clear_error(sb, client, df, pick, tmp_path):
    from dmtools.bulk.journal import Journal

    plan = _retitle(df, pick(3), "Locked")
    journal = tmp_path / "job.journal"
    with Journal(journal, lock=True):  # as a run in another process holds it
        start = _seq(sb)
        with pytest.raises(JournalError, match="another process is running this job"):
            plan.apply(client, journal=journal, progress=False)
        with pytest.raises(JournalError, match="another process is running this job"):
            resume(journal, client, progress=False)
        assert sb.request_log(start) == []


RACER = textwrap.dedent("""
    import json, sys
    import dmtools as dm
    from dmtools.bulk import EditPlan

    cfg = json.loads(sys.argv[1])
    client = dm.connect(endpoints=dm.Endpoints.sandbox(cfg["url"]), **cfg["credentials"])
    client.account_id  # everything ready before the start line
    plan = EditPlan.load(cfg["plan"])
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        plan.apply(client, journal=cfg["journal"], progress=False)
    except Exception as exc:
        print(json.dumps({"type": type(exc).__name__, "message": str(exc)}), flush=True)
    else:
        print(json.dumps({"type": None}), flush=True)
""")


def test_applies_started_at_the_same_instant_never_meet_an_sqlite_error(
    sb, dialect, df, pick, tmp_path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outcomes: list[dict[str, Any]] = []
    for round_number in range(5):
        ids = pick(3)
        cfg = {
            "url": sb.url,
            "credentials": connect_options(sb, dialect),
            "plan": str(_retitle(df, ids, "Raced").save(tmp_path / f"p{round_number}.json")),
            "journal": str(tmp_path / f"race{round_number}.journal"),
        }
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, json.dumps(cfg)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for racer in racers:
            assert racer.stdout is not None and racer.stdout.readline().strip() == "ready"
        for racer in racers:  # the start line, to both at once
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        for racer in racers:
            out, _ = racer.communicate(timeout=120)
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
        titles = [(sb.get_video(v) or {})["title"] for v in ids]
        assert titles == [f"Raced {v}" for v in ids]
    for outcome in outcomes:
        if outcome["type"] is not None:
            assert outcome["type"] == "JournalError", outcome
            assert "another process is running this job" in outcome["message"], outcome


def test_a_finished_job_run_again_says_so_and_sends_nothing(sb, client, df, pick, tmp_path):
    plan = _retitle(df, pick(2), "Twice")
    journal = tmp_path / "twice.journal"
    first = plan.apply(client, journal=journal, progress=False)
    assert first.counts()["applied"] == 2 and not first.already_finished
    start = _seq(sb)
    second = plan.apply(client, journal=journal, progress=False)
    assert sb.request_log(start) == []
    assert second.already_finished and "already done" in repr(second)
    assert "nothing sent" in second._repr_html_()


FULL = textwrap.dedent("""
    import json, resource, signal, sys
    import dmtools as dm
    from dmtools.bulk import EditPlan

    cfg = json.loads(sys.argv[1])
    client = dm.connect(endpoints=dm.Endpoints.sandbox(cfg["url"]), **cfg["credentials"])
    plan = EditPlan.load(cfg["plan"])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        plan.apply(client, journal=cfg["journal"], progress=False)
    except Exception as exc:
        print(json.dumps({"type": type(exc).__name__, "message": str(exc)}))
""")


def test_a_journal_that_cannot_be_written_means_no_request(sb, dialect, df, pick, tmp_path) -> None:
    ids = pick(3)
    cfg = {
        "url": sb.url,
        "credentials": connect_options(sb, dialect),
        "plan": str(_retitle(df, ids, "Full").save(tmp_path / "p.json")),
        "journal": str(tmp_path / "full.journal"),
    }
    start = _seq(sb)
    child = subprocess.run(
        [sys.executable, "-c", FULL, json.dumps(cfg)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(child.stdout.strip().splitlines()[-1])
    assert outcome["type"] == "JournalError", child.stdout + child.stderr
    assert "cannot write the journal" in outcome["message"]
    assert [r for r in sb.request_log(start) if "/video" in r["path"]] == []
    assert [(sb.get_video(v) or {})["title"] for v in ids] == [df.loc[v, "title"] for v in ids]
