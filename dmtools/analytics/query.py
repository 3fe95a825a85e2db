"""A Reporting API request as data: names resolved, limits checked, long ranges split.

:func:`build_query` turns what people type into a :class:`ReportQuery` of the API's enum
values, or one :class:`~dmtools.errors.InputError` listing every problem before any request:

* metric, dimension, filter and product names are case-insensitive and take the Python
  spelling (``time_watched_seconds``, ``visitor_country``, ``video_owner_channel_slug``), the
  API's (``TIME_WATCHED_SECONDS``, ``videoOwnerChannelSlug``) or camelCase; an unknown name
  is refused with the closest known ones;
* at most :data:`~dmtools.reporting_schema.MAX_DIMENSIONS` dimensions, no name twice;
* every metric/dimension pair of a documented matrix row must be compatible (the matrix of
  :mod:`dmtools.reporting_schema`); undocumented rows (ad metrics) are left to the API;
* dates are ``YYYY-MM-DD`` text, dates or datetimes (a timezone-aware one counts by its UTC
  date), both ends included, the end not before the start.

A range longer than :data:`~dmtools.reporting_schema.MAX_DAYS` is split into reports of at
most that many days (:meth:`ReportQuery.chunks`), cut at month starts when ``MONTH`` is a
dimension so that no month is counted in two reports. Without a time dimension the
reports' rows are added up, which only works for additive metrics (counts and earnings):
rates, averages and eCPMs over a long range are refused, with the fix.

Example:
    >>> q = build_query(["views"], ["day", "VideoId"], start="2025-01-01", end="2025-12-31")
    >>> q.dimensions, len(q.chunks()), q.columns
    (('DAY', 'VIDEO_ID'), 3, ['day', 'video_id', 'views'])
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dmtools import reporting_schema as rs
from dmtools.errors import InputError, Problem

__all__ = ["ReportQuery", "build_query", "column_name", "enum_name", "parse_date"]

Names = str | Iterable[str]
DateLike = str | dt.date | dt.datetime
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_FILTER_KINDS = dict(rs.FILTERS)
_FILTER_ENUMS = {
    "PartnerReportFilterMediaType": rs.MEDIA_TYPES,
    "PartnerReportFilterMonetizationType": rs.MONETIZATION_TYPES,
}


def enum_name(text: str) -> str:
    """The enum spelling of a name: ``"timeWatchedSeconds"``, ``"time watched-seconds"`` ->
    ``"TIME_WATCHED_SECONDS"``."""
    words = _CAMEL.sub("_", text.strip())
    return re.sub(r"[\s\-_.]+", "_", words).strip("_").upper()


def column_name(enum: str) -> str:
    """The CSV column (and frame column) of a metric or dimension: its lower-cased name."""
    return enum.lower()


def _names(values: Names | None, kind: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [v for v in re.split(r"[,\s]+", values) if v]
    if isinstance(values, Iterable) and not isinstance(values, bytes | Mapping):
        return list(values)
    raise InputError(
        f"bad {kind}s", [Problem(None, kind, f"give names as text or a list, not {values!r}")]
    )


def _resolve(
    kind: str, given: Names | None, known: tuple[str, ...]
) -> tuple[list[str], list[Problem]]:
    resolved: list[str] = []
    problems: list[Problem] = []
    for value in _names(given, kind):
        name = enum_name(value) if isinstance(value, str) else ""
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(column_name(c) for c in close)}?" if close else ""
            problems.append(Problem(None, kind, f"unknown {kind} {value!r}{hint}"))
        elif name in resolved:
            problems.append(Problem(None, kind, f"{column_name(name)} is asked twice"))
        else:
            resolved.append(name)
    return resolved, problems


def parse_date(value: DateLike, what: str = "date") -> dt.date:
    """A report date from ``YYYY-MM-DD`` text, a date, or a datetime (an aware one by its UTC
    date; a naive one is taken as UTC).

    Raises:
        InputError: anything else.
    """
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            if len(value.strip()) == 10:
                return dt.date.fromisoformat(value.strip())
            return parse_date(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            pass
    raise InputError(f"bad {what}", [Problem(None, what, f"{value!r} is not a date (YYYY-MM-DD)")])


@dataclass(frozen=True)
class ReportQuery:
    """One report request in the API's terms (enum names, dates both ends included)."""

    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    start: dt.date
    end: dt.date
    filters: tuple[tuple[str, str], ...] = field(default=())
    product: str | None = None

    @property
    def days(self) -> int:
        """Days covered, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def columns(self) -> list[str]:
        """The columns of its CSV files and of its frame: dimensions, then metrics."""
        return [column_name(n) for n in (*self.dimensions, *self.metrics)]

    @property
    def time_dimensions(self) -> tuple[str, ...]:
        return tuple(d for d in self.dimensions if d in rs.TIME_DIMENSIONS)

    def variables(self) -> dict[str, Any]:
        """The ``AskPartnerReportFileInput`` of the ``askPartnerReportFile`` mutation."""
        data: dict[str, Any] = {
            "metrics": list(self.metrics),
            "dimensions": list(self.dimensions),
            "startDate": self.start.isoformat(),
            "endDate": self.end.isoformat(),
        }
        if self.filters:
            data["filters"] = dict(self.filters)
        if self.product is not None:
            data["product"] = self.product
        return data

    @classmethod
    def from_variables(cls, data: Mapping[str, Any]) -> ReportQuery:
        """The query whose :meth:`variables` are ``data`` (names taken as they are)."""
        return cls(
            tuple(data["metrics"]),
            tuple(data["dimensions"]),
            dt.date.fromisoformat(data["startDate"]),
            dt.date.fromisoformat(data["endDate"]),
            tuple(sorted((data.get("filters") or {}).items())),
            data.get("product"),
        )

    def key(self) -> str:
        """A stable text identifying this request (the same request, the same key)."""
        text = json.dumps(self.variables(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def chunks(self, max_days: int = rs.MAX_DAYS) -> list[ReportQuery]:
        """The reports this request needs: itself, or consecutive ranges of at most
        ``max_days`` days (whole months when ``MONTH`` is a dimension)."""
        if self.days <= max_days:
            return [self]
        parts: list[ReportQuery] = []
        first, one = self.start, dt.timedelta(days=1)
        while first <= self.end:
            last = min(first + (max_days - 1) * one, self.end)
            if "MONTH" in self.dimensions and last < self.end:
                month_end = last
                while (month_end + one).day != 1 and month_end > first:
                    month_end -= one  # end on a month's last day: no month in two reports
                last = month_end if (month_end + one).day == 1 else last
            parts.append(replace(self, start=first, end=last))
            first = last + one
        return parts


def _filters(given: Mapping[str, Any] | None) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    if given is not None and not isinstance(given, Mapping):
        return (), [Problem(None, "filters", f"give a mapping of name to value, not {given!r}")]
    by_enum = {enum_name(name): name for name in _FILTER_KINDS}
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for key, value in (given or {}).items():
        name = by_enum.get(enum_name(str(key)))
        if name is None:
            known = ", ".join(column_name(enum_name(n)) for n in _FILTER_KINDS)
            problems.append(Problem(None, "filters", f"unknown filter {key!r} (known: {known})"))
            continue
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(Problem(None, name, f"{value!r} is not text"))
            continue
        allowed = _FILTER_ENUMS.get(_FILTER_KINDS[name])
        text = enum_name(str(value)) if allowed else str(value).strip()
        if allowed and text not in allowed:
            problems.append(
                Problem(
                    None, name, f"{value!r}: use one of {', '.join(a.lower() for a in allowed)}"
                )
            )
        elif not text:
            problems.append(Problem(None, name, "empty"))
        else:
            found[name] = text
    return tuple(sorted(found.items())), problems


def _matrix(metrics: list[str], dimensions: list[str]) -> list[Problem]:
    problems = []
    for metric in metrics:
        if metric not in rs.DOCUMENTED_METRICS:
            continue
        bad = [d for d in dimensions if d not in rs.COMPATIBLE[metric]]
        for dim in bad:
            problems.append(
                Problem(
                    None,
                    column_name(dim),
                    f"the metric {column_name(metric)} cannot be broken down by "
                    f"{column_name(dim)} (Reporting API compatibility matrix)",
                )
            )
    return problems


def build_query(
    metrics: Names,
    dimensions: Names | None,
    *,
    start: DateLike,
    end: DateLike,
    filters: Mapping[str, Any] | None = None,
    product: str | None = None,
) -> ReportQuery:
    """A checked :class:`ReportQuery` (see the module notes).

    Raises:
        InputError: every problem found, each naming the value and why.
    """
    metric_names, problems = _resolve("metric", metrics, rs.METRICS)
    dims, more = _resolve("dimension", dimensions, rs.DIMENSIONS)
    problems += more
    if not metric_names and not problems:
        problems.append(Problem(None, "metric", "ask for at least one metric (e.g. views)"))
    if len(dims) > rs.MAX_DIMENSIONS:
        problems.append(
            Problem(
                None,
                "dimension",
                f"{len(dims)} dimensions asked; a report has at most {rs.MAX_DIMENSIONS}",
            )
        )
    problems += _matrix(metric_names, dims)
    chosen, more = _filters(filters)
    problems += more
    name = enum_name(product) if isinstance(product, str) else None
    if product is not None and name not in rs.PRODUCTS:
        choices = ", ".join(p.lower() for p in rs.PRODUCTS)
        problems.append(Problem(None, "product", f"{product!r}: use one of {choices}"))
    first, last = _dates(start, end, problems)
    if problems:
        raise InputError("the report cannot be asked for", problems)
    query = ReportQuery(tuple(metric_names), tuple(dims), first, last, chosen, name)
    _check_stitching(query)
    return query


def _dates(start: DateLike, end: DateLike, problems: list[Problem]) -> tuple[dt.date, dt.date]:
    dates = []
    for value, what in ((start, "start"), (end, "end")):
        try:
            dates.append(parse_date(value, what))
        except InputError as exc:
            problems += exc.problems
            dates.append(dt.date(1970, 1, 1))
    if not problems and dates[1] < dates[0]:
        problems.append(Problem(None, "end", f"{dates[1]} is before the start {dates[0]}"))
    return dates[0], dates[1]


def _check_stitching(query: ReportQuery) -> None:
    """Refuse what several reports cannot give: non-additive metrics summed over reports."""
    if query.days <= rs.MAX_DAYS or query.time_dimensions:
        return
    averaged = [column_name(m) for m in query.metrics if not rs.is_additive(m)]
    if averaged:
        raise InputError(
            "the report cannot be asked for",
            [
                Problem(
                    None,
                    m,
                    f"{query.days} days need {len(query.chunks())} reports, and {m} over several "
                    "reports cannot be added up: add the dimension day or month, or ask for at "
                    f"most {rs.MAX_DAYS} days",
                )
                for m in averaged
            ],
        )
