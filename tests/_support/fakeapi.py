"""A scripted HTTP/1.1 server on 127.0.0.1 for transport tests, and its fake auth and clock.

The server answers each request with the next scripted step for its path: a status with JSON
(and headers), an answer without a body (``{"status": 204}``), a TCP reset after reading the
request, a held response, or a truncated body. It takes GET, POST, PATCH and DELETE and logs
each request (a form body as ``form``, a JSON body as ``json``). It knows no API: the words of
each API dialect (paths, error bodies, token endpoints) are in :mod:`_support.fakewire`.
The ``api`` and ``clock`` fixtures (``tests/conftest.py``) give a fresh one of each per test.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CANARY_TOKEN = "tok-CANARY-7f3a9"

Step = dict[str, Any]
Route = Callable[[dict[str, Any]], Step]


class FakeAPI:
    """A scripted HTTP/1.1 server on 127.0.0.1 (ephemeral port), one thread per connection."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Step]] = {}
        self.routes: dict[str, Route] = {}
        self.log: list[dict[str, Any]] = []
        self.releases: list[threading.Event] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            do_POST = do_GET
            do_PATCH = do_GET
            do_DELETE = do_GET

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # 16 threads connect at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            name="fakeapi-serve",
            kwargs={"poll_interval": 0.01},  # close() waits for one poll
            daemon=True,
        )
        self.thread.start()

    def script(self, path: str, *steps: Step) -> None:
        self.scripts.setdefault(path, []).extend(steps)

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.log if r["path"] == path]

    def close(self) -> None:
        for event in self.releases:
            event.set()
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length).decode() if length else ""
        record = {
            "time": time.monotonic(),
            "method": h.command,
            "path": parts.path,
            "url": h.path,
            "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "form": {k: v[0] for k, v in parse_qs(body).items()},
            "json": _json(body) if "json" in (h.headers.get("Content-Type") or "") else None,
            "authorization": h.headers.get("Authorization"),
            "thread": threading.get_ident(),
            "headers": dict(h.headers),
        }
        with self._lock:
            self.log.append(record)
            queue = self.scripts.get(parts.path)
            step = queue.pop(0) if queue else None
        if step is None:
            route = self.routes.get(parts.path)
            step = route(record) if route else {"status": 200, "json": {"ok": True}}
        try:
            self._answer(h, step)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _answer(self, h: BaseHTTPRequestHandler, step: Step) -> None:
        if step.get("reset"):
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.rfile.close()
            h.connection.close()
            h.close_connection = True
            return
        if "hold" in step:
            step["hold"].wait(timeout=10)
        status = step.get("status", 200)
        payload = step.get("raw")
        if payload is None:
            no_body = status == 204 and "json" not in step
            payload = b"" if no_body else json.dumps(step.get("json", {})).encode()
        h.send_response(status)
        if payload or step.get("truncate"):
            h.send_header("Content-Type", step.get("content_type", "application/json"))
        extra = 100 if step.get("truncate") else 0
        if status != 204:  # a 204 has no body, hence no Content-Length (RFC 9110 8.6)
            h.send_header("Content-Length", str(len(payload) + extra))
        for name, value in step.get("headers", {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(payload)
        if step.get("truncate"):
            h.close_connection = True

    def hold_event(self) -> threading.Event:
        event = threading.Event()
        self.releases.append(event)
        return event


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


class FakeAuth:
    """The auth seam of the transport: hands out tokens, rotates on handle_unauthorized."""

    def __init__(self, token: str = CANARY_TOKEN) -> None:
        self.token = token
        self.unauthorized: list[str] = []

    def access_token(self) -> str:
        return self.token

    def handle_unauthorized(self, used_token: str) -> str:
        self.unauthorized.append(used_token)
        self.token = f"{CANARY_TOKEN}-{len(self.unauthorized)}"
        return self.token


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def ok(body: Any = None, **kw: Any) -> Step:
    return {"status": 200, "json": {"ok": True} if body is None else body, **kw}


def err(status: int, error_type: str = "x", **kw: Any) -> Step:
    return {
        "status": status,
        "json": {"error": {"code": status, "type": error_type, "message": f"m{status}"}},
        **kw,
    }
