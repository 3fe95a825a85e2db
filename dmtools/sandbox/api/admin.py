"""The sandbox's admin API under ``/__sandbox__/``, shared by every dialect (control and
observation for tests).

Every route needs the header ``X-Sandbox-Admin: <admin token>`` (a random token the
:class:`~dmtools.sandbox.Sandbox` object knows). Admin routes are never faulted, rate limited
or written to the request log. Bodies are JSON.

=======  =============================  ===============================================
method   path                           does
=======  =============================  ===============================================
GET      health                         ``{"ok": true}``
GET      credentials                    demo keys and users
GET      commits?since=SEQ              committed client writes
GET      requests?since=SEQ             request log
POST     logs/clear                     empty the commit, request and fault logs
GET      faults                         injected faults (fault log)
POST     faults                         ``{latency, jitter, seed, rules}``
DELETE   faults                         no faults, latency or rate limit
POST     rate_limit                     ``{rate, burst}`` (rate null: off)
GET      video/<id>                     the stored video, all fields
POST     video/<id>                     out-of-band edit ``{field: value}``
DELETE   video/<id>                     out-of-band delete
POST     videos                         ``{n, owner}`` → ``{"ids": [...]}``
POST     token_lifetime                 ``{seconds}``
GET      clock                          ``{"now", "offset"}`` (the sandbox clock)
POST     clock                          ``{"advance": seconds}``: move the clock forward
POST     expire_tokens                  every issued access token expires now
GET/POST settings                       read / change :class:`~dmtools.sandbox.state.Settings`
=======  =============================  ===============================================

A dialect adds its own admin routes with :meth:`Admin.extend` (the Reporting API's
``reports...`` routes).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api.base import Context
from dmtools.sandbox.api.errors import ApiError, invalid_body
from dmtools.sandbox.api.wire import json_response, read_json
from dmtools.sandbox.state.errors import NotFound

if TYPE_CHECKING:
    from dmtools.sandbox.faults import FaultController

PREFIX = "/__sandbox__/"
HEADER = "X-Sandbox-Admin"
_Handler = Callable[[dict[str, Any], Request], Any]


class Admin:
    """The admin API of one sandbox (see the module docstring for its routes)."""

    def __init__(self, ctx: Context, token: str, faults: FaultController | None) -> None:
        self.store = ctx.store
        self.tokens = ctx.tokens
        self.token = token
        self.faults = faults
        self._routes: dict[tuple[str, str], _Handler] = {
            ("GET", "health"): lambda body, request: {"ok": True},
            ("GET", "credentials"): lambda body, request: self.store.credentials(),
            ("GET", "commits"): lambda body, r: self.store.commits.items(self._since(r)),
            ("GET", "requests"): lambda body, r: self.store.requests.items(self._since(r)),
            ("POST", "logs/clear"): self._clear_logs,
            ("GET", "faults"): lambda body, r: self.faults.log() if self.faults is not None else [],
            ("POST", "faults"): self._configure_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("POST", "rate_limit"): self._rate_limit,
            ("POST", "videos"): self._add_videos,
            ("POST", "token_lifetime"): self._token_lifetime,
            ("POST", "expire_tokens"): lambda body, r: {"expired": self.tokens.expire_all()},
            ("GET", "settings"): lambda body, r: self.store.settings.as_dict(),
            ("POST", "settings"): self._settings,
            ("GET", "clock"): lambda body, r: self._clock(),
            ("POST", "clock"): self._advance_clock,
        }

    def extend(self, routes: Mapping[tuple[str, str], _Handler]) -> None:
        """Add a dialect's admin routes (``(method, route) -> handler(body, request)``).

        Raises:
            ValueError: a route that already exists.
        """
        clash = set(routes) & set(self._routes)
        if clash:
            raise ValueError(f"two admin routes for {sorted(clash)}")
        self._routes.update(routes)

    def _clock(self) -> dict[str, float]:
        return {"now": self.store.clock.now(), "offset": self.store.clock.offset}

    def _advance_clock(self, body: dict[str, Any], request: Request) -> Any:
        self.store.clock.advance(body.get("advance", 0))
        return self._clock()

    def handle(self, request: Request) -> Response:
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise ApiError(403, "access_forbidden", f"The admin API needs the {HEADER} header.")
        route = request.path[len(PREFIX) :].strip("/")
        body = read_json(request) if request.method == "POST" else None
        if body is not None and not isinstance(body, dict):
            raise invalid_body("The admin API takes a JSON object.")
        try:
            return json_response(self._route(request.method, route, body or {}, request))
        except ValueError as exc:
            raise invalid_body(str(exc)) from None

    def _route(self, method: str, route: str, body: dict[str, Any], request: Request) -> Any:
        if route.startswith("video/"):
            return self._video(method, route[6:], body)
        handler = self._routes.get((method, route))
        if handler is None:
            raise ApiError(404, "not_found", f"Unknown admin route {method} {PREFIX}{route}.")
        return handler(body, request)

    @staticmethod
    def _since(request: Request) -> int:
        try:
            return int(request.args.get("since", "0"))
        except ValueError:
            raise ApiError(
                400, "invalid_parameter", "since must be an integer", {"param": "since"}
            ) from None

    def _fault_controller(self) -> FaultController:
        if self.faults is None:
            raise ApiError(501, "not_implemented", "Fault injection is not available.")
        return self.faults

    def _clear_logs(self, body: dict[str, Any], request: Request) -> Any:
        self.store.commits.clear()
        self.store.requests.clear()
        if self.faults is not None:
            self.faults.clear_log()
        return {}

    def _configure_faults(self, body: dict[str, Any], request: Request) -> Any:
        self._fault_controller().configure(
            latency=body.get("latency", 0.0),
            jitter=body.get("jitter", 0.0),
            seed=body.get("seed", 0),
            rules=body.get("rules", ()),
        )
        return {}

    def _clear_faults(self, body: dict[str, Any], request: Request) -> Any:
        self._fault_controller().clear()
        return {}

    def _rate_limit(self, body: dict[str, Any], request: Request) -> Any:
        self._fault_controller().set_rate_limit(body.get("rate"), body.get("burst"))
        return {}

    def _add_videos(self, body: dict[str, Any], request: Request) -> Any:
        n = body.get("n", 1)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 100_000:
            raise ValueError("n must be an integer between 0 and 100000")
        return {"ids": self.store.add_videos(n, body.get("owner"))}

    def _token_lifetime(self, body: dict[str, Any], request: Request) -> Any:
        self.store.settings.update({"token_lifetime": body.get("seconds")})
        return {}

    def _settings(self, body: dict[str, Any], request: Request) -> Any:
        self.store.settings.update(body)
        return self.store.settings.as_dict()

    def _video(self, method: str, xid: str, body: dict[str, Any]) -> Any:
        if method == "GET":
            video = self.store.video(xid)
        elif method == "DELETE":
            video = {} if self.store.delete_video(xid, commit=False) else None
        elif method == "POST":
            video = self.store.update_video(xid, body, commit=False)
        else:
            raise ApiError(405, "method_not_allowed", f"{method} is not allowed here.")
        if video is None:
            raise NotFound("video", xid)
        return video
