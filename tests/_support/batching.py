"""Helpers of the batched bulk tests (``tests/bulk/test_bulk_batching*.py``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from dmtools.bulk import plan_edits
from dmtools.sandbox import Sandbox


class Fresh:
    """Hands out videos of a frame that no earlier test of the module touched."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, df: pd.DataFrame, n: int) -> list[str]:
        ids = [str(v) for v in df.index if v not in self.used][:n]
        self.used.update(ids)
        return ids


def retitle(df: pd.DataFrame, ids: list[str], text: str) -> Any:
    """The plan titling each video of ``ids`` ``"<text> <id>"``."""
    edited = df.copy()
    edited.loc[ids, "title"] = [f"{text} {vid}" for vid in ids]
    return plan_edits(df, edited)


def commits_per_video(sb: Sandbox, since: int, kind: str | None = None) -> Counter[str]:
    """Client commits (of ``kind``: ``"edit"``, ``"delete"``) per video since ``since``."""
    return Counter(c["video_id"] for c in sb.commits()[since:] if kind is None or c["kind"] == kind)
