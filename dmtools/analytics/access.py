"""What a login needs for the Reporting API: where its GraphQL endpoint is, which scopes.

A *private* API key logs in with ``client_credentials`` at the partner token endpoint, asking
for :data:`SCOPES`, and sends its queries to ``Endpoints.graphql_url``
(``https://partner.api.dailymotion.com/graphql``). A *public* key logs in at the Reporting
API's own host (:func:`login_endpoints`: ``https://graphql.api.dailymotion.com/oauth/token``,
password or authorization code) and queries ``Endpoints.public_graphql_url``.

:func:`check_access` refuses, before any request, a token without the scopes the report
needs: ``create_reports`` to ask for reports (or API v2's ``analytics.manage``),
``access_revenue`` for earnings and ``access_ads`` for ad metrics. Whether the *key* has the
permission as well only the API knows: it answers a
:class:`~dmtools.errors.PermissionDenied` naming it.

Example:
    >>> client = dm.connect("client_credentials", client_id=key, client_secret=secret,
    ...                     scope=SCOPES, endpoints=sb.endpoints)        # doctest: +SKIP
    >>> graphql_url(client)                                              # doctest: +SKIP
    'http://127.0.0.1:8123/graphql'
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from dmtools import reporting_schema as rs
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    from dmtools.analytics.query import ReportQuery
    from dmtools.client import Client
    from dmtools.config import Endpoints

__all__ = ["SCOPES", "check_access", "graphql_url", "login_endpoints", "needed_scopes"]

#: The scopes to log in with for reports: ask and read reports, earnings, ad metrics.
SCOPES = ("create_reports", "read_reports", "access_revenue", "access_ads")
#: Scopes that let a token ask for reports.
ASKING = frozenset({"create_reports", rs.V2_ANALYTICS_SCOPE})


def graphql_url(client: Client) -> str:
    """The GraphQL endpoint for this client's key: the partner host's for a private key, the
    Reporting API host's for a public one."""
    endpoints = client.endpoints
    return endpoints.graphql_url if client.is_partner else endpoints.public_graphql_url


def login_endpoints(endpoints: Endpoints) -> Endpoints:
    """``endpoints`` with the token endpoint of public keys on the Reporting API's host, for
    a public key's login to reports (``dm.connect("password", ..., endpoints=...)``)."""
    return replace(endpoints, token_url=endpoints.public_graphql_token_url)


def needed_scopes(query: ReportQuery) -> list[str]:
    """The scopes a report needs besides one to ask with (``access_revenue``,
    ``access_ads``), sorted."""
    return sorted({rs.METRIC_PERMISSION[m] for m in query.metrics if m in rs.METRIC_PERMISSION})


def check_access(client: Client, query: ReportQuery) -> None:
    """Refuse a report the client's token cannot ask for (see the module notes).

    Raises:
        InputError: naming each missing scope, the metrics that need it, and how to log in.
    """
    granted = set(client.scopes)
    problems = []
    if not granted & ASKING:
        problems.append(Problem(None, "scope", "create_reports is needed to ask for reports"))
    for scope in needed_scopes(query):
        if scope not in granted:
            metrics = [m.lower() for m in query.metrics if rs.METRIC_PERMISSION.get(m) == scope]
            problems.append(Problem(None, "scope", f"{scope} is needed for {', '.join(metrics)}"))
    if problems:
        kind = "client_credentials" if client.is_partner else "a public key's login"
        raise InputError(
            f"this login cannot ask for the report: log in again ({kind}) with "
            f"scope={' '.join(SCOPES)!r} (dm.analytics.SCOPES); it has "
            f"{' '.join(sorted(granted)) or 'no scopes'}",
            problems,
        )
