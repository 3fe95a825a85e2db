"""Faults inside batches: a lost batch answer is read back before any resend, one call's
error is that row's, a kill in the middle of a batch resumes and undoes exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from _support import ROOT
from _support.batching import Fresh, commits_per_video, retitle
from _support.reliability import last_seq, scaled_client

import dmtools as dm
from dmtools.bulk.journal import IN_DOUBT, Journal
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=400, seed=43) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def df(sb: Sandbox) -> pd.DataFrame:
    with connect_sandbox(sb) as client:
        return dm.load_videos(client, progress=False)


fresh = Fresh()


def run_faulted(sb: Sandbox, plan: Any, rule: dict[str, Any]) -> tuple[Any, int, int]:
    """Apply ``plan`` (one batch) with ``rule``; (result, first request seq, commits)."""
    with scaled_client(sb) as client:
        sb.set_faults(seed=1, rules=[rule])
        start, commits = last_seq(sb), len(sb.commits())
        try:
            result = plan.apply(client, progress=False)
        finally:
            sb.clear_faults()
    return result, start, commits


#: connection faults on the 4th call of a batch: (rule, do the calls before it land?)
LOST = {
    "reset-after": {"kind": "reset", "after_commit": True},
    "reset-before": {"kind": "reset", "after_commit": False},
    "truncated": {"kind": "truncate"},
}


@pytest.mark.parametrize("fault", list(LOST))
def test_a_lost_batch_answer_is_read_back_before_any_resend(sb, df, fault) -> None:
    ids = fresh(df, 10)
    plan = retitle(df, ids, f"Lost {fault}")
    fourth = plan.ops[3].video_id
    rule = {**LOST[fault], "methods": ["POST"], "path": f"^/video/{fourth}$", "at": [1]}
    result, start, commits = run_faulted(sb, plan, rule)
    table = result.to_frame()
    assert result.counts()["applied"] == 10, table
    written = commits_per_video(sb, commits)
    assert set(written) == set(ids) and max(written.values()) == 1  # 0 lost, 0 twice
    # the whole batch was read back (one request) before anything was sent again
    routes = [(r["method"], r["path"]) for r in sb.request_log(start)]
    # (a reset request may be logged after the read-back that follows it)
    assert routes[0] == ("GET", "/me/videos")
    assert sorted(routes[1:3]) == [("GET", "/me/videos"), ("POST", "/")]
    # a reset stops the batch at that call (which ran only after its commit): see
    # dmtools.sandbox.faults.calls; a truncated answer comes after every call ran
    landed = [
        op.video_id for op in plan.ops[: {"reset-before": 3, "reset-after": 4}.get(fault, 10)]
    ]
    assert (table.loc[landed, "attempts"] == 1).all()
    assert "confirmed by reading the video back" in table.loc[landed[0], "message"]
    resent = [v for v in ids if v not in landed]
    assert (table.loc[resent, "attempts"] == 2).all()
    # sent again each in a request of its own: in a batch again, each would run the risk of
    # the others' faults once more (dmtools.bulk._pipeline.alone)
    assert sorted(routes[3:]) == sorted(("POST", f"/video/{v}") for v in resent)


@pytest.mark.parametrize("committed", [True, False], ids=["500-after", "500-before"])
def test_a_500_on_one_call_reads_that_video_back(sb, df, committed) -> None:
    ids = fresh(df, 10)
    plan = retitle(df, ids, f"Call 500 {committed}")
    bad = plan.ops[6].video_id
    rule = {
        "kind": "status",
        "status": 500,
        "after_commit": committed,
        "methods": ["POST"],
        "path": f"^/video/{bad}$",
        "at": [1],
    }
    result, start, commits = run_faulted(sb, plan, rule)
    table = result.to_frame()
    assert result.counts()["applied"] == 10
    assert table.loc[bad, "attempts"] == (1 if committed else 2)
    assert (table.drop(index=bad)["attempts"] == 1).all()
    assert commits_per_video(sb, commits) == dict.fromkeys(ids, 1)
    routes = [(r["method"], r["path"]) for r in sb.request_log(start)]
    # one batch; the video in doubt read alone; resent alone only when it had not landed
    expected = [("GET", "/me/videos"), ("POST", "/"), ("GET", f"/video/{bad}")]
    assert routes == expected + ([] if committed else [("POST", f"/video/{bad}")])


def test_a_503_on_one_call_is_retried_like_a_single_call(sb, df) -> None:
    ids = fresh(df, 10)
    plan = retitle(df, ids, "Call 503")
    busy = plan.ops[2].video_id
    rule = {"kind": "status", "status": 503, "methods": ["POST"], "path": f"^/video/{busy}$"}
    rule["at"] = [1, 2]
    result, start, commits = run_faulted(sb, plan, rule)
    assert result.counts()["applied"] == 10
    assert set(result.to_frame()["attempts"]) == {1}  # not processed: not a resend
    assert commits_per_video(sb, commits) == dict.fromkeys(ids, 1)
    posts = [r["path"] for r in sb.request_log(start) if r["method"] == "POST"]
    assert posts == ["/", f"/video/{busy}", f"/video/{busy}"]


def test_an_expired_token_in_a_batch_is_renewed_and_the_batch_replayed(sb, df) -> None:
    ids = fresh(df, 10)
    plan = retitle(df, ids, "Renewed")
    with connect_sandbox(sb) as client:
        sb.expire_tokens()
        commits = len(sb.commits())
        result = plan.apply(client, progress=False)
    assert result.counts()["applied"] == 10
    assert commits_per_video(sb, commits) == dict.fromkeys(ids, 1)


# -- a kill in the middle of a batch ------------------------------------------------------------

KILLED = textwrap.dedent("""
    import json, os, signal, sys
    import dmtools as dm
    import dmtools.bulk._batch_edit as batched
    from dmtools.bulk import EditPlan

    cfg = json.loads(sys.argv[1])
    real, batches = batched.send_calls, []

    def send_then_die(client, calls, **options):
        batches.append(len(calls))
        if len(batches) == cfg["kill_at"] and not cfg["landed"]:
            os.kill(os.getpid(), signal.SIGKILL)  # the batch journaled "sending", not sent
        outcomes = real(client, calls, **options)
        if len(batches) == cfg["kill_at"]:
            os.kill(os.getpid(), signal.SIGKILL)  # the batch landed, its outcomes not journaled
        return outcomes

    batched.send_calls = send_then_die
    client = dm.connect("password", scope=["manage_videos"],
                        endpoints=dm.Endpoints.sandbox(cfg["url"]), **cfg["credentials"])
    EditPlan.load(cfg["plan"]).apply(client, journal=cfg["journal"], workers=1, progress=False)
""")


@pytest.mark.parametrize("landed", [True, False], ids=["batch landed", "batch never sent"])
def test_a_kill_in_the_middle_of_a_batch_resumes_and_undoes_exactly(
    sb, df, tmp_path, landed
) -> None:
    ids = fresh(df, 45)
    plan = retitle(df, ids, f"Killed {landed}")
    journal = tmp_path / "killed.journal"
    key, user = sb.credentials.public_key, sb.credentials.user
    cfg = {
        "url": sb.url,
        "credentials": {
            "client_id": key.client_id,
            "client_secret": key.client_secret,
            "username": user.username,
            "password": user.password,
        },
        "plan": str(plan.save(tmp_path / "p.plan.json")),
        "journal": str(journal),
        "kill_at": 3,
        "landed": landed,
    }
    commits = len(sb.commits())
    child = subprocess.run(
        [sys.executable, "-c", KILLED, json.dumps(cfg)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    with Journal.open(journal) as store:
        rows = store.rows()
    doubt = [r.video_id for r in rows if r.state in IN_DOUBT]
    assert len(doubt) == 10  # the third batch, each of its operations in doubt
    assert sum(r.state == "applied" for r in rows) == 20
    with connect_sandbox(sb) as client:
        start = last_seq(sb)
        result = dm.bulk.resume(journal, client, progress=False)
        assert result.counts()["applied"] == 45
        table = result.to_frame()
        assert (table.loc[doubt, "attempts"] == (1 if landed else 2)).all()
        # one read of the ten in doubt and the 15 not sent yet, then multi-calls of the 15
        # and, only if they had not landed, of the ten again
        routes = [(r["method"], r["path"]) for r in sb.request_log(start)]
        assert routes == [("GET", "/me/videos")] + [("POST", "/")] * (2 if landed else 3)
        assert commits_per_video(sb, commits) == dict.fromkeys(ids, 1)
        undo = dm.bulk.undo_plan(journal)
        assert len(undo) == 45
        assert undo.apply(client, progress=False).counts()["applied"] == 45
    assert [(sb.get_video(v) or {})["title"] for v in ids] == [df.loc[v, "title"] for v in ids]
