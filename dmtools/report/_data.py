"""Column access for report code: typed views of a video frame that tolerate missing data.

A frame coming from ``dmtools.frames`` already has the schema dtypes; one read back from a CSV
or built by hand may not. Every accessor here returns a Series of the expected dtype (values
that cannot be converted become NA) so the summaries work on both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from dmtools.errors import InputError, Problem
from dmtools.visibility import VIEW_ATTR
from dmtools.visibility import view_note as view_note

UNKNOWN = "(unknown)"
F = TypeVar("F", bound=Callable[..., Any])


def keeps_view(function: F) -> F:
    """Decorate a summary ``f(df, ...)``: its result carries ``df``'s partial-view note, so
    tables built from a frame of public videos only say so (:func:`dmtools.report.styled`)."""

    @functools.wraps(function)
    def wrapper(df: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        out = function(df, *args, **kwargs)
        view = getattr(df, "attrs", {}).get(VIEW_ATTR)
        if view is not None and hasattr(out, "attrs"):
            out.attrs[VIEW_ATTR] = dict(view)
        return out

    return wrapper  # type: ignore[return-value]


def zone(df: pd.DataFrame, column: str) -> str:
    """The time zone of ``column`` (``UTC`` unless the frame was loaded with ``tz=``)."""
    dtype = df[column].dtype if column in df.columns else None
    return str(dtype.tz) if isinstance(dtype, pd.DatetimeTZDtype) else "UTC"


def local_times(df: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as timestamps in the frame's own time zone (see :func:`zone`)."""
    return times(df, column).dt.tz_convert(zone(df, column))


def require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`InputError` naming every column of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise InputError(
            f"{what} needs column(s) {names}; the frame has: {', '.join(map(str, df.columns)) or 'no columns'}",
            [Problem(None, c, f"column missing (needed by {what})") for c in missing],
        )


def ids(df: pd.DataFrame) -> pd.Index:
    """The video ids of ``df`` (its index), named ``id``."""
    return pd.Index(df.index.astype("string"), name="id")


def ints(df: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as nullable integers (all NA when the column is absent)."""
    if column not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="Int64")
    s = df[column]
    if s.dtype != "Int64":
        s = pd.to_numeric(s, errors="coerce").round().astype("Int64")
    return s


def times(df: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as UTC timestamps (all NaT when the column is absent); ISO 8601 text and
    epoch seconds are converted, anything else becomes NaT."""
    if column not in df.columns:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    s = df[column]
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        s = pd.to_datetime(s, unit="s", utc=True, errors="coerce")  # epoch seconds, as on the wire
    elif not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601")
    elif str(s.dt.tz) != "UTC":
        s = s.dt.tz_convert("UTC")
    return s


def bools(df: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as nullable booleans (all NA when the column is absent)."""
    if column not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="boolean")
    s = df[column]
    if s.dtype == "boolean":
        return s
    if s.dtype == bool:
        return s.astype("boolean")
    mapping = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    text = s.astype("string").str.strip().str.lower()
    return text.map(mapping, na_action="ignore").astype("boolean")


def texts(df: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as nullable strings (all NA when the column is absent)."""
    if column not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    s = df[column]
    return s if s.dtype == "string" else s.astype("string")


def labels(df: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as plain strings with NA replaced by ``"(unknown)"`` (for grouping)."""
    s = texts(df, column).str.strip()
    return s.mask(s.isna() | (s == ""), UNKNOWN).astype(object)


def tag_pairs(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (video, distinct tag): columns ``pos`` (row position in ``df``) and ``tag``.

    Tags are stripped and blanks dropped; lists, tuples and arrays (as read back from Parquet)
    are accepted, and a string is taken as comma-separated tags.
    """
    if "tags" not in df.columns or len(df) == 0:
        return pd.DataFrame(
            {"pos": pd.Series([], dtype="int64"), "tag": pd.Series([], dtype=object)}
        )
    column = pd.Series(df["tags"].to_numpy(dtype=object), index=pd.RangeIndex(len(df)))
    is_text = column.map(lambda v: isinstance(v, str))
    if is_text.any():
        column = column.where(~is_text, column[is_text].str.split(","))
    exploded = column.explode()
    tags = exploded.astype("string").str.strip()
    keep = tags.notna() & (tags != "")
    pairs = pd.DataFrame(
        {"pos": tags.index[keep].astype("int64"), "tag": tags[keep].astype(object).to_numpy()}
    )
    return pairs.drop_duplicates(ignore_index=True)


def to_timestamp(value: str | datetime | pd.Timestamp | np.datetime64) -> pd.Timestamp:
    """``value`` as a UTC timestamp; a naive value is taken as UTC."""
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise InputError(f"as_of {value!r} is not a date")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def resolve_as_of(
    df: pd.DataFrame, as_of: str | datetime | pd.Timestamp | np.datetime64 | None
) -> pd.Timestamp | None:
    """``as_of`` as a UTC timestamp, defaulting to the latest ``created_time``/``updated_time``.

    Returns None when no date is given and the frame holds no timestamp at all.
    """
    if as_of is not None:
        return to_timestamp(as_of)
    latest = [times(df, c).max() for c in ("created_time", "updated_time") if c in df.columns]
    known = [t for t in latest if not pd.isna(t)]
    return max(known) if known else None


def share(part: pd.Series, whole: float | int) -> pd.Series:
    """``part / whole`` as floats (NaN when ``whole`` is 0)."""
    values = part.astype("Float64").astype(float)
    return values / whole if whole else values * np.nan
