"""The one place where dmtools sends API requests.

:class:`Transport` owns the base URL, the per-thread ``requests.Session``, timeouts, the
``Authorization`` header, retries by operation class, ``Retry-After``, the retry budget, the
rate limiter and error mapping (through :func:`dmtools.errors.raise_for_error`). Listings are
walked by the one paging generator, :meth:`Transport.pages` / :meth:`Transport.iterate`.

Retry rules by operation class (``op``):

======== ============================== ================================= ==============
op       not sent (connect error)       ambiguous (timeout/reset after    429 / 503
                                        send, truncated body, 500/502/504)
======== ============================== ================================= ==============
read     retry                          retry                             retry
edit     retry                          raise (``sent=True``/ServerError) retry
delete   retry                          raise (``sent=True``/ServerError) retry
create   retry                          raise                             raise
auth     retry                          raise                             retry
======== ============================== ================================= ==============

A 401 ``invalid_token`` asks the auth object for a new token and replays once, for every op.

Every call has a time budget, :attr:`Timeouts.total` (default twice the read timeout): the
time its attempts spend waiting for the server. Each attempt's connect and read timeouts are
cut to what is left, and no retry starts once it is spent, so a stalled server fails a read
after at most ``total`` seconds of waiting (plus the backoff pause between attempts) and a
write after ``read`` seconds (an ambiguous write is never resent).

Example:
    >>> transport = Transport("http://127.0.0.1:8123", auth=manager)    # doctest: +SKIP
    >>> transport.request("GET", "/video/x8abc", params={"fields": ["id", "title"]})  # doctest: +SKIP
    {'id': 'x8abc', 'title': '...'}
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from dmtools import __version__
from dmtools._retry import Backoff, Clock, RateLimiter, RetryBudget, Sleep, Timeouts
from dmtools._sealing import sealing
from dmtools.config import is_loopback_url, require_secure_url
from dmtools.errors import (
    APIError,
    DailymotionError,
    RateLimited,
    TransportError,
    error_from_response,
    parse_retry_after,
)
from dmtools.schema import LIST_CEILING, MAX_LIMIT, MAX_PAGE
from dmtools.secrets import Secret, redact, redact_data

__all__ = ["Backoff", "Op", "RateLimiter", "RetryBudget", "Timeouts", "Transport", "encode_value"]

log = logging.getLogger("dmtools.http")

Op = Literal["read", "edit", "delete", "create", "auth"]
_DEFAULT_OP: dict[str, Op] = {"GET": "read", "POST": "edit", "DELETE": "delete"}
_RETRY_STATUS: dict[str, frozenset[int]] = {
    "read": frozenset({408, 429, 500, 502, 503, 504}),
    "edit": frozenset({429, 503}),
    "delete": frozenset({429, 503}),
    "create": frozenset(),
    "auth": frozenset({429, 503}),
}
_REFRESHABLE_401 = {None, "invalid_token", "expired_token"}


class TokenSource(Protocol):
    """What the transport needs from an auth object (``dmtools.auth.TokenManager``)."""

    def access_token(self) -> str: ...

    def handle_unauthorized(self, used_token: str) -> str: ...


class _BearerAuth(requests.auth.AuthBase):
    """Sets the Bearer header; as an explicit ``auth`` it also keeps ``.netrc`` out."""

    def __init__(self, token: Secret | None) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._token is not None:
            request.headers["Authorization"] = "Bearer " + self._token.reveal()
        return request

    def __repr__(self) -> str:
        return "<BearerAuth ***>"


class _Failure(Exception):
    """A classified network failure, turned into a TransportError when it surfaces."""

    def __init__(self, kind: str, sent: bool, retryable: bool, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.sent = sent
        self.retryable = retryable
        self.detail = detail


def encode_value(value: Any) -> str:
    """One parameter as the API reads it: booleans ``true``/``false``, lists comma-separated.

    Example:
        >>> encode_value(["a", "b"]), encode_value(True), encode_value(None)
        ('a,b', 'true', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(encode_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _encode(values: Mapping[str, Any] | None) -> dict[str, str] | None:
    if values is None:
        return None
    return {str(key): encode_value(value) for key, value in values.items()}


class Transport:
    """Sends every API request: sessions, timeouts, auth header, retries, errors, paging.

    Args:
        base_url: API base (``Endpoints.api_url``, or ``partner_url`` for private keys).
        auth: object with ``access_token()`` and ``handle_unauthorized(used_token)``;
            None sends no ``Authorization`` header.
        timeout: seconds (read timeout), ``(connect, read)`` or :class:`Timeouts`.
        retries: number of retries (``0`` disables) or a :class:`Backoff`.
        rate_limit: requests per second, a :class:`RateLimiter`, or None (only the
            ``Retry-After`` gate).
        budget: a shared :class:`RetryBudget` (one per transport by default).
        sleep, clock, rng: injectable time and randomness (tests use fakes).

    Example:
        >>> with Transport(sb.endpoints.api_url, auth=manager) as t:    # doctest: +SKIP
        ...     titles = [v["title"] for v in t.iterate("/me/videos", {"fields": "title"})]
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: TokenSource | None = None,
        timeout: Timeouts | float | tuple[float, float] | None = None,
        retries: Backoff | int | None = None,
        rate_limit: RateLimiter | float | None = None,
        budget: RetryBudget | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = require_secure_url(base_url).rstrip("/")
        parts = urlsplit(self.base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._loopback = is_loopback_url(self.base_url)
        self.auth = auth
        self.timeouts = Timeouts.coerce(timeout)
        self.backoff = Backoff.coerce(retries)
        self.budget = budget or RetryBudget()
        if isinstance(rate_limit, RateLimiter):
            self.limiter = rate_limit
        else:
            self.limiter = RateLimiter(rate_limit, clock=clock, sleep=sleep)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._stats_lock = threading.Lock()
        self._stats: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._slept = 0.0
        self._session_threads: dict[int, set[int]] = {}  # session serial -> thread idents
        self._serials = itertools.count(1)
        self._closed = False

    # -- sessions ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        if self._closed:
            raise DailymotionError("this transport is closed")
        session: requests.Session | None = getattr(self._local, "session", None)
        thread = threading.get_ident()
        if session is None:
            session = requests.Session()
            self._local.serial = next(self._serials)
            # Loopback (the sandbox): ignore proxy variables, .netrc and CA bundle overrides.
            session.trust_env = not self._loopback
            session.headers.update(
                {
                    "Accept": "application/json",
                    "User-Agent": f"dmtools/{__version__} python-requests/{requests.__version__}",
                }
            )
            self._local.session = session
            self._local.owner = thread
            self._sessions.add(session)
        assert self._local.owner == thread, "a requests.Session must not cross threads"
        with self._stats_lock:
            self._session_threads.setdefault(self._local.serial, set()).add(thread)
        return session

    def close(self) -> None:
        """Close every session this transport opened (all threads)."""
        self._closed = True
        for session in list(self._sessions):
            session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- counters ---------------------------------------------------------------------------

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self._stats[key] += 1

    @property
    def stats(self) -> dict[str, Any]:
        """Counters: ``sent`` (attempts that reached the network), ``retries``, ``replays``
        (after a 401), ``throttled`` (429), ``slept`` (seconds), failures by kind
        (``failure.connect``...), ``statuses`` by code and ``sessions`` (distinct sessions
        used, each by exactly one thread)."""
        with self._stats_lock:
            out: dict[str, Any] = dict(self._stats)
            out["statuses"] = dict(self._statuses)
            out["slept"] = self._slept
            out["sessions"] = len(self._session_threads)
            out["sessions_shared"] = sum(len(t) > 1 for t in self._session_threads.values())
        return out

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._stats.clear()
            self._statuses.clear()
            self._session_threads.clear()
            self._slept = 0.0

    # -- requests ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL for ``path``; absolute URLs must stay on the transport's own host."""
        if "://" in path:
            url = path
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != self._origin:
                raise ValueError(f"refusing to send a request for {self._origin} to another host")
        else:
            url = self.base_url + "/" + path.lstrip("/")
        return require_secure_url(url)

    @sealing()
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        op: Op | None = None,
        authenticated: bool = True,
        replay_401: bool = True,
    ) -> Any:
        """Send one API call (with the retries its ``op`` allows) and return the decoded JSON.

        Args:
            method: ``GET``, ``POST`` or ``DELETE``.
            path: path under the base URL (``/video/x8abc``).
            params: query parameters (lists are sent comma-separated).
            data: form body of a POST.
            op: operation class; defaults from the method (GET read, POST edit, DELETE delete).
            authenticated: send the Bearer token.
            replay_401: on 401 ``invalid_token``, get a new token and replay once.

        Raises:
            TransportError: network failure; ``sent`` tells whether it may have been processed.
            APIError: the API answered with an error (subclass by status).
        """
        method = method.upper()
        op = op or _DEFAULT_OP.get(method, "read")
        if op not in _RETRY_STATUS:
            raise ValueError(f"unknown operation class {op!r}")
        url = self.url(path)
        shown = urlsplit(url).path
        query, body = _encode(params), _encode(data)
        retry = 0
        replayed = False
        total = self._total
        waited = 0.0  # seconds this call's attempts spent waiting for the server
        while True:
            self._gate(method, shown)
            # Kept as a Secret until the header is written: tracebacks with locals stay clean.
            token = Secret.wrap(self.auth.access_token()) if (authenticated and self.auth) else None
            started = self._clock()
            try:
                response = self._send(method, url, query, body, token, total - waited)
                result = self._decode(response)
            except _Failure as failure:
                waited += self._clock() - started
                reason, delay = (
                    failure.kind,
                    self._after_failure(failure, op, retry, method, shown, late=waited >= total),
                )
            else:
                waited += self._clock() - started
                if not isinstance(result, APIError):
                    self.budget.success()
                    self.limiter.success()
                    return result
                if (
                    result.status == 401
                    and replay_401
                    and not replayed
                    and token is not None
                    and self.auth is not None
                    and result.type in _REFRESHABLE_401
                ):
                    replayed = True
                    self._count("replays")
                    log.info(
                        "%s %s: access token refused; renewing it and replaying once", method, shown
                    )
                    self.auth.handle_unauthorized(token.reveal())
                    continue
                reason, delay = (
                    str(result.status),
                    self._after_error(result, response, op, retry, late=waited >= total),
                )
            self._retry(method, shown, reason, retry, delay)
            retry += 1

    @property
    def _total(self) -> float:
        total = self.timeouts.total
        assert total is not None  # Timeouts always fills it in
        return total

    def _late(self, error: DailymotionError) -> DailymotionError:
        """``error``, as the final one of a call whose time budget is spent."""
        self._count("deadline")
        method, path = getattr(error, "method", ""), getattr(error, "path", "")
        log.warning(
            "giving up %s %s: the call spent its %g s waiting for the server",
            method,
            path,
            self._total,
        )
        if isinstance(error, TransportError):
            return TransportError(
                f"{error}; gave up after waiting {self._total:g} s in all",
                method=method,
                path=path,
                sent=error.sent,
            )
        return error

    def _gate(self, method: str, path: str) -> None:
        """Wait for the rate limiter; refuse at once when the API asked for a long pause."""
        waiting = self.limiter.hold_remaining()
        if waiting > self.backoff.retry_after_cap:
            raise RateLimited(
                f"the API asked to wait {waiting:.0f} s before the next request",
                status=429,
                type="rate_limit_exceeded",
                retry_after=waiting,
                method=method,
                path=path,
            )
        self.limiter.acquire()

    def _after_failure(
        self, failure: _Failure, op: str, retry: int, method: str, path: str, *, late: bool = False
    ) -> float:
        """The delay before retrying after a network failure, or raise TransportError
        (also when the call is ``late``: its time budget is spent)."""
        self._count(f"failure.{failure.kind}")
        error = TransportError(
            f"{failure.detail} ({method} {path})", method=method, path=path, sent=failure.sent
        )
        can_retry = failure.retryable and (not failure.sent or op == "read")
        if not can_retry or retry + 1 >= self.backoff.attempts:
            raise error from None
        if late:
            raise self._late(error) from None
        delay = self._backoff(retry)
        if not self.budget.take(timeout=failure.kind == "timeout"):
            log.warning("retry budget exhausted; not retrying %s %s", method, path)
            raise error from None
        return delay

    def _after_error(
        self,
        error: APIError,
        response: requests.Response,
        op: str,
        retry: int,
        *,
        late: bool = False,
    ) -> float:
        """The delay before retrying after an error status, or raise the error (also when
        the call is ``late``: its time budget is spent)."""
        retry_after = None
        if error.status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if error.status == 429:
                self._count("throttled")
                self.limiter.throttled()
            if retry_after is not None:  # a long one makes later calls fail fast (see _gate)
                self.limiter.hold(retry_after)
        if (
            error.status not in _RETRY_STATUS[op]
            or retry + 1 >= self.backoff.attempts
            or (retry_after or 0.0) > self.backoff.retry_after_cap
        ):
            raise error
        if late:
            raise self._late(error)
        delay = max(retry_after or 0.0, self._backoff(retry))
        if not self.budget.take():
            log.warning("retry budget exhausted; not retrying %s %s", error.method, error.path)
            raise error
        return delay

    def _backoff(self, retry: int) -> float:
        with self._rng_lock:
            return self.backoff.delay(retry, self._rng)

    def _retry(self, method: str, path: str, reason: str, retry: int, delay: float) -> None:
        with self._stats_lock:
            self._stats["retries"] += 1
            self._slept += delay
        log.info(
            "retrying %s %s after %s in %.3f s (attempt %d of %d)",
            method,
            path,
            reason,
            delay,
            retry + 2,
            self.backoff.attempts,
        )
        if delay > 0:
            self._sleep(delay)

    def _send(
        self,
        method: str,
        url: str,
        query: dict[str, str] | None,
        body: dict[str, str] | None,
        token: Secret | None,
        left: float | None = None,
    ) -> requests.Response:
        session = self._session()
        started = self._clock()
        self._count("sent")
        try:
            response = session.request(
                method,
                url,
                params=query,
                data=body,
                auth=_BearerAuth(token),
                timeout=self.timeouts.as_requests(left),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _classify(exc) from None
        with self._stats_lock:
            self._statuses[response.status_code] += 1
        log.debug(
            "%s %s -> %d in %.3f s",
            method,
            urlsplit(url).path,
            response.status_code,
            self._clock() - started,
        )
        return response

    def _decode(self, response: requests.Response) -> Any:
        """The JSON of a 2xx, or the APIError of any other answer (returned, not raised)."""
        status = response.status_code
        if 300 <= status < 400:
            method = response.request.method or ""
            return APIError(
                f"unexpected redirect ({status}); dmtools does not follow redirects",
                status=status,
                type="redirect",
                method=method,
                path=urlsplit(response.request.url or "").path,
            )
        # requests.Response fits errors._ResponseLike structurally, except for mypy's view of
        # its read-only ``content``.
        error = error_from_response(response)
        if error is not None:
            # A server may echo the request (headers, form) into its error: never keep a
            # live secret in an error, a journal or a result frame.
            error.message = redact(error.message)
            error.error_data = redact_data(error.error_data)
            error.args = (error._text(),)
            return error
        if not response.content:
            return {}
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise _Failure(
                "truncated",
                True,
                True,
                f"the server answered {status} with a body that is not valid JSON (truncated?)",
            ) from None

    # -- paging -----------------------------------------------------------------------------

    def pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int = MAX_LIMIT
    ) -> Iterator[dict[str, Any]]:
        """Yield the list envelopes of a listing, page after page.

        Follows ``page``/``limit``/``has_more`` (``total`` is never trusted), and stops before
        a page the API would refuse (``page`` over 100, or past the 1,000-result ceiling).

        Example:
            >>> for page in transport.pages("/me/videos", {"fields": "id"}):  # doctest: +SKIP
            ...     print(page["page"], len(page["list"]))
        """
        query = dict(params or {})
        limit = int(query.pop("limit", limit))
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        page = int(query.pop("page", 1))
        while True:
            envelope = self.request("GET", path, params={**query, "page": page, "limit": limit})
            if not isinstance(envelope, dict) or not isinstance(envelope.get("list"), list):
                raise DailymotionError(
                    f"GET {urlsplit(self.url(path)).path} did not answer with a list envelope"
                )
            yield envelope
            if not envelope.get("has_more"):
                return
            page += 1
            if page > MAX_PAGE or page * limit > LIST_CEILING:
                log.warning(
                    "GET %s: stopped at the %d-result ceiling although more results "
                    "exist; split the query (for example by created_before)",
                    urlsplit(self.url(path)).path,
                    LIST_CEILING,
                )
                return

    def iterate(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int = MAX_LIMIT
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of a listing across pages (see :meth:`pages`).

        Example:
            >>> ids = [v["id"] for v in transport.iterate("/me/videos")]  # doctest: +SKIP
        """
        for envelope in self.pages(path, params, limit=limit):
            yield from envelope["list"]


def _classify(exc: requests.RequestException) -> _Failure:
    """Sort a requests exception into: not sent / ambiguous, retryable or not."""
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    if isinstance(exc, requests.exceptions.SSLError):
        return _Failure("tls", False, False, "TLS handshake failed")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _Failure("connect", False, True, "connection timed out")
    if isinstance(exc, requests.exceptions.ProxyError):
        return _Failure("connect", False, True, "could not reach the proxy")
    if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
        inner, urllib3.exceptions.ReadTimeoutError
    ):
        return _Failure("timeout", True, True, "the server did not answer in time")
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return _Failure("truncated", True, True, "the response was cut short")
    if isinstance(exc, requests.exceptions.ConnectionError):
        if isinstance(inner, urllib3.exceptions.NewConnectionError):
            return _Failure("connect", False, True, "could not connect to the server")
        return _Failure("reset", True, True, "the connection was closed or reset")
    return _Failure("invalid", False, False, f"request failed: {type(exc).__name__}")
