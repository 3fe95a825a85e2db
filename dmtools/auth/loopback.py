"""A one-shot HTTP listener on 127.0.0.1 that receives the authorization callback.

It binds ``127.0.0.1`` (never all interfaces; an ephemeral port unless one is given), fails
at once if the port is taken, answers requests for other paths or with a foreign ``Host``
header with an error (DNS-rebinding guard), hands the single callback request to the login
flow, replies with a plain page (``Referrer-Policy: no-referrer``, no external resources,
``Cache-Control: no-store``) and closes. It never logs request lines, which carry the code.
"""

from __future__ import annotations

import html
import logging
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from .exceptions import LoginCancelled, LoginTimeout

__all__ = ["LoopbackListener"]

log = logging.getLogger("dmtools.auth")

#: Called with the full callback URL; returns (HTTP status, text for the page).
CallbackHandler = Callable[[str], tuple[int, str]]

_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>dmtools login</title></head>'
    '<body style="font-family:sans-serif"><p>{text}</p></body></html>'
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    timeout = 10.0  # seconds a connection may idle; a stuck client cannot hold the login

    def do_GET(self) -> None:
        server = self.server
        if self.headers.get("Host", "") not in server.allowed_hosts:
            self._reply(400, "Unexpected Host header.")
            return
        if urlsplit(self.path).path != server.callback_path:
            self._reply(404, "Not found.")
            return
        status, text = server.on_callback(server.origin + self.path)
        server.served = True
        self._reply(status, text)

    def _reply(self, status: int, text: str) -> None:
        body = _PAGE.format(text=html.escape(text)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines carry the authorization code: never log them."""


class _Server(socketserver.TCPServer):
    allow_reuse_address = False  # an occupied port must fail, not be shared
    on_callback: CallbackHandler
    served = False

    def __init__(self, port: int, callback_path: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.callback_path = callback_path
        bound = self.server_address[1]
        self.origin = f"http://127.0.0.1:{bound}"
        self.allowed_hosts = {f"127.0.0.1:{bound}", f"localhost:{bound}"}

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("the login callback request failed", exc_info=True)


class LoopbackListener:
    """Listens on ``http://127.0.0.1:PORT/callback`` for one authorization callback.

    The socket is bound when the listener is made, so :attr:`redirect_uri` is known before
    the authorization URL is built.

    Args:
        port: 0 (default) for an ephemeral port.
        path: the callback path.

    Raises:
        OSError: the port is already in use.

    Example:
        >>> with LoopbackListener() as listener:
        ...     listener.redirect_uri.startswith("http://127.0.0.1:")
        True
    """

    def __init__(self, port: int = 0, path: str = "/callback") -> None:
        self._server = _Server(port, path if path.startswith("/") else "/" + path)
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        return self._server.origin + self._server.callback_path

    def __enter__(self) -> LoopbackListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LoopbackListener({self.redirect_uri!r}, closed={self._closed})"

    def serve(
        self,
        on_callback: CallbackHandler,
        *,
        timeout: float,
        cancel: threading.Event | None = None,
        poll: float = 0.2,
    ) -> None:
        """Serve until the callback request was handled, then close.

        Raises:
            LoginTimeout: no callback within ``timeout`` seconds.
            LoginCancelled: ``cancel`` was set.
        """
        server = self._server
        server.on_callback = on_callback
        deadline = time.monotonic() + timeout
        try:
            while not server.served:
                if cancel is not None and cancel.is_set():
                    raise LoginCancelled("the login was cancelled")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LoginTimeout(
                        f"no login callback reached {self.redirect_uri} within {timeout:g} s; "
                        "start the login again"
                    )
                server.timeout = min(remaining, poll)
                server.handle_request()
        finally:
            self.close()

    def close(self) -> None:
        """Close the listening socket (idempotent)."""
        if not self._closed:
            self._closed = True
            self._server.server_close()
