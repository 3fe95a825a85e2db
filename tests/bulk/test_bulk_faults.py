"""Edits under injected faults: nothing lost, nothing applied twice, every row reported.

The transport runs in test mode: every wait goes through a sleep scaled by 0.01, so the
backoff is 5 ms..200 ms and a ``Retry-After: 1`` costs 10 ms.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pandas as pd
import pytest
from _support.sandbox import demo_manager

import dmtools as dm
from dmtools.bulk import plan_edits
from dmtools.sandbox import Sandbox

SCALE = 0.01


def fast_client(sb: Sandbox) -> dm.Client:
    """A client whose waits (backoff, Retry-After) are scaled down for tests."""
    return dm.Client(demo_manager(sb), timeout=(2.0, 5.0), sleep=lambda s: time.sleep(s * SCALE))


# -- the ambiguous-outcome protocol, one fault at a time ----------------------------------


@pytest.fixture(scope="module")
def small() -> Iterator[Sandbox]:
    with Sandbox(videos=60, seed=21) as sb:
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
def test_an_ambiguous_write_is_read_back_once_and_never_applied_twice(small, rule, posts):
    with fast_client(small) as client:
        df = dm.load_videos(client, progress=False)
        vid = df.index[AMBIGUOUS.index((rule, posts))]
        edited = df.copy()
        edited.loc[vid, "title"] = "Resolved by reading back"
        plan = plan_edits(df, edited)
        small.set_faults(
            seed=2, rules=[{**rule, "methods": ["POST"], "at": [1], "path": f"^/video/{vid}$"}]
        )
        start = small.request_log()[-1]["seq"]
        commits = len(small.commits())
        try:
            result = plan.apply(client, progress=False)
        finally:
            small.clear_faults()
    row = result.to_frame().loc[vid]
    assert row["op_status"] == "applied" and row["attempts"] == posts
    requests = [r for r in small.request_log(start) if r["path"] == f"/video/{vid}"]
    assert Counter(r["method"] for r in requests) == {"GET": 2, "POST": posts}  # 1 read-back
    assert [c["video_id"] for c in small.commits()[commits:]] == [vid]
    assert small.get_video(vid)["title"] == "Resolved by reading back"


# -- the soak: 2,000 edits under a seeded mix of faults ------------------------------------


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    with Sandbox(videos=2000, seed=8, mode="process") as sb:
        yield sb


def mixed_edits(df: pd.DataFrame) -> pd.DataFrame:
    """70 % title/description, 20 % tags, 10 % privacy/publish flags, one per video."""
    edited = df.copy()
    for i, vid in enumerate(df.index):
        slot = i % 10
        if slot < 4:
            edited.loc[vid, "title"] = f"{df.loc[vid, 'title'][:70]} · soak {i}"
        elif slot < 7:
            edited.loc[vid, "description"] = f"Soak description {i}\r\nline two é🙂"
        elif slot < 9:
            edited.at[vid, "tags"] = [f"soak{i}", "fault-test"]
        else:
            edited.loc[vid, "private"] = not bool(df.loc[vid, "private"])
    return edited


def test_two_thousand_edits_under_faults_lose_nothing_and_apply_nothing_twice(big) -> None:
    with fast_client(big) as client:
        df = dm.load_videos(client, progress=False)
        assert len(df) == 2000
        plan = plan_edits(df, mixed_edits(df))
        assert len(plan) == 2000
        big.set_faults(
            seed=7,
            rules=[
                {
                    "kind": "reset",
                    "after_commit": True,
                    "rate": 0.01,
                    "methods": ["POST"],
                    "path": "^/video/",
                    "name": "reset-after-commit",
                },
                {
                    "kind": "reset",
                    "after_commit": False,
                    "rate": 0.01,
                    "methods": ["POST"],
                    "path": "^/video/",
                    "name": "reset-before",
                },
                {
                    "kind": "status",
                    "status": 503,
                    "rate": 0.05,
                    "path": "^/video/",
                    "retry_after": 1,
                    "name": "503",
                },
                {
                    "kind": "status",
                    "status": 429,
                    "rate": 0.02,
                    "path": "^/video/",
                    "retry_after": 1,
                    "name": "429",
                },
            ],
        )
        start = big.request_log()[-1]["seq"]
        commits_before = len(big.commits())
        began = time.monotonic()
        try:
            result = plan.apply(client, workers=8, progress=False)
        finally:
            big.clear_faults()
        elapsed = time.monotonic() - began
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
    with fast_client(big) as reader:
        now = dm.load_videos(reader, progress=False)
    lost = [
        op.video_id
        for op in plan.ops
        if table.loc[op.video_id, "op_status"] == "applied"
        and {f: dm.frames.canonical(f, now.at[op.video_id, f]) for f in op.fields} != op.target
    ]
    assert lost == []  # 0 lost
    extra = len(big.request_log(start)) - 2 * 2000  # retries and read-backs
    print(
        f"\nsoak: {counts['applied']} applied, {counts['failed']} failed, {extra} extra "
        f"requests ({extra / 2000:.1%} of N), {elapsed:.1f} s; faults {dict(faults)}"
    )
    assert extra <= 0.25 * 2000


def test_a_write_interrupted_every_time_fails_after_three_sends_without_a_commit(small):
    with fast_client(small) as client:
        df = dm.load_videos(client, progress=False)
        vid = df.index[-1]
        edited = df.copy()
        edited.loc[vid, "title"] = "Never arrives"
        small.set_faults(
            seed=3,
            rules=[
                {
                    "kind": "reset",
                    "after_commit": False,
                    "methods": ["POST"],
                    "path": f"^/video/{vid}$",
                }
            ],
        )
        commits = len(small.commits())
        try:
            result = plan_edits(df, edited).apply(client, progress=False)
        finally:
            small.clear_faults()
    row = result.to_frame().loc[vid]
    assert (row["op_status"], row["error_type"], row["attempts"]) == ("failed", "Interrupted", 3)
    assert "still holds the old values" in row["message"]
    assert len(small.commits()) == commits


def test_a_dead_service_opens_the_breaker_and_leaves_the_rest_not_attempted(small):
    with fast_client(small) as client:
        df = dm.load_videos(client, progress=False)
        edited = df.copy()
        edited["title"] = [f"{t[:80]} · down" for t in df["title"]]
        plan = plan_edits(df, edited)
        small.set_faults(seed=4, rules=[{"kind": "status", "status": 503, "path": "^/video/"}])
        start = small.request_log()[-1]["seq"]
        try:
            result = plan.apply(client, workers=4, progress=False, batch=False)
        finally:
            small.clear_faults()
    counts = result.counts()
    assert result.stopped is not None and result.stopped.startswith("service unavailable")
    assert counts["failed"] + counts["not_attempted"] == len(plan) == 60
    assert counts["not_attempted"] >= 30  # 100 retries = 25 operations
    assert len(small.request_log(start)) <= 150  # ~100 retries allowed by the budget
