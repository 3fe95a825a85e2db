"""Channel reports: pure summaries as DataFrames, matplotlib charts, and a one-file HTML report.

* summaries (:mod:`dmtools.report.summaries`, :mod:`~dmtools.report.distributions`,
  :mod:`~dmtools.report.health`, :mod:`~dmtools.report.compare`) take a video frame and return DataFrames; no drawing,
  no clock, no I/O; :mod:`dmtools.report.audience` does the same for the Reporting API's
  figures (an ``Audience``: views per day, period against period, top videos, countries,
  devices), drawn by :mod:`dmtools.report.audience_plots`;
* ``plot_*(df, ax=None, ...)`` draw one chart on ``ax`` (a new figure when omitted) and return
  the Axes; in Jupyter, show ``ax.figure``;
* :func:`channel_report` writes a self-contained HTML file plus PNGs;
* :func:`styled` formats any summary for reading in a notebook (separators, percentages).

Charts, figures and the report result show as pictures (``image/png``) in Jupyter with no
``%matplotlib`` magic. A frame that could not see private and unpublished videos (a partial
view, see :func:`view_note`) makes every summary, chart and report say so.

matplotlib is imported only when something is drawn.

Example:
    >>> from dmtools import report
    >>> report.health_check(df).counts                       # doctest: +SKIP
    >>> ax = report.plot_uploads_per_month(df); ax.figure    # doctest: +SKIP
    >>> report.channel_report(df, "report.html").html        # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "DURATION_BINS",
    "PROBLEMS",
    "HealthReport",
    "ReportResult",
    "SnapshotDiff",
    "bottom_videos",
    "by_category",
    "by_language",
    "channel_report",
    "compare_snapshots",
    "duration_distribution",
    "engagement_by",
    "health_check",
    "key_figures",
    "overview_figure",
    "plot_by_category",
    "plot_by_language",
    "plot_duration_distribution",
    "plot_engagement",
    "plot_health",
    "plot_top_tags",
    "plot_top_videos",
    "plot_uploads_per_month",
    "plot_views_distribution",
    "plot_views_gained",
    "plot_visibility",
    "status_breakdown",
    "styled",
    "top_tags",
    "top_videos",
    "uploads_per_month",
    "views_distribution",
    "view_note",
    "views_per_day",
    "visibility_breakdown",
]

_HOME = {
    "compare": ("SnapshotDiff", "compare_snapshots"),
    "health": ("PROBLEMS", "HealthReport", "health_check"),
    "html": ("ReportResult", "channel_report", "overview_figure"),
    "distributions": ("DURATION_BINS", "duration_distribution", "views_distribution"),
    "summaries": (
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
    ),
    "plots": tuple(n for n in __all__ if n.startswith("plot_")),
    "_format": ("styled",),
    "_data": ("view_note",),
}
_WHERE = {name: module for module, names in _HOME.items() for name in names}

if TYPE_CHECKING:
    from dmtools.report._data import view_note
    from dmtools.report._format import styled
    from dmtools.report.compare import SnapshotDiff, compare_snapshots
    from dmtools.report.distributions import (
        DURATION_BINS,
        duration_distribution,
        views_distribution,
    )
    from dmtools.report.health import PROBLEMS, HealthReport, health_check
    from dmtools.report.html import ReportResult, channel_report, overview_figure
    from dmtools.report.plots import (
        plot_by_category,
        plot_by_language,
        plot_duration_distribution,
        plot_engagement,
        plot_health,
        plot_top_tags,
        plot_top_videos,
        plot_uploads_per_month,
        plot_views_distribution,
        plot_views_gained,
        plot_visibility,
    )
    from dmtools.report.summaries import (
        bottom_videos,
        by_category,
        by_language,
        engagement_by,
        key_figures,
        status_breakdown,
        top_tags,
        top_videos,
        uploads_per_month,
        views_per_day,
        visibility_breakdown,
    )


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dmtools.report' has no attribute {name!r}")
    value = getattr(import_module(f"dmtools.report.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
