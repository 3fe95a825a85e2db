"""The loader on API v2: windows by ISO 8601 creation times, and a busy second past the
1,000-result ceiling split by visibility (v2 has no category filter)."""

from __future__ import annotations

import warnings
from collections import Counter

import dmtools as dm
from dmtools.testing import connect_sandbox

BUSY = 1_700_000_000


def test_a_busy_second_past_the_ceiling_is_read_part_by_part(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(videos=30, seed=8)
    profile = sb.credentials.private_key.profiles[0]
    ids = sb.add_videos(1050, owner=profile)
    for i, vid in enumerate(ids):
        sb.edit_video(vid, created_time=BUSY, private=i % 10 == 0)
    mark = len(sb.request_log())
    with connect_sandbox(sb, api="v2") as client, warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may be reported missing
        df = dm.load_videos(
            client, profile=profile, fields=["private", "created_time"], progress=False
        )
    assert set(ids) <= set(df.index) and df.index.is_unique
    assert int((df["created_time"].astype("int64") // 10**9 == BUSY).sum()) == 1050
    log = sb.request_log(mark)
    parts = Counter("visibility" in r["query_keys"] for r in log if r["path"].endswith("/videos"))
    assert parts[True] > 0  # the busy second was read by visibility
    windows = [r for r in log if "created_after" in r["query_keys"]]
    assert windows and all(r["status"] == 200 for r in log)
