"""The API v2 dialect: its routes, who a call speaks for, its error answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api import wire
from dmtools.sandbox.api.base import Context, Route
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
        groups: dict[str, Any] = {"videos": VideoRoutes(ctx), "profiles": ProfileRoutes(ctx)}
        self.map = Map(
            [Rule(path, endpoint=name, methods=methods) for path, name, methods in urls.RESOURCES],
            strict_slashes=False,
            merge_slashes=False,
        )
        self._handlers: dict[str, Callable[..., Response]] = {}
        for _, name, _ in urls.RESOURCES:
            group, handler = name.split(".")
            self._handlers[name] = getattr(groups[group], handler)

    # -- routes ------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        return self.oauth.token(request)

    def api(self, request: Request) -> Response:
        adapter = self.map.bind("sandbox", "/")
        try:
            endpoint, args = adapter.match(request.path, method=request.method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            raise ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"Method {request.method} is not allowed for {request.path} (allowed: {allowed}).",
                {"allowed": allowed},
                {"Allow": allowed},
            ) from None
        except NotFound:
            raise ApiError(
                404,
                "RESOURCE_NOT_FOUND",
                f"Unknown route {request.method} {request.path}.",
                {"reason": "unknown_route"},
            ) from None
        call = Call(request, principal_of(request, self.tokens))
        return self._handlers[str(endpoint)](call, **args)

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
