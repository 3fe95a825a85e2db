"""Faults and rate limits of the sandbox apply to v2 routes, and the transport's policy
(retries by operation, ``Retry-After``) applies to v2 calls as to legacy ones."""

from __future__ import annotations

import pytest

import dmtools as dm
from dmtools.testing import connect_sandbox


def test_v2_reads_retry_503_and_honour_retry_after(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(videos=40, seed=4)
    with connect_sandbox(sb, api="v2") as client:
        profile = str(client.me()["id"])
        sb.set_faults(
            rules=[
                {"kind": "status", "status": 503, "at": [1], "path": "^/v2/profiles/"},
                {
                    "kind": "status",
                    "status": 429,
                    "at": [1],
                    "path": "^/v2/videos/",
                    "retry_after": 1,
                },
            ]
        )
        df = dm.load_videos(client, profile=profile, fields=["title"], progress=False)
        video = dm.get_video(client, str(df.index[0]), ["title"])
        stats = client.stats
    faults = [f["status"] for f in sb.fault_log()]
    assert video["title"] == df.iloc[0]["title"]
    assert sorted(faults) == [429, 503]
    assert stats["retries"] >= 2 and stats["slept"] >= 1.0


def test_a_refused_v2_write_is_not_resent_blindly(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(videos=40, seed=4)
    with connect_sandbox(sb, api="v2", retries=3) as client:
        vid = str(dm.first_video(client, owner=str(client.me()["id"]), fields=["id"])["id"])
        sb.set_faults(rules=[{"kind": "status", "status": 500, "at": [1], "methods": ["PATCH"]}])
        mark = len(sb.commits())
        with pytest.raises(dm.ServerError):  # ambiguous: not resent without a read back
            dm.update_video(client, vid, title="Maybe")
        patches = [r for r in sb.request_log() if r["method"] == "PATCH"]
    assert len(patches) == 1 and sb.commits(mark) == []
