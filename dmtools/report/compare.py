"""Compare two snapshots of a channel (say last week's export and today's).

Pure: the two frames are the only input.

Example:
    >>> diff = compare_snapshots(last_week, today)
    >>> diff.summary                     # doctest: +SKIP
    >>> diff.videos.head(10)             # the biggest gainers   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dmtools.errors import InputError, Problem
from dmtools.report import _data

__all__ = ["SnapshotDiff", "compare_snapshots"]


@dataclass(frozen=True)
class SnapshotDiff:
    """What changed between two snapshots.

    Attributes:
        videos: one row per video in either snapshot; index ``id``; columns ``title`` (latest
            known), ``views_before``, ``views_after``, ``views_gained`` (Int64) and ``change``
            (``"kept"``, ``"new"`` or ``"removed"``). A new video gained all its views
            (``views_gained = views_after``); a removed one has ``views_gained`` NA. Sorted by
            views gained (largest first, NA last), then id.
        new: the rows of ``after`` that are not in ``before``.
        removed: the rows of ``before`` that are not in ``after``.
        summary: index ``metric``; one ``value`` column: videos before/after, kept, new,
            removed, views before/after, views gained by kept videos and by new videos.

    Example:
        >>> diff = compare_snapshots(last_week, today)
        >>> diff.removed.index.tolist()   # doctest: +SKIP
    """

    videos: pd.DataFrame
    new: pd.DataFrame
    removed: pd.DataFrame
    summary: pd.DataFrame


def _unique_ids(df: pd.DataFrame, name: str) -> pd.Index:
    index = _data.ids(df)
    dup = index[index.duplicated()]
    if len(dup):
        raise InputError(
            f"{name} has duplicate video ids",
            [Problem(str(i), None, "duplicate id") for i in dup.unique()[:50]],
        )
    return index


def _per_video(
    before: pd.DataFrame, after: pd.DataFrame, ids_before: pd.Index, ids_after: pd.Index
) -> pd.DataFrame:
    """One row per video of either snapshot (see :attr:`SnapshotDiff.videos`), unsorted."""
    views_before = pd.Series(_data.ints(before, "views_total").to_numpy(), index=ids_before)
    views_after = pd.Series(_data.ints(after, "views_total").to_numpy(), index=ids_after)
    title_before = pd.Series(_data.texts(before, "title").to_numpy(), index=ids_before)
    title_after = pd.Series(_data.texts(after, "title").to_numpy(), index=ids_after)
    new_ids = ids_after[~ids_after.isin(ids_before)]
    removed_ids = ids_before[~ids_before.isin(ids_after)]
    every = ids_after[ids_after.isin(ids_before)].append(new_ids).append(removed_ids)
    out = pd.DataFrame(index=pd.Index(every, name="id"))
    out["title"] = title_after.reindex(every).fillna(title_before.reindex(every)).astype("string")
    out["views_before"] = views_before.reindex(every).astype("Int64")
    out["views_after"] = views_after.reindex(every).astype("Int64")
    change = pd.Series("kept", index=every, dtype=object)
    change[new_ids] = "new"
    change[removed_ids] = "removed"
    out["change"] = change.astype("string")
    gained = out["views_after"] - out["views_before"]
    gained[new_ids] = out.loc[new_ids, "views_after"]
    out["views_gained"] = gained.astype("Int64")
    return out[["title", "views_before", "views_after", "views_gained", "change"]]


def _by_gain(out: pd.DataFrame) -> pd.DataFrame:
    """Largest gain first, NA last, then by id."""
    sort_key = pd.DataFrame(
        {"g": out["views_gained"].astype("Float64").astype(float), "vid": out.index.to_numpy()},
        index=out.index,
    )
    order = sort_key.sort_values(["g", "vid"], ascending=[False, True], na_position="last").index
    return out.loc[order]


def _summary(before: pd.DataFrame, after: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    change = out["change"]
    values = {
        "videos before": len(before),
        "videos after": len(after),
        "kept": int((change == "kept").sum()),
        "new": int((change == "new").sum()),
        "removed": int((change == "removed").sum()),
        "views before": int(_data.ints(before, "views_total").sum()),
        "views after": int(_data.ints(after, "views_total").sum()),
        "views gained (kept videos)": int(out.loc[change == "kept", "views_gained"].sum()),
        "views gained (new videos)": int(out.loc[change == "new", "views_gained"].sum()),
    }
    summary = pd.DataFrame({"value": pd.Series(values, dtype=object)})
    summary.index.name = "metric"
    return summary


def compare_snapshots(before: pd.DataFrame, after: pd.DataFrame) -> SnapshotDiff:
    """Views gained per video, plus new and removed videos, between two frames.

    Both frames are indexed by video id; ``views_total`` is used when present (views are NA
    otherwise) and ``title`` for display.

    Raises:
        InputError: a snapshot has duplicate ids.

    Example:
        >>> diff = compare_snapshots(last_week, today)
        >>> diff.videos.query("change == 'kept'").head()   # doctest: +SKIP
    """
    ids_before = _unique_ids(before, "before")
    ids_after = _unique_ids(after, "after")
    out = _by_gain(_per_video(before, after, ids_before, ids_after))
    return SnapshotDiff(
        videos=out,
        new=after.loc[~ids_after.isin(ids_before)],
        removed=before.loc[~ids_before.isin(ids_after)],
        summary=_summary(before, after, out),
    )
