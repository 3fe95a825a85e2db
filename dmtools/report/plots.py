"""One chart per function: ``plot_*(df, ax=None, ...) -> Axes``.

Each function computes its numbers with the matching pure summary, draws on ``ax`` (or on a
new :class:`matplotlib.figure.Figure` when ``ax`` is None) and returns the Axes. Nothing here
uses pyplot, shows a window or changes global style. An empty frame gives a "No data" panel;
a missing column raises :class:`dmtools.errors.InputError` naming it.

Example:
    >>> from dmtools import report
    >>> ax = report.plot_top_videos(df, n=10, by="views_per_day")
    >>> ax.figure.savefig("top.png")   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dmtools.report import _plotting as P
from dmtools.report import distributions as D
from dmtools.report import summaries as S
from dmtools.report.compare import SnapshotDiff
from dmtools.report.health import health_check
from dmtools.schema import LIMITS_PUBLIC, FieldLimits

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
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
]


@P.marks_view
def plot_uploads_per_month(
    df: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Bars of videos uploaded per month, on a date axis.

    Example:
        >>> plot_uploads_per_month(df).figure   # doctest: +SKIP
    """
    import matplotlib.dates as mdates

    ax = P.new_axes(ax, (9, 3.5))
    title = title or "Uploads per month"
    table = S.uploads_per_month(df)
    if table.empty:
        return P.no_data(ax, title, "No upload dates")
    x = mdates.date2num(table.index.to_numpy())
    ax.bar(x + 1, table["uploads"].to_numpy(), width=27, align="edge", color=P.ACCENT)
    if len(table) <= 36:  # label the bars themselves: "Mar", "Apr"... with the year when it changes
        step = -(-len(table) // 12)
        shown = table.index[::step]
        labels, year = [], None
        for day in shown:
            labels.append(f"{day:%b}" + (f"\n{day.year}" if day.year != year else ""))
            year = day.year
        ax.set_xticks(x[::step] + 14.5, labels)
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlim(x[0] - 3, x[-1] + 31)
    P.thousands(ax, "y")
    ax.grid(axis="y", color="#e2e8f0", linewidth=0.8)
    ax.set_axisbelow(True)
    return P.finish(ax, title, "", "Videos uploaded")


@P.marks_view
def plot_by_category(
    df: pd.DataFrame, ax: Axes | None = None, *, metric: str = "views", title: str | None = None
) -> Axes:
    """Horizontal bars per category of ``metric``: views, videos, views_per_video,
    likes_per_view or comments_per_view (the last two per 1,000 views).

    Example:
        >>> plot_by_category(df, metric="likes_per_view").figure   # doctest: +SKIP
    """
    table = S.by_category(df)
    values, label = P.metric(table, metric)
    ax = P.new_axes(ax, (7, 0.3 * len(table) + 1.5))
    title = title or f"{label} by category"
    if table.empty or not values.notna().any():
        return P.no_data(ax, title)
    order = values.sort_values(ascending=False, na_position="last").index
    P.barh(
        ax,
        table.loc[order, "label"].tolist(),
        values[order].tolist(),
        integer=metric in ("views", "videos"),
    )
    return P.finish(ax, title, label)


@P.marks_view
def plot_by_language(
    df: pd.DataFrame,
    ax: Axes | None = None,
    *,
    metric: str = "views",
    n: int = 10,
    title: str | None = None,
) -> Axes:
    """Horizontal bars of ``metric`` for the ``n`` languages with the most views; for counts
    (views, videos) the remaining languages are summed into one "other" bar.

    Example:
        >>> plot_by_language(df, n=8).figure   # doctest: +SKIP
    """
    table = S.by_language(df)
    values, label = P.metric(table, metric)
    ax = P.new_axes(ax, (7, 0.3 * min(len(table), n + 1) + 1.5))
    title = title or f"{label} by language"
    if table.empty or not values.notna().any():
        return P.no_data(ax, title)
    names = [str(i) for i in table.index[:n]]
    shown = values.iloc[:n].tolist()
    rest = values.iloc[n:]
    if len(rest) and metric in ("views", "videos"):
        names.append(f"{len(rest)} other{'s' if len(rest) > 1 else ''}")
        shown.append(float(rest.sum()))
    P.barh(ax, names, shown, integer=metric in ("views", "videos"))
    return P.finish(ax, title, label)


@P.marks_view
def plot_engagement(
    df: pd.DataFrame,
    ax: Axes | None = None,
    *,
    by: str = "channel",
    n: int = 12,
    title: str | None = None,
) -> Axes:
    """Likes and comments per 1,000 views for the ``n`` groups of ``by`` with the most views.

    Example:
        >>> plot_engagement(df, by="language").figure   # doctest: +SKIP
    """
    table = S.by_category(df) if by == "channel" else S.engagement_by(df, by)
    table = table[table["views"].fillna(0) > 0].head(n)
    ax = P.new_axes(ax, (7, 0.4 * len(table) + 1.5))
    what = "category" if by == "channel" else by
    title = title or f"Engagement by {what}"
    likes = table["likes_per_view"].astype(float) * 1000
    comments = table["comments_per_view"].astype(float) * 1000
    if table.empty or not (likes.notna().any() or comments.notna().any()):
        return P.no_data(ax, title, "No views, likes or comments")
    names = table["label"].tolist() if "label" in table else [str(i) for i in table.index]
    positions = pd.RangeIndex(len(table)).to_numpy()
    has_comments = bool(comments.notna().any())
    height = 0.4 if has_comments else 0.7
    ax.barh(
        positions - (height / 2 if has_comments else 0),
        likes.fillna(0),
        height=height,
        color=P.ACCENT,
        label="likes per 1,000 views",
    )
    if has_comments:
        ax.barh(
            positions + height / 2,
            comments.fillna(0),
            height=height,
            color=P.SECOND,
            label="comments per 1,000 views",
        )
    ax.set_yticks(positions, [P.plain(P.text(x)) for x in names])
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.legend(
        fontsize=P.LABEL_SIZE - 1,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.06),
        ncols=2,
        handlelength=1,
        columnspacing=1,
    )
    P.thousands(ax, "x", integer=False)
    ax.grid(axis="x", color="#e2e8f0", linewidth=0.8)
    ax.set_axisbelow(True)
    return P.finish(ax, title)


@P.marks_view
def plot_top_videos(
    df: pd.DataFrame,
    ax: Axes | None = None,
    *,
    n: int = 10,
    by: str = "views_total",
    as_of: S.AsOf = None,
    bottom: bool = False,
    title_width: int = 45,
    title: str | None = None,
) -> Axes:
    """The ``n`` videos with the most (``bottom=True``: least) ``by``, titles shortened to
    ``title_width`` characters. ``by="views_per_day"`` ranks by views per day since upload
    (see :func:`dmtools.report.views_per_day` for ``as_of``).

    Example:
        >>> plot_top_videos(df, n=15, by="views_per_day").figure   # doctest: +SKIP
    """
    rank = S.bottom_videos if bottom else S.top_videos
    table = rank(df, n, by=by, as_of=as_of)
    ax = P.new_axes(ax, (8, 0.32 * max(len(table), 1) + 1.5))
    what = (
        "Views per day"
        if by == "views_per_day"
        else by.replace("_total", "").replace("_", " ").capitalize()
    )
    title = title or f"{'Bottom' if bottom else 'Top'} {n} videos by {what.lower()}"
    if table.empty:
        return P.no_data(ax, title)
    names = table["title"].tolist() if "title" in table else [str(i) for i in table.index]
    values = pd.to_numeric(table[by], errors="coerce").astype(float).tolist()
    P.barh(ax, [P.text(t, title_width) for t in names], values, integer=by != "views_per_day")
    return P.finish(ax, title, what)


@P.marks_view
def plot_duration_distribution(
    df: pd.DataFrame,
    ax: Axes | None = None,
    *,
    bins: tuple[float, ...] = D.DURATION_BINS,
    title: str | None = None,
) -> Axes:
    """Bars of videos per duration bin (see :func:`dmtools.report.duration_distribution`).

    Example:
        >>> plot_duration_distribution(df).figure   # doctest: +SKIP
    """
    table = D.duration_distribution(df, bins)
    ax = P.new_axes(ax, (7, 3.5))
    title = title or "Videos by duration"
    if table["videos"].sum() == 0:
        return P.no_data(ax, title)
    positions = list(range(len(table)))
    colors = [P.MUTED if i == "(unknown)" else P.ACCENT for i in table.index]
    bars = ax.bar(positions, table["videos"].to_numpy(), color=colors, width=0.7)
    ax.bar_label(
        bars, labels=[P.number(v) for v in table["videos"]], fontsize=P.LABEL_SIZE - 1, padding=2
    )
    P.category_ticks(ax, list(table.index))
    ax.set_ylim(0, table["videos"].max() * 1.15)
    P.thousands(ax, "y")
    return P.finish(ax, title, "", "Videos")


@P.marks_view
def plot_views_distribution(
    df: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Videos per views bracket (0, 1–9, 10–99...): the long tail at a glance.

    Example:
        >>> plot_views_distribution(df).figure   # doctest: +SKIP
    """
    table = D.views_distribution(df)
    ax = P.new_axes(ax, (7, 3.5))
    title = title or "Videos by total views"
    if table["videos"].sum() == 0:
        return P.no_data(ax, title)
    positions = list(range(len(table)))
    bars = ax.bar(positions, table["videos"].to_numpy(), color=P.ACCENT, width=0.7)
    ax.bar_label(
        bars, labels=[P.number(v) for v in table["videos"]], fontsize=P.LABEL_SIZE - 1, padding=2
    )
    P.category_ticks(ax, list(table.index))
    ax.set_ylim(0, table["videos"].max() * 1.15)
    P.thousands(ax, "y")
    return P.finish(ax, title, "Views", "Videos")


@P.marks_view
def plot_visibility(df: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Videos by visibility (public, private, unpublished, both).

    Example:
        >>> plot_visibility(df).figure   # doctest: +SKIP
    """
    table = S.visibility_breakdown(df)
    ax = P.new_axes(ax, (6, 2.5))
    title = title or "Visibility"
    if table["videos"].sum() == 0:
        return P.no_data(ax, title)
    if P.view_note(df):  # only public videos were visible: no share, no zero bars
        P.barh(
            ax,
            ["public", "private or unpublished"],
            [float(table["videos"].get("public", 0)), float("nan")],
            annotate=lambda v: "not visible to this login" if v != v else P.number(v),
        )
        return P.finish(ax, title, "Videos")

    def with_share(v: float) -> str:
        return f"{P.number(v)} ({v / len(df):.0%})"

    P.barh(ax, list(table.index), table["videos"].tolist(), annotate=with_share)
    ax.set_xlim(0, table["videos"].max() * 1.35)
    return P.finish(ax, title, "Videos")


@P.marks_view
def plot_top_tags(
    df: pd.DataFrame, ax: Axes | None = None, *, n: int = 15, title: str | None = None
) -> Axes:
    """The ``n`` most used tags (videos carrying each).

    Example:
        >>> plot_top_tags(df, n=20).figure   # doctest: +SKIP
    """
    table = S.top_tags(df, n)
    ax = P.new_axes(ax, (7, 0.3 * max(len(table), 1) + 1.5))
    title = title or f"Top {n} tags"
    if table.empty:
        return P.no_data(ax, title, "No tags")
    P.barh(ax, [P.text(t, 30) for t in table.index], table["videos"].tolist())
    return P.finish(ax, title, "Videos")


@P.marks_view
def plot_health(
    df: pd.DataFrame,
    ax: Axes | None = None,
    *,
    limits: FieldLimits = LIMITS_PUBLIC,
    title: str | None = None,
) -> Axes:
    """Videos per metadata problem (see :func:`dmtools.report.health_check`); checks that
    could not run for lack of a column are labelled "not checked".

    Example:
        >>> plot_health(df).figure   # doctest: +SKIP
    """
    counts = health_check(df, limits=limits).counts
    ax = P.new_axes(ax, (7, 3.2))
    title = title or "Metadata health"
    if len(df) == 0:
        return P.no_data(ax, title)
    values = counts["videos"].astype("Float64").astype(float)

    def note(v: float) -> str:
        return "not checked" if v != v else f"{P.number(v)} ({v / len(df):.0%})"

    names = [str(p).replace("_", " ") for p in counts.index]
    P.barh(ax, names, values.tolist(), color=P.SECOND, annotate=note)
    top = float(values.max()) if values.notna().any() else 0.0
    ax.set_xlim(0, top * 1.4 if top > 0 else 1)
    return P.finish(ax, title, "Videos")


def plot_views_gained(
    diff: SnapshotDiff,
    ax: Axes | None = None,
    *,
    n: int = 15,
    title_width: int = 45,
    title: str | None = None,
) -> Axes:
    """The ``n`` videos that gained the most views between two snapshots
    (from :func:`dmtools.report.compare_snapshots`).

    Example:
        >>> plot_views_gained(compare_snapshots(last_week, today)).figure   # doctest: +SKIP
    """
    table = diff.videos[diff.videos["views_gained"].notna()].head(n)
    ax = P.new_axes(ax, (8, 0.32 * max(len(table), 1) + 1.5))
    title = title or f"Top {n} videos by views gained"
    if table.empty:
        return P.no_data(ax, title, "No video in both snapshots")
    names = [
        P.text(t, title_width) + (" (new)" if c == "new" else "")
        for t, c in zip(table["title"], table["change"], strict=True)
    ]
    P.barh(ax, names, table["views_gained"].astype(float).tolist())
    return P.finish(ax, title, "Views gained")
