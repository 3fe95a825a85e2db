"""How report numbers read: one set of rules for the HTML report and for notebook tables.

:func:`cell_text` turns one value into text (thousands separators, shares as percentages,
rates per 1,000 views, months as ``Dec 2024``, dates in the frame's own time zone), and
:func:`styled` applies the same rules to a whole summary frame for display in Jupyter
(a :class:`pandas.io.formats.style.Styler`; the numbers in the frame are not changed).

Example:
    >>> from dmtools import report
    >>> report.styled(report.by_category(df))          # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dmtools.report import _data

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = ["cell_text", "header", "is_number", "styled"]

#: Text shown for a missing value.
MISSING = "–"
#: Columns and index names whose timestamps are calendar months.
_MONTHS = frozenset({"month"})
#: Numeric columns shown with one decimal even when the value is whole.
_DECIMALS = frozenset({"views_per_video", "views_per_day"})


def scalar(value: object) -> object:
    """NumPy scalars as the Python values they hold."""
    return value.item() if isinstance(value, np.generic) else value


def _timestamp(value: pd.Timestamp, column: str) -> str:
    if column in _MONTHS:
        return value.strftime("%b %Y")
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M")
    return value.strftime("%Y-%m-%d %H:%M ") + (value.tzname() or "")


def cell_text(value: object, column: str) -> str:
    """One value of ``column`` as report text (``–`` when missing)."""
    value = scalar(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, float) and value != value:
        return MISSING
    if isinstance(value, pd.Timestamp):
        return _timestamp(value, column)
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if column.endswith("share"):
            return f"{value:.1%}"
        if column.endswith("_per_view"):
            return f"{value * 1000:,.1f}"
        if float(value).is_integer() and column not in _DECIMALS:
            return f"{value:,.0f}"
        return f"{value:,.1f}"
    return str(value)


def is_number(value: object) -> bool:
    """True for numbers (not booleans): right-aligned in tables."""
    value = scalar(value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def header(column: str) -> str:
    """A column name as a table header (``channel`` reads ``category``)."""
    if column == "channel":
        return "category"
    if column.endswith("_per_view"):
        return column.replace("_per_view", "").replace("_", " ") + " per 1,000 views"
    return column.replace("_", " ")


def styled(frame: pd.DataFrame, *, caption: str | None = None) -> Styler:
    """``frame`` formatted for reading in a notebook, by the rules of :func:`cell_text`.

    Numbers get thousands separators, shares read as percentages, rates as "per 1,000
    views", months as ``Dec 2024``; headers lose their underscores. A frame built from a
    partial view of the channel (see :func:`dmtools.report.view_note`) says so in its
    caption. The data itself is unchanged (``styled(t).data is t``).

    Args:
        frame: a summary (or any frame).
        caption: text above the table (default: the partial-view note, if any).

    Example:
        >>> report.styled(report.top_videos(df, 10))       # doctest: +SKIP
    """
    note = _data.view_note(frame)
    shown = caption if caption is not None else note
    if caption is not None and note:
        shown = f"{caption} ({note})"
    formats: dict[Any, Any] = {
        column: (lambda v, c=str(column): cell_text(v, c)) for column in frame.columns
    }
    index_name = str(frame.index.name or "")
    styler = frame.style.format(formats).format_index(lambda v: cell_text(v, index_name), axis=0)
    styler = styler.format_index(lambda v: header(str(v)), axis=1)
    styler = styler.set_properties(
        subset=[c for c in frame.columns if _numeric(frame[c])], **{"text-align": "right"}
    )
    if shown:
        styler = styler.set_caption(shown)
    return styler


def _numeric(column: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column.dtype)) and not pd.api.types.is_bool_dtype(
        column.dtype
    )
