"""Channel analytics: the Reporting API (GraphQL, asynchronous CSV reports) as DataFrames.

:func:`load_analytics` is the one call: metrics and dimensions by name, a date range,
filters and a product in; one typed frame out (dimension columns ``day``, ``video_id``,
``visitor_country``...; metrics ``views``, ``time_watched_seconds``...), which joins onto a
:func:`dmtools.load_videos` frame by ``video_id``. Under it:

=====================================  =================================================
:mod:`~dmtools.analytics.query`        names, limits and the compatibility matrix
                                       checked before any request; long ranges split
:mod:`~dmtools.analytics.access`       the GraphQL endpoint and scopes a login needs
:mod:`~dmtools.analytics.runner`       ask, queue (2 in flight), poll with backoff,
                                       retry FAILED/EXPIRED once, download every file
:mod:`~dmtools.analytics.state`        report tokens kept on disk: a restart resumes
:mod:`~dmtools.analytics.frame`        CSV files into the typed frame, stitched
:mod:`~dmtools.analytics.cache`        finished results kept, keyed by the request
:mod:`~dmtools.analytics.audience`     the channel report's audience part
:data:`spark_chunks`                   the chunk provider of the Spark source
                                       ``dailymotion.analytics``
=====================================  =================================================

pandas is imported only when a frame is made.

Example:
    >>> import dmtools as dm
    >>> client = dm.connect("client_credentials", client_id=key, client_secret=secret,
    ...                     scope=dm.analytics.SCOPES)                      # doctest: +SKIP
    >>> df = dm.load_analytics(client, ["views", "time_watched_seconds"],
    ...                        ["day", "video_id"], start="2026-01-01")     # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from dmtools.analytics.access import SCOPES, check_access, graphql_url, login_endpoints
from dmtools.analytics.query import ReportQuery, build_query

__all__ = [
    "SCOPES",
    "Poll",
    "ReportQuery",
    "audience_or_reason",
    "build_query",
    "channel_audience",
    "check_access",
    "graphql_url",
    "load_analytics",
    "login_endpoints",
    "spark_chunks",
]

_LAZY = {
    "audience_or_reason": "dmtools.analytics.audience",
    "channel_audience": "dmtools.analytics.audience",
    "load_analytics": "dmtools.analytics.load",
    "Poll": "dmtools.analytics.runner",
    "spark_chunks": "dmtools.analytics.spark",
}

if TYPE_CHECKING:
    from dmtools.analytics.audience import audience_or_reason, channel_audience
    from dmtools.analytics.load import load_analytics
    from dmtools.analytics.runner import Poll
    from dmtools.analytics.spark import spark_chunks


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dmtools.analytics' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
