"""A report's table and its CSV files (no HTTP).

:func:`build_frame` aggregates the additive rows (:mod:`~dmtools.sandbox.state.reporting.rows`)
by the requested dimensions (on integer codes, then decoded), merges the audience and the
upload parts, derives the rates and money columns, drops the rows where every requested
metric is zero or empty, and sorts by the dimensions in request order. :func:`csv_parts`
writes the files: UTF-8 without BOM, ``,`` and ``\\n``, a header row in each file, columns =
dimensions then metrics in request order as lower-case enum names, ``DAY`` as
``YYYY-MM-DD``, ``MONTH`` as ``YYYY-MM``, ``HOUR`` as ``YYYY-MM-DD HH:00:00`` (UTC), empty
for null, and a new file every ``rows_per_file`` rows.

Output formats: counts are integers; ``VIEW_THROUGH_RATE`` and ``FILL_RATE`` are percentages
with 2 decimals; ``AVERAGE_WATCH_TIME_SEC`` has 2 decimals; earnings 6 and eCPMs 4 (euros,
or dollars at :data:`~dmtools.sandbox.state.reporting.rows.USD_PER_EUR`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dmtools.sandbox.state.reporting.audience import IntArray, video_keys
from dmtools.sandbox.state.reporting.catalog import (
    AD_METRICS,
    AUDIENCE_METRICS,
    LIVE_METRICS,
    REVENUE_METRICS,
)
from dmtools.sandbox.state.reporting.query import ReportQuery
from dmtools.sandbox.state.reporting.rows import (
    USD_PER_EUR,
    ad_columns,
    allowed_placements,
    audience_rows,
    upload_rows,
)
from dmtools.sandbox.state.reporting.splits import GROUP_OF, Catalogue, Rows

_TRAFFIC = frozenset(AUDIENCE_METRICS + REVENUE_METRICS + LIVE_METRICS + AD_METRICS)
_ADDITIVE = ("views", "watch", "completions", "earnings", "uploads")
_AD_ADDITIVE = ("TOTAL_INVENTORY", "SELLABLE_INVENTORY", "NB_IMPRESSION", "AD_ERRORS", "TIMEOUTS")


def _ratio(a: pd.Series, b: pd.Series, scale: float, digits: int) -> pd.Series:
    return (a * scale / b.where(b > 0)).round(digits)


#: Metric -> its column from the aggregated additive columns.
DERIVED: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "VIEWS": lambda t: t["views"],
    "TIME_WATCHED_SECONDS": lambda t: t["watch"],
    "VIEW_THROUGH_RATE": lambda t: _ratio(t["completions"], t["views"], 100.0, 2),
    "AVERAGE_WATCH_TIME_SEC": lambda t: _ratio(t["watch"], t["views"], 1.0, 2),
    "ESTIMATED_EARNINGS_EUR": lambda t: t["earnings"].round(6),
    "ESTIMATED_EARNINGS_USD": lambda t: (t["earnings"] * USD_PER_EUR).round(6),
    "LIVE_VIEWERS": lambda t: t["views"] * 0,
    "LIVE_TIME_WATCHED_SECONDS": lambda t: t["views"] * 0,
    "UPLOADS": lambda t: t["uploads"],
    "TOTAL_INVENTORY": lambda t: t["TOTAL_INVENTORY"],
    "SELLABLE_INVENTORY": lambda t: t["SELLABLE_INVENTORY"],
    "NB_IMPRESSION": lambda t: t["NB_IMPRESSION"],
    "IMPRESSIONS": lambda t: t["NB_IMPRESSION"],
    "NB_MISSED_IMPRESSION": lambda t: t["SELLABLE_INVENTORY"] - t["NB_IMPRESSION"],
    "NO_FILLS": lambda t: t["SELLABLE_INVENTORY"] - t["NB_IMPRESSION"],
    "FILL_RATE": lambda t: _ratio(t["NB_IMPRESSION"], t["SELLABLE_INVENTORY"], 100.0, 2),
    "AD_ERRORS": lambda t: t["AD_ERRORS"],
    "TIMEOUTS": lambda t: t["TIMEOUTS"],
    "ECPM_EUR": lambda t: _ratio(t["earnings"], t["NB_IMPRESSION"], 1000.0, 4),
    "ECPM_USD": lambda t: _ratio(t["earnings"], t["NB_IMPRESSION"], 1000.0 * USD_PER_EUR, 4),
}


def _video_value(dim: str, video: Mapping[str, Any], usernames: Mapping[str, str]) -> Any:
    tags = list(video.get("tags") or [])
    if dim == "VIDEO_ID":
        return video["id"]
    if dim == "VIDEO_TITLE":
        return video.get("title")
    if dim in ("VIDEO_OWNER_CHANNEL_SLUG", "CHANNEL_SLUG"):
        return usernames.get(str(video["owner"]), video["owner"])
    if dim == "MEDIA_TYPE":
        return "VIDEO"
    if dim == "CONTENT_TAG":
        return tags[0] if tags else None
    if dim == "CONTENT_TAG_LIST":
        return ",".join(tags) or None
    if dim == "VISIBILITY":
        return (
            "private" if video.get("private") else "password" if video.get("password") else "public"
        )
    raise ValueError(f"no value for dimension {dim}")


class _Codes:
    """Integer codes of a dimension per row, and the values they stand for."""

    def __init__(self, catalogue: Catalogue, hourly: bool) -> None:
        self.catalogue = catalogue
        self.hourly = hourly
        self.tables: dict[str, tuple[IntArray, np.ndarray]] = {}

    def codes(
        self, dim: str, video: IntArray, time: IntArray, cats: Mapping[str, IntArray]
    ) -> IntArray:
        day = time // 24 if self.hourly else time
        if dim == "DAY":
            return day
        if dim == "HOUR":
            return time
        if dim == "MONTH":
            return day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        codes, _ = self._table(dim)
        if dim in GROUP_OF:
            width = codes.shape[1]
            return codes.reshape(-1)[video * width + cats[GROUP_OF[dim].name]]
        return codes[video]

    def decode(self, dim: str, codes: IntArray) -> pd.Series:
        if dim in ("DAY", "MONTH", "HOUR"):
            unit = {"DAY": "D", "MONTH": "M", "HOUR": "h"}[dim]
            text = np.datetime_as_string(codes.astype(f"datetime64[{unit}]")).tolist()
            if dim == "HOUR":
                text = [f"{t.replace('T', ' ')}:00:00" for t in text]
            return pd.Series(text, dtype=object)
        _, uniques = self._table(dim)
        values = pd.Series([uniques[c] if c >= 0 else None for c in codes], dtype=object)
        return values.astype("Int64") if dim == "VIDEO_POSITION" else values

    def _table(self, dim: str) -> tuple[IntArray, np.ndarray]:
        if dim not in self.tables:
            if dim in GROUP_OF:
                grid = self.catalogue.values(dim)
                flat = [value for row in grid for value in row]
                codes: Any
                codes, uniques = pd.factorize(pd.Series(flat, dtype=object))
                codes = codes.reshape(len(grid), -1) if grid else codes.reshape(0, 1)
            else:
                usernames = self.catalogue.usernames
                values = [_video_value(dim, v, usernames) for v in self.catalogue.videos]
                codes, uniques = pd.factorize(pd.Series(values, dtype=object))
            self.tables[dim] = (
                np.asarray(codes, dtype=np.int64),
                np.asarray(uniques, dtype=object),
            )
        return self.tables[dim]


def _aggregate(
    dims: Sequence[str], coder: _Codes, video: IntArray, time: IntArray,
    cats: Mapping[str, IntArray], columns: Mapping[str, Any],
) -> pd.DataFrame:  # fmt: skip
    frame = pd.DataFrame({f"_{d}": coder.codes(d, video, time, cats) for d in dims})
    for name, values in columns.items():
        frame[name] = values
    if dims:
        frame = frame.groupby([f"_{d}" for d in dims], sort=False).sum().reset_index()
    else:
        frame = frame.sum().to_frame().T if len(frame) else frame
    out = pd.DataFrame({d: coder.decode(d, frame[f"_{d}"].to_numpy()) for d in dims})
    for name in columns:
        out[name] = frame[name].to_numpy()
    return out


def _traffic(query: ReportQuery, catalogue: Catalogue, now: float) -> pd.DataFrame:
    allowed = allowed_placements(query, catalogue)
    rows: Rows
    rows, hourly = audience_rows(query, catalogue, now=now, allowed=allowed)
    if query.filter("mediaType") == "LIVE":
        rows = rows.take(slice(0, 0))
    columns: dict[str, Any] = {
        "views": rows.views,
        "watch": rows.watch,
        "completions": rows.completions,
        "earnings": rows.earnings,
    }
    if any(m in AD_METRICS for m in query.metrics):
        columns.update(ad_columns(rows, catalogue, hourly))
    coder = _Codes(catalogue, hourly)
    return _aggregate(query.dimensions, coder, rows.video, rows.time, rows.cats, columns)


def _uploads(query: ReportQuery, catalogue: Catalogue) -> pd.DataFrame:
    video, day = upload_rows(query, catalogue)
    if query.filter("mediaType") == "LIVE":
        video, day = video[:0], day[:0]
    coder = _Codes(catalogue, hourly=False)
    columns = {"uploads": np.ones(len(video), dtype=np.int64)}
    return _aggregate(query.dimensions, coder, video, day, {}, columns)


def build_frame(
    query: ReportQuery,
    videos: Sequence[Mapping[str, Any]],
    usernames: Mapping[str, str],
    *,
    seed: int,
    now: float,
) -> pd.DataFrame:
    """The report's table: dimension then metric columns (lower-case names), sorted."""
    catalogue = Catalogue(video_keys(seed, [v["id"] for v in videos]), videos, usernames)
    dims = list(query.dimensions)
    parts = []
    if _TRAFFIC & set(query.metrics):
        parts.append(_traffic(query, catalogue, now))
    if "UPLOADS" in query.metrics:
        parts.append(_uploads(query, catalogue))
    table = parts[0]
    for part in parts[1:]:
        table = (
            table.merge(part, on=dims, how="outer") if dims else pd.concat([table, part], axis=1)
        )
    for name in (*_ADDITIVE, *_AD_ADDITIVE):
        if name in table:
            table[name] = table[name].fillna(0)
        else:
            table[name] = 0
    for name in ("views", "watch", "completions", "uploads", *_AD_ADDITIVE):
        table[name] = table[name].astype(np.int64)
    out = pd.DataFrame({d.lower(): table[d] for d in dims})
    for metric in query.metrics:
        out[metric.lower()] = DERIVED[metric](table).to_numpy()
    values = out[[m.lower() for m in query.metrics]]
    out = out[(values.fillna(0) != 0).any(axis=1)]
    if dims:
        out = out.sort_values([d.lower() for d in dims], na_position="first", kind="stable")
    return out.reset_index(drop=True)


def csv_parts(frame: pd.DataFrame, rows_per_file: int) -> list[bytes]:
    """The CSV files of a table: at most ``rows_per_file`` rows each, each with its header."""
    size = max(1, rows_per_file)
    starts = range(0, max(len(frame), 1), size)
    return [
        frame.iloc[i : i + size].to_csv(index=False, lineterminator="\n", na_rep="").encode()
        for i in starts
    ]
