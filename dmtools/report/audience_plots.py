"""Charts of the audience part: ``plot_*(audience, ax=None, ...) -> Axes``.

The numbers come from the pure summaries of :mod:`dmtools.report.audience`; each function
draws on ``ax`` (a new figure that shows as a PNG in Jupyter when omitted) and returns it.
No pyplot, no global style.

Example:
    >>> plot_audience_over_time(aud, metric="watch_hours").figure    # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from dmtools.report import _plotting as P
from dmtools.report import audience as A

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "AUDIENCE_PANELS",
    "audience_figures",
    "plot_audience_over_time",
    "plot_period_comparison",
    "plot_top_videos_in_period",
    "plot_views_by",
]

_LABELS = {"views": "Views", "watch_hours": "Watch time (hours)"}


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def plot_audience_over_time(
    audience: A.Audience,
    ax: Axes | None = None,
    *,
    metric: str = "views",
    window: int = 7,
    title: str | None = None,
) -> Axes:
    """Daily ``metric`` (``"views"`` or ``"watch_hours"``) as bars, with its ``window``-day
    average as a line.

    Example:
        >>> plot_audience_over_time(aud, metric="views").figure   # doctest: +SKIP
    """
    if metric not in _LABELS:
        raise ValueError(f"metric must be one of {', '.join(_LABELS)}, not {metric!r}")
    table = A.daily_views(audience, window=window)
    ax = P.new_axes(ax, (10, 3.4))
    label = _LABELS[metric]
    title = title or f"{label} per day, {audience.label}"
    if table.empty or not table[metric].any():
        return P.no_data(ax, title, "No views in the period")
    days = pd.DatetimeIndex(table.index).tz_localize(None).to_numpy()
    ax.bar(days, table[metric].to_numpy(), width=0.8, color="#bcd3ea", label="per day")
    ax.plot(days, table[f"{metric}_avg"].to_numpy(), color=P.ACCENT, linewidth=2,
            label=f"{window}-day average")  # fmt: skip
    _date_axis(ax)
    _legend_above(ax, float(table[metric].max()), integer=metric == "views")
    return P.finish(ax, title, "", label)


def _legend_above(ax: Axes, top: float, *, integer: bool = True) -> None:
    """Number ticks, a light grid, and the legend in a band above the highest value."""
    ax.set_ylim(0, top * 1.3 if top > 0 else 1)
    P.thousands(ax, "y", integer=integer)
    ax.grid(axis="y", color="#e2e8f0", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(fontsize=P.LABEL_SIZE - 1, frameon=False, loc="upper left", ncols=2)


def plot_period_comparison(
    audience: A.Audience, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Daily views of this period and of the one before, day by day, with the change.

    Example:
        >>> plot_period_comparison(aud).figure   # doctest: +SKIP
    """
    comparison = A.period_comparison(audience)
    table = A.period_days(audience)
    now, before = table["this_period"].to_numpy(), table["previous_period"].to_numpy()
    ax = P.new_axes(ax, (8, 3.4))
    change = float(comparison["change_share"].iloc[0])  # views
    shown = "" if change != change else f" ({change:+.0%})"
    title = title or f"Views: this period against the one before{shown}"
    if not (now.any() or before.any()):
        return P.no_data(ax, title, "No views in either period")
    days = table.index.to_numpy()
    ax.plot(days, before, color=P.MUTED, linewidth=1.6, linestyle="--",
            label=f"previous {audience.days} days")  # fmt: skip
    ax.plot(days, now, color=P.ACCENT, linewidth=2, label=f"last {audience.days} days")
    ax.set_xlim(1, audience.days)
    _legend_above(ax, float(max(now.max(), before.max())))
    return P.finish(ax, title, "Day of the period", "Views")


def plot_top_videos_in_period(
    audience: A.Audience,
    videos: pd.DataFrame | None = None,
    ax: Axes | None = None,
    *,
    n: int = 10,
    title: str | None = None,
) -> Axes:
    """The ``n`` videos with the most views in the period (titles from ``videos``).

    Example:
        >>> plot_top_videos_in_period(aud, videos=df).figure   # doctest: +SKIP
    """
    table = A.top_videos_in_period(audience, videos, n)
    ax = P.new_axes(ax, (8, 0.32 * max(len(table), 1) + 1.5))
    title = title or f"Top {n} videos by views, last {audience.days} days"
    if table.empty:
        return P.no_data(ax, title, "No views in the period")
    titles = table["title"] if "title" in table else pd.Series(pd.NA, index=table.index)
    names = [
        str(name) if isinstance(name, str) and name else str(video)
        for video, name in zip(table.index, titles, strict=True)
    ]
    P.barh(ax, [P.text(name, 45) for name in names], table["views"].astype(float).tolist())
    return P.finish(ax, title, "Views")


def plot_views_by(
    audience: A.Audience,
    by: str = "country",
    ax: Axes | None = None,
    *,
    n: int = 10,
    title: str | None = None,
) -> Axes:
    """Views in the period by ``"country"`` or ``"device"`` (the rest as one bar).

    Example:
        >>> plot_views_by(aud, "device").figure   # doctest: +SKIP
    """
    table = A.views_by(audience, by, n)
    ax = P.new_axes(ax, (7, 0.32 * max(len(table), 1) + 1.5))
    title = title or f"Views by {by}, last {audience.days} days"
    if table.empty or not table["views"].any():
        return P.no_data(ax, title, "No views in the period")
    P.barh(ax, list(table.index), table["views"].astype(float).tolist())
    return P.finish(ax, title, "Views")


#: The audience charts of the channel report: (key, title, size, draw).
AUDIENCE_PANELS: tuple[tuple[str, str, tuple[float, float], Any], ...] = (
    ("audience-views", "Views per day", (10, 3.4),
     lambda a, v, ax: plot_audience_over_time(a, ax, metric="views")),
    ("audience-watch-time", "Watch time per day", (10, 3.4),
     lambda a, v, ax: plot_audience_over_time(a, ax, metric="watch_hours")),
    ("audience-periods", "This period against the one before", (8, 3.4),
     lambda a, v, ax: plot_period_comparison(a, ax)),
    ("audience-top-videos", "Top videos in the period", (8, 4.7),
     lambda a, v, ax: plot_top_videos_in_period(a, v, ax)),
    ("audience-countries", "Views by country", (7, 4.7),
     lambda a, v, ax: plot_views_by(a, "country", ax)),
    ("audience-devices", "Views by device", (7, 2.8),
     lambda a, v, ax: plot_views_by(a, "device", ax)),
)  # fmt: skip


def audience_figures(audience: A.Audience, videos: pd.DataFrame | None = None) -> dict[str, Any]:
    """Each chart of :data:`AUDIENCE_PANELS` on its own figure, by key."""
    from dmtools.report._figure import ReportAxes, ReportFigure

    figures = {}
    for key, _title, size, draw in AUDIENCE_PANELS:
        fig = ReportFigure(figsize=size, layout="constrained")
        draw(audience, videos, fig.add_subplot(axes_class=ReportAxes))
        figures[key] = fig
    return figures
