"""A chunk provider for the Spark analytics source, standing in for the Reporting API client
(which does not exist yet): three report chunks of a by-day, by-video report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]


class Provider:
    def plan(self, options: Mapping[str, str]) -> list[dict[str, Any]]:
        return [{"day": day, "videos": int(options.get("videos", "4"))} for day in DAYS]

    def read(self, options: Mapping[str, str], chunk: Mapping[str, Any]) -> pd.DataFrame:
        n = chunk["videos"]
        return pd.DataFrame(
            {
                "day": pd.to_datetime([chunk["day"]] * n, utc=True),
                "video_id": pd.array([f"x{i}" for i in range(n)], dtype="string"),
                "views": pd.array(range(n), dtype="Int64"),
                "view_through_rate": [0.25] * n,
                "extra_column": ["ignored"] * n,
            }
        )


chunks = Provider()
