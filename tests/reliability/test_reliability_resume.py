"""R-03, kill and resume: a 1,000-operation job SIGKILLed at random times always finishes.

A child process runs the job (``plan.apply`` the first time, ``dm.bulk.resume`` on the
journal afterwards) and is killed with SIGKILL at a uniformly random time after it started
working; the next child resumes. The kill window of each run is drawn so the kills spread
over the job: ``uniform(0, 2 * remaining / (kills left + 1) / rate)``, with ``rate`` the
fastest progress seen so far (a low guess only makes the windows shorter). A final child
runs without a kill. A kill can land before the job is recorded in the journal (the next run
applies the plan again), and a run can finish before its kill time (then the remaining kills
go to a new job): either way every kill counts and every job is checked to the end.

After every kill: ``PRAGMA integrity_check`` is ``ok`` and at most ``WORKERS`` operations
are in doubt. The run after a kill sends nothing for operations already final, and reads
each operation left in doubt back exactly once before deciding about it. At the end every
operation is ``applied``, with exactly one commit per (video, field): 0 lost, 0 applied
twice. A journal is refused, with 0 requests, for another plan, account or API host.

The pull-request tier makes 20 kills on one job; the extended tier 200, on ten jobs. Every
test runs on both API dialects (the demo channel on the legacy API; the archive profile, as
big, on API v2).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _support import ROOT
from _support.dialects import EDIT_METHOD, connect_options, load_channel, login
from _support.reliability import extended, last_seq

import dmtools as dm
from dmtools.bulk import EditPlan, JournalError, plan_edits
from dmtools.bulk.journal import FINAL, IN_DOUBT, Journal
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

OPS = 1000
WORKERS = 4
LATENCY = 0.002  # per request: writes are in flight when a kill lands
CHILD = """
import json, sys
import dmtools as dm
import dmtools.frames  # pandas: imported before the kill window opens, not by the first read
from dmtools.bulk import EditPlan

cfg = json.loads(sys.argv[1])
client = dm.connect(endpoints=dm.Endpoints.sandbox(cfg["url"]), **cfg["login"])
print("start", flush=True)
if cfg["resume"]:
    result = dm.bulk.resume(cfg["journal"], client, workers=cfg["workers"], progress=False,
                            batch=False)
else:
    result = EditPlan.load(cfg["plan"]).apply(client, journal=cfg["journal"],
                                              workers=cfg["workers"], progress=False,
                                              batch=False)
print("finished", json.dumps(result.counts()), flush=True)
"""


def run_child(cfg: dict[str, Any], kill_after: float | None) -> tuple[bool, str]:
    """Run the job in a child; SIGKILL it ``kill_after`` seconds after it starts working.

    Returns (killed, last line printed).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(cfg)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "start"
        killed = False
        if kill_after is not None:
            try:
                child.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                killed = True
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if not killed:
        assert child.returncode == 0, err
    lines = out.strip().splitlines()
    return killed, lines[-1] if lines else ""


def connections(sb: Sandbox) -> dict[Any, Any]:
    """The connections the sandbox (in this process) holds open, with their threads."""
    server = sb._server.httpd
    with server._lock:
        return dict(server._open)


def answered_all(sb: Sandbox, before: dict[Any, Any]) -> None:
    """Wait until the sandbox has closed every connection opened since ``before`` (the
    child's), so every request the child sent is answered and logged: a request of a killed
    child can otherwise be served after the next child starts, and look like that child's."""
    for sock, thread in connections(sb).items():
        if sock not in before:
            thread.join(30.0)
            assert not thread.is_alive(), "a connection of the child stayed open"


def states(journal: Path) -> dict[str, str]:
    """Operation state per video id."""
    with Journal.open(journal) as store:
        return {row.video_id: row.state for row in store.rows()}


def has_job(journal: Path) -> bool:
    """The journal records a job (a kill can land before its first transaction)."""
    raw = sqlite3.connect(journal)
    try:
        return bool(
            raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'header'").fetchone()[0]
        ) and bool(raw.execute("SELECT count(*) FROM header").fetchone()[0])
    finally:
        raw.close()


def integrity(journal: Path) -> str:
    raw = sqlite3.connect(journal)
    try:
        return str(raw.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        raw.close()


#: Paths of single videos, on either dialect.
VIDEO_PATHS = ("/video/", "/v2/videos/")


@pytest.fixture(scope="module")
def sb(dialect: str) -> Iterator[Sandbox]:
    # OPS videos to edit: the demo channel (legacy), the archive profile (v2: 4/5 of videos)
    with Sandbox(videos=OPS if dialect == "legacy" else OPS * 5 // 4, seed=13) as sandbox:
        sandbox.set_faults(latency=LATENCY)
        yield sandbox


def make_plan(df: pd.DataFrame, run: int) -> EditPlan:
    edited = df.copy()
    edited["title"] = [f"{t[:80]} · resumed {run}" for t in df["title"]]
    edited["private"] = ~df["private"].astype(bool)
    plan = plan_edits(df, edited)
    assert len(plan) == OPS
    return plan


def one_job(
    sb: Sandbox, dialect: str, tmp_path: Path, job: int, kills: int, rng: random.Random
) -> dict[str, Any]:
    """One job, killed up to ``kills`` times, then run to the end; every R-03 check.

    A run that finishes before its kill time ends the job early (fewer kills landed).
    """
    with login(sb, dialect) as client:
        df = load_channel(client, progress=False)
    plan = make_plan(df, job)
    journal = tmp_path / f"job{job}.journal"
    cfg = {
        "url": sb.url,
        "login": connect_options(sb, dialect),
        "workers": WORKERS,
        "plan": str(plan.save(tmp_path / f"plan{job}.json")),
        "journal": str(journal),
        "resume": False,
    }
    commits_before = len(sb.commits())
    rate = 100.0  # operations per second; raised to the fastest progress seen
    landed, in_doubt_total, read_backs = 0, 0, 0
    previous: dict[str, str] = {}
    while True:
        remaining = OPS - sum(s in FINAL for s in previous.values())
        window = 2.0 * remaining / (kills - landed + 1) / rate
        delay = None if landed == kills else rng.uniform(0.0, window)
        spawned, before = time.time(), connections(sb)
        killed, last = run_child(cfg, delay)
        answered_all(sb, before)  # what the child sent is not counted for the next run
        if journal.exists():
            assert integrity(journal) == "ok"
        if not (journal.exists() and has_job(journal)):
            assert killed  # killed before the job was recorded: the next run applies the plan
            landed += 1
            continue
        cfg["resume"] = True
        now = states(journal)
        doubt = {v for v, s in now.items() if s in IN_DOUBT}
        assert len(doubt) <= WORKERS
        # this run sent nothing for what was final, and read each doubtful row back once
        sent = [
            r
            for r in sb.request_log()
            if r["time"] >= spawned and r["path"].startswith(VIDEO_PATHS)
        ]
        by_video: dict[str, list[str]] = {}
        for r in sorted(sent, key=lambda r: r["time"]):
            by_video.setdefault(r["path"].rsplit("/", 1)[-1], []).append(r["method"])
        assert not [v for v, s in previous.items() if s in FINAL and v in by_video]
        for vid in (v for v, s in previous.items() if s in IN_DOUBT):
            methods = by_video.get(vid, [])
            if not methods:  # killed before it got there
                assert now[vid] in IN_DOUBT
                continue
            write = EDIT_METHOD[dialect]
            reads = methods[: methods.index(write)] if write in methods else methods
            assert reads == ["GET"], methods
            read_backs += 1
        if not killed:
            assert last.startswith("finished"), last
            break
        landed += 1
        in_doubt_total += len(doubt)
        done = sum(s in FINAL for s in now.values()) - sum(s in FINAL for s in previous.values())
        if delay:
            rate = max(rate, done / delay)
        previous = now
    assert json.loads(last.split(" ", 1)[1])["applied"] == OPS

    with Journal.open(journal) as store:
        assert store.counts() == {"applied": OPS}
        assert store.integrity_check() == "ok"
    commits = sb.commits()[commits_before:]
    per_field = Counter((c["video_id"], name) for c in commits for name in c["fields"])
    assert len(per_field) == 2 * OPS and max(per_field.values()) == 1  # 0 double, 0 lost
    with login(sb, dialect) as client:
        now_df = load_channel(client, progress=False)
    for op in plan.ops:
        assert {
            f: dm.frames.canonical(f, now_df.at[op.video_id, f]) for f in op.fields
        } == op.target
    return {
        "kills": landed,
        "in_doubt_at_kills": in_doubt_total,
        "read_backs": read_backs,
        "journal": journal,
        "plan": plan,
    }


def kill_and_resume(
    sb: Sandbox, dialect: str, tmp_path: Path, *, first_job: int, kills: int, rng: random.Random
) -> dict[str, Any]:
    """Jobs killed ``kills`` times in all (one job unless one finishes early); the figures."""
    totals: dict[str, Any] = {"kills": 0, "in_doubt_at_kills": 0, "read_backs": 0, "jobs": 0}
    job = first_job
    while totals["kills"] < kills:
        figures = one_job(sb, dialect, tmp_path, job, kills - totals["kills"], rng)
        for key in ("kills", "in_doubt_at_kills", "read_backs"):
            totals[key] += figures[key]
        totals.update(jobs=totals["jobs"] + 1, journal=figures["journal"], plan=figures["plan"])
        job += 1
    assert totals["kills"] == kills
    assert totals["in_doubt_at_kills"] > 0  # kills did land between a send and its outcome
    return totals


def test_a_job_killed_20_times_resumes_to_completion_without_loss_or_double_apply(
    sb, dialect, tmp_path
):
    began = time.monotonic()
    rng = random.Random(20240601)
    figures = kill_and_resume(sb, dialect, tmp_path, first_job=1, kills=20, rng=rng)
    print(
        f"\nR-03 ({dialect}): {figures['kills']} kills over {figures['jobs']} job(s), "
        f"{figures['in_doubt_at_kills']} rows in doubt at kills, {figures['read_backs']} "
        f"read-backs, {time.monotonic() - began:.1f} s"
    )
    refusals(sb, dialect, figures["journal"], figures["plan"], tmp_path)


def refusals(sb: Sandbox, dialect: str, journal: Path, plan: EditPlan, tmp_path: Path) -> None:
    """The finished journal refuses another plan, account or API host, with 0 requests."""
    with login(sb, dialect) as client:
        df = load_channel(client, progress=False).iloc[:5]
        other_plan = plan_edits(df, df.assign(title=[f"{t[:80]} · other" for t in df.title]))
        start = last_seq(sb)
        with pytest.raises(JournalError, match="plan"):
            other_plan.apply(client, journal=journal, progress=False)
        assert sb.request_log(start) == []
    # another account (the organisation, or the demo user) and host
    other = "legacy" if dialect == "v2" else None
    with connect_sandbox(
        sb, grant=None if other else "client_credentials", api=other or "legacy"
    ) as partner:
        start = last_seq(sb)
        with pytest.raises(JournalError, match="belongs to another job"):
            dm.bulk.resume(journal, partner, progress=False)
        assert sb.request_log(start) == []
    size = OPS if dialect == "legacy" else OPS * 5 // 4
    with Sandbox(videos=size, seed=13) as twin:  # same account and data, another base URL
        with login(twin, dialect) as client, login(sb, dialect) as original:
            assert client.account_id == original.account_id
            start = last_seq(twin)
            with pytest.raises(JournalError, match="API host"):
                dm.bulk.resume(journal, client, progress=False)
            assert twin.request_log(start) == []
    with Journal.open(journal) as store:  # and the refusals left the journal alone
        assert store.counts() == {"applied": OPS}


def test_resuming_a_journal_whose_job_never_began_says_to_apply_the_plan_again(
    sb, dialect, tmp_path
):
    journal = tmp_path / "empty.journal"
    Journal(journal).close()  # what a kill before the first transaction leaves
    with login(sb, dialect) as client:
        start = last_seq(sb)
        with pytest.raises(JournalError, match="apply the plan again"):
            dm.bulk.resume(journal, client, progress=False)
        assert sb.request_log(start) == []


def test_a_journal_of_another_account_is_refused_before_any_request(sb, tmp_path):
    other = next(name for name in sb.credentials.users if name != sb.credentials.user.username)
    key = sb.credentials.public_key
    with connect_sandbox(sb) as client:
        df = dm.load_videos(client, progress=False).iloc[:3]
    plan = plan_edits(df, df.assign(title=[f"{t[:80]} · mine" for t in df.title]))
    journal = tmp_path / "mine.journal"
    with connect_sandbox(sb) as client:
        assert plan.apply(client, journal=journal, progress=False).counts()["applied"] == 3
    with dm.connect(
        "password",
        client_id=key.client_id,
        client_secret=key.client_secret,
        username=other,
        password=sb.credentials.users[other],
        scope=["manage_videos"],
        endpoints=sb.endpoints,
    ) as stranger:
        start = last_seq(sb)
        with pytest.raises(JournalError, match="account"):
            dm.bulk.resume(journal, stranger, progress=False)
        assert sb.request_log(start) == []


@extended
@pytest.mark.timeout(1800)
def test_200_kills_over_ten_jobs_all_resume_to_completion(sb, dialect, tmp_path):
    rng = random.Random(7)
    kills = 0
    for job in range(100, 1100, 100):  # ten jobs of 20 kills each (more if one ends early)
        kills += kill_and_resume(sb, dialect, tmp_path, first_job=job, kills=20, rng=rng)["kills"]
    assert kills == 200
