"""Views through time, and views before and after an edit.

Views come from the Reporting API's daily (or hourly) views per video when the store holds
them (``source="analytics"``), else from the ``views_total`` counter of consecutive snapshots
(``source="snapshots"``): the views between two snapshots are the difference of their
counters, spread over the time between them. Either way a view count covers an *interval*
``[start, end)``, so the two sources read the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError
from dmtools.history import _columns as cols

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.history.store import History

__all__ = ["EFFECT_COLUMNS", "VIEW_COLUMNS", "edit_effect", "views"]

#: Columns of :func:`views`.
VIEW_COLUMNS = ("video_id", "start", "end", "views", "days", "views_per_day", "source")
#: Columns of :func:`edit_effect`.
EFFECT_COLUMNS = (
    "plan",
    "video_id",
    "fields",
    "edited_at",
    "views_per_day_before",
    "views_per_day_after",
    "change",
    "days_before",
    "days_after",
    "source",
)
_SECONDS_PER_DAY = 86400.0


def _from_snapshots(
    history: History, profile: str, ids: Sequence[str] | None, start: Any, end: Any
) -> pd.DataFrame:
    where, params = "", {"profile": profile}
    if ids is not None:
        where += " AND sv.video_id IN (SELECT unnest($ids))"
        params["ids"] = list(ids)  # type: ignore[assignment]
    if end is not None:
        where += " AND s.taken_at <= $end"
        params["end"] = end
    outer = " AND start >= $start" if start is not None else ""
    if start is not None:
        params["start"] = start
    return history.sql(
        'SELECT video_id, start, "end", views, '
        'epoch("end" - start) / 86400.0 AS days FROM ('
        'SELECT sv.video_id, lag(s.taken_at) OVER w AS start, s.taken_at AS "end", '
        "sv.views_total - lag(sv.views_total) OVER w AS views "
        "FROM snapshots s JOIN snapshot_videos sv ON sv.snapshot_id = s.rows_of "
        f"WHERE s.profile = $profile AND list_contains(s.fields, 'views_total') {where} "
        "WINDOW w AS (PARTITION BY sv.video_id ORDER BY s.taken_at)) "
        f"WHERE start IS NOT NULL AND views IS NOT NULL {outer} ORDER BY video_id, start",
        params,  # type: ignore[arg-type]
    )


def _from_analytics(
    history: History, profile: str, ids: Sequence[str] | None, start: Any, end: Any
) -> pd.DataFrame | None:
    """Daily views per video from the grain with the fewest dimensions that has them."""
    from dmtools.history.analytics import _metrics_of, grains

    usable = [
        (len(dims), name, dims)
        for name, dims in grains(history).items()
        if "video_id" in dims
        and ("day" in dims or "hour" in dims)
        and "views" in _metrics_of(history, name, dims)
    ]
    if not usable:
        return None
    _, name, dims = min(usable)
    time = "day" if "day" in dims else "hour"
    where, params = "", {"profile": profile}
    if ids is not None:
        where += " AND video_id IN (SELECT unnest($ids))"
        params["ids"] = list(ids)  # type: ignore[assignment]
    if start is not None:
        where += f' AND "{time}" >= $start'
        params["start"] = start
    if end is not None:
        where += f' AND "{time}" < $end'
        params["end"] = end
    keys = ", ".join(f'"{d}"' for d in dims)
    day = f"date_trunc('day', \"{time}\")"
    frame = history.sql(
        f"WITH latest AS (SELECT {keys}, arg_max(views, loaded_at) "
        f'FILTER (WHERE views IS NOT NULL) AS views FROM "{name}" WHERE profile = $profile '
        f'GROUP BY ALL) SELECT video_id, {day} AS start, {day} + INTERVAL 1 DAY AS "end", '
        f"sum(views) AS views, 1.0 AS days FROM latest WHERE true {where} "
        "GROUP BY ALL ORDER BY video_id, start",
        params,  # type: ignore[arg-type]
    )
    return frame if len(frame) else None


def views(
    history: History,
    *,
    ids: Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
    profile: str | None = None,
    source: str = "auto",
) -> pd.DataFrame:
    """Views per video per interval, as the columns of :data:`VIEW_COLUMNS`.

    Args:
        ids: only these videos.
        start, end: only intervals inside ``[start, end]``.
        source: ``"analytics"``, ``"snapshots"``, or ``"auto"`` (analytics when stored).

    Example:
        >>> daily = history.views(start="2026-03-01")                      # doctest: +SKIP
        >>> daily.groupby("start").views.sum().plot()                       # doctest: +SKIP
    """
    import pandas as pd

    if source not in ("auto", "analytics", "snapshots"):
        raise InputError(f"source must be 'auto', 'analytics' or 'snapshots', not {source!r}")
    name = history.profile(profile)
    wanted = list(ids) if ids is not None else None
    lo = cols.to_timestamp(start, name="start") if start is not None else None
    hi = cols.to_timestamp(end, name="end") if end is not None else None
    frame = None
    if source in ("auto", "analytics"):
        frame = _from_analytics(history, name, wanted, lo, hi)
        if frame is not None:
            frame["source"] = "analytics"
        elif source == "analytics":
            raise InputError("the history holds no views per video from the Reporting API")
    if frame is None:
        frame = _from_snapshots(history, name, wanted, lo, hi)
        frame["source"] = "snapshots"
    frame["views_per_day"] = frame["views"] / frame["days"]
    frame["views"] = frame["views"].astype(pd.Int64Dtype())
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["video_id"] = frame["video_id"].astype(pd.StringDtype("pyarrow"))
    return frame[list(VIEW_COLUMNS)].reset_index(drop=True)


def _rates(intervals: pd.DataFrame, edits: pd.DataFrame, days: float) -> pd.DataFrame:
    """Views per day in the ``days`` before and after each edit (whole intervals only)."""
    import pandas as pd

    window = pd.Timedelta(days=days)
    merged = edits.merge(intervals, on="video_id", how="left")
    before = (merged.start >= merged.edited_at - window) & (merged.end <= merged.edited_at)
    after = (merged.start >= merged.edited_at) & (merged.end <= merged.edited_at + window)
    keys = ["plan", "video_id"]
    out = edits.set_index(keys)
    for label, mask in (("before", before), ("after", after)):
        part = merged[mask].groupby(keys)[["views", "days"]].sum()
        out[f"views_per_day_{label}"] = part.views / part.days
        out[f"days_{label}"] = part.days
    return out.reset_index()


def edit_effect(
    history: History,
    journals: Iterable[str | os.PathLike[str]],
    *,
    days: float = 7,
    profile: str | None = None,
    source: str = "auto",
) -> pd.DataFrame:
    """Views per day before and after each video's edit, for the bulk jobs in ``journals``.

    For every video a job edited (operations ``applied``), the views per day over the
    ``days`` before the edit and the ``days`` after it, from whole intervals on each side (the
    interval holding the edit belongs to neither). ``change`` is ``after / before - 1``.

    Returns:
        One row per plan and video, the columns of :data:`EFFECT_COLUMNS`; the rates are
        null where no whole interval lies on that side.

    Example:
        >>> history.edit_effect(["cleanup.journal"], days=3)              # doctest: +SKIP
    """
    import pandas as pd

    from dmtools.history.journals import read_journals

    ops = read_journals(journals)
    ops = ops[(ops.state == "applied") & (ops.job_kind == "edit")]
    if ops.empty:
        return pd.DataFrame(columns=list(EFFECT_COLUMNS))
    edits = (
        ops.groupby(["plan", "video_id"])
        .agg(edited_at=("applied_at", "max"), fields=("field", lambda f: ",".join(sorted(set(f)))))
        .reset_index()
    )
    window = pd.Timedelta(days=days)
    intervals = views(
        history,
        ids=edits.video_id.unique().tolist(),
        start=edits.edited_at.min() - window,
        end=edits.edited_at.max() + window,
        profile=profile,
        source=source,
    )
    out = _rates(intervals[["video_id", "start", "end", "views", "days"]], edits, days)
    out["change"] = out.views_per_day_after / out.views_per_day_before - 1
    out["source"] = intervals.source.iloc[0] if len(intervals) else None
    return out[list(EFFECT_COLUMNS)].sort_values(["plan", "video_id"]).reset_index(drop=True)
