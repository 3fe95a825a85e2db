"""The API v2 dialect: its routes, who a call speaks for, its error answers."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api import wire
from dmtools.sandbox.api.base import Context, Resources, Route
from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.oauth import OAuthError
from dmtools.sandbox.api.v2 import urls
from dmtools.sandbox.api.v2.calls import Call, principal_of
from dmtools.sandbox.api.v2.errors import render, translate
from dmtools.sandbox.api.v2.oauth import V2TokenEndpoint
from dmtools.sandbox.api.v2.profiles import ProfileRoutes
from dmtools.sandbox.api.v2.videos import VideoRoutes
from dmtools.sandbox.state.v2tokens import V2Tokens


class V2Api:
    """The API v2 dialect: the methods named by :data:`urls.PATHS`, over one context."""

    name = "v2"
    routes: tuple[Route, ...] = urls.PATHS

    def __init__(self, ctx: Context) -> None:
        self.settings = ctx.store.settings
        self.tokens = V2Tokens(ctx.store)
        self.oauth = V2TokenEndpoint(ctx.store, ctx.tokens, self.tokens)
        self.resources = Resources(
            urls.RESOURCES, {"videos": VideoRoutes(ctx), "profiles": ProfileRoutes(ctx)}
        )

    # -- routes ------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        return self.oauth.token(request)

    def api(self, request: Request) -> Response:
        route = f"{request.method} {request.path}"
        handler, args = self.resources.match(request.method, request.path, route)
        call = Call(request, principal_of(request, self.tokens))
        response: Response = handler(call, **args)
        return response

    # -- errors ------------------------------------------------------------------------
    def render_error(self, exc: Exception) -> Response | None:
        """The v2 answer to an error a route raised (None: not an API error)."""
        if isinstance(exc, OAuthError):
            return wire.json_response(exc.body(), exc.status, exc.headers)
        translated = translate(exc, self.settings.v2_validation_status)
        if translated is not None:
            exc = translated
        if isinstance(exc, ApiError):
            return render(exc)
        return None
