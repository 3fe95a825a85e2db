"""The sandbox's WSGI application: routing over every dialect, host check, body limits, errors.

Every request goes through the same steps, whichever dialect serves it: find the route
(:mod:`~dmtools.sandbox.api.urls`), read a chunked body into memory (at most ``MAX_BODY``,
else 413), check the ``Host`` header (421 for anything but the sandbox's own loopback
names), read the whole body (except on upload routes, which stream it), then call the
route. An exception becomes the owning dialect's error answer; an unexpected one is a 500
with the API's error JSON and a logged traceback (a bug). No CORS header is ever sent.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api import urls
from dmtools.sandbox.api.admin import PREFIX as ADMIN_PREFIX
from dmtools.sandbox.api.admin import Admin
from dmtools.sandbox.api.base import Context, Dialect, Route, Router
from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.uploads import Uploads
from dmtools.sandbox.api.wire import CLIENT_KEY, MAX_BODY
from dmtools.sandbox.state.store import Store
from dmtools.sandbox.state.tokens import Tokens

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from dmtools.sandbox.faults import FaultController

log = logging.getLogger("dmtools.sandbox")


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


class Shared:
    """The routes every dialect shares (:data:`urls.SHARED`): admin API and upload server."""

    routes = urls.SHARED

    def __init__(self, admin: Admin, uploads: Uploads) -> None:
        self.admin = admin.handle
        self.upload = uploads.upload
        self.progress = uploads.progress


#: A dialect class (or any callable building a dialect from the shared context).
DialectFactory = Callable[[Context], Dialect]


class SandboxApp:
    """The WSGI callable of one sandbox: one store and context, every dialect's routes.

    Raises:
        ValueError: two routes (of two dialects, or of a dialect and the shared ones) for
            one path.
    """

    def __init__(
        self,
        store: Store,
        *,
        admin_token: str,
        faults: FaultController | None = None,
        dialects: Sequence[DialectFactory] | None = None,
    ) -> None:
        self.store = store
        self.tokens = Tokens(store)
        self.uploads = Uploads(store)
        ctx = Context(store, self.tokens, self.uploads)
        factories = urls.DIALECTS if dialects is None else dialects
        self.dialects: list[Dialect] = [make(ctx) for make in factories]
        self.default = self.dialects[0]
        self.admin = Admin(ctx, admin_token, faults)
        for dialect in self.dialects:  # a dialect may bring admin routes of its own
            self.admin.extend(getattr(dialect, "admin_routes", {}))
        self.shared = Shared(self.admin, self.uploads)
        self.router = Router(
            [(self.shared, self.shared.routes)] + [(d, d.routes) for d in self.dialects]
        )
        self.allowed_hosts: frozenset[str] = frozenset()

    def set_port(self, port: int) -> None:
        self.allowed_hosts = frozenset(f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]"))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        request.max_form_memory_size = MAX_BODY
        owner, route = self._match(request.path)
        try:
            response = self._serve(request, owner, route)
        except RequestEntityTooLarge:
            response = self._close(owner, ApiError(413, "request_entity_too_large", _TOO_LARGE))
        except ClientDisconnected:
            log.debug("client disconnected during %s %s", request.method, request.path)
            response = self._close(
                owner, ApiError(400, "invalid_request", "The request body ended early.")
            )
        except Exception as exc:
            response = self.render(owner, exc, f"{request.method} {request.path}")
        return response(environ, start_response)

    def _match(self, path: str) -> tuple[Any, Route]:
        found = self.router.match(path)
        return found if found is not None else (self.default, Route(path, "not_found"))

    def _serve(self, request: Request, owner: Any, route: Route) -> Response:
        environ = request.environ
        if (
            environ.get("wsgi.input_terminated")
            and not route.streams_body
            and not _read_chunked_body(environ)
        ):
            raise RequestEntityTooLarge()
        host = request.headers.get("Host", "")
        if host not in self.allowed_hosts:
            raise ApiError(
                421,
                "misdirected_request",
                f"Host {host!r} is not served here (use 127.0.0.1:PORT or localhost:PORT).",
            )
        if not route.streams_body:
            if (request.content_length or 0) > MAX_BODY:
                raise RequestEntityTooLarge()
            request.get_data(cache=True)  # the whole (bounded) body: keeps keep-alive in sync
        handler = getattr(owner, route.endpoint, None)
        if handler is None:
            raise ApiError(404, "not_found", f"Unknown route {request.method} {request.path}.")
        response: Response = handler(request)
        return response

    def _renderer(self, owner: Any) -> Dialect:
        return owner if hasattr(owner, "render_error") else self.default

    def render(self, owner: Any, exc: Exception, where: str = "") -> Response:
        """The answer to an exception raised while serving ``owner``'s route."""
        response = self._renderer(owner).render_error(exc)
        if response is None:
            log.error("sandbox error on %s", where, exc_info=exc)
            response = self._renderer(owner).render_error(
                ApiError(500, "internal_error", "The sandbox failed to handle this request.")
            )
        assert response is not None
        return response

    def _close(self, owner: Any, error: ApiError) -> Response:
        response = self.render(owner, error)
        response.headers["Connection"] = "close"
        return response

    def error_body(self, path: str, error: ApiError) -> bytes:
        """The error answer's body that the dialect serving ``path`` sends (for faults)."""
        owner, _ = self._match(path)
        return bytes(self.render(owner, error).get_data())


_TOO_LARGE = f"Request body larger than {MAX_BODY} bytes."


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
