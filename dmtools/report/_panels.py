"""The charts of a channel report, and the overview figure that puts them together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from dmtools.errors import InputError
from dmtools.report import _data, plots
from dmtools.report import _plotting as P

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Panel:
    """One chart: a key (file name, HTML id), a title and how to draw it."""

    key: str
    title: str
    size: tuple[float, float]
    draw: Callable[[pd.DataFrame, Axes, pd.Timestamp | None], Axes]


PANELS: tuple[Panel, ...] = (
    Panel(
        "uploads",
        "Uploads per month",
        (10, 3.2),
        lambda df, ax, _t: plots.plot_uploads_per_month(df, ax),
    ),
    Panel(
        "categories",
        "Views by category",
        (7, 5.5),
        lambda df, ax, _t: plots.plot_by_category(df, ax),
    ),
    Panel(
        "engagement",
        "Engagement by category",
        (7, 5.5),
        lambda df, ax, _t: plots.plot_engagement(df, ax, n=17),
    ),
    Panel(
        "languages",
        "Views by language",
        (7, 4.5),
        lambda df, ax, _t: plots.plot_by_language(df, ax, n=10),
    ),
    Panel(
        "top-videos",
        "Top 10 videos by views",
        (9, 4.2),
        lambda df, ax, t: plots.plot_top_videos(df, ax, n=10, as_of=t),
    ),
    Panel(
        "trending",
        "Top 10 videos by views per day",
        (9, 4.2),
        lambda df, ax, t: plots.plot_top_videos(df, ax, n=10, by="views_per_day", as_of=t),
    ),
    Panel(
        "durations",
        "Videos by duration",
        (7, 3.5),
        lambda df, ax, _t: plots.plot_duration_distribution(df, ax),
    ),
    Panel(
        "views-distribution",
        "Videos by total views",
        (7, 3.5),
        lambda df, ax, _t: plots.plot_views_distribution(df, ax),
    ),
    Panel("visibility", "Visibility", (7, 2.6), lambda df, ax, _t: plots.plot_visibility(df, ax)),
    Panel("tags", "Top 15 tags", (7, 5), lambda df, ax, _t: plots.plot_top_tags(df, ax, n=15)),
    Panel("health", "Metadata health", (7, 3.2), lambda df, ax, _t: plots.plot_health(df, ax)),
)

_BY_KEY = {p.key: p for p in PANELS}

# Rows of the overview; a key repeated across columns spans them.
_MOSAIC = [
    ["uploads", "uploads", "uploads"],
    ["categories", "engagement", "languages"],
    ["top-videos", "top-videos", "tags"],
    ["trending", "trending", "health"],
    ["durations", "views-distribution", "visibility"],
]
_HEIGHTS = [0.7, 1.35, 1.0, 0.9, 0.85]


def missing_note(exc: InputError) -> str:
    """ "Not available" text for a summary that lacks columns."""
    columns = [p.column for p in exc.problems if p.column]
    if columns:
        plural = "s" if len(columns) > 1 else ""
        return f"Not available: missing column{plural} " + ", ".join(f"'{c}'" for c in columns)
    return f"Not available: {exc.message}"


def draw(panel: Panel, df: pd.DataFrame, ax: Axes, as_of: pd.Timestamp | None) -> Axes:
    """Draw ``panel``; a missing column becomes a note on the panel instead of an error."""
    try:
        return panel.draw(df, ax, as_of)
    except InputError as exc:
        ax.clear()
        return P.no_data(ax, panel.title, missing_note(exc))


def _headline(df: pd.DataFrame, as_of: pd.Timestamp | None) -> str:
    parts = [f"{len(df):,} videos"]
    if "views_total" in df.columns:
        parts.append(f"{int(_data.ints(df, 'views_total').sum()):,} views")
    if as_of is not None:
        parts.append(f"as of {as_of:%Y-%m-%d %H:%M} UTC")
    if _data.view_note(df):
        parts.append("public videos only (private and unpublished not visible to this login)")
    return " · ".join(parts)


def overview(df: pd.DataFrame, *, title: str, as_of: pd.Timestamp | None) -> Figure:
    """Every panel on one figure: one constrained-layout subfigure per row, so a row's
    long labels never push the panels of another row around."""
    from dmtools.report._figure import ReportFigure

    fig = ReportFigure(figsize=(17, 22.5), layout="constrained")
    header, *rows = cast(Any, fig.subfigures(len(_MOSAIC) + 1, 1, height_ratios=[0.1, *_HEIGHTS]))
    header.text(0.01, 0.62, P.plain(P.text(title)), fontsize=18, fontweight="bold", va="center")
    header.text(0.01, 0.12, _headline(df, as_of), fontsize=11, color="#4a5568", va="center")
    for row, keys in zip(rows, _MOSAIC, strict=True):
        axes = row.subplot_mosaic([keys])
        for key in dict.fromkeys(keys):
            draw(_BY_KEY[key], df, axes[key], as_of)
    return fig


def single(panel: Panel, df: pd.DataFrame, as_of: pd.Timestamp | None) -> Figure:
    """``panel`` alone on its own figure."""
    from dmtools.report._figure import ReportAxes, ReportFigure

    fig = ReportFigure(figsize=panel.size, layout="constrained")
    draw(panel, df, fig.add_subplot(axes_class=ReportAxes), as_of)
    return fig
