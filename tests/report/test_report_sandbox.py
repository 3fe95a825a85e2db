"""Reports on the sandbox's seeded channel agree with the raw stored videos.

The frame comes through the real path (password grant, ``load_videos`` over HTTP); the
expected numbers are computed in plain Python from the sandbox's admin view of each video.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dmtools as dm
from dmtools import report
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

FIELDS = [
    "id",
    "title",
    "description",
    "tags",
    "channel",
    "language",
    "published",
    "private",
    "status",
    "owner.screenname",
    "created_time",
    "updated_time",
    "duration",
    "views_total",
    "likes_total",
    "comments_total",
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(videos=300, seed=11) as sb:
        yield sb


def _load(sb: Sandbox) -> pd.DataFrame:
    return dm.load_videos(connect_sandbox(sb), fields=FIELDS, progress=False)


@pytest.fixture(scope="module")
def loaded(sandbox: Sandbox) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    df = _load(sandbox)
    raw = [sandbox.get_video(str(i)) for i in df.index]
    assert all(r is not None for r in raw)
    return df, [r for r in raw if r is not None]


def test_category_and_language_summaries_match_the_stored_videos(
    loaded: tuple[pd.DataFrame, list[dict[str, Any]]],
) -> None:
    df, raw = loaded
    assert len(df) == 300
    cats = report.by_category(df)
    videos = Counter(r["channel"] for r in raw)
    views: Counter[str] = Counter()
    likes: Counter[str] = Counter()
    for r in raw:
        views[r["channel"]] += r["views_total"]
        likes[r["channel"]] += r["likes_total"]
    assert cats["videos"].to_dict() == dict(videos)
    assert cats["views"].to_dict() == dict(views)
    assert cats["likes"].to_dict() == dict(likes)
    assert cats["views"].is_monotonic_decreasing
    langs = report.by_language(df)
    assert langs["videos"].to_dict() == dict(Counter(r["language"] or "(unknown)" for r in raw))


def test_uploads_and_health_match_the_stored_videos(
    loaded: tuple[pd.DataFrame, list[dict[str, Any]]],
) -> None:
    df, raw = loaded
    months = Counter(datetime.fromtimestamp(r["created_time"], UTC).strftime("%Y-%m") for r in raw)
    uploads = report.uploads_per_month(df)
    nonzero = uploads[uploads["uploads"] > 0]
    assert dict(zip(nonzero.index.strftime("%Y-%m"), nonzero["uploads"], strict=True)) == dict(
        months
    )
    counts = report.health_check(df).counts["videos"]
    assert counts["missing_description"] == sum(not r["description"].strip() for r in raw)
    assert counts["no_tags"] == sum(not r["tags"] for r in raw)
    assert counts["private"] == sum(r["private"] for r in raw)
    assert counts["unpublished"] == sum(not r["published"] for r in raw)
    assert counts["title_too_long"] == sum(len(r["title"]) > 100 for r in raw)
    titles = Counter(r["title"].strip().casefold() for r in raw)
    assert counts["duplicate_title"] == sum(titles[r["title"].strip().casefold()] > 1 for r in raw)


def test_top_videos_match_the_stored_videos(
    loaded: tuple[pd.DataFrame, list[dict[str, Any]]],
) -> None:
    df, raw = loaded
    expected = [r["id"] for r in sorted(raw, key=lambda r: (-r["views_total"], r["id"]))[:10]]
    assert report.top_videos(df, 10).index.tolist() == expected
    as_of = max(max(r["created_time"], r["updated_time"]) for r in raw)
    per_day = {r["id"]: r["views_total"] / max((as_of - r["created_time"]) / 86400, 1) for r in raw}
    top = report.top_videos(df, 5, by="views_per_day")
    assert top["views_per_day"].tolist() == pytest.approx(
        sorted(per_day.values(), reverse=True)[:5]
    )


def test_compare_snapshots_sees_views_added_and_deleted_videos(tmp_path: Path) -> None:
    with Sandbox(videos=60, seed=3) as sandbox:
        _compare_after_changes(sandbox, tmp_path)


def _compare_after_changes(sandbox: Sandbox, tmp_path: Path) -> None:
    before = _load(sandbox)
    kept, gone = str(before.index[0]), str(before.index[1])
    views = int(before.loc[kept, "views_total"])
    sandbox.edit_video(kept, views_total=views + 1234)
    sandbox.delete_video(gone)
    added = sandbox.add_videos(2)
    after = _load(sandbox)
    diff = report.compare_snapshots(before, after)
    assert diff.videos.loc[kept, "views_gained"] == 1234
    assert diff.videos.loc[kept, "change"] == "kept"
    assert sorted(diff.new.index) == sorted(added)
    assert diff.removed.index.tolist() == [gone]
    assert diff.summary["value"]["views gained (kept videos)"] == 1234
    result = report.channel_report(after, tmp_path / "report.html")
    assert "Demo Channel" in result.html.read_text(encoding="utf-8")
