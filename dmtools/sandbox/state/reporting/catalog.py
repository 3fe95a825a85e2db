"""What the Reporting API offers: enum values, the metric/dimension matrix, permissions.

The catalogue is shared with the client: it lives in :mod:`dmtools.reporting_schema` (as the
video fields live in :mod:`dmtools.schema`), so the client checks a report against the same
names and matrix that the sandbox enforces. This module gives the sandbox its names.

Example:
    >>> "HOUR" in COMPATIBLE["VIEWS"], "HOUR" in COMPATIBLE["ESTIMATED_EARNINGS_EUR"]
    (True, False)
"""

from __future__ import annotations

from dmtools.reporting_schema import (
    AD_METRICS,
    AUDIENCE_METRICS,
    COMPATIBLE,
    DIMENSIONS,
    FILTERS,
    LIVE_METRICS,
    MAX_DAYS,
    MAX_DIMENSIONS,
    MEDIA_TYPES,
    METRIC_PERMISSION,
    METRICS,
    MONETIZATION_TYPES,
    PRODUCTS,
    REPORT_SCOPES,
    REVENUE_METRICS,
    STATUSES,
    TIME_DIMENSIONS,
    V2_ANALYTICS_SCOPE,
)

__all__ = [
    "AD_METRICS",
    "AUDIENCE_METRICS",
    "COMPATIBLE",
    "DIMENSIONS",
    "FILTERS",
    "LIVE_METRICS",
    "MAX_DAYS",
    "MAX_DIMENSIONS",
    "MEDIA_TYPES",
    "METRICS",
    "METRIC_PERMISSION",
    "MONETIZATION_TYPES",
    "PRODUCTS",
    "REPORT_SCOPES",
    "REVENUE_METRICS",
    "STATUSES",
    "TIME_DIMENSIONS",
    "V2_ANALYTICS_SCOPE",
]
