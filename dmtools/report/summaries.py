"""Pure channel summaries: each takes a video frame and returns a small DataFrame.

Nothing here reads the clock, draws or does I/O, so every number behind a chart or a report
table can be checked on its own. Functions that depend on "today" take ``as_of``; when it is
omitted they use the latest ``created_time``/``updated_time`` found in the frame (the moment
the export was taken, near enough), never the machine clock.

Counts are ``int64``; sums of views, likes and comments are ``Int64`` (missing values are
skipped); ratios are ``float64`` (NaN where the denominator is 0).

Example:
    >>> from dmtools import report
    >>> report.by_category(df).head(3)            # doctest: +SKIP
    >>> report.top_videos(df, n=5, by="views_per_day", as_of="2025-06-01")  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from dmtools.errors import InputError
from dmtools.report import _data
from dmtools.schema import CATEGORY_LABELS, STATUSES

__all__ = [
    "bottom_videos",
    "by_category",
    "by_language",
    "engagement_by",
    "key_figures",
    "status_breakdown",
    "top_tags",
    "top_videos",
    "uploads_per_month",
    "views_per_day",
    "visibility_breakdown",
]

AsOf = str | datetime | pd.Timestamp | np.datetime64 | None

VISIBILITY_STATES: tuple[str, ...] = ("public", "private", "unpublished", "private, unpublished")
#: What key figures say for counts a partial view cannot know.
NOT_VISIBLE = "not visible to this login"


@_data.keeps_view
def uploads_per_month(df: pd.DataFrame) -> pd.DataFrame:
    """Videos uploaded per calendar month (UTC), with the views those uploads have now.

    Months without uploads between the first and the last one are listed with 0. Videos
    without ``created_time`` are not counted. Months are those of the frame's time zone
    (UTC, or the ``tz`` it was loaded with).

    Returns:
        Index ``month`` (month start, naive, in the frame's time zone); columns ``uploads``
        and ``views``.

    Example:
        >>> uploads_per_month(df).tail(12)   # doctest: +SKIP
    """
    _data.require(df, ["created_time"], "uploads_per_month")
    created = _data.local_times(df, "created_time")
    known = created.notna()
    months = created[known].dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    frame = pd.DataFrame({"month": months, "views": _data.ints(df, "views_total")[known]})
    grouped = frame.groupby("month")
    out = pd.DataFrame({"uploads": grouped.size().astype("int64"), "views": grouped["views"].sum()})
    if not out.empty:
        full = pd.date_range(out.index.min(), out.index.max(), freq="MS")
        out = out.reindex(full, fill_value=0)
    out.index = pd.DatetimeIndex(out.index, name="month")
    return out.astype({"uploads": "int64", "views": "Int64"})


@_data.keeps_view
def engagement_by(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Videos, views and engagement grouped by ``column`` (missing values grouped as "(unknown)").

    Sums skip missing values. ``views_per_video`` averages over the videos that have a view
    count; ``likes_per_view`` is total likes over total views of the group (and the same for
    comments); ``views_share`` is the group's part of all views. Sorted by views, then videos.

    Returns:
        Index named after ``column``; columns ``videos``, ``views``, ``likes``, ``comments``,
        ``views_per_video``, ``likes_per_view``, ``comments_per_view``, ``views_share``.

    Example:
        >>> engagement_by(df, "language")   # doctest: +SKIP
    """
    _data.require(df, [column], f"engagement_by({column!r})")
    frame = pd.DataFrame(
        {
            "key": _data.labels(df, column),
            "views": _data.ints(df, "views_total"),
            "likes": _data.ints(df, "likes_total"),
            "comments": _data.ints(df, "comments_total"),
        }
    )
    grouped = frame.groupby("key", sort=True)
    out = pd.DataFrame({"videos": grouped.size().astype("int64")})
    for name in ("views", "likes", "comments"):
        present = frame[name].notna().groupby(frame["key"]).any()
        out[name] = grouped[name].sum().astype("Int64").where(present)
    views = out["views"].astype("Float64").astype(float)
    counted = frame["views"].notna().groupby(frame["key"]).sum()
    out["views_per_video"] = views / counted.where(counted > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = views.where(views > 0)
        out["likes_per_view"] = out["likes"].astype("Float64").astype(float) / positive
        out["comments_per_view"] = out["comments"].astype("Float64").astype(float) / positive
    total = float(np.nansum(views))
    out["views_share"] = views / total if total else np.nan
    out = out.sort_values(["views", "videos"], ascending=False, na_position="last", kind="stable")
    out.index.name = column
    return out


@_data.keeps_view
def by_category(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`engagement_by` over ``channel`` (the category), with a readable ``label`` column.

    Example:
        >>> by_category(df)[["label", "videos", "views", "likes_per_view"]]   # doctest: +SKIP
    """
    out = engagement_by(df, "channel")
    out.insert(0, "label", [CATEGORY_LABELS.get(str(c), str(c)) for c in out.index])
    return out


@_data.keeps_view
def by_language(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`engagement_by` over ``language``.

    Example:
        >>> by_language(df).head()   # doctest: +SKIP
    """
    return engagement_by(df, "language")


@_data.keeps_view
def views_per_day(df: pd.DataFrame, as_of: AsOf = None) -> pd.Series:
    """Views per day since upload: ``views_total / max(days between created_time and as_of, 1)``.

    Counting at least one day keeps a video uploaded an hour before ``as_of`` from showing an
    absurd rate. ``as_of`` defaults to the latest created/updated time in the frame.

    Returns:
        A float Series named ``views_per_day`` (NaN where views or upload time are missing).

    Example:
        >>> views_per_day(df, as_of="2025-06-01").nlargest(5)   # doctest: +SKIP
    """
    _data.require(df, ["views_total", "created_time"], "views_per_day")
    when = _data.resolve_as_of(df, as_of)
    views = _data.ints(df, "views_total").astype("Float64").astype(float)
    if when is None:
        return pd.Series(np.nan, index=df.index, name="views_per_day")
    age = (when - _data.times(df, "created_time")).dt.total_seconds() / 86400.0
    days = age.astype(float).clip(lower=1.0)
    return (views / days).rename("views_per_day")


_TOP_COLUMNS = ("title", "channel", "language", "created_time", "views_total", "likes_total")


def _ranked(df: pd.DataFrame, n: int, by: str, as_of: AsOf, ascending: bool) -> pd.DataFrame:
    if n < 0:
        raise InputError(f"n must be 0 or more, not {n}")
    cols = [c for c in _TOP_COLUMNS if c in df.columns]
    out = df[cols].copy()
    out.index = _data.ids(df)
    if "views_total" in df.columns and "created_time" in df.columns:
        out["views_per_day"] = views_per_day(df, as_of).to_numpy()
    if by != "views_per_day":
        _data.require(df, [by], "top_videos")
        if by not in out.columns:
            out[by] = df[by].to_numpy()
    elif "views_per_day" not in out.columns:
        _data.require(df, ["views_total", "created_time"], "top_videos(by='views_per_day')")
    key = pd.to_numeric(out[by], errors="coerce").astype("Float64").astype(float)
    order = pd.DataFrame({"key": key, "vid": out.index.to_numpy()}, index=out.index)
    order = order[order["key"].notna()].sort_values(["key", "vid"], ascending=[ascending, True])
    return out.loc[order.index[:n]]


@_data.keeps_view
def top_videos(
    df: pd.DataFrame, n: int = 10, *, by: str = "views_total", as_of: AsOf = None
) -> pd.DataFrame:
    """The ``n`` videos with the most ``by`` (a numeric column or ``"views_per_day"``).

    Videos where ``by`` is missing are left out; ties are broken by id.

    Returns:
        Index ``id``; the columns title, channel, language, created_time, views_total,
        likes_total found in ``df``, plus ``views_per_day`` when it can be computed.

    Example:
        >>> top_videos(df, 10, by="views_per_day", as_of="2025-06-01")   # doctest: +SKIP
    """
    return _ranked(df, n, by, as_of, ascending=False)


@_data.keeps_view
def bottom_videos(
    df: pd.DataFrame, n: int = 10, *, by: str = "views_total", as_of: AsOf = None
) -> pd.DataFrame:
    """The ``n`` videos with the least ``by``; same columns as :func:`top_videos`.

    Example:
        >>> bottom_videos(df, 20)   # doctest: +SKIP
    """
    return _ranked(df, n, by, as_of, ascending=True)


@_data.keeps_view
def visibility_breakdown(df: pd.DataFrame) -> pd.DataFrame:
    """Videos by visibility: public, private, unpublished, or both private and unpublished.

    "Public" means published and not private. Videos missing either flag are counted as
    ``(unknown)`` (a row that appears only when there are some). For a frame that could not
    see private and unpublished videos (see :mod:`dmtools.visibility`), their counts and
    every share are NA: unknown, not 0 and 100 %.

    Returns:
        Index ``visibility``; columns ``videos``, ``views``, ``share`` (of all videos).

    Example:
        >>> visibility_breakdown(df)   # doctest: +SKIP
    """
    _data.require(df, ["published", "private"], "visibility_breakdown")
    published = _data.bools(df, "published")
    private = _data.bools(df, "private")
    state = pd.Series(_data.UNKNOWN, index=df.index, dtype=object)
    known = published.notna() & private.notna()
    pub, priv = published.fillna(False).astype(bool), private.fillna(False).astype(bool)
    state[known & pub & ~priv] = "public"
    state[known & pub & priv] = "private"
    state[known & ~pub & ~priv] = "unpublished"
    state[known & ~pub & priv] = "private, unpublished"
    order = list(VISIBILITY_STATES) + ([_data.UNKNOWN] if (~known).any() else [])
    views = _data.ints(df, "views_total")
    out = pd.DataFrame(
        {
            "videos": state.value_counts().reindex(order, fill_value=0).astype("int64"),
            "views": views.groupby(state).sum().reindex(order, fill_value=0).astype("Int64"),
        }
    )
    out.index.name = "visibility"
    out["share"] = _data.share(out["videos"], len(df))
    if _data.view_note(df):
        hidden = out.index.isin(VISIBILITY_STATES[1:])
        out = out.astype({"videos": "Int64"})
        out.loc[hidden, ["videos", "views"]] = pd.NA
        out["share"] = np.nan
    return out


@_data.keeps_view
def status_breakdown(df: pd.DataFrame) -> pd.DataFrame:
    """Videos per ``status`` (only the statuses present, in the API's order).

    Returns:
        Index ``status``; columns ``videos`` and ``share`` (of all videos).

    Example:
        >>> status_breakdown(df)   # doctest: +SKIP
    """
    _data.require(df, ["status"], "status_breakdown")
    counts = _data.labels(df, "status").value_counts()
    order = [s for s in STATUSES if s in counts.index]
    order += sorted(s for s in counts.index if s not in STATUSES)
    out = pd.DataFrame({"videos": counts.reindex(order).astype("int64")})
    out.index.name = "status"
    out["share"] = _data.share(out["videos"], len(df))
    return out


@_data.keeps_view
def top_tags(df: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` most used tags (exact text, stripped; a tag repeated on one video counts once).

    Returns:
        Index ``tag``; columns ``videos`` (videos carrying it), ``views`` (their total views),
        ``share`` (part of all videos). Sorted by videos, then views, then tag.

    Example:
        >>> top_tags(df, 10)   # doctest: +SKIP
    """
    _data.require(df, ["tags"], "top_tags")
    pairs = _data.tag_pairs(df)
    views = _data.ints(df, "views_total").to_numpy()
    frame = pd.DataFrame(
        {"tag": pairs["tag"], "views": pd.array(views[pairs["pos"].to_numpy()], dtype="Int64")}
    )
    grouped = frame.groupby("tag")
    out = pd.DataFrame({"videos": grouped.size().astype("int64"), "views": grouped["views"].sum()})
    out = out.astype({"views": "Int64"}).reset_index()
    out = out.sort_values(["videos", "views", "tag"], ascending=[False, False, True], kind="stable")
    out = out.head(max(n, 0)).set_index("tag")
    out["share"] = _data.share(out["videos"], len(df))
    return out


@_data.keeps_view
def key_figures(df: pd.DataFrame, as_of: AsOf = None) -> pd.DataFrame:
    """Headline numbers of a channel, one per row (only those the frame's columns allow).

    For a frame of public videos only (see :mod:`dmtools.visibility`) the private and
    unpublished counts read :data:`NOT_VISIBLE` and a ``view`` row says why.

    Returns:
        Index ``metric``; one ``value`` column (mixed types: counts, dates, hours).

    Example:
        >>> key_figures(df)   # doctest: +SKIP
    """
    rows: dict[str, object] = {"videos": len(df)}
    if "views_total" in df.columns:
        views = _data.ints(df, "views_total")
        rows["views"] = int(views.sum())
        rows["median views per video"] = float(views.median()) if views.notna().any() else np.nan
    for column, name in (
        ("views_last_month", "views, last 30 days"),
        ("views_last_week", "views, last 7 days"),
        ("likes_total", "likes"),
        ("comments_total", "comments"),
    ):
        if column in df.columns:
            rows[name] = int(_data.ints(df, column).sum())
    if "duration" in df.columns:
        rows["hours of video"] = round(float(_data.ints(df, "duration").sum()) / 3600, 1)
    if "created_time" in df.columns:
        created = _data.local_times(df, "created_time")
        rows["first upload"] = created.min()
        rows["last upload"] = created.max()
    partial = _data.view_note(df)
    for column, name, flag in (
        ("private", "private videos", True),
        ("published", "unpublished videos", False),
    ):
        if column in df.columns:
            count = int((_data.bools(df, column) == flag).sum())
            rows[name] = NOT_VISIBLE if partial else count
    if partial:
        rows["view"] = partial
    when = _data.resolve_as_of(df, as_of)
    rows["as of"] = when if when is not None else pd.NaT
    out = pd.DataFrame({"value": pd.Series(rows, dtype=object)})
    out.index.name = "metric"
    return out
