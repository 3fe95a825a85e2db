"""The chunk provider of the Spark source ``dailymotion.analytics``: :data:`spark_chunks`.

On the driver, :meth:`SparkChunks.plan` logs in with the reader's options, checks the
request like :func:`~dmtools.analytics.load_analytics` (names, limits, matrix, scopes: an
InputError before any request), asks for its reports and waits for them (resuming reports
in progress, 2 at a time, see :mod:`dmtools.analytics.runner`), then gives one chunk per
download link: Spark reads the files of a report in parallel. A request over more than 180
days without a time dimension is one chunk (its reports' rows are added up in one place).
On the executors, :meth:`SparkChunks.read` downloads its file(s), without any token, and
returns the typed frame (:mod:`dmtools.analytics.frame`).

Options (strings, as Spark passes them): the login (``grant``, ``client_id``,
``client_secret``, ``username``, ``password``, ``scope`` (default: the report scopes),
``sandbox_url``), ``metrics`` and ``dimensions`` (comma-separated), ``start``, ``end``
(default today, UTC), ``product``, ``filters`` (``name=value,name=value``).

Example:
    >>> (spark.read.format("dailymotion.analytics")
    ...  .option("metrics", "views").option("dimensions", "day,video_id")
    ...  .option("start", "2026-01-01").options(**login).load())          # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dmtools.analytics.access import SCOPES
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from dmtools._http import Transport
    from dmtools.analytics.query import ReportQuery
    from dmtools.client import Client

__all__ = ["SparkChunks", "spark_chunks"]

#: Options of the request itself (the rest are the login's, or Spark's own).
REQUEST_OPTIONS = ("metrics", "dimensions", "start", "end", "product", "filters")


def _query(options: Mapping[str, str]) -> ReportQuery:
    from dmtools.analytics.query import build_query

    given = {k.lower(): v for k, v in options.items()}
    if "start" not in given:
        raise InputError(
            "bad options for the dailymotion analytics source",
            [Problem(None, "start", "missing: the first day (YYYY-MM-DD)")],
        )
    filters: dict[str, str] = {}
    problems = []
    for item in (i for i in given.get("filters", "").split(",") if i.strip()):
        name, sep, value = item.partition("=")
        if not sep:
            problems.append(Problem(None, "filters", f"{item!r} is not name=value"))
        filters[name.strip()] = value.strip()
    if problems:
        raise InputError("bad options for the dailymotion analytics source", problems)
    return build_query(
        given.get("metrics", ""),
        given.get("dimensions", ""),
        start=given["start"],
        end=given.get("end") or dt.datetime.now(dt.UTC).date(),
        filters=filters,
        product=given.get("product") or None,
    )


def _client(options: Mapping[str, str]) -> Client:
    from dmtools.spark._options import LOGIN_OPTIONS, ReadOptions, client_for

    login = {k.lower(): str(v) for k, v in options.items() if k.lower() in LOGIN_OPTIONS}
    if "client_id" not in login:
        raise InputError(
            "bad options for the dailymotion analytics source",
            [Problem(None, "client_id", "missing: the API key to log in with")],
        )
    login.setdefault("scope", " ".join(SCOPES))
    return client_for(
        ReadOptions(
            login=tuple(sorted(login.items())),
            owner="me",
            fields=(),
            filters=(),
            partitions=1,
            workers=1,
            rate_limit=None,
            budget="analytics",
        )
    )


class SparkChunks:
    """``plan(options)`` and ``read(options, chunk)`` (see the module notes)."""

    def plan(self, options: Mapping[str, str]) -> list[dict[str, Any]]:
        """Ask for the reports, wait for them; one JSON-able chunk per download link."""
        from dmtools.analytics.access import check_access
        from dmtools.analytics.load import run_queries

        query = _query(options)
        client = _client(options)
        check_access(client, query)
        [finished] = run_queries(client, [query], progress=False, fetch=False)
        if len(finished) > 1 and not query.time_dimensions:
            links = [link for f in finished for link in f.links]
            return [{"request": query.variables(), "links": links}]
        return [
            {"request": f.query.variables(), "links": [link]} for f in finished for link in f.links
        ]

    def read(self, options: Mapping[str, str], chunk: Mapping[str, Any]) -> pd.DataFrame:
        """The chunk's file(s) as one typed analytics frame."""
        from dmtools._http import Transport
        from dmtools.analytics._wire import GRAPHQL, download
        from dmtools.analytics.frame import parse_csv, stitch
        from dmtools.analytics.query import ReportQuery

        query = ReportQuery.from_variables(chunk["request"])
        opened: dict[str, Transport] = {}

        def transport_for(origin: str) -> Transport:
            if origin not in opened:
                opened[origin] = Transport(origin, dialect=GRAPHQL)
            return opened[origin]

        try:
            parts = [parse_csv(download(link, transport_for), query) for link in chunk["links"]]
        finally:
            for transport in opened.values():
                transport.close()
        return stitch(parts, query)


#: The provider the Spark source uses by default (``dmtools.analytics:spark_chunks``).
spark_chunks = SparkChunks()
