"""Batched bulk edits: ``ids`` reads of 100, multi-call writes of 10, per-call results, the
fallback to single calls when a server refuses multi-call, conflicts inside a batch."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import pandas as pd
import pytest
from _support.batching import Fresh, retitle
from _support.reliability import last_seq

import dmtools as dm
from dmtools._batch import multicall_refused
from dmtools.dialects import get_dialect
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=700, seed=41) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def df(sb: Sandbox) -> pd.DataFrame:
    with connect_sandbox(sb) as client:
        return dm.load_videos(client, progress=False)


fresh = Fresh()


def requests_by_route(sb: Sandbox, since: int) -> Counter[str]:
    """Requests since ``since`` by ``METHOD path``, video paths as ``/video/*``."""
    routes: Counter[str] = Counter()
    for r in sb.request_log(since):
        path = "/video/*" if r["path"].startswith("/video/") else r["path"]
        routes[f"{r['method']} {path}"] += 1
    return routes


def field_commits(sb: Sandbox, since: int) -> Counter[tuple[str, str]]:
    return Counter((c["video_id"], f) for c in sb.commits()[since:] for f in c["fields"])


def test_the_legacy_dialect_offers_batches_and_v2_does_not() -> None:
    legacy, v2 = get_dialect("legacy"), get_dialect("v2")
    assert (legacy.batch_read_size, legacy.batch_call_size) == (100, 10)
    assert (v2.batch_read_size, v2.batch_call_size) == (1, 1)


def test_a_bulk_edit_reads_100_and_writes_10_videos_per_request(sb, df) -> None:
    ids = fresh(df, 250)
    plan = retitle(df, ids, "Batched")
    with connect_sandbox(sb) as client:
        start, commits = last_seq(sb), len(sb.commits())
        result = plan.apply(client, progress=False)
    assert result.counts()["applied"] == 250 and result.ok
    assert set(result.to_frame()["attempts"]) == {1}
    assert set(result.to_frame()["http_status"]) == {200}
    routes = requests_by_route(sb, start)
    # ids reads of 100, multi-calls of 10, nothing else
    assert routes == {"GET /me/videos": math.ceil(250 / 100), "POST /": 25}
    assert field_commits(sb, commits) == {(vid, "title"): 1 for vid in ids}
    assert all((sb.get_video(v) or {})["title"] == f"Batched {v}" for v in ids[::37])


def test_batch_false_sends_one_request_per_read_and_per_write(sb, df) -> None:
    ids = fresh(df, 12)
    plan = retitle(df, ids, "Single")
    with connect_sandbox(sb) as client:
        start = last_seq(sb)
        result = plan.apply(client, progress=False, batch=False)
    assert result.counts()["applied"] == 12
    assert requests_by_route(sb, start) == {"GET /video/*": 12, "POST /video/*": 12}


def test_a_refused_multi_call_falls_back_to_single_calls_once_per_client(sb, df) -> None:
    first, second = fresh(df, 30), fresh(df, 15)
    sb.settings(multicall=False)
    try:
        with connect_sandbox(sb) as client:
            assert not multicall_refused(client)
            start, commits = last_seq(sb), len(sb.commits())
            result = retitle(df, first, "Fallback").apply(client, workers=1, progress=False)
            assert multicall_refused(client)
            later = last_seq(sb)
            again = retitle(df, second, "Remembered").apply(client, progress=False)
    finally:
        sb.settings(multicall=True)
    assert result.counts()["applied"] == 30 and again.counts()["applied"] == 15
    refused = [r for r in sb.request_log(start) if r["path"] == "/"]
    assert [r["status"] for r in refused] == [404]  # asked once, then remembered
    assert requests_by_route(sb, later) == {"GET /me/videos": 1, "POST /video/*": 15}
    assert field_commits(sb, commits) == {(vid, "title"): 1 for vid in first + second}


def test_a_new_client_asks_again(sb, df) -> None:
    ids = fresh(df, 10)
    with connect_sandbox(sb) as client:
        assert not multicall_refused(client)
        start = last_seq(sb)
        assert retitle(df, ids, "Asked").apply(client, progress=False).counts()["applied"] == 10
    assert requests_by_route(sb, start)["POST /"] == 1


def test_a_failed_call_inside_a_batch_fails_its_row_only(sb, df) -> None:
    ids = fresh(df, 10)
    bad = ids[4]
    plan = retitle(df, ids, "One refused")
    with connect_sandbox(sb) as client:
        sb.set_faults(
            seed=1,
            rules=[
                {
                    "kind": "status",
                    "status": 400,
                    "type": "invalid_parameter",
                    "message": "refused for the test",
                    "methods": ["POST"],
                    "path": f"^/video/{bad}$",
                }
            ],
        )
        start, commits = last_seq(sb), len(sb.commits())
        try:
            result = plan.apply(client, progress=False)
        finally:
            sb.clear_faults()
    table = result.to_frame()
    assert table.loc[bad, "op_status"] == "failed" and table.loc[bad, "http_status"] == 400
    assert "refused for the test" in table.loc[bad, "message"]
    others = [v for v in ids if v != bad]
    assert table.loc[others, "op_status"].tolist() == ["applied"] * 9
    assert requests_by_route(sb, start)["POST /"] == 1  # one multi-call carried all ten
    assert field_commits(sb, commits) == {(vid, "title"): 1 for vid in others}
    fault = sb.fault_log()[-1]  # injected on that call inside the multi-call
    assert (fault["path"], fault["status"], 0 <= fault["call"] < 10) == (f"/video/{bad}", 400, True)


def test_conflicts_inside_a_batch_are_reported_and_not_written(sb, df) -> None:
    ids = fresh(df, 20)
    plan = retitle(df, ids, "Planned")
    changed = {ids[3]: "Edited on the website", ids[15]: "Edited elsewhere too"}
    for vid, title in changed.items():
        sb.edit_video(vid, title=title)
    sb.edit_video(ids[7], title=f"Planned {ids[7]}")  # someone already did this one
    with connect_sandbox(sb) as client:
        commits = len(sb.commits())
        result = plan.apply(client, progress=False)
    table = result.to_frame()
    assert table.loc[list(changed), "op_status"].tolist() == ["conflict", "conflict"]
    assert "Edited on the website" in table.loc[ids[3], "message"]
    assert table.loc[ids[7], "op_status"] == "unchanged"
    written = [v for v in ids if v not in changed and v != ids[7]]
    assert table.loc[written, "op_status"].tolist() == ["applied"] * 17
    assert field_commits(sb, commits) == {(vid, "title"): 1 for vid in written}
    for vid, title in changed.items():
        assert (sb.get_video(vid) or {})["title"] == title


def test_override_conflicts_writes_inside_a_batch_too(sb, df) -> None:
    ids = fresh(df, 5)
    plan = retitle(df, ids, "Forced")
    sb.edit_video(ids[0], title="Someone else")
    with connect_sandbox(sb) as client:
        result = plan.apply(client, progress=False, override_conflicts=True)
    assert result.counts()["applied"] == 5
    assert (sb.get_video(ids[0]) or {})["title"] == f"Forced {ids[0]}"


def test_a_video_gone_since_the_plan_fails_its_row_only(sb, df) -> None:
    ids = fresh(df, 12)
    plan = retitle(df, ids, "Some gone")
    sb.delete_video(ids[2])
    with connect_sandbox(sb) as client:
        start = last_seq(sb)
        result = plan.apply(client, progress=False)
    table = result.to_frame()
    assert table.loc[ids[2], "op_status"] == "failed" and table.loc[ids[2], "http_status"] == 404
    assert result.counts()["applied"] == 11
    # the batched read did not return it: its own GET confirmed the 404
    assert requests_by_route(sb, start)["GET /video/*"] == 1


def test_undo_of_a_batched_job_restores_every_video(sb, df, tmp_path) -> None:
    ids = fresh(df, 35)
    plan = retitle(df, ids, "To undo")
    journal = tmp_path / "batched.journal"
    with connect_sandbox(sb) as client:
        assert plan.apply(client, journal=journal, progress=False).counts()["applied"] == 35
        undo = dm.bulk.undo_plan(journal)
        start = last_seq(sb)
        result = undo.apply(client, journal=tmp_path / "undo.journal", progress=False)
    assert result.counts()["applied"] == 35
    assert requests_by_route(sb, start) == {"GET /me/videos": 1, "POST /": 4}
    assert [(sb.get_video(v) or {})["title"] for v in ids] == [df.loc[v, "title"] for v in ids]


def test_progress_moves_by_whole_batches(sb, df) -> None:
    ids = fresh(df, 23)
    seen: list[tuple[int, int]] = []
    with connect_sandbox(sb) as client:
        retitle(df, ids, "Progress").apply(client, progress=lambda d, t: seen.append((d, t)))
    done = [d for d, _ in seen]  # one call per batch of 10, 10 and 3, in any order
    steps = sorted(b - a for a, b in zip([0, *done], done, strict=False))
    assert steps == [3, 10, 10] and {t for _, t in seen} == {23} and done[-1] == 23
