"""The Reporting API on the wire: two GraphQL operations and plain file downloads.

Both documents are fixed and validated once against the shared schema
(:func:`dmtools.reporting_schema.sdl`, with graphql-core); what changes (the report's
metrics, dimensions, dates...) travels in the variables, which are checked against the same
schema before they are sent. Requests go through a
:class:`~dmtools._http.Transport` of the client (:meth:`dmtools.client.Client.transport_for`):
same token, timeouts, retries, retry budget and rate limit.

* asking is ``askPartnerReportFile`` (op ``read`` in the retry table: asking twice costs at
  most an extra report that finishes on its own, never data, so an ambiguous failure is
  asked again);
* polling is ``partner { reportFile(reportToken) { status downloadLinks(first, page) } }``,
  following ``pageInfo.nextPage`` until every link is known;
* a GraphQL ``errors`` array (HTTP 200 for a refused report) is raised as the error tree's
  class for its ``extensions.reason`` (:func:`dmtools._answers.error_from_graphql`);
* report files are absolute links fetched **without** the token (the link is the
  capability), HTTPS enforced except for loopback, through a token-less transport per host.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from dmtools._answers import error_from_graphql, read_graphql_error
from dmtools.analytics.access import graphql_url
from dmtools.config import require_secure_url
from dmtools.dialects import Call
from dmtools.dialects.legacy import LegacyDialect
from dmtools.errors import APIError, AuthenticationError, ErrorBody, InputError

if TYPE_CHECKING:
    from graphql import DocumentNode, GraphQLSchema

    from dmtools._http import Transport
    from dmtools.analytics.query import ReportQuery
    from dmtools.client import Client

__all__ = ["ASK", "GRAPHQL", "POLL", "ReportStatus", "ReportingApi", "download"]

log = logging.getLogger("dmtools.analytics")

ASK = """mutation AskReport($input: AskPartnerReportFileInput!) {
  askPartnerReportFile(input: $input) { reportFile { reportToken status } }
}"""
POLL = """query ReportFile($reportToken: String!, $first: Int, $page: Int) {
  partner {
    reportFile(reportToken: $reportToken) {
      status
      downloadLinks(first: $first, page: $page) {
        totalCount
        pageInfo { hasNextPage nextPage }
        edges { node { link } }
      }
    }
  }
}"""
#: Links asked for per poll (the API's page size for ``downloadLinks``).
LINKS_PER_PAGE = 100
#: Most pages of links followed for one report (a runaway ``nextPage`` stops here).
MAX_LINK_PAGES = 1000
_STALE = {None, "invalid_token", "expired_token"}


class GraphQLDialect(LegacyDialect):
    """The legacy wording (its tokens come from the legacy token endpoints) with the errors
    of the Reporting API: GraphQL ``errors`` arrays."""

    name: ClassVar[str] = "reporting"

    def read_error(self, status: int, payload: Any) -> ErrorBody | None:
        if status < 400:  # a 200 carries refusals as data: read by error_from_graphql
            return None
        return read_graphql_error(status, payload) or super().read_error(status, payload)

    def stale_token(self, error: APIError) -> bool:
        return error.status == 401 and error.type in _STALE


GRAPHQL = GraphQLDialect()


@functools.cache
def _schema() -> GraphQLSchema:
    from graphql import build_schema

    from dmtools.reporting_schema import sdl

    return build_schema(sdl())


@functools.cache
def _document(source: str) -> DocumentNode:
    from graphql import parse, validate

    document = parse(source)
    errors = validate(_schema(), document)
    if errors:  # a bug in this module: the documents are constants
        raise AssertionError(f"invalid GraphQL document: {errors[0].message}")
    return document


def check_variables(source: str, variables: dict[str, Any]) -> None:
    """Check ``variables`` against the operation's variable types in the shared schema.

    Raises:
        InputError: a value the schema refuses (each named).
    """
    from graphql import OperationDefinitionNode
    from graphql.execution.values import get_variable_values

    operation = _document(source).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    found = get_variable_values(_schema(), operation.variable_definitions or (), variables)
    if isinstance(found, list):
        raise InputError(
            "the report request does not fit the Reporting API's schema: "
            + "; ".join(e.message for e in found)
        )


@dataclass(frozen=True)
class ReportStatus:
    """What the API says of a report: ``status``, every download link in order once it is
    finished (polls), its ``token`` (asks)."""

    status: str
    links: tuple[str, ...] = ()
    token: str = ""


class ReportingApi:
    """GraphQL calls and downloads of one client (see the module notes); close after use."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.url = require_secure_url(graphql_url(client))
        self._graphql = client.transport_for(self.url, dialect=GRAPHQL)
        self._files: dict[str, Transport] = {}

    def close(self) -> None:
        for transport in (self._graphql, *self._files.values()):
            transport.close()
        self._files.clear()

    def __enter__(self) -> ReportingApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, source: str, variables: dict[str, Any]) -> dict[str, Any]:
        check_variables(source, variables)
        call = Call("POST", self.url, body={"query": source, "variables": variables}, json=True)
        try:
            answer = self._graphql.send(call)
        except AuthenticationError as exc:
            raise self._login_hint(exc) from None
        error = error_from_graphql(answer, path=urlsplit(self.url).path)
        if error is not None:
            raise error
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise APIError("the Reporting API answered without data", status=200, type="no_data")
        return data

    def _login_hint(self, exc: AuthenticationError) -> AuthenticationError:
        endpoints = self.client.endpoints
        if not self.client.is_partner and endpoints.token_url != endpoints.public_graphql_token_url:
            exc.message += (
                " (a public key's reporting token comes from the Reporting API's host: log in "
                "with endpoints=dm.analytics.login_endpoints(endpoints))"
            )
            exc.args = (exc._text(),)
        return exc

    def ask(self, query: ReportQuery) -> ReportStatus:
        """Ask for a report: its ``reportToken`` and the status it starts with
        (``IN_PROGRESS``, or already ``FINISHED`` for a small report; no links yet)."""
        data = self._call(ASK, {"input": query.variables()})
        try:
            found = data["askPartnerReportFile"]["reportFile"]
            token, status = found["reportToken"], found.get("status")
        except (KeyError, TypeError):
            token, status = None, None
        if not isinstance(token, str) or not token:
            raise APIError("the Reporting API gave no reportToken", status=200, type="no_data")
        log.info("asked for a report of %s to %s", query.start, query.end)
        return ReportStatus(str(status or "IN_PROGRESS"), token=token)

    def status(self, token: str) -> ReportStatus:
        """The report's status, with every download link once it is ``FINISHED``."""
        links: list[str] = []
        page: int | None = 1
        status = "IN_PROGRESS"
        for _ in range(MAX_LINK_PAGES):
            variables = {"reportToken": token, "first": LINKS_PER_PAGE, "page": page}
            found = (self._call(POLL, variables).get("partner") or {}).get("reportFile")
            if not isinstance(found, dict):
                raise APIError("the Reporting API gave no reportFile", status=200, type="no_data")
            status = str(found.get("status") or "")
            connection = found.get("downloadLinks") or {}
            links += [
                str(edge["node"]["link"])
                for edge in connection.get("edges") or ()
                if isinstance(edge, dict)
                and isinstance(edge.get("node"), dict)
                and edge["node"].get("link")
            ]
            info = connection.get("pageInfo") or {}
            page = info.get("nextPage") if info.get("hasNextPage") else None
            if status != "FINISHED" or not isinstance(page, int):
                break
        return ReportStatus(status, tuple(links) if status == "FINISHED" else ())

    def download(self, link: str) -> bytes:
        """One report file (see :func:`download`), through this client's policy."""

        def transport_for(origin: str) -> Transport:
            if origin not in self._files:
                self._files[origin] = self.client.transport_for(
                    origin, authenticated=False, dialect=GRAPHQL
                )
            return self._files[origin]

        return download(link, transport_for)


def download(link: str, transport_for: Callable[[str], Transport]) -> bytes:
    """A report file: an absolute link fetched with no token (the link is the capability),
    HTTPS enforced except for loopback hosts, by the token-less transport of its origin.

    Raises:
        InsecureTransportError: a plain ``http`` link to a host that is not loopback, or no
            http(s) URL at all (before any request).
    """
    require_secure_url(link)
    parts = urlsplit(link)
    transport = transport_for(f"{parts.scheme}://{parts.netloc}")
    data = transport.send(Call("GET", link), authenticated=False, raw=True)
    assert isinstance(data, bytes)
    return data
