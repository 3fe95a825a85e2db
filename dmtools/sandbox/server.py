"""The sandbox's HTTP server: werkzeug's threaded WSGI server, tuned and bounded.

* HTTP/1.1 keep-alive (werkzeug's own handler closes every connection) and
  ``TCP_NODELAY``; each response goes out in as few writes as possible.
* At most :data:`MAX_HANDLERS` requests are handled at once; more get a fast 503. Idle
  keep-alive connections don't count, but there are at most :data:`MAX_CONNECTIONS` of them
  and each times out after :data:`SOCKET_TIMEOUT` seconds without a request.
* A request body of up to ``MAX_BODY`` bytes (``Content-Length`` or chunked) is read in full
  before the request takes a handler slot, so clients sending their bodies slowly cannot
  hold the slots; a chunked body over the limit reaches the application unfinished (which
  answers 413 outside the upload paths).
* :meth:`SandboxServer.stop` shuts the accept loop down, closes open connections, joins
  every handler thread and closes the listening socket.
"""

from __future__ import annotations

import io
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any, cast
from urllib.parse import urlsplit

from werkzeug.serving import DechunkedInput, ThreadedWSGIServer, WSGIRequestHandler

from dmtools.sandbox.api.app import DialectFactory, RequestLog, SandboxApp
from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.wire import MAX_BODY
from dmtools.sandbox.state.settings import Settings
from dmtools.sandbox.state.store import Store
from dmtools.sandbox.streams import Prefetched, RequestBody

log = logging.getLogger("dmtools.sandbox")

MAX_HANDLERS = 32
MAX_CONNECTIONS = 256
SOCKET_TIMEOUT = 10.0
_DRAIN_LIMIT = 1 << 20
_BUSY_TEXT = "The sandbox is busy, retry later."
_BUSY_BODY = (
    b'{"error":{"more_info":null,"code":503,"type":"server_busy","message":"%s","error_data":{}}}'
    % _BUSY_TEXT.encode()
)
_BUSY_HEAD = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
)
_BUSY = _BUSY_HEAD % len(_BUSY_BODY) + _BUSY_BODY


class _Handler(WSGIRequestHandler):
    """werkzeug's handler with keep-alive, TCP_NODELAY, a socket timeout and no access log."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = SOCKET_TIMEOUT

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def run_wsgi(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        try:
            body = self._prefetch()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True  # the client stopped sending: nothing to answer
            return
        if not server.busy.acquire(blocking=False):
            self.close_connection = True
            self.wfile.write(server.busy_answer(self.path))
            return
        try:
            self._run_wsgi(body)
        finally:
            server.busy.release()

    def _prefetch(self) -> tuple[bytes, Any] | None:
        """(body read ahead, rest of a chunked body or None), or None to stream as usual.

        Reads a ``Content-Length`` body of at most ``MAX_BODY`` bytes, or a chunked body up
        to one byte over the limit.
        """
        expects = self.headers.get("Expect", "").lower().strip(" \t") == "100-continue"
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            if expects:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            chunks = DechunkedInput(cast(IO[bytes], self.rfile))
            head = b""
            while len(head) <= MAX_BODY:
                part = chunks.read(MAX_BODY + 1 - len(head))
                if not part:
                    return head, None
                head += part
            return head, chunks
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY:
            return None
        if expects:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        data = self.rfile.read(length)
        if len(data) < length:
            raise ConnectionError("client closed the connection mid-body")
        return data, None

    def _run_wsgi(self, prefetched: tuple[bytes, Any] | None) -> None:
        if (
            prefetched is None
            and self.headers.get("Expect", "").lower().strip(" \t") == "100-continue"
        ):
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        body: RequestBody | None = None
        if prefetched is not None:
            head, rest = prefetched
            if rest is None:  # the whole body: serve it as a Content-Length body
                environ.pop("wsgi.input_terminated", None)
                environ.pop("HTTP_TRANSFER_ENCODING", None)
                environ["wsgi.input"] = io.BytesIO(head)
                environ["CONTENT_LENGTH"] = str(len(head))
                environ["dmtools.sandbox.prefetched"] = True
            else:
                environ["wsgi.input"] = Prefetched(head, rest)
        elif not environ.get("wsgi.input_terminated"):
            try:
                length = max(0, int(self.headers.get("Content-Length") or 0))
            except ValueError:
                self.send_error(400, "Bad Content-Length")
                self.close_connection = True
                return
            body = RequestBody(self.rfile, length)
            environ["wsgi.input"] = body
        try:
            self._respond(environ)
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True
            return
        if environ.get("dmtools.sandbox.prefetched"):
            return
        if body is not None and body.remaining:
            if body.remaining > _DRAIN_LIMIT:
                self.close_connection = True
            else:
                try:
                    while body.read(65536):
                        pass
                except (ConnectionError, OSError):
                    self.close_connection = True
        elif body is None and not getattr(environ["wsgi.input"], "_done", False):
            self.close_connection = True

    def _respond(self, environ: dict[str, Any]) -> None:
        state: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, list(headers)
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.server.app(environ, start_response)
        try:
            iterator = iter(result)
            declared = self._declared(state.get("headers", []))
            if declared is None:  # unknown length: buffer, then send with a Content-Length
                chunks.extend(iterator)
                payload = b"".join(chunks)
                if not state["status"].startswith(("204", "304")):  # RFC 9110: none on these
                    state["headers"].append(("Content-Length", str(len(payload))))
                self._send(state, payload, environ)
                return
            sent = 0
            first = b"".join(chunks)
            for chunk in iterator:  # stream: the head goes with the first chunk
                if not state.get("sent"):
                    first += chunk
                    if not first:
                        continue
                    self._send(state, first, environ)
                    sent += len(first)
                elif chunk:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            if not state.get("sent"):
                self._send(state, first, environ)
                sent += len(first)
            if sent != declared and environ["REQUEST_METHOD"] != "HEAD":
                self.close_connection = True  # a short body: the connection cannot be reused
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    @staticmethod
    def _declared(headers: list[tuple[str, str]]) -> int | None:
        for name, value in headers:
            if name.lower() == "content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    def _send(self, state: dict[str, Any], payload: bytes, environ: dict[str, Any]) -> None:
        if "status" not in state:
            raise RuntimeError("the application did not call start_response")
        state["sent"] = True
        lines = [
            f"{self.protocol_version} {state['status']}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        for name, value in state["headers"]:
            lines.append(f"{name}: {value}")
            if name.lower() == "connection" and value.strip().lower() == "close":
                self.close_connection = True
        if self.close_connection and not any(
            n.lower() == "connection" for n, _ in state["headers"]
        ):
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if environ["REQUEST_METHOD"] == "HEAD":
            payload = b""
        self.wfile.write(head + payload)


class _Server(ThreadedWSGIServer):
    """ThreadedWSGIServer that bounds and tracks its handler threads and connections."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str, port: int, app: Any) -> None:
        self.busy = threading.BoundedSemaphore(MAX_HANDLERS)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}
        self.error_body: Callable[[str, ApiError], bytes] | None = None
        super().__init__(host, port, app, handler=_Handler)

    def busy_answer(self, target: str) -> bytes:
        """The fast 503 for a request to ``target``, in the error format of its dialect."""
        error, path = ApiError(503, "server_busy", _BUSY_TEXT), urlsplit(target).path or "/"
        body = _BUSY_BODY if self.error_body is None else self.error_body(path, error)
        return _BUSY_HEAD % len(body) + body

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        thread = threading.Thread(
            target=self._serve,
            args=(request, client_address),
            name="dmtools-sandbox-connection",
            daemon=True,
        )
        with self._lock:
            self._open[request] = thread
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            log.debug("connection handler failed", exc_info=True)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._open.pop(request, None)
            self._slots.release()

    def close_connections(self, timeout: float = 2.0) -> None:
        with self._lock:
            open_now = list(self._open.items())
        for sock, _ in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in open_now:
            thread.join(timeout)


class SandboxServer:
    """One running sandbox in this process: store, app, HTTP server and its thread.

    ``videos`` is the size of the demo user's channel and ``archive_videos`` of the
    organisation's archive channel (None: the seed's default); ``dialects`` replaces the API dialects served (default:
    :data:`api.urls.DIALECTS`).
    """

    def __init__(
        self,
        *,
        videos: int = 1500,
        seed: int = 7,
        archive_videos: int | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        db_path: str | None = None,
        settings: Settings | None = None,
        latency: float = 0.0,
        admin_token: str | None = None,
        dialects: Sequence[DialectFactory] | None = None,
    ) -> None:
        self.store = Store(db_path, settings=settings)
        self.store.seed_if_empty(seed, videos, archive_videos)
        self.admin_token = admin_token or "emu_admin_" + secrets.token_urlsafe(18)
        self.faults = _fault_controller()
        if self.faults is not None and latency:
            self.faults.configure(latency=latency)
        self.app = SandboxApp(
            self.store, admin_token=self.admin_token, faults=self.faults, dialects=dialects
        )
        wsgi: Any = self.app
        if self.faults is not None:
            from dmtools.sandbox.faults import FaultMiddleware

            wsgi = FaultMiddleware(wsgi, self.faults, error_body=self.app.error_body)
        self.httpd = _Server(host, port, RequestLog(wsgi, self.store))
        self.httpd.error_body = self.app.error_body
        self.port = int(self.httpd.server_address[1])
        self.app.set_port(self.port)
        self.url = f"http://{host if ':' not in host else f'[{host}]'}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="dmtools-sandbox-server",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self.faults is not None:
            self.faults.close()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self.httpd.close_connections()
        self.httpd.server_close()
        self.store.close()


def _fault_controller() -> Any:
    try:
        from dmtools.sandbox.faults import FaultController
    except ImportError:  # pragma: no cover - faults are optional
        log.warning("dmtools.sandbox.faults is not available: fault injection disabled")
        return None
    return FaultController()
