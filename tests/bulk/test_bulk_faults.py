"""Edits under injected faults: nothing lost, nothing applied twice, every row reported, on
both API dialects.

The transport runs in test mode (:func:`_support.reliability.scaled_client`): every wait goes
through a sleep scaled by 0.01, so the backoff is 5 ms..200 ms and a ``Retry-After: 1`` costs
10 ms. On the legacy API the client edits the demo channel with ``POST /video/<id>``, batched
by default (multi-call: the sandbox's fault rules then apply to each call of a batch); on API
v2 it edits the private key's archive profile with ``PATCH /v2/videos/<id>``, one request per
video (v2 has no multi-call), and the fault rules name those.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from _support.dialects import EDIT_METHOD, VIDEO_PATH, load_channel
from _support.reliability import last_seq, scaled_client, soak_edits

import dmtools as dm
from dmtools.bulk import plan_edits
from dmtools.sandbox import Sandbox

#: The fault rules' path of every video, by dialect.
VIDEOS = {"legacy": "^/video/", "v2": "^/v2/videos/"}


def fast_client(sb: Sandbox, dialect: str) -> dm.Client:
    """A client of ``dialect`` whose waits (backoff, Retry-After) are scaled down for tests."""
    return scaled_client(sb, read_timeout=5.0, dialect=dialect)


def writes_to(dialect: str, vid: str) -> dict[str, Any]:
    """The part of a fault rule that picks the edits of one video."""
    return {"methods": [EDIT_METHOD[dialect]], "path": f"^{VIDEO_PATH[dialect].format(vid)}$"}


def sized(videos: int, dialect: str) -> dict[str, int]:
    """Sandbox options giving the channel a test edits ``videos`` videos."""
    return {"videos": videos} if dialect == "legacy" else {"videos": 30, "archive_videos": videos}


# -- the ambiguous-outcome protocol, one fault at a time ----------------------------------


@pytest.fixture(scope="module")
def small(dialect: str) -> Iterator[Sandbox]:
    with Sandbox(**sized(60, dialect), seed=21) as sb:
        yield sb


AMBIGUOUS = [
    # fault rule (on the first POST to the video)        POSTs sent  commits
    ({"kind": "reset", "after_commit": True}, 1),
    ({"kind": "reset", "after_commit": False}, 2),
    ({"kind": "status", "status": 500, "after_commit": True}, 1),
    ({"kind": "status", "status": 502, "html": True, "after_commit": False}, 2),
    ({"kind": "status", "status": 504, "after_commit": True}, 1),
    ({"kind": "truncate"}, 1),
]


@pytest.mark.parametrize(
    "rule, posts",
    AMBIGUOUS,
    ids=["reset-after", "reset-before", "500-after", "502-before", "504-after", "truncated"],
)
def test_an_ambiguous_write_is_read_back_once_and_never_applied_twice(small, dialect, rule, posts):
    with fast_client(small, dialect) as client:
        df = load_channel(client, progress=False)
        vid = str(df.index[AMBIGUOUS.index((rule, posts))])
        edited = df.copy()
        edited.loc[vid, "title"] = "Resolved by reading back"
        plan = plan_edits(df, edited)
        small.set_faults(seed=2, rules=[{**rule, **writes_to(dialect, vid), "at": [1]}])
        start = last_seq(small)
        commits = len(small.commits())
        try:
            result = plan.apply(client, progress=False)
        finally:
            small.clear_faults()
    row = result.to_frame().loc[vid]
    assert row["op_status"] == "applied" and row["attempts"] == posts
    path = VIDEO_PATH[dialect].format(vid)
    requests = [r for r in small.request_log(start) if r["path"] == path]
    write = EDIT_METHOD[dialect]
    assert Counter(r["method"] for r in requests) == {"GET": 2, write: posts}  # 1 read-back
    assert [c["video_id"] for c in small.commits()[commits:]] == [vid]
    assert small.get_video(vid)["title"] == "Resolved by reading back"


# -- the soak: 2,000 edits under a seeded mix of faults ------------------------------------


@pytest.fixture(scope="module")
def big(dialect: str) -> Iterator[Sandbox]:
    with Sandbox(**sized(2000, dialect), seed=8, mode="process") as sb:
        yield sb


def soak_rules(dialect: str) -> list[dict[str, Any]]:
    """Resets before and after the commit on 1 % of the edits each; 503 on 5 % and 429 on 2 %
    of every request for a video (with ``Retry-After: 1``)."""
    videos, write = VIDEOS[dialect], [EDIT_METHOD[dialect]]
    resets = [
        {"kind": "reset", "after_commit": after, "rate": 0.01, "methods": write, "name": name}
        for after, name in [(True, "reset-after-commit"), (False, "reset-before")]
    ]
    refusals = [
        {"kind": "status", "status": status, "rate": rate, "retry_after": 1, "name": str(status)}
        for status, rate in [(503, 0.05), (429, 0.02)]
    ]
    return [{**rule, "path": videos} for rule in resets + refusals]


def test_two_thousand_edits_under_faults_lose_nothing_and_apply_nothing_twice(big, dialect) -> None:
    with fast_client(big, dialect) as client:
        df = load_channel(client, progress=False)
        assert len(df) == 2000
        # 70 % title/description, 20 % tags, 10 % privacy, one per video
        plan = plan_edits(df, soak_edits(df, publish=False))
        assert len(plan) == 2000
        big.set_faults(seed=7, rules=soak_rules(dialect))
        start = last_seq(big)
        commits_before = len(big.commits())
        began = time.monotonic()
        try:
            result = plan.apply(client, workers=8, progress=False)
        finally:
            big.clear_faults()
        elapsed = time.monotonic() - began
        sent = len(big.request_log(start))
    faults = Counter(f.get("name") for f in big.fault_log())
    assert faults["reset-after-commit"] >= 5 and faults["reset-before"] >= 5
    assert faults["503"] >= 50 and faults["429"] >= 20

    table = result.to_frame()
    assert len(table) == 2000 and table["op_id"].is_unique  # every row reported
    counts = result.counts()
    assert counts["applied"] >= 1998 and counts["applied"] + counts["failed"] == 2000
    failed = table[table["op_status"] == "failed"]
    assert (failed["message"].str.len() > 0).all() and failed["error_type"].notna().all()

    commits = big.commits()[commits_before:]
    per_field = Counter((c["video_id"], name) for c in commits for name in c["fields"])
    assert max(per_field.values()) == 1  # 0 applied twice
    with fast_client(big, dialect) as reader:
        now = load_channel(reader, progress=False)
    lost = [
        op.video_id
        for op in plan.ops
        if table.loc[op.video_id, "op_status"] == "applied"
        and {f: dm.frames.canonical(f, now.at[op.video_id, f]) for f in op.fields} != op.target
    ]
    assert lost == []  # 0 lost
    # retries and read-backs: beyond what the edits cost without faults (a read and a write
    # per video on v2; batched reads of 100 and multi-calls of 10 on the legacy API)
    api = client.dialect
    extra = sent - math.ceil(2000 / api.batch_read_size) - math.ceil(2000 / api.batch_call_size)
    print(
        f"\nsoak ({dialect}): {counts['applied']} applied, {counts['failed']} failed, {extra} extra "
        f"requests ({extra / 2000:.1%} of N), {elapsed:.1f} s; faults {dict(faults)}"
    )
    assert extra <= 0.25 * 2000


def test_a_write_interrupted_every_time_fails_after_three_sends_without_a_commit(small, dialect):
    with fast_client(small, dialect) as client:
        df = load_channel(client, progress=False)
        vid = str(df.index[-1])
        edited = df.copy()
        edited.loc[vid, "title"] = "Never arrives"
        rule = {"kind": "reset", "after_commit": False, **writes_to(dialect, vid)}
        small.set_faults(seed=3, rules=[rule])
        start = last_seq(small)
        commits = len(small.commits())
        try:
            result = plan_edits(df, edited).apply(client, progress=False)
        finally:
            small.clear_faults()
    row = result.to_frame().loc[vid]
    assert (row["op_status"], row["error_type"], row["attempts"]) == ("failed", "Interrupted", 3)
    assert "still holds the old values" in row["message"]
    assert len(small.commits()) == commits
    path = VIDEO_PATH[dialect].format(vid)
    sent = [r["method"] for r in small.request_log(start) if r["path"] == path]
    assert Counter(sent)[EDIT_METHOD[dialect]] == 3


def test_a_dead_service_opens_the_breaker_and_leaves_the_rest_not_attempted(small, dialect):
    with fast_client(small, dialect) as client:
        df = load_channel(client, progress=False)
        edited = df.copy()
        edited["title"] = [f"{t[:80]} · down" for t in df["title"]]
        plan = plan_edits(df, edited)
        small.set_faults(seed=4, rules=[{"kind": "status", "status": 503, "path": VIDEOS[dialect]}])
        start = last_seq(small)
        try:
            result = plan.apply(client, workers=4, progress=False, batch=False)
        finally:
            small.clear_faults()
    counts = result.counts()
    assert result.stopped is not None and result.stopped.startswith("service unavailable")
    assert counts["failed"] + counts["not_attempted"] == len(plan) == 60
    assert counts["not_attempted"] >= 30  # 100 retries = 25 operations
    assert len(small.request_log(start)) <= 150  # ~100 retries allowed by the budget
