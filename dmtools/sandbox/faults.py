"""Seeded fault injection for the sandbox: errors, resets, held and truncated responses.

:class:`FaultMiddleware` wraps the sandbox's WSGI app; :class:`FaultController` holds the
configuration and the log of injected faults. Paths under ``/__sandbox__/`` (the admin API)
are never delayed, faulted or rate limited.

Every other request goes through three steps, in this order:

1. **latency**: wait ``latency`` seconds plus a uniform ``[-jitter, +jitter]`` (never below 0);
2. **rate limit** (when set): a token bucket (:class:`~dmtools.sandbox.ratelimit.TokenBucket`);
   an empty bucket answers 429 ``rate_limit_exceeded`` with ``Retry-After`` (whole seconds,
   rounded up) and the app is not called;
3. **rules**, a list of dicts tried in order; the first rule that fires is applied.

Rule keys (unknown keys are refused, so a typo cannot silently disable a fault):

- all kinds: ``kind``; ``rate`` (probability per matching request, default 1.0, or 0.0 when
  ``at`` is given); ``at`` (list of 1-based positions among the requests the rule matches that
  always fault); ``methods`` (e.g. ``["POST"]``); ``path`` (a regex searched in ``PATH_INFO``;
  anchor it with ``^``); ``name`` (copied into the log).
- ``"status"``: answer ``status`` (default 503) with the API's error JSON (``type``
  ``rate_limit_exceeded`` for 429, ``server_error`` otherwise; ``type``, ``message`` and
  ``error_data`` override), or an HTML page with ``"html": true``, or a raw ``body`` (with
  ``content_type``, e.g. malformed JSON). ``retry_after`` (seconds) adds a ``Retry-After``
  header, as whole seconds rounded up, or as an HTTP-date with
  ``"retry_after_format": "http-date"``. ``"after_commit": false`` (default) answers
  without calling the app; ``true`` calls the app (the write happens) and discards its answer.
- ``"reset"``: TCP reset (SO_LINGER 0, then close). ``after_commit`` as above.
- ``"hold"``: call the app, then hold its response ``seconds`` (default 30) before sending it;
  :meth:`FaultController.clear` and :meth:`FaultController.close` end every hold at once.
- ``"truncate"``: call the app, then send 200 with the app's headers and full ``Content-Length``
  but only the first ``bytes`` bytes of the body (default: half of it), and end the output.

Determinism: a decision never depends on timing or thread scheduling. Rule *i* keeps a counter
of the requests it matches (method and path filters passed, not rate limited); for its *n*-th
matching request it fires when *n* is in ``at`` or when ``u(seed, i, n) < rate``, where ``u``
is a uniform number in [0, 1) taken from the BLAKE2b hash of ``(seed, i, n)``. Every matching
rule counts every matching request, even when an earlier rule fired, so the positions where a
rule fires depend only on the seed and on the rule's own request count; when several rules
fire on the same request the first one in the list wins (so a later rule faults a little
less often than its ``rate``: ``rate`` times the chance that no earlier rule fired). The latency jitter is drawn the
same way from ``(seed, k)`` for the *k*-th request. Concurrency can change which request
gets which position, never which positions fault. :meth:`FaultController.configure` resets
the counters.

Resets: the connection's socket (``environ["werkzeug.socket"]``) gets SO_LINGER 0 and a dead
stand-in is ``dup2``-ed onto its file descriptor, which closes the TCP connection with a RST
while the descriptor number stays owned by the handler (so no other connection can reuse it).
The middleware then raises :class:`ConnectionResetError`, which werkzeug's request handler
(and the sandbox's keep-alive handler) treat as a dropped connection: no traceback, and the
server keeps serving. Every fault is logged before it is applied, so a client that sees one
finds it in :meth:`FaultController.log`.

Example:
    >>> ctl = FaultController()
    >>> ctl.configure(seed=1, rules=[{"kind": "status", "status": 503, "rate": 0.05,
    ...                               "methods": ["POST"], "retry_after": 1}])
    >>> app = FaultMiddleware(inner_app, ctl)     # then serve ``app``
    >>> ctl.log()                                 # the faults injected so far
    []
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dmtools.sandbox.faultrules import (
    FAULT_KINDS,
    Rule,
    check_number,
    default_message,
    error_json,
    html_page,
    parse_rule,
    phrase,
    retry_after_header,
    uniform,
)
from dmtools.sandbox.ratelimit import TokenBucket

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ADMIN_PREFIX", "FAULT_KINDS", "FaultController", "FaultMiddleware"]

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/__sandbox__/"
LOG_SIZE = 100_000


class _State:
    """One configuration and its counters (replaced as a whole by ``configure``)."""

    def __init__(
        self,
        latency: float,
        jitter: float,
        seed: int,
        rules: Sequence[Rule],
        specs: list[dict[str, Any]],
    ) -> None:
        self.latency = latency
        self.jitter = jitter
        self.seed = seed
        self.rules = tuple(rules)
        self.specs = specs
        self.counters = [0] * len(rules)
        self.requests = 0


class FaultController:
    """Thread-safe fault configuration, rate limiter and fault log of one sandbox.

    Example:
        >>> ctl = FaultController()
        >>> ctl.configure(latency=0.05, jitter=0.01, seed=1,
        ...               rules=[{"kind": "reset", "rate": 0.01, "after_commit": True}])
        >>> ctl.set_rate_limit(rate=20.0, burst=20)
        >>> ctl.clear()
    """

    def __init__(self, *, log_size: int = LOG_SIZE) -> None:
        self._lock = threading.Lock()
        self._state = _State(0.0, 0.0, 0, (), [])
        self._bucket: TokenBucket | None = None
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._wake = threading.Event()
        self._closed = False

    def configure(
        self,
        *,
        latency: float = 0.0,
        jitter: float = 0.0,
        seed: int = 0,
        rules: Iterable[Mapping[str, Any]] | None = (),
    ) -> None:
        """Replace the latency and fault rules (the rate limit is kept); counters restart at 0.

        Raises:
            ValueError: a bad value, naming the rule and the key.
        """
        latency = check_number("latency (seconds)", latency, low=0.0)
        jitter = check_number("jitter (seconds)", jitter, low=0.0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        if rules is None:
            rules = ()
        elif isinstance(rules, str | bytes | Mapping) or not isinstance(rules, Iterable):
            raise ValueError(f"rules must be a list of dicts, got {type(rules).__name__}")
        specs = [copy.deepcopy(dict(spec)) if isinstance(spec, Mapping) else spec for spec in rules]
        parsed = [parse_rule(i, spec) for i, spec in enumerate(specs)]
        state = _State(latency, jitter, seed, parsed, specs)
        with self._lock:
            self._state = state
        log.debug(
            "faults configured: latency=%s jitter=%s seed=%s rules=%d",
            latency,
            jitter,
            seed,
            len(parsed),
        )

    def set_rate_limit(self, rate: float | None, burst: int | None = None) -> None:
        """Rate limit to ``rate`` requests/s with bursts of ``burst`` (default: ceil(rate)).

        ``rate=None`` switches the limit off. The bucket starts full.
        """
        bucket = None
        if rate is not None:
            bucket = TokenBucket(rate, max(1, math.ceil(rate)) if burst is None else burst)
        with self._lock:
            self._bucket = bucket

    def clear(self) -> None:
        """No faults, no latency, no rate limit; held responses are sent now. The log is kept."""
        with self._lock:
            self._state = _State(0.0, 0.0, 0, (), [])
            self._bucket = None
            self._release_locked()

    def close(self) -> None:
        """Send every held response now and stop waiting from now on (call before shutdown)."""
        with self._lock:
            self._closed = True
            self._wake.set()

    def log(self) -> list[dict[str, Any]]:
        """The injected faults, oldest first (at most the last 100,000).

        Each entry has ``time`` (epoch seconds), ``kind`` (a rule kind or ``"rate_limit"``),
        ``method``, ``path``, ``after_commit`` (the app ran: the write happened), and as they
        apply ``rule`` and ``n`` (rule index and its matching-request position), ``name``,
        ``status``, ``inner_status`` (the app's own status), ``retry_after`` (the header value),
        ``not_before`` (epoch seconds before which a retry violates it), ``seconds`` (hold),
        ``rst`` (False when no socket was available to reset) and ``sent``/``declared`` bytes.
        """
        with self._lock:
            return [dict(entry) for entry in self._log]

    def clear_log(self) -> None:
        """Forget the injected faults logged so far."""
        with self._lock:
            self._log.clear()

    def settings(self) -> dict[str, Any]:
        """The current configuration as plain data (what ``configure``/``set_rate_limit`` got)."""
        with self._lock:
            state, bucket = self._state, self._bucket
        return {
            "latency": state.latency,
            "jitter": state.jitter,
            "seed": state.seed,
            "rules": copy.deepcopy(state.specs),
            "rate_limit": None if bucket is None else {"rate": bucket.rate, "burst": bucket.burst},
        }

    # -- used by FaultMiddleware ---------------------------------------------------------

    def _release_locked(self) -> None:
        if not self._closed:
            woken, self._wake = self._wake, threading.Event()
            woken.set()

    def _current(self) -> _State:
        with self._lock:
            return self._state

    def _delay(self, state: _State) -> float:
        if state.latency == 0.0 and state.jitter == 0.0:
            return 0.0
        with self._lock:
            state.requests += 1
            k = state.requests
        offset = state.jitter * (2.0 * uniform(state.seed, "latency", k) - 1.0)
        return max(0.0, state.latency + offset)

    def _wait(self, seconds: float) -> bool:
        """Wait ``seconds`` unless released; True if the full time passed."""
        with self._lock:
            wake = self._wake
        return not wake.wait(seconds)

    def _throttle(self) -> float | None:
        bucket = self._bucket
        return None if bucket is None else bucket.take()

    def _pick(self, state: _State, method: str, path: str) -> tuple[Rule, int] | None:
        matching = [rule for rule in state.rules if rule.matches(method, path)]
        if not matching:
            return None
        with self._lock:
            positions = []
            for rule in matching:
                state.counters[rule.index] += 1
                positions.append((rule, state.counters[rule.index]))
        for rule, n in positions:
            if rule.fires(state.seed, n):
                return rule, n
        return None

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._log.append(entry)
        log.debug("fault injected: %s %s %s", entry["kind"], entry["method"], entry["path"])


class FaultMiddleware:
    """WSGI middleware applying a :class:`FaultController` to every non-admin request.

    Example:
        >>> app = FaultMiddleware(inner_app, FaultController())
    """

    def __init__(self, app: WSGIApplication, controller: FaultController) -> None:
        self.app = app
        self.controller = controller

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
        body = error_json(429, "rate_limit_exceeded", default_message(429), {})
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
            body, content_type = opts["body"].encode(), opts["content_type"]
        elif opts["html"]:
            body, content_type = html_page(status), "text/html; charset=utf-8"
        else:
            body = error_json(status, opts["type"], opts["message"], opts["error_data"])
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
