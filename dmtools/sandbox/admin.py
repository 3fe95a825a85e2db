"""The sandbox's admin API under ``/__sandbox__/`` (control and observation for tests).

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
POST     expire_tokens                  every issued access token expires now
GET/POST settings                       read / change :class:`~dmtools.sandbox.store.Settings`
=======  =============================  ===============================================
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.apierrors import ApiError, invalid_parameter, not_found
from dmtools.sandbox.calls import json_response, read_json
from dmtools.sandbox.store import Store
from dmtools.sandbox.tokens import Tokens

if TYPE_CHECKING:
    from dmtools.sandbox.faults import FaultController

PREFIX = "/__sandbox__/"
HEADER = "X-Sandbox-Admin"


class Admin:
    def __init__(
        self, store: Store, tokens: Tokens, token: str, faults: FaultController | None
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.token = token
        self.faults = faults

    def handle(self, request: Request) -> Response:
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise ApiError(403, "access_forbidden", f"The admin API needs the {HEADER} header.")
        route = request.path[len(PREFIX) :].strip("/")
        body = read_json(request) if request.method == "POST" else None
        if body is not None and not isinstance(body, dict):
            raise invalid_parameter("body", "The admin API takes a JSON object.")
        try:
            return json_response(self._route(request.method, route, body or {}, request))
        except ValueError as exc:
            raise invalid_parameter("body", str(exc)) from None

    def _since(self, request: Request) -> int:
        try:
            return int(request.args.get("since", "0"))
        except ValueError:
            raise invalid_parameter("since", "since must be an integer") from None

    def _fault_controller(self) -> FaultController:
        if self.faults is None:
            raise ApiError(501, "not_implemented", "Fault injection is not available.")
        return self.faults

    def _route(self, method: str, route: str, body: dict[str, Any], request: Request) -> Any:
        store = self.store
        if route == "health":
            return {"ok": True}
        if route == "credentials":
            return store.credentials()
        if route == "commits":
            return store.commits.items(self._since(request))
        if route == "requests":
            return store.requests.items(self._since(request))
        if route == "logs/clear" and method == "POST":
            store.commits.clear()
            store.requests.clear()
            if self.faults is not None:
                self.faults.clear_log()
            return {}
        if route == "faults":
            if method == "GET":
                return self.faults.log() if self.faults is not None else []
            controller = self._fault_controller()
            if method == "DELETE":
                controller.clear()
                return {}
            controller.configure(
                latency=body.get("latency", 0.0),
                jitter=body.get("jitter", 0.0),
                seed=body.get("seed", 0),
                rules=body.get("rules", ()),
            )
            return {}
        if route == "rate_limit" and method == "POST":
            self._fault_controller().set_rate_limit(body.get("rate"), body.get("burst"))
            return {}
        if route.startswith("video/"):
            return self._video(method, route[6:], body)
        if route == "videos" and method == "POST":
            n = body.get("n", 1)
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 100_000:
                raise ValueError("n must be an integer between 0 and 100000")
            return {"ids": store.add_videos(n, body.get("owner"))}
        if route == "token_lifetime" and method == "POST":
            store.settings.update({"token_lifetime": body.get("seconds")})
            return {}
        if route == "expire_tokens" and method == "POST":
            return {"expired": self.tokens.expire_all()}
        if route == "settings":
            if method == "POST":
                store.settings.update(body)
            return store.settings.as_dict()
        raise ApiError(404, "not_found", f"Unknown admin route {method} {PREFIX}{route}.")

    def _video(self, method: str, xid: str, body: dict[str, Any]) -> Any:
        if method == "GET":
            video = self.store.video(xid)
            if video is None:
                raise not_found("video", xid)
            return video
        if method == "DELETE":
            if not self.store.delete_video(xid, commit=False):
                raise not_found("video", xid)
            return {}
        if method == "POST":
            video = self.store.update_video(xid, body, commit=False)
            if video is None:
                raise not_found("video", xid)
            return video
        raise ApiError(405, "method_not_allowed", f"{method} is not allowed here.")
