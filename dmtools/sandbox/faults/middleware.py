"""The WSGI middleware applying a :class:`FaultController` to every non-admin request.

See :mod:`dmtools.sandbox.faults` for the order of the steps and the kinds of faults.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.legacy.errors import error_body
from dmtools.sandbox.faults.calls import CALL_FAULTS, CallFaults
from dmtools.sandbox.faults.controller import ADMIN_PREFIX, FaultController
from dmtools.sandbox.faults.rules import (
    Rule,
    default_message,
    html_page,
    phrase,
    retry_after_header,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("dmtools.sandbox.faults")

#: Paths of the legacy API's call envelopes (``POST /``; ``/rest/`` on the partner host).
_ENVELOPE_PATHS = frozenset({"/", "/rest", "/rest/"})

#: ``(path, error) -> body``: the error answer of the dialect serving ``path``.
ErrorBody = Callable[[str, ApiError], bytes]


def legacy_error_body(path: str, error: ApiError) -> bytes:
    """The legacy API's error JSON (the default body of status faults)."""
    return json.dumps(error_body(error)).encode()


class FaultMiddleware:
    """WSGI middleware applying a :class:`FaultController` to every non-admin request.

    Example:
        >>> app = FaultMiddleware(inner_app, FaultController())
    """

    def __init__(
        self,
        app: WSGIApplication,
        controller: FaultController,
        *,
        error_body: ErrorBody = legacy_error_body,
    ) -> None:
        self.app = app
        self.controller = controller
        self.error_body = error_body

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "/")
        if path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/"):
            return self.app(environ, start_response)
        ctl = self.controller
        state = ctl._current()
        delay = ctl._delay(state)
        if delay > 0.0:
            ctl._wait(delay)
        method = str(environ.get("REQUEST_METHOD") or "GET").upper()
        entry: dict[str, Any] = {"time": 0.0, "method": method, "path": path}
        wait = ctl._throttle()
        if wait is not None:
            return self._rate_limited(wait, entry, start_response)
        picked = ctl._pick(state, method, path)
        if picked is None:
            if method == "POST" and path in _ENVELOPE_PATHS:
                return self._envelope(environ, start_response, CallFaults(ctl, state))
            return self.app(environ, start_response)
        rule, n = picked
        entry.update(kind=rule.kind, after_commit=rule.after_commit, rule=rule.index, n=n)
        if rule.name is not None:
            entry["name"] = rule.name
        inner: tuple[str, list[tuple[str, str]], bytes] | None = None
        if rule.after_commit:
            inner = _call_inner(self.app, environ)
            entry["inner_status"] = int(inner[0].split(None, 1)[0])
        if rule.kind == "reset":
            entry["rst"] = environ.get("werkzeug.socket") is not None
            self._finish(entry)  # logged first: the client may look at the log once reset
            _reset_connection(environ)
            raise ConnectionResetError("connection reset (injected fault)")
        if rule.kind == "status":
            return self._status(rule, entry, start_response)
        assert inner is not None
        if rule.kind == "hold":
            entry["seconds"] = rule.options["seconds"]
            self._finish(entry)
            ctl._wait(rule.options["seconds"])
            start_response(inner[0], inner[1])
            return [inner[2]]
        return self._truncate(rule, inner, entry, environ, start_response)

    def _envelope(
        self, environ: WSGIEnvironment, start_response: StartResponse, faults: CallFaults
    ) -> Iterable[bytes]:
        """A call envelope (multi-call): the rules apply to each call it carries (see
        :mod:`dmtools.sandbox.faults.calls`); a connection fault applies to the answer."""
        environ[CALL_FAULTS] = faults
        inner = _call_inner(self.app, environ)
        fault = faults.whole
        if fault is None:
            start_response(inner[0], inner[1])
            return [inner[2]]
        entry = fault.entry
        entry["inner_status"] = int(inner[0].split(None, 1)[0])
        if fault.rule.kind == "reset":
            entry["rst"] = environ.get("werkzeug.socket") is not None
            self._finish(entry)
            _reset_connection(environ)
            raise ConnectionResetError("connection reset (injected fault)")
        if fault.rule.kind == "hold":
            entry["seconds"] = fault.rule.options["seconds"]
            self._finish(entry)
            self.controller._wait(fault.rule.options["seconds"])
            start_response(inner[0], inner[1])
            return [inner[2]]
        return self._truncate(fault.rule, inner, entry, environ, start_response)

    def _finish(self, entry: dict[str, Any], now: float | None = None) -> None:
        entry["time"] = time.time() if now is None else now
        self.controller._record(entry)

    def _rate_limited(
        self, wait: float, entry: dict[str, Any], start_response: StartResponse
    ) -> list[bytes]:
        now = time.time()
        value, not_before = retry_after_header(wait, "seconds", now)
        entry.update(
            kind="rate_limit",
            after_commit=False,
            status=429,
            retry_after=value,
            not_before=not_before,
        )
        self._finish(entry, now)
        error = ApiError(429, "rate_limit_exceeded", default_message(429))
        body = self.error_body(entry["path"], error)
        start_response(
            "429 Too Many Requests",
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Retry-After", value),
            ],
        )
        return [body]

    def _status(
        self, rule: Rule, entry: dict[str, Any], start_response: StartResponse
    ) -> list[bytes]:
        opts = rule.options
        status: int = opts["status"]
        if opts["body"] is not None:
            body, content_type = opts["body"].encode("utf-8", "replace"), opts["content_type"]
        elif opts["html"]:
            body, content_type = html_page(status), "text/html; charset=utf-8"
        else:
            error = ApiError(status, opts["type"], opts["message"], opts["error_data"])
            body = self.error_body(entry["path"], error)
            content_type = "application/json; charset=utf-8"
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        entry["status"] = status
        now = time.time()
        if opts["retry_after"] is not None:
            value, not_before = retry_after_header(
                opts["retry_after"], opts["retry_after_format"], now
            )
            headers.append(("Retry-After", value))
            entry.update(retry_after=value, not_before=not_before)
        self._finish(entry, now)
        start_response(f"{status} {phrase(status)}", headers)
        return [body]

    def _truncate(
        self,
        rule: Rule,
        inner: tuple[str, list[tuple[str, str]], bytes],
        entry: dict[str, Any],
        environ: WSGIEnvironment,
        start_response: StartResponse,
    ) -> Iterator[bytes]:
        body = inner[2]
        keep = rule.options["bytes"]
        sent = body[: len(body) // 2 if keep is None else keep]
        declared = max(len(body), len(sent) + 1)
        headers = [
            (k, v)
            for k, v in inner[1]
            if k.lower() not in ("content-length", "transfer-encoding", "connection")
        ]
        headers.append(("Content-Length", str(declared)))
        entry.update(status=200, sent=len(sent), declared=declared)
        self._finish(entry)
        start_response("200 OK", headers)
        return _then_close(sent, environ)


def _then_close(data: bytes, environ: WSGIEnvironment) -> Iterator[bytes]:
    """Yield ``data``, then end the connection's output (the body stays short)."""
    yield data
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)


def _call_inner(
    app: WSGIApplication, environ: WSGIEnvironment
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run the app to completion (its commit happens) and collect its whole response."""
    captured: list[tuple[str, list[tuple[str, str]]]] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and captured and chunks:
            raise exc_info[1].with_traceback(exc_info[2])
        captured.append((status, list(headers)))
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not captured:
        raise RuntimeError("the sandbox app returned without calling start_response")
    status, headers = captured[-1]
    return status, headers, b"".join(chunks)


def _reset_connection(environ: WSGIEnvironment) -> bool:
    """Abort the request's TCP connection with a RST; False if there is no socket to reset."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return False
    try:
        fd = sock.fileno()
        if fd < 0:
            return False
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Closing the descriptor sends the RST; dup2 closes it and puts a dead stand-in
        # (a socketpair end whose peer is gone: reads see EOF, writes fail) under the same
        # number, so the handler's later reads, writes and close stay harmless and the number
        # cannot be reused by another connection meanwhile.
        stand_in, peer = socket.socketpair()
        peer.close()
        try:
            os.dup2(stand_in.fileno(), fd)
        finally:
            stand_in.close()
    except OSError:
        log.warning("could not reset the connection", exc_info=True)
        return False
    stream = environ.get("wsgi.input")
    with contextlib.suppress(OSError, ValueError):
        while stream is not None and stream.read(65536):
            pass  # drop request bytes already buffered, so the server next reads a clean EOF
    return True
