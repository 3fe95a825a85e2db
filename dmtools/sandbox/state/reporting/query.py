"""A report request as data, and the rules it must follow (no HTTP).

:func:`check_query` enforces the documented limits and refuses with a
:class:`ReportRefused` whose ``reason`` is the machine-readable code each dialect renders
(``invalid_input``, ``invalid_date_range``, ``too_many_dimensions``, ``unsupported_metric``,
``incompatible_metric_dimension``); the checks that need the store (permissions, reports in
progress) are in :mod:`~dmtools.sandbox.state.reporting.reports`.

Example:
    >>> q = ReportQuery(("VIEWS",), ("DAY",), parse_date("2026-04-01"), parse_date("2026-04-30"))
    >>> check_query(q, max_days=180, max_dimensions=8); q.days
    30
    >>> parse_date("2026-04-01T23:30:00-02:00")
    datetime.date(2026, 4, 2)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dmtools.sandbox.state.errors import StateError
from dmtools.sandbox.state.reporting import catalog


class ReportRefused(StateError):
    """A report request or lookup is refused; ``reason`` is the wire code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def parse_date(value: str) -> dt.date:
    """A report date: ``YYYY-MM-DD``, or an ISO 8601 date-time (its UTC date).

    Raises:
        ValueError: anything else.
    """
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        raise ValueError("expected a date, YYYY-MM-DD, or an ISO 8601 date-time")
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC)
    return stamp.date()


@dataclass(frozen=True)
class ReportQuery:
    """What a report asks for (names are the schema's enum values)."""

    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    start: dt.date
    end: dt.date
    product: str = "ALL"
    filters: tuple[tuple[str, str], ...] = field(default=())

    @property
    def days(self) -> int:
        """Days in the range, both ends included."""
        return (self.end - self.start).days + 1

    def filter(self, name: str) -> str | None:
        return dict(self.filters).get(name)

    def to_json(self) -> str:
        return json.dumps(
            {
                "metrics": list(self.metrics),
                "dimensions": list(self.dimensions),
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "product": self.product,
                "filters": dict(self.filters),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ReportQuery:
        data = json.loads(text)
        return cls(
            tuple(data["metrics"]),
            tuple(data["dimensions"]),
            dt.date.fromisoformat(data["start"]),
            dt.date.fromisoformat(data["end"]),
            data["product"],
            tuple(sorted(data["filters"].items())),
        )

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> ReportQuery:
        """From ``AskPartnerReportFileInput`` values (dates as strings).

        Raises:
            ReportRefused: ``invalid_input`` for a bad date, null items or repeated names.
        """
        dates = {}
        for name in ("startDate", "endDate"):
            try:
                dates[name] = parse_date(data.get(name))  # type: ignore[arg-type]
            except ValueError as exc:
                raise ReportRefused("invalid_input", f"{name}: {exc}.") from None
        lists: dict[str, tuple[str, ...]] = {}
        for name in ("metrics", "dimensions"):
            values = list(data.get(name) or ())
            if any(v is None for v in values):
                raise ReportRefused("invalid_input", f"{name} cannot contain null.")
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ReportRefused("invalid_input", f"{name} repeat {', '.join(repeated)}.")
            lists[name] = tuple(values)
        filters = {k: v for k, v in (data.get("filters") or {}).items() if v is not None}
        return cls(
            lists["metrics"],
            lists["dimensions"],
            dates["startDate"],
            dates["endDate"],
            data.get("product") or "ALL",
            tuple(sorted(filters.items())),
        )


def check_query(query: ReportQuery, *, max_days: int, max_dimensions: int) -> None:
    """Refuse a request that breaks a documented limit (the first broken rule wins).

    Raises:
        ReportRefused: naming the reason and what to change.
    """
    if not query.metrics:
        raise ReportRefused("invalid_input", "Ask for at least one metric.")
    if query.end < query.start:
        raise ReportRefused(
            "invalid_date_range",
            f"endDate {query.end} is before startDate {query.start}.",
        )
    if not 1 <= query.days <= max_days:
        raise ReportRefused(
            "invalid_date_range",
            f"The date range covers {query.days} days; a report covers 1 to {max_days} "
            "days (both ends included).",
        )
    if len(query.dimensions) > max_dimensions:
        raise ReportRefused(
            "too_many_dimensions",
            f"{len(query.dimensions)} dimensions asked; a report has at most {max_dimensions}.",
        )
    for metric in query.metrics:
        if metric not in catalog.COMPATIBLE:
            raise ReportRefused(
                "unsupported_metric", f"The metric {metric} is not available in reports."
            )
        for dim in query.dimensions:
            if dim not in catalog.COMPATIBLE[metric]:
                raise ReportRefused(
                    "incompatible_metric_dimension",
                    f"The metric {metric} cannot be broken down by the dimension {dim}.",
                )


def needed_permissions(query: ReportQuery) -> list[str]:
    """The permissions a request needs beyond ``create_reports`` (sorted)."""
    return sorted(
        {catalog.METRIC_PERMISSION[m] for m in query.metrics if m in catalog.METRIC_PERMISSION}
    )
