"""The Reporting API's GraphQL schema (SDL built from the state catalogue) and its resolvers.

Only the part of Dailymotion's schema that reports use is served: the mutation
``askPartnerReportFile(input: AskPartnerReportFileInput!)`` and the query
``partner { reportFile(reportToken: String!) { ... } }``, with the enums of the real schema
(``PartnerReportMetric``, ``PartnerReportDimension``, ``PartnerReportProduct``, the filter
enums, ``PartnerReportStatus``). ``DateTime`` values are strings checked by the rules
(``YYYY-MM-DD`` or ISO 8601, see :func:`~dmtools.sandbox.state.reporting.parse_date`).
graphql-core parses, validates (unknown fields, enum values,
missing arguments, variable types) and executes; a refused report is a GraphQL error whose
``extensions`` are ``{"type": "bad_request", "reason": ...}``, with ``null`` for the field.

Example:
    >>> from graphql import graphql_sync
    >>> schema = build_schema_with_resolvers()
    >>> graphql_sync(schema, "{ __type(name: \\"PartnerReportStatus\\") { name } }").data
    {'__type': {'name': 'PartnerReportStatus'}}
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_schema

from dmtools.reporting_schema import sdl
from dmtools.sandbox.state.reporting import (
    Asker,
    ReportQuery,
    ReportRefused,
    Reports,
    ReportView,
)

#: Most download links one page of ``downloadLinks`` returns.
MAX_FIRST = 100


@dataclass(frozen=True)
class GraphQLContext:
    """What the resolvers of one request see."""

    asker: Asker
    reports: Reports
    base_url: str  #: scheme://host:port the client used (download links are absolute)


def refused(exc: ReportRefused) -> GraphQLError:
    """The GraphQL error of a refused report (``extensions.type`` ``bad_request``)."""
    return GraphQLError(exc.message, extensions={"type": "bad_request", "reason": exc.reason})


def node_id(kind: str, *parts: object) -> str:
    return base64.b64encode(":".join([kind, *map(str, parts)]).encode()).decode()


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _links(view: ReportView, base_url: str, first: Any, page: Any) -> dict[str, Any]:
    if first is not None and not 1 <= first <= MAX_FIRST:
        raise refused(ReportRefused("invalid_input", f"first must be between 1 and {MAX_FIRST}."))
    if page is not None and page < 1:
        raise refused(ReportRefused("invalid_input", "page must be 1 or more."))
    size = first or max(view.parts, 1)
    number = page or 1
    parts = range(view.parts)[(number - 1) * size : number * size]
    edges = [
        {
            "node": {
                "id": node_id("ReportFileDownloadLink", view.seq, i),
                "link": f"{base_url}/reports/files/{view.file_id}/part-{i}.csv",
            }
        }
        for i in parts
    ]
    more = number * size < view.parts
    return {
        "edges": edges,
        "totalCount": view.parts,
        "pageInfo": {
            "hasNextPage": more,
            "hasPreviousPage": number > 1,
            "nextPage": number + 1 if more else None,
        },
    }


def report_file(view: ReportView, base_url: str) -> dict[str, Any]:
    """A ``PartnerReportFile`` (fields resolved from the dict; links on demand)."""
    return {
        "createDate": _iso(view.created_at),
        "createdAt": _iso(view.created_at),
        "id": node_id("PartnerReportFile", view.seq),
        "reportToken": view.token,
        "status": view.status,
        "downloadLinks": lambda info, first=None, page=None: _links(view, base_url, first, page),
    }


def _ask(root: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    ctx: GraphQLContext = info.context
    try:
        token = ctx.reports.create(ctx.asker, ReportQuery.from_input(input))
        view = ctx.reports.get(token, ctx.asker.client_id)
    except ReportRefused as exc:
        raise refused(exc) from None
    return {
        "clientMutationId": input.get("clientMutationId"),
        "reportFile": report_file(view, ctx.base_url),
        "status": "SUCCESS",
    }


def _partner(root: Any, info: Any) -> dict[str, Any]:
    ctx: GraphQLContext = info.context
    return {"id": node_id("PartnerSpace", ctx.asker.client_id)}


def _report_file(root: Any, info: Any, reportToken: str) -> dict[str, Any]:
    ctx: GraphQLContext = info.context
    try:
        ctx.reports.check_access(ctx.asker, "read")
        view = ctx.reports.get(reportToken, ctx.asker.client_id)
    except ReportRefused as exc:
        raise refused(exc) from None
    return report_file(view, ctx.base_url)


@functools.cache
def build_schema_with_resolvers() -> GraphQLSchema:
    """The executable schema (built once: it holds no state, resolvers read the context)."""
    schema = build_schema(sdl())
    assert schema.mutation_type is not None and schema.query_type is not None
    schema.mutation_type.fields["askPartnerReportFile"].resolve = _ask
    schema.query_type.fields["partner"].resolve = _partner
    space: Any = schema.type_map["PartnerSpace"]
    space.fields["reportFile"].resolve = _report_file
    return schema
