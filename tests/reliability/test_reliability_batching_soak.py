"""R-01 with batches: the fault-matrix soak when edits travel as multi-calls of 10.

The matrix of ``test_reliability_soak`` (the checklist's table) applies to every write call,
inside the multi-call requests that carry them (``dmtools.sandbox.faults.calls``): a status
fault answers that call only; a reset, hold or truncation loses the whole batch's answer (a
reset also stops the batch at that call), so that every operation of the batch is in doubt
and read back before anything is sent again. Pass: 0 lost, 0 applied twice (one commit per
video and field: a blind resend of a write that had landed would commit twice), nothing else
written, one terminal row per operation, at most 2 failures, every fault kind met, and far
fewer requests than operations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from _support.reliability import scaled_client, soak_edits
from test_reliability_soak import MATRIX, matrix_rules

import dmtools as dm
from dmtools.bulk import plan_edits
from dmtools.sandbox import Sandbox

N = 2_000


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    with Sandbox(videos=N, seed=9, mode="process") as sb:
        yield sb


def test_batched_edits_under_the_fault_matrix_lose_nothing_and_apply_nothing_twice(big):
    with scaled_client(big) as client:
        df = dm.load_videos(client, progress=False)
        plan = plan_edits(df, soak_edits(df))
        assert len(plan) == N
        big.set_faults(seed=11, rules=matrix_rules())
        big.clear_logs()
        try:
            result = plan.apply(client, progress=False)
        finally:
            big.clear_faults()
        requests, faults, commits = big.request_log(), big.fault_log(), big.commits()
        now = dm.load_videos(client, progress=False)

    table = result.to_frame()
    counts = result.counts()
    assert len(table) == N and table["op_id"].is_unique
    assert counts["applied"] + counts["failed"] == N, counts
    assert counts["failed"] <= 2, table[table["op_status"] == "failed"]

    lost = [
        op.video_id
        for op in plan.ops
        if table.at[op.video_id, "op_status"] == "applied"
        and {f: dm.frames.canonical(f, now.at[op.video_id, f]) for f in op.fields} != op.target
    ]
    assert lost == []
    per_field = Counter((c["video_id"], name) for c in commits for name in c["fields"])
    assert max(per_field.values()) == 1
    applied = {
        (op.video_id, f)
        for op in plan.ops
        for f in op.fields
        if table.at[op.video_id, "op_status"] == "applied"
    }
    assert set(per_field) == applied

    fired = Counter(f.get("name") for f in faults)
    assert set(fired) == {name for name, _, _ in MATRIX}, fired
    # most met a call inside a multi-call (a resend of one operation goes alone)
    assert sum("call" in f for f in faults) > 0.8 * len(faults)
    ambiguous = sum(fired[k] for k in ("reset-before", "reset-after", "hold", "truncate"))
    assert (table["attempts"] > 1).sum() > 0 and ambiguous > 0
    batches = sum(1 for r in requests if r["path"] == "/")
    print(f"\nR-01 batched soak: {len(requests)} requests, {batches} multi-calls, {dict(fired)}")
    assert len(requests) < 0.3 * N  # vs 2 per edit unbatched
