"""R-05, retry budget and circuit breaker: a dead service costs at most 100 retries.

Every request for a video answers 503. The transport's retry budget (500 tokens, 5 per
retry, 1 back per success) allows 100 retries in all; once it is spent the next failure
opens the breaker: the job stops as "aborted: service unavailable", the operations already
tried are ``failed`` and every other one is ``not_attempted`` (still ``planned`` in the
journal, so running the job again picks it up). On both API dialects.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from _support.dialects import load_channel
from _support.reliability import last_seq, scaled_client

from dmtools.bulk import Journal, plan_edits
from dmtools.sandbox import Sandbox

N = 10_000
WORKERS = 4


@pytest.fixture(scope="module")
def sb(dialect: str) -> Iterator[Sandbox]:
    # N videos: the demo channel (legacy), an archive profile of N videos (v2)
    size = {"videos": N} if dialect == "legacy" else {"videos": 30, "archive_videos": N}
    with Sandbox(**size, seed=11, mode="process") as sandbox:
        yield sandbox


def test_a_dead_service_costs_at_most_100_retries_then_the_rest_is_not_attempted(
    sb, dialect, tmp_path
):
    # Test-mode waits, but a read timeout no busy machine reaches: every failure is a 503.
    with scaled_client(sb, read_timeout=30.0, dialect=dialect) as client:
        df = load_channel(client, progress=False)
        edited = df.copy()
        edited["title"] = [f"{t[:80]} · down" for t in df["title"]]
        plan = plan_edits(df, edited)
        assert len(plan) == N
        journal = tmp_path / "down.journal"
        videos = "^/video/" if dialect == "legacy" else "^/v2/videos/"
        sb.set_faults(seed=5, rules=[{"kind": "status", "status": 503, "path": videos}])
        start, commits = last_seq(sb), len(sb.commits())
        client.transport.reset_stats()  # count the retries of the job alone
        began = time.monotonic()
        try:
            result = plan.apply(
                client, journal=journal, workers=WORKERS, progress=False, batch=False
            )
        finally:
            elapsed = time.monotonic() - began
            sb.clear_faults()
        stats = client.transport.stats
    requests = [r for r in sb.request_log(start) if "/video" in r["path"]]  # not the account
    per_video = Counter(r["path"].rsplit("/", 1)[-1] for r in requests)
    table = result.to_frame()
    counts = result.counts()
    tried = set(per_video)

    # the breaker opened after the budget's 100 retries: first attempts + 100, nothing more
    assert stats["retries"] <= 100
    assert len(requests) == len(tried) + stats["retries"]
    assert all(r["status"] == 503 and r["method"] == "GET" for r in requests)
    assert len(sb.commits()) == commits

    # the run says why it ended, and counts every row exactly
    assert result.stopped is not None and result.stopped.startswith("service unavailable")
    assert "aborted: service unavailable" in repr(result)
    assert len(table) == N and sum(counts.values()) == N
    assert counts["failed"] == len(tried) and counts["not_attempted"] == N - len(tried)
    assert counts["not_attempted"] >= N - 200
    assert set(table.index[table["op_status"] == "failed"]) == tried
    untried = table[table["op_status"] == "not_attempted"]
    assert untried["message"].str.startswith("not attempted (service unavailable").all()
    assert (untried["attempts"] == 0).all() and untried["http_status"].isna().all()
    failed = table[table["op_status"] == "failed"]
    assert (failed["http_status"] == 503).all() and (failed["error_type"] == "ServerError").all()
    with Journal.open(journal) as store:
        assert store.counts() == {"failed": len(tried), "planned": N - len(tried)}
    print(
        f"\nR-05 breaker ({dialect}): {stats['retries']} retries, {len(requests)} requests, "
        f"{counts['failed']} failed, {counts['not_attempted']} not attempted, "
        f"{elapsed:.2f} s"
    )
