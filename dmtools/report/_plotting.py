"""Drawing helpers shared by the ``plot_*`` functions (matplotlib imported lazily).

Nothing here touches pyplot or rcParams: figures are plain :class:`matplotlib.figure.Figure`
objects and styling is passed per call.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from dmtools.visibility import view_note

if TYPE_CHECKING:
    from matplotlib.axes import Axes

F = TypeVar("F", bound=Callable[..., Any])
#: Added to the title of a chart drawn from a frame of public videos only.
PARTIAL_SUFFIX = " (public videos only)"

ACCENT = "#2b6cb0"
SECOND = "#dd8452"
MUTED = "#a0aec0"
LABEL_SIZE = 9
TITLE_SIZE = 11

_SPACES = re.compile(r"\s+")


def new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """``ax`` itself, or the Axes of a new constrained-layout figure (no pyplot) that shows
    as a PNG in Jupyter, like its figure (see :mod:`dmtools.report._figure`)."""
    if ax is not None:
        return ax
    from dmtools.report._figure import ReportAxes, ReportFigure

    fig = ReportFigure(figsize=size, layout="constrained")
    return fig.add_subplot(axes_class=ReportAxes)


def text(value: object, width: int | None = None) -> str:
    """``value`` as a one-line label, shortened to ``width`` characters with an ellipsis."""
    missing = value is None or value is pd.NA or (isinstance(value, float) and value != value)
    label = "" if missing else _SPACES.sub(" ", str(value)).strip()
    if not label:
        label = "(no title)"
    if width is not None and len(label) > width:
        label = label[: width - 1].rstrip() + "…"
    return label


def plain(value: str) -> str:
    """``value`` with dollar signs escaped, so user text is never read as mathtext."""
    return value.replace("$", r"\$")


def number(value: float) -> str:
    """A count with thousands separators (``12,345``); small fractions keep 2 digits."""
    if value != value:
        return "–"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def compact(value: float) -> str:
    """A tick label: thousands separators up to 9,999, then ``12k``, ``1.5M``, ``2B``."""
    if value != value:
        return ""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= size:
            scaled = value / (size if suffix != "k" else 1e3)
            return f"{scaled:,.1f}".rstrip("0").rstrip(".") + suffix
    return number(value)


def thousands(ax: Axes, axis: str = "x", *, integer: bool = True) -> None:
    """Readable number ticks on ``axis``: ``2,500``, ``40k``, ``1.2M`` (few, so they never touch);
    ``integer`` keeps counts on whole numbers."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10], integer=integer))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: compact(v)))


def finish(ax: Axes, title: str, xlabel: str = "", ylabel: str = "") -> Axes:
    """Title, axis labels and a light frame."""
    ax.set_title(plain(title), fontsize=TITLE_SIZE, loc="left", fontweight="bold")
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=LABEL_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def category_ticks(ax: Axes, names: Sequence[str]) -> None:
    """Category labels under vertical bars, slanted so neighbours never overlap."""
    ax.set_xticks(
        range(len(names)),
        [plain(text(n)) for n in names],
        rotation=30,
        ha="right",
        rotation_mode="anchor",
    )
    ax.tick_params(axis="x", length=0)


def no_data(ax: Axes, title: str, note: str = "No data") -> Axes:
    """An empty panel saying why there is nothing to draw."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(MUTED)
    ax.text(
        0.5,
        0.5,
        plain(note),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=LABEL_SIZE + 1,
        color="#4a5568",
        wrap=True,
    )
    ax.set_title(plain(title), fontsize=TITLE_SIZE, loc="left", fontweight="bold")
    return ax


def barh(
    ax: Axes,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    color: str = ACCENT,
    annotate: Callable[[float], str] = number,
    integer: bool = True,
) -> None:
    """Horizontal bars, first item on top, each annotated with its value at the bar's end."""
    positions = list(range(len(values)))
    clean = [0.0 if v != v else float(v) for v in values]
    ax.barh(positions, clean, color=color, height=0.7)
    ax.set_yticks(positions, [plain(text(label)) for label in labels])
    ax.set_ylim(len(values) - 0.5, -0.5)
    top = max(clean, default=0.0)
    ax.set_xlim(0, top * 1.18 if top > 0 else 1)
    for pos, raw, v in zip(positions, values, clean, strict=True):
        ax.text(
            v + top * 0.01,
            pos,
            annotate(raw),
            va="center",
            ha="left",
            fontsize=LABEL_SIZE - 1,
            color="#2d3748",
        )
    ax.tick_params(axis="y", length=0)
    thousands(ax, "x", integer=integer)
    ax.grid(axis="x", color="#e2e8f0", linewidth=0.8)
    ax.set_axisbelow(True)


def marks_view(function: F) -> F:
    """Decorate ``plot_*(df, ...)``: a chart of a frame that could not see private or
    unpublished videos says "(public videos only)" in its title."""

    @functools.wraps(function)
    def wrapper(df: Any, *args: Any, **kwargs: Any) -> Any:
        ax = function(df, *args, **kwargs)
        if view_note(df) and not ax.get_title(loc="left").endswith(PARTIAL_SUFFIX):
            ax.set_title(
                ax.get_title(loc="left") + PARTIAL_SUFFIX,
                fontsize=TITLE_SIZE,
                loc="left",
                fontweight="bold",
            )
        return ax

    return wrapper  # type: ignore[return-value]


#: Values a chart by group can show: name -> (summary column, axis label).
METRICS = {
    "views": ("views", "Views"),
    "videos": ("videos", "Videos"),
    "views_per_video": ("views_per_video", "Views per video"),
    "likes_per_view": ("likes_per_view", "Likes per 1,000 views"),
    "comments_per_view": ("comments_per_view", "Comments per 1,000 views"),
}


def metric(table: pd.DataFrame, name: str) -> tuple[pd.Series, str]:
    """The values of metric ``name`` in a summary (rates per 1,000 views) and its label."""
    if name not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {name!r}")
    column, label = METRICS[name]
    values = table[column].astype("Float64").astype(float)
    return (values * 1000 if name.endswith("_per_view") else values), label
