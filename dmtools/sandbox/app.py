"""The sandbox's WSGI application: host check, body limits, routing, API-shaped errors.

Public paths are served at ``/...`` and partner paths under ``/rest/...``; tokens at
``/oauth/token`` and ``/oauth/v1/token``; the consent page at ``/oauth/authorize``; the upload
server at ``/upload`` and ``/progress``; call envelopes at ``POST /``; the admin API under
``/__sandbox__/``. No CORS header is ever sent.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from dmtools.sandbox import multicall
from dmtools.sandbox.admin import PREFIX as ADMIN_PREFIX
from dmtools.sandbox.admin import Admin
from dmtools.sandbox.apierrors import ApiError, OAuthError, forbidden
from dmtools.sandbox.calls import (
    MAX_BODY,
    Call,
    bearer_token,
    error_response,
    json_response,
    request_params,
)
from dmtools.sandbox.oauth import OAuthEndpoints
from dmtools.sandbox.rest import RestApi
from dmtools.sandbox.store import Store
from dmtools.sandbox.tokens import Principal, Tokens
from dmtools.sandbox.uploads import Uploads

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from dmtools.sandbox.faults import FaultController

log = logging.getLogger("dmtools.sandbox")
CLIENT_KEY = "dmtools.sandbox.client_id"
UPLOAD_PATHS = ("/upload", "/rest/upload")


def _read_chunked_body(environ: WSGIEnvironment) -> bool:
    """Read a chunked (length-less) request body into memory; False if it is over MAX_BODY.

    werkzeug would silently cut such a body at the limit; here it becomes a 413.
    """
    stream = environ["wsgi.input"]
    data = b""
    while len(data) <= MAX_BODY:
        part = stream.read(MAX_BODY + 1 - len(data))
        if not part:
            break
        data += part
    if len(data) > MAX_BODY:
        return False
    environ.pop("wsgi.input_terminated", None)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    return True


class SandboxApp:
    """The WSGI callable of one sandbox (see the module docstring for its routes)."""

    def __init__(
        self, store: Store, *, admin_token: str, faults: FaultController | None = None
    ) -> None:
        self.store = store
        self.tokens = Tokens(store)
        self.uploads = Uploads(store)
        self.oauth = OAuthEndpoints(store, self.tokens)
        self.rest = RestApi(store, self.tokens, self.uploads)
        self.admin = Admin(store, self.tokens, admin_token, faults)
        self.allowed_hosts: frozenset[str] = frozenset()

    def set_port(self, port: int) -> None:
        self.allowed_hosts = frozenset(f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]"))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        request.max_form_memory_size = MAX_BODY
        try:
            if (
                environ.get("wsgi.input_terminated")
                and request.path not in UPLOAD_PATHS
                and not _read_chunked_body(environ)
            ):
                raise RequestEntityTooLarge()
            response = self.dispatch(request)
        except (ApiError, OAuthError) as exc:
            response = error_response(exc)
        except RequestEntityTooLarge:
            response = self._too_large()
        except ClientDisconnected:
            log.debug("client disconnected during %s %s", request.method, request.path)
            response = error_response(
                ApiError(400, "invalid_request", "The request body ended early.")
            )
            response.headers["Connection"] = "close"
        except Exception:
            log.exception("sandbox error on %s %s", request.method, request.path)
            response = error_response(
                ApiError(500, "internal_error", "The sandbox failed to handle this request.")
            )
        return response(environ, start_response)

    @staticmethod
    def _too_large() -> Response:
        response = error_response(
            ApiError(413, "request_entity_too_large", f"Request body larger than {MAX_BODY} bytes.")
        )
        response.headers["Connection"] = "close"
        return response

    def dispatch(self, request: Request) -> Response:
        host = request.headers.get("Host", "")
        if host not in self.allowed_hosts:
            raise ApiError(
                421,
                "misdirected_request",
                f"Host {host!r} is not served here (use 127.0.0.1:PORT or localhost:PORT).",
            )
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            return self.admin.handle(request)
        if path in UPLOAD_PATHS:
            return self.uploads.upload(request)
        if (request.content_length or 0) > MAX_BODY:
            return self._too_large()
        request.get_data(cache=True)  # read the whole (bounded) body: keeps keep-alive in sync
        if path in ("/oauth/token", "/oauth/v1/token", "/rest/oauth/v1/token"):
            request.environ[CLIENT_KEY] = request.form.get("client_id")
            return self.oauth.token(request, partner=path != "/oauth/token")
        if path == "/oauth/authorize":
            if request.method not in ("GET", "POST"):
                raise ApiError(
                    405, "method_not_allowed", "Use GET or POST.", headers={"Allow": "GET, POST"}
                )
            return self.oauth.authorize(request)
        if path in ("/progress", "/rest/progress"):
            return self.uploads.progress(request)
        partner = path == "/rest" or path.startswith("/rest/")
        sub = path[5:] or "/" if partner else path
        if sub == "/" and request.method == "POST":
            return self._envelope(request, partner)
        params = request_params(request)
        call = Call(
            request.method,
            sub,
            params,
            partner,
            request.host_url.rstrip("/"),
            environ=request.environ,
        )
        call.principal = self._principal(request, params, call)
        data = self.dispatch_call(call)
        return json_response(data, headers=call.headers)

    def _principal(self, request: Request, params: dict[str, Any], call: Call) -> Principal | None:
        token = bearer_token(request, params)
        if token is None:
            return None
        principal = self.tokens.authenticate(token)
        call.environ[CLIENT_KEY] = principal.client_id
        return principal

    def dispatch_call(self, call: Call) -> Any:
        principal = call.principal
        if (
            principal is not None
            and self.store.settings.strict_hosts
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

    def _envelope(self, request: Request, partner: bool) -> Response:
        body = multicall.parse_body(request.get_data(cache=True))
        params = dict(request.args)
        template = Call(
            "POST", "/", {}, partner, request.host_url.rstrip("/"), environ=request.environ
        )
        template.principal = self._principal(request, params, template)
        return json_response(multicall.run(body, template, self.dispatch_call))


class RequestLog:
    """Outermost WSGI wrapper recording each non-admin request in the store's request log."""

    def __init__(self, app: Any, store: Store) -> None:
        self.app = app
        self.store = store

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "/")
        if path.startswith(ADMIN_PREFIX):
            return self.app(environ, start_response)
        seen: list[int] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append(int(status.split(None, 1)[0]))
            return start_response(status, headers, exc_info)

        started = time.time()
        try:
            return self.app(environ, capture)
        finally:
            query = str(environ.get("QUERY_STRING") or "")
            keys = sorted(
                {unquote_plus(part.split("=", 1)[0]) for part in query.split("&") if part}
            )
            self.store.requests.append(
                {
                    "time": started,
                    "method": str(environ.get("REQUEST_METHOD")),
                    "path": path,
                    "query_keys": keys,
                    "status": seen[-1] if seen else 0,
                    "client_id": environ.get(CLIENT_KEY),
                }
            )
