"""The audience part of a channel report: pure summaries of Reporting API frames.

An :class:`Audience` holds what the analytics part needs, as :func:`dmtools.load_analytics`
returns it (:func:`dmtools.analytics.channel_audience` builds one):

* ``daily``: ``day``, ``video_id``, ``views``, ``time_watched_seconds`` over the period and
  the period before it (one report);
* ``places``: ``visitor_country``, ``visitor_device_type``, ``views`` over the period.

The summaries return DataFrames; nothing here draws, reads a clock or does I/O. Days the API
left out (no views) count as zero. Watch time reads in hours.

Example:
    >>> from dmtools.report import audience
    >>> audience.daily_views(aud).tail(7)                  # doctest: +SKIP
    >>> audience.period_comparison(aud)                    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from dmtools.report import _data

__all__ = [
    "DEPRECATION_NOTE",
    "Audience",
    "daily_views",
    "period_comparison",
    "period_days",
    "top_videos_in_period",
    "views_by",
]

#: What a report says when it has no Reporting API figures.
DEPRECATION_NOTE = (
    "Views in this report come from views_total and the other views_* fields, which "
    "Dailymotion deprecated on 2026-03-09 (API v2 has none). Views by day, country and "
    "device come from the Reporting API: log in with the report scopes (create_reports, "
    "read_reports) to add them."
)
#: ``views_by`` dimensions: short name -> column of ``Audience.places``.
PLACES = {"country": "visitor_country", "device": "visitor_device_type"}


@dataclass(frozen=True)
class Audience:
    """Reporting API frames of one channel for one period (see the module notes).

    Attributes:
        daily: views and seconds watched per day and video, ``previous_start`` to ``end``.
        places: views per country and device type, ``start`` to ``end``.
        start, end: the period (both days included).
    """

    daily: pd.DataFrame
    places: pd.DataFrame
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous_start(self) -> dt.date:
        """The first day of the period before (as long as this one)."""
        return self.start - dt.timedelta(days=self.days)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d} ({self.days} days)"


def _day_index(first: dt.date, last: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="D", tz="UTC", name="day").as_unit("ns")


def _per_day(audience: Audience, first: dt.date, last: dt.date) -> pd.DataFrame:
    frame = audience.daily
    _data.require(frame, ["day", "views", "time_watched_seconds"], "the audience summary")
    days = frame["day"].dt.tz_convert("UTC").dt.normalize()
    grouped = frame.groupby(days)[["views", "time_watched_seconds"]].sum()
    grouped.index = pd.DatetimeIndex(grouped.index).as_unit("ns")
    out = grouped.reindex(_day_index(first, last), fill_value=0)
    return pd.DataFrame(
        {
            "views": out["views"].astype("int64"),
            "watch_hours": out["time_watched_seconds"].astype("float64") / 3600,
        }
    )


def daily_views(audience: Audience, *, window: int = 7) -> pd.DataFrame:
    """Every day of the period: ``views``, ``watch_hours`` and their ``window``-day
    averages (``views_avg``, ``watch_hours_avg``; the first days average what came
    before them in the previous period)."""
    table = _per_day(audience, audience.previous_start, audience.end)
    table["views_avg"] = table["views"].rolling(window, min_periods=1).mean()
    table["watch_hours_avg"] = table["watch_hours"].rolling(window, min_periods=1).mean()
    start = pd.Timestamp(audience.start, tz="UTC")
    return table[table.index >= start]


def period_comparison(audience: Audience) -> pd.DataFrame:
    """This period against the one before: ``views``, ``watch_hours`` and
    ``minutes_per_view`` (rows), ``this_period``, ``previous_period``, ``change`` and
    ``change_share`` (columns; the share is NaN when the previous period had nothing)."""
    one = dt.timedelta(days=1)
    now = _per_day(audience, audience.start, audience.end).sum()
    before = _per_day(audience, audience.previous_start, audience.start - one).sum()

    def figures(sums: pd.Series) -> list[float]:
        views = float(sums["views"])
        hours = float(sums["watch_hours"])
        return [views, hours, hours * 60 / views if views else float("nan")]

    table = pd.DataFrame(
        {"this_period": figures(now), "previous_period": figures(before)},
        index=pd.Index(["views", "watch_hours", "minutes_per_view"], name="metric"),
    )
    table["change"] = table["this_period"] - table["previous_period"]
    previous = table["previous_period"].where(table["previous_period"] != 0)
    table["change_share"] = table["change"] / previous
    return table


def period_days(audience: Audience) -> pd.DataFrame:
    """Views per day of this period and of the one before, side by side: index
    ``day_of_period`` (1 to ``audience.days``), columns ``this_period`` and
    ``previous_period``."""
    one = dt.timedelta(days=1)
    now = _per_day(audience, audience.start, audience.end)["views"].to_numpy()
    before = _per_day(audience, audience.previous_start, audience.start - one)["views"]
    return pd.DataFrame(
        {"this_period": now, "previous_period": before.to_numpy()},
        index=pd.RangeIndex(1, audience.days + 1, name="day_of_period"),
    )


def top_videos_in_period(
    audience: Audience, videos: pd.DataFrame | None = None, n: int = 10
) -> pd.DataFrame:
    """The ``n`` videos with the most views in the period (index ``video_id``): ``views``,
    ``watch_hours``, ``views_share`` of the channel's views, and their ``title`` when a
    :func:`dmtools.load_videos` frame is given (a video it lacks has none)."""
    frame = audience.daily
    _data.require(frame, ["day", "video_id", "views", "time_watched_seconds"], "top videos")
    inside = frame[frame["day"].dt.tz_convert("UTC").dt.date >= audience.start]
    per_video = inside.groupby("video_id")[["views", "time_watched_seconds"]].sum()
    total = int(per_video["views"].sum())
    table = pd.DataFrame(
        {
            "views": per_video["views"].astype("int64"),
            "watch_hours": per_video["time_watched_seconds"].astype("float64") / 3600,
        }
    )
    table["views_share"] = _data.share(table["views"], total)
    table = table.sort_values(["views", "watch_hours"], ascending=False, kind="stable").head(n)
    table.index = pd.Index(table.index.astype("string"), name="video_id")
    if videos is not None and "title" in videos.columns:
        titles = _data.texts(videos, "title")
        titles.index = _data.ids(videos)
        table.insert(0, "title", titles[~titles.index.duplicated()].reindex(table.index).array)
    return table


def views_by(audience: Audience, by: str = "country", n: int = 10) -> pd.DataFrame:
    """Views in the period per ``by`` (``"country"`` or ``"device"``), most first, with
    ``views_share``; past ``n`` rows the rest are one ``(others)`` row."""
    if by not in PLACES:
        raise ValueError(f"by must be one of {', '.join(PLACES)}, not {by!r}")
    column = PLACES[by]
    _data.require(audience.places, [column, "views"], f"views by {by}")
    labels = _data.labels(audience.places, column)
    per = audience.places["views"].groupby(labels.to_numpy()).sum().astype("int64")
    per = per.sort_values(ascending=False, kind="stable")
    if len(per) > n:
        rest = per.iloc[n:].sum()
        per = pd.concat([per.iloc[:n], pd.Series({"(others)": rest})]).astype("int64")
    table = pd.DataFrame({"views": per})
    table.index = pd.Index([str(i) for i in table.index], name=by)
    table["views_share"] = _data.share(table["views"], int(per.sum()))
    return table
