"""Batched deletes: multi-call DELETEs of 10, the backup on disk before the first one, the
guards unchanged, lost answers read back before any resend; API v2 without batches."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pandas as pd
import pytest
from _support.batching import Fresh, commits_per_video
from _support.reliability import last_seq

import dmtools as dm
from dmtools.bulk import plan_deletes, plan_edits
from dmtools.errors import InputError
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=300, seed=47) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def df(sb: Sandbox) -> pd.DataFrame:
    with connect_sandbox(sb) as client:
        return dm.load_videos(client, progress=False)


fresh = Fresh()


def deletions(sb: Sandbox, since: int) -> Counter[str]:
    return commits_per_video(sb, since, "delete")


def test_a_bulk_delete_sends_ten_deletes_per_request_after_the_backup(sb, df, tmp_path) -> None:
    ids = fresh(df, 25)
    sb.delete_video(ids[5])  # already gone: its call answers 404 inside the batch
    plan = plan_deletes(ids, snapshot=df)
    backup = tmp_path / "backup.json"
    with connect_sandbox(sb) as client:
        start, commits = last_seq(sb), len(sb.commits())
        result = plan.apply(client, confirm=25, export_path=backup, progress=False)
    table = result.to_frame()
    assert table.loc[ids[5], "op_status"] == "already_absent"
    assert result.counts()["deleted"] == 24
    routes = [(r["method"], r["path"]) for r in sb.request_log(start)]
    assert routes == [("POST", "/")] * 3
    first_delete = min(r["time"] for r in sb.request_log(start))
    assert backup.stat().st_mtime <= first_delete
    assert sorted(r["id"] for r in json.loads(backup.read_text())) == sorted(ids)
    assert deletions(sb, commits) == dict.fromkeys([v for v in ids if v != ids[5]], 1)
    assert all(sb.get_video(v) is None for v in ids)


def test_the_guards_hold_before_any_batch(sb, df, tmp_path) -> None:
    ids = fresh(df, 12)
    plan = plan_deletes(ids, snapshot=df)
    with connect_sandbox(sb) as client:
        start = last_seq(sb)
        assert plan.apply(client, progress=False).dry_run  # no confirm: a dry run
        with pytest.raises(InputError, match="exact number"):
            plan.apply(client, confirm=11, progress=False)
    assert sb.request_log(start) == []
    assert all(sb.get_video(v) is not None for v in ids)


@pytest.mark.parametrize("committed", [True, False], ids=["reset-after", "reset-before"])
def test_a_lost_delete_batch_is_read_back_before_any_resend(sb, df, tmp_path, committed) -> None:
    ids = fresh(df, 10)
    plan = plan_deletes(ids, snapshot=df)
    rule = {
        "kind": "reset",
        "after_commit": committed,
        "methods": ["DELETE"],
        "path": f"^/video/{plan.video_ids[6]}$",
        "at": [1],
    }
    with connect_sandbox(sb) as client:
        sb.set_faults(seed=1, rules=[rule])
        start, commits = last_seq(sb), len(sb.commits())
        try:
            result = plan.apply(client, confirm=10, export_path=tmp_path / "b.json", progress=False)
        finally:
            sb.clear_faults()
    table = result.to_frame()
    assert result.counts()["deleted"] == 10
    assert deletions(sb, commits) == dict.fromkeys(ids, 1)  # none deleted twice
    routes = [(r["method"], r["path"]) for r in sb.request_log(start)]
    # the batch's answer is lost: its videos are read back (one request) before a resend
    # (a reset request may be logged after the requests that follow it: counts and the
    # resend's place, which comes strictly after the read-back's answer)
    assert routes.count(("GET", "/me/videos")) == 1
    ran = 7 if committed else 6  # a reset stops the batch at that call
    gone, left = list(plan.video_ids[:ran]), list(plan.video_ids[ran:])
    assert (table.loc[gone, "attempts"] == 1).all() and (table.loc[left, "attempts"] == 2).all()
    # one batch, then each video left sent again in a request of its own, after the read-back
    assert routes.count(("POST", "/")) == 1
    resends = [r for r in routes if r[0] == "DELETE"]
    assert sorted(resends) == sorted(("DELETE", f"/video/{v}") for v in left)
    assert min(routes.index(r) for r in resends) > routes.index(("GET", "/me/videos"))
    # videos the ids read no longer returns are confirmed gone one by one
    assert sum(r[0] == "GET" and r[1].startswith("/video/") for r in routes) == ran


def test_api_v2_edits_without_batches_keep_every_guarantee(sb) -> None:
    with connect_sandbox(sb, api="v2") as client:
        frame = dm.load_videos(client, progress=False)
        ids = list(frame.index[:12])
        edited = frame.copy()
        edited.loc[ids, "title"] = [f"v2 pipelined {v}" for v in ids]
        plan = plan_edits(frame, edited)
        sb.edit_video(ids[3], title="Changed on v2 meanwhile")
        start, commits = last_seq(sb), len(sb.commits())
        result = plan.apply(client, progress=False)
    table = result.to_frame()
    assert table.loc[ids[3], "op_status"] == "conflict"
    assert result.counts()["applied"] == 11
    routes = Counter(
        (r["method"], "/v2/videos/*" if "/videos/" in r["path"] else r["path"])
        for r in sb.request_log(start)
    )
    # the account id (journal), then one GET (compare) per video and one PATCH per change
    assert routes == {
        ("GET", "/v2/me"): 1,
        ("GET", "/v2/videos/*"): 12,
        ("PATCH", "/v2/videos/*"): 11,
    }
    assert Counter(c["video_id"] for c in sb.commits()[commits:]) == {
        v: 1 for v in ids if v != ids[3]
    }
