"""Report CSV files into one typed DataFrame (the analytics frame's agreed shape).

Columns are the requested dimensions then the metrics, named as the API's lower-cased enum
names (``day``, ``video_id``, ``visitor_country``, ``views``, ``time_watched_seconds``...),
so a frame joins onto a :func:`dmtools.load_videos` frame with
``df.join(videos, on="video_id")``, and :meth:`dmtools.history.History.add_analytics` stores
it as it is. Types:

* ``day``, ``hour``, ``month`` (and ``minute``): timezone-aware timestamps, UTC (the API's
  days are UTC days; ``tz=`` converts the timestamps for display, a day stays the UTC day
  it was measured on); a month is its first day;
* other dimensions: pandas ``string`` (an empty cell is ``<NA>``: views outside any
  playlist have no ``playlist_id``);
* counts (views, seconds watched, uploads, impressions...): nullable ``Int64``;
* rates, averages, scores and money: ``float64`` (``view_through_rate`` is a percentage,
  as the API gives it).

Cells are read as text first, so a value such as ``NA`` (a playlist title) is not taken for
a missing one; a file whose header differs from the request, or a cell that is no number
where one is due, is an :class:`~dmtools.errors.APIError` naming the file, row and column.

Example:
    >>> frame = parse_csv(b"day,views\\n2026-04-01,1520\\n", query)      # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from dmtools import reporting_schema as rs
from dmtools.analytics.query import column_name
from dmtools.errors import APIError

if TYPE_CHECKING:
    from dmtools.analytics.query import ReportQuery

__all__ = ["empty_frame", "parse_csv", "stitch", "to_zone"]

#: Lower-cased dimensions holding a time.
TIME_COLUMNS = ("month", "day", "hour", "minute")


def _bad(what: str, where: str) -> APIError:
    return APIError(f"a report file cannot be read: {what} ({where})", status=200, type="bad_file")


def _dtype(column: str, query: ReportQuery) -> Any:
    if column in TIME_COLUMNS:
        return "datetime64[ns, UTC]"
    metric = column.upper()
    if metric not in query.metrics:
        return "string"
    return "Int64" if rs.is_count(metric) else "float64"


def empty_frame(query: ReportQuery) -> pd.DataFrame:
    """A frame with the request's columns and types and no rows."""
    return pd.DataFrame({c: pd.Series([], dtype=_dtype(c, query)) for c in query.columns})


def _typed(text: pd.Series, column: str, query: ReportQuery, name: str) -> pd.Series:
    kind = _dtype(column, query)
    if kind == "string":
        return text.astype("string")
    if kind.startswith("datetime"):
        values = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    else:
        values = pd.to_numeric(text, errors="coerce")
    broken = values.isna() & text.notna()
    if broken.any():
        row = int(broken.to_numpy().nonzero()[0][0]) + 2  # the header is line 1
        raise _bad(
            f"{text[broken].iloc[0]!r} in column {column} is not a {kind}", f"{name}, line {row}"
        )
    if kind == "Int64":
        if (values.dropna() % 1 != 0).any():
            raise _bad(f"column {column} holds fractions where counts are due", name)
        return values.astype("Int64")
    return values.astype(kind)


def parse_csv(data: bytes, query: ReportQuery, name: str = "report file") -> pd.DataFrame:
    """One CSV file of a report as a typed frame (see the module notes).

    Raises:
        APIError: a header other than the request's columns, or a cell of the wrong kind.
    """
    if not data.strip():
        return empty_frame(query)
    try:
        raw = pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _bad(str(exc).splitlines()[0], name) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if list(raw.columns) != query.columns:
        raise _bad(
            f"its columns are {', '.join(raw.columns)}, not {', '.join(query.columns)}", name
        )
    return pd.DataFrame({c: _typed(raw[c], c, query, name) for c in query.columns})


def stitch(parts: Sequence[pd.DataFrame], query: ReportQuery) -> pd.DataFrame:
    """The files of one or several reports as one frame, sorted by the dimensions.

    Reports of a request split over a long range cover disjoint dates: with a time dimension
    their rows are simply put together; without one, the rows of the same dimensions are
    added up (only additive metrics are allowed then, see :mod:`dmtools.analytics.query`).
    """
    frames = [p for p in parts if len(p)]
    if not frames:
        return empty_frame(query)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].copy()
    dims = [column_name(d) for d in query.dimensions]
    if len(parts) > 1 and not query.time_dimensions and dims:
        metrics = [column_name(m) for m in query.metrics]
        summed = frame.groupby(dims, dropna=False, sort=False)[metrics].sum(min_count=1)
        frame = summed.reset_index()
        for column in metrics:
            frame[column] = frame[column].astype(_dtype(column, query))
        for column in dims:
            frame[column] = frame[column].astype("string")
    elif len(parts) > 1 and not dims:
        frame = (
            frame.sum(min_count=1).to_frame().T.astype({c: _dtype(c, query) for c in query.columns})
        )
    if dims:
        frame = frame.sort_values(dims, kind="stable", na_position="last")
    return frame.reset_index(drop=True)[query.columns]


def to_zone(frame: pd.DataFrame, tz: str | None) -> pd.DataFrame:
    """The frame with its time columns converted to ``tz`` (None: left in UTC).

    Raises:
        InputError: an unknown time zone.
    """
    if tz is None:
        return frame
    from dmtools.errors import InputError, Problem

    out = frame.copy()
    for column in [c for c in TIME_COLUMNS if c in out.columns]:
        try:
            out[column] = out[column].dt.tz_convert(tz)
        except Exception:  # pytz/zoneinfo raise several kinds for an unknown zone
            raise InputError(
                "bad time zone", [Problem(None, "tz", f"unknown zone {tz!r}")]
            ) from None
    return out
