"""Views through time, and views before and after an edit.

Views come from the Reporting API's daily (or hourly) views per video when the store holds
them (``source="analytics"``), else from the ``views_total`` counter of consecutive snapshots
(``source="snapshots"``): the views between two snapshots are the difference of their
counters, spread over the time between them. Either way a view count covers an *interval*
``[start, end)``, so the two sources read the same way.

API v2 has no view counts: its snapshots hold the fields v2 has, with the counters
(``views_total``...) missing, as in its frames. Its views come from the Reporting API:
:func:`fetch_views` loads the daily views per video of the profile's videos and stores them,
and everything here reads them from there. A history holding no views at all says so
(an :class:`~dmtools.errors.InputError` naming :func:`fetch_views`) instead of answering an
empty table.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError
from dmtools.history import _columns as cols

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.client import Client
    from dmtools.history.analytics import AnalyticsLoad
    from dmtools.history.store import History

__all__ = ["EFFECT_COLUMNS", "VIEW_COLUMNS", "edit_effect", "fetch_views", "views"]

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
#: What a history without any view count is missing, and where views come from then.
NO_VIEWS = (
    "the history holds no view counts of {profile!r}: its snapshots have none (API v2 has no "
    "views_total) and no daily views from the Reporting API are stored; store them with "
    "history.fetch_views(reports) (a login with the report scopes, dm.analytics.SCOPES)"
)


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


def _counted(history: History, profile: str) -> bool:
    """Whether any snapshot of ``profile`` holds a view count."""
    return bool(
        history.rows(
            "SELECT EXISTS (SELECT 1 FROM snapshots s JOIN snapshot_videos sv "
            "ON sv.snapshot_id = s.rows_of WHERE s.profile = ? AND sv.views_total IS NOT NULL)",
            [profile],
        )[0][0]
    )


def _profile_videos(history: History, profile: str) -> list[str]:
    """Every video id any snapshot of ``profile`` holds."""
    found = history.rows(
        "SELECT DISTINCT sv.video_id FROM snapshots s JOIN snapshot_videos sv "
        "ON sv.snapshot_id = s.rows_of WHERE s.profile = ?",
        [profile],
    )
    return [r[0] for r in found]


def fetch_views(
    history: History,
    client: Client,
    *,
    start: Any = None,
    end: Any = None,
    days: int = 28,
    profile: str | None = None,
    **options: Any,
) -> AnalyticsLoad:
    """Load the Reporting API's daily views of the profile's videos and store them.

    The views per day and video (:func:`dmtools.load_analytics`, metric ``views``,
    dimensions ``day`` and ``video_id``) of ``[start, end]``, kept for the videos the
    profile's snapshots hold (a report of an organisation covers its other channels too),
    go into the ``day``/``video_id`` grain (:func:`dmtools.history.analytics.add_analytics`:
    identical rows stored once, revised days kept with their load time). :func:`views` and
    :func:`edit_effect` then read them. This is where the views of an API v2 history come
    from; on the legacy API they replace the deprecated ``views_total`` differences.

    Args:
        client: a login with the report scopes (on API v2, the same private key's partner
            login: :func:`dmtools.notebook.reports_login`).
        start, end: the days (both included); ``end`` defaults to yesterday (UTC, the last
            complete day), ``start`` to ``days`` days up to ``end``.
        profile: the channel (default: the store's only one; it needs a snapshot first).
        **options: passed to :func:`dmtools.load_analytics` (``progress``, ``state``...).

    Raises:
        InputError: no snapshot of the profile yet, a bad range, or a login that cannot
            ask for reports (before any request).

    Example:
        >>> history.snapshot(dm.load_videos(client, profile="x1news"))      # doctest: +SKIP
        >>> history.fetch_views(reports, days=28)                           # doctest: +SKIP
    """
    from datetime import UTC, datetime, timedelta

    from dmtools.analytics.load import load_analytics
    from dmtools.history.analytics import add_analytics

    name = history.profile(profile)
    history._write()
    if end is None:
        end = datetime.now(UTC).date() - timedelta(days=1)
    if start is None:
        start = cols.to_timestamp(end, name="end").date() - timedelta(days=days - 1)
    frame = load_analytics(client, "views", ["day", "video_id"], start=start, end=end, **options)
    mine = frame[frame["video_id"].isin(_profile_videos(history, name))]
    return add_analytics(history, mine.reset_index(drop=True), profile=name)


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

    Raises:
        InputError: the history holds no views of the profile at all (snapshots of API v2
            and no :func:`fetch_views`), or none from the source asked for.

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
        if frame.empty and not _counted(history, name):
            raise InputError(NO_VIEWS.format(profile=name))
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
