"""Helpers of the history, dataset and Spark tests: hand-built frames."""

from __future__ import annotations

from typing import Any

import pandas as pd

import dmtools as dm


def videos(n: int = 3, *, owner: str = "xowner", views: int = 0, **columns: Any) -> pd.DataFrame:
    """A frame of ``n`` videos as :func:`dm.load_videos` gives, built by hand."""
    records = [
        {
            "id": f"x{i:04d}",
            "title": f"Video {i}",
            "description": None if i % 2 else f"About {i}",
            "tags": [f"t{i}", "common"] if i % 3 else [],
            "channel": "music" if i % 2 else "news",
            "published": True,
            "private": i % 4 == 0,
            "owner": owner,
            "created_time": 1_700_000_000 + i * 3600,
            "updated_time": 1_700_000_000 + i * 3600,
            "views_total": views + i,
            "likes_total": i,
        }
        for i in range(n)
    ]
    frame = dm.to_frame(records)
    for name, values in columns.items():
        frame[name] = values
    return frame


def analytics(days: list[str], ids: list[str], views: list[int]) -> pd.DataFrame:
    """A Reporting API frame by day and video (the agreed shape)."""
    return pd.DataFrame(
        {
            "day": pd.to_datetime(days, utc=True),
            "video_id": pd.array(ids, dtype="string"),
            "views": pd.array(views, dtype="Int64"),
            "time_watched_seconds": pd.array([v * 30 for v in views], dtype="Int64"),
            "view_through_rate": [0.5 if v else None for v in views],
        }
    )
