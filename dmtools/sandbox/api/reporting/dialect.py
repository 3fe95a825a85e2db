"""The Reporting API dialect: GraphQL over HTTP, report downloads, admin routes, errors.

GraphQL requests are ``POST`` with a JSON body ``{"query", "variables", "operationName"}``
(whatever the request's Content-Type; ``application/graphql`` bodies are the query itself)
and ``Authorization: Bearer <token>``: a partner token (private key, ``/oauth/v1/token``) or
a public-key token (``/oauth/token`` or ``/graphql-api/oauth/token``), or a token of any
dialect carrying ``analytics.manage``. The answer is ``application/json``: ``{"data": ...}``
on success (no ``errors`` key at all), with ``errors`` (and ``data`` null or partial) when
something was refused. Refused reports, syntax and validation errors are HTTP 200; a missing,
unknown or expired token is 401; a body that is not a GraphQL request is 400.

Report files are plain ``GET``s without authentication (the link is the capability).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, execute_sync, parse, validate
from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api import wire
from dmtools.sandbox.api.base import Context, Route
from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.reporting import urls
from dmtools.sandbox.api.reporting.errors import (
    GraphQLRequestError,
    answer,
    errors_body,
    request_error,
)
from dmtools.sandbox.api.reporting.schema import GraphQLContext, build_schema_with_resolvers
from dmtools.sandbox.state.errors import NotFound, TokenRejected
from dmtools.sandbox.state.reporting import Asker, Reports
from dmtools.sandbox.state.tokens import Principal
from dmtools.sandbox.state.v2tokens import V2Tokens

#: Most tokens a GraphQL document may have (a parse limit against hostile documents).
MAX_TOKENS = 20_000
_AdminHandler = Callable[[dict[str, Any], Request], Any]


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise GraphQLRequestError(
            401,
            "unauthorized",
            "missing_token",
            "Send an access token: Authorization: Bearer <token>.",
            {"WWW-Authenticate": 'Bearer realm="sandbox"'},
        )
    return value.strip()


def _operation(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    """(query, variables, operation name) of a GraphQL request body."""
    if request.mimetype == "application/graphql":
        return request.get_data(as_text=True), None, None
    try:
        body = wire.parse_json(request.get_data(cache=True))
    except wire.JsonError as exc:
        raise GraphQLRequestError(
            400, "bad_request", "invalid_body", f"Malformed JSON: {exc}."
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise GraphQLRequestError(
            400,
            "bad_request",
            "invalid_body",
            'The body must be a JSON object with a "query" string.',
        )
    variables, name = body.get("variables"), body.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        raise GraphQLRequestError(
            400, "bad_request", "invalid_body", '"variables" must be an object.'
        )
    if name is not None and not isinstance(name, str):
        raise GraphQLRequestError(
            400, "bad_request", "invalid_body", '"operationName" must be a string.'
        )
    return body["query"], variables, name


def _formatted(exc: GraphQLError, reason: str) -> dict[str, Any]:
    """A GraphQL error as sent, with ``extensions.type`` and ``reason``.

    Raises:
        Exception: the original error of a field that failed unexpectedly (a bug: the app
            answers 500 and logs it rather than pass it off as the client's mistake).
    """
    out: dict[str, Any] = dict(exc.formatted)
    extensions: dict[str, Any] = dict(out.get("extensions") or {})
    if "reason" not in extensions:
        if exc.path is not None and exc.original_error is not None:
            raise exc.original_error
        out["extensions"] = {"type": "bad_request", "reason": reason}
    return out


class ReportingApi:
    """The Reporting API dialect over one context (see the module docstring)."""

    name = "reporting"
    routes: tuple[Route, ...] = urls.PATHS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.reports = Reports(ctx.store, ctx.store.clock)
        self.schema = build_schema_with_resolvers()
        self.v2_tokens = V2Tokens(ctx.store)

    # -- routes ------------------------------------------------------------------------
    def graphql(self, request: Request) -> Response:
        return self._serve(request)

    def public_graphql(self, request: Request) -> Response:
        if request.path.rstrip("/") != urls.PUBLIC_PREFIX:
            raise GraphQLRequestError(404, "not_found", "not_found", f"No route {request.path}.")
        return self._serve(request)

    def download(self, request: Request) -> Response:
        """``GET /reports/files/<file id>/part-<n>.csv`` (no authentication)."""
        if request.method not in ("GET", "HEAD"):
            raise GraphQLRequestError(
                405, "method_not_allowed", "method_not_allowed", "Report files are read with GET.",
                {"Allow": "GET, HEAD"},
            )  # fmt: skip
        file_id, _, name = request.path[len(urls.FILES_PREFIX) :].partition("/")
        number = name.removeprefix("part-").removesuffix(".csv")
        data = None
        if name.startswith("part-") and name.endswith(".csv") and number.isdigit():
            data = self.reports.file(file_id, int(number))
        if data is None:
            raise GraphQLRequestError(
                404, "not_found", "file_not_found",
                "No such report file (unknown, not finished, or expired after 48 hours).",
            )  # fmt: skip
        response = Response(data, content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    # -- GraphQL over HTTP -------------------------------------------------------------
    def _serve(self, request: Request) -> Response:
        if request.method != "POST":
            raise GraphQLRequestError(
                405, "method_not_allowed", "method_not_allowed", "Send GraphQL requests with POST.",
                {"Allow": "POST"},
            )  # fmt: skip
        principal = self._principal(_bearer(request))
        request.environ[wire.CLIENT_KEY] = principal.client_id
        source, variables, name = _operation(request)
        owners = (principal.user_id,) if principal.user_id else principal.channels
        asker = Asker(principal.client_id, tuple(owners), principal.scopes)
        context = GraphQLContext(asker, self.reports, request.host_url.rstrip("/"))
        return answer(self._execute(source, variables, name, context))

    def _principal(self, token: str) -> Principal:
        """Who a partner token speaks for; an API v2 token too where the sandbox's
        ``report_v2_tokens`` setting lets v2 tokens (``analytics.manage``) use reports.

        Raises:
            TokenRejected: neither kind of token (or expired).
        """
        try:
            return self.ctx.tokens.authenticate(token)
        except TokenRejected as refused:
            if refused.expired or not self.ctx.store.settings.report_v2_tokens:
                raise
            return self.v2_tokens.authenticate(token)

    def _execute(
        self, source: str, variables: dict[str, Any] | None, name: str | None, context: Any
    ) -> dict[str, Any]:
        try:
            document = parse(source, max_tokens=MAX_TOKENS)
        except GraphQLSyntaxError as exc:
            return errors_body([_formatted(exc, "graphql_parse_failed")], with_data=False)
        invalid = validate(self.schema, document)
        if invalid:
            return errors_body(
                [_formatted(e, "graphql_validation_failed") for e in invalid], with_data=False
            )
        result = execute_sync(
            self.schema,
            document,
            variable_values=variables,
            operation_name=name,
            context_value=context,
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_formatted(e, "invalid_input") for e in result.errors]
        return body

    # -- admin -------------------------------------------------------------------------
    @property
    def admin_routes(self) -> dict[tuple[str, str], _AdminHandler]:
        """Admin routes of reports (merged into the shared admin API)."""
        return {
            ("GET", "reports"): lambda body, request: self.reports.list(),
            ("POST", "reports/fail"): lambda body, r: self._force(body, "FAILED"),
            ("POST", "reports/expire"): lambda body, r: self._force(body, "EXPIRED"),
            ("POST", "reports/fail_next"): self._fail_next,
            ("POST", "reports/access"): lambda body, r: {
                "permissions": self.reports.set_permissions(
                    str(body.get("client_id")), list(body.get("permissions") or [])
                )
            },
        }

    def _fail_next(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        self.reports.fail_next(body.get("n", 1))
        return {}

    def _force(self, body: dict[str, Any], status: str) -> dict[str, Any]:
        token = body.get("token")
        try:
            return {"status": self.reports.force(str(token), status)}
        except LookupError:
            raise NotFound("report", str(token)) from None

    # -- errors ------------------------------------------------------------------------
    def render_error(self, exc: Exception) -> Response | None:
        """The GraphQL answer to an error a route raised (None: not an API error)."""
        if isinstance(exc, TokenRejected):
            reason = "expired_token" if exc.expired else "invalid_token"
            text = (
                "The access token has expired." if exc.expired else "The access token is invalid."
            )
            exc = GraphQLRequestError(
                401, "unauthorized", reason, text,
                {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{text}"'},
            )  # fmt: skip
        elif isinstance(exc, ApiError):
            exc = GraphQLRequestError(exc.status, exc.type, exc.type, exc.message, exc.headers)
        if isinstance(exc, GraphQLRequestError):
            return request_error(exc)
        return None
