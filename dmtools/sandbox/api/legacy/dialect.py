"""The legacy Platform API dialect: its routes, who a call speaks for, its error answers."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api import wire
from dmtools.sandbox.api.base import Context, Route
from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.legacy import multicall, urls
from dmtools.sandbox.api.legacy.calls import Call, bearer_token, request_params
from dmtools.sandbox.api.legacy.consent import ConsentPage
from dmtools.sandbox.api.legacy.errors import error_body, forbidden, translate
from dmtools.sandbox.api.legacy.general import GeneralRoutes
from dmtools.sandbox.api.legacy.oauth import TokenEndpoint
from dmtools.sandbox.api.legacy.rest import RestApi
from dmtools.sandbox.api.legacy.videos import VideoRoutes
from dmtools.sandbox.api.oauth import OAuthError
from dmtools.sandbox.faults.calls import CALL_FAULTS
from dmtools.sandbox.state.errors import GrantError, StateError
from dmtools.sandbox.state.tokens import Principal


class LegacyApi:
    """The legacy dialect: the methods named by :data:`urls.PATHS`, over one context."""

    name = "legacy"
    routes: tuple[Route, ...] = urls.PATHS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.settings = ctx.store.settings
        self.oauth = TokenEndpoint(ctx.store, ctx.tokens)
        self.consent = ConsentPage(ctx.store, ctx.tokens)
        self.rest = RestApi({"videos": VideoRoutes(ctx), "general": GeneralRoutes(ctx)})

    # -- routes ------------------------------------------------------------------------
    def public_token(self, request: Request) -> Response:
        request.environ[wire.CLIENT_KEY] = request.form.get("client_id")
        return self.oauth.token(request, partner=False)

    def partner_token(self, request: Request) -> Response:
        request.environ[wire.CLIENT_KEY] = request.form.get("client_id")
        return self.oauth.token(request, partner=True)

    def authorize(self, request: Request) -> Response:
        return self.consent.authorize(request)

    def upload(self, request: Request) -> Response:
        return self.ctx.uploads.upload(request)

    def progress(self, request: Request) -> Response:
        return self.ctx.uploads.progress(request)

    def public(self, request: Request) -> Response:
        return self._rest(request, request.path, partner=False)

    def partner(self, request: Request) -> Response:
        return self._rest(request, request.path[5:] or "/", partner=True)

    # -- REST calls --------------------------------------------------------------------
    def _rest(self, request: Request, path: str, partner: bool) -> Response:
        base_url = request.host_url.rstrip("/")
        if path == "/" and request.method == "POST":
            if not self.settings.multicall:
                raise ApiError(404, "not_found", "No route for POST / on this server.")
            body = multicall.parse_body(request.get_data(cache=True))
            template = Call("POST", "/", {}, partner, base_url, environ=request.environ)
            template.principal = self._principal(request, dict(request.args), template)
            faults = request.environ.get(CALL_FAULTS) if isinstance(body, list) else None
            answer = multicall.run(body, template, self.dispatch_call, faults)
            return wire.json_response(answer)
        params = request_params(request)
        call = Call(request.method, path, params, partner, base_url, environ=request.environ)
        call.principal = self._principal(request, params, call)
        return wire.json_response(self.dispatch_call(call), headers=call.headers)

    def _principal(self, request: Request, params: dict[str, Any], call: Call) -> Principal | None:
        token = bearer_token(request, params)
        if token is None:
            return None
        principal = self.ctx.tokens.authenticate(token)
        call.environ[wire.CLIENT_KEY] = principal.client_id
        return principal

    def dispatch_call(self, call: Call) -> Any:
        """The data answering one call (tokens are bound to their host)."""
        principal = call.principal
        if (
            principal is not None
            and self.settings.strict_hosts
            and principal.partner != call.partner
        ):
            where = (
                "under /rest (the partner host)"
                if principal.partner
                else "outside /rest (the public host)"
            )
            raise forbidden(
                call.route,
                message=f"Insufficient rights for route {call.route}: "
                f"tokens of {'private' if principal.partner else 'public'} API keys "
                f"are only valid {where}.",
            )
        return self.rest.dispatch(call)

    # -- errors ------------------------------------------------------------------------
    def render_error(self, exc: Exception) -> Response | None:
        """The legacy answer to an error a route raised (None: not an API error)."""
        if isinstance(exc, GrantError):
            exc = OAuthError.of(exc)
        elif isinstance(exc, StateError):
            exc = translate(exc)
        if isinstance(exc, OAuthError):
            return wire.json_response(exc.body(), exc.status, exc.headers)
        if isinstance(exc, ApiError):
            return wire.json_response(error_body(exc), exc.status, exc.headers)
        return None
