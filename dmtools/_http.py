"""The one place where dmtools sends API requests.

:class:`Transport` owns the base URL, the per-thread sessions (:mod:`dmtools._net`), timeouts,
the ``Authorization`` header, retries by operation class, ``Retry-After``, the retry budget,
the rate limiter and error mapping. What it sends is worded by an API dialect
(:mod:`dmtools.dialects`): the dialect encodes values, reads error bodies, says which 401 a
new token cures, and reads list pages, which the one paging generator, :meth:`Transport.pages`,
follows.

Retries follow the operation class of each call (``read``, ``edit``, ``delete``, ``create``,
``auth``): the table and the decisions are in :mod:`dmtools._retrier`. Reads retry freely;
an edit or a delete whose outcome is ambiguous (timeout or reset after sending, 500/502/504,
truncated body) raises instead (``TransportError(sent=True)``/``ServerError``), so that the
caller reads the video back before resending.

A 401 the dialect calls stale (``invalid_token``, ``expired_token``...) asks the auth object
for a new token and replays once, for every op.

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

import logging
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from dmtools._answers import UNREAD, error_from_response, json_body
from dmtools._net import Failure, Sessions
from dmtools._retrier import RETRY_STATUS, Retrier
from dmtools._retry import Backoff, Clock, RateLimiter, RetryBudget, Sleep, Timeouts
from dmtools._sealing import sealing
from dmtools.config import is_loopback_url, require_secure_url
from dmtools.dialects import Call, Dialect, Op, Page, get_dialect
from dmtools.errors import APIError, parse_retry_after
from dmtools.secrets import Secret, redact, redact_data

__all__ = ["Backoff", "Op", "RateLimiter", "RetryBudget", "Timeouts", "TokenSource", "Transport"]

log = logging.getLogger("dmtools.http")


class TokenSource(Protocol):
    """What the transport needs from an auth object (``dmtools.auth.TokenManager``)."""

    def access_token(self) -> str: ...

    def handle_unauthorized(self, used_token: str) -> str: ...


class Transport:
    """Sends every API request: sessions, timeouts, auth header, retries, errors, paging.

    Args:
        base_url: API base (``Endpoints.api_url``, or ``partner_url`` for private keys).
        auth: object with ``access_token()`` and ``handle_unauthorized(used_token)``;
            None sends no ``Authorization`` header.
        dialect: the API dialect (default: the legacy Platform API).
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
        dialect: Dialect | str | None = None,
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
        self.auth = auth
        self.dialect = get_dialect(dialect)
        self.timeouts = Timeouts.coerce(timeout)
        if not isinstance(rate_limit, RateLimiter):
            rate_limit = RateLimiter(rate_limit, clock=clock, sleep=sleep)
        total = self.timeouts.total
        assert total is not None  # Timeouts always fills it in
        self.retrier = Retrier(
            Backoff.coerce(retries),
            budget or RetryBudget(),
            rate_limit,
            total=total,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )
        self._sessions = Sessions(loopback=is_loopback_url(self.base_url))

    def close(self) -> None:
        """Close every session this transport opened (all threads)."""
        self._sessions.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- policy and counters ----------------------------------------------------------------

    @property
    def backoff(self) -> Backoff:
        return self.retrier.backoff

    @property
    def budget(self) -> RetryBudget:
        """The retry budget shared by every call (``budget.exhausted``: stop retrying)."""
        return self.retrier.budget

    @property
    def limiter(self) -> RateLimiter:
        return self.retrier.limiter

    @property
    def stats(self) -> dict[str, Any]:
        """Counters: ``sent`` (attempts that reached the network), ``retries``, ``replays``
        (after a 401), ``throttled`` (429), ``slept`` (seconds), failures by kind
        (``failure.connect``...), ``statuses`` by code and ``sessions`` (distinct sessions
        used, each by exactly one thread)."""
        return {**self.retrier.counts(), **self._sessions.counts()}

    def reset_stats(self) -> None:
        self.retrier.reset()
        self._sessions.reset()

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
        """Send one API call, worded by the dialect from Python values (see :meth:`send`).

        Args:
            method: ``GET``, ``POST``, ``PATCH`` or ``DELETE``.
            path: path under the base URL (``/video/x8abc``).
            params: query parameters (the legacy dialect sends lists comma-separated).
            data: body of a POST.
            op: operation class; defaults from the method (GET read, DELETE delete, others
                edit).
            authenticated, replay_401: see :meth:`send`.
        """
        call = self.dialect.call(method, path, params=params, data=data, op=op)
        return self.send(call, authenticated=authenticated, replay_401=replay_401)

    @sealing()
    def send(
        self, call: Call, *, authenticated: bool = True, replay_401: bool = True, raw: bool = False
    ) -> Any:
        """Send ``call`` (with the retries its ``op`` allows) and return the decoded JSON
        (``{}`` for an empty answer), or the body's bytes with ``raw``.

        Args:
            call: the request, as the dialect worded it.
            authenticated: send the Bearer token.
            replay_401: on a 401 the dialect calls stale, get a new token and replay once.
            raw: return the body of a success as bytes (a file, not JSON).

        Raises:
            TransportError: network failure; ``sent`` tells whether it may have been processed.
            APIError: the API answered with an error (subclass by status).
        """
        if call.op not in RETRY_STATUS:
            raise ValueError(f"unknown operation class {call.op!r}")
        url = self.url(call.path)
        method, shown, retrier = call.method.upper(), urlsplit(url).path, self.retrier
        retry, replayed, waited = 0, False, 0.0  # waited: seconds spent waiting for the server
        while True:
            retrier.gate(method, shown)
            # Kept as a Secret until the header is written: tracebacks with locals stay clean.
            token = Secret.wrap(self.auth.access_token()) if (authenticated and self.auth) else None
            started = retrier.clock()
            try:
                response = self._send(call, url, token, retrier.total - waited)
                result = self._decode(response, raw=raw)
            except Failure as failure:
                waited += retrier.clock() - started
                late, reason = waited >= retrier.total, failure.kind
                delay = retrier.after_failure(failure, call.op, retry, method, shown, late=late)
            else:
                waited += retrier.clock() - started
                if not isinstance(result, APIError):
                    retrier.success()
                    return result
                if replay_401 and not replayed and self._renew(result, token):
                    replayed = True
                    continue
                late, reason = waited >= retrier.total, str(result.status)
                after = parse_retry_after(response.headers.get("Retry-After"))
                delay = retrier.after_error(result, after, call.op, retry, late=late)
            retrier.pause(method, shown, reason, retry, delay)
            retry += 1

    def _renew(self, error: APIError, token: Secret | None) -> bool:
        """After a 401 the dialect calls stale: get a new token (True: replay the call)."""
        if token is None or self.auth is None or not self.dialect.stale_token(error):
            return False
        self.retrier.count("replays")
        log.info(
            "%s %s: access token refused; renewing it and replaying once", error.method, error.path
        )
        self.auth.handle_unauthorized(token.reveal())
        return True

    def _send(
        self, call: Call, url: str, token: Secret | None, left: float | None = None
    ) -> requests.Response:
        self.retrier.count("sent")
        return self._sessions.send(
            call.method.upper(),
            url,
            params=call.params,
            body=call.body,
            json_body=call.json,
            token=token,
            timeout=self.timeouts.as_requests(left),
        )

    def _decode(self, response: requests.Response, *, raw: bool = False) -> Any:
        """The JSON (or with ``raw`` the bytes) of a 2xx, or the APIError of any other answer
        (returned, not raised)."""
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
        payload = UNREAD if raw else json_body(response.content)
        error = error_from_response(response, read_body=self.dialect.read_error, payload=payload)
        if error is not None:
            return _redacted(error)
        if raw:
            return response.content
        if not response.content:
            return {}
        if payload is None and response.content.strip() != b"null":
            raise Failure(
                "truncated",
                True,
                True,
                f"the server answered {status} with a body that is not valid JSON (truncated?)",
            )
        return payload

    # -- paging -----------------------------------------------------------------------------

    def pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> Iterator[Page]:
        """Yield the pages of a listing, one request each, as the dialect reads them.

        Follows the dialect's ``next`` call (legacy: ``page``/``limit``/``has_more``, never
        ``total``) and stops before a page the API would refuse (past the result ceiling).
        ``limit`` is the page size (default: the largest the API allows).

        Example:
            >>> for page in transport.pages("/me/videos", {"fields": "id"}):  # doctest: +SKIP
            ...     print(page.number, len(page.items))
        """
        query = self.dialect.call("GET", path, params=params).params
        size = self.dialect.max_page_size if limit is None else limit
        call: Call | None = self.dialect.first_page(path, query, size=size)
        while call is not None:
            page = self.dialect.read_page(self.send(call), call)
            yield page
            call = page.next

    def iterate(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of a listing across pages (see :meth:`pages`).

        Example:
            >>> ids = [v["id"] for v in transport.iterate("/me/videos")]  # doctest: +SKIP
        """
        for page in self.pages(path, params, limit=limit):
            yield from page.items


def _redacted(error: APIError) -> APIError:
    """``error`` without live secrets: a server may echo the request (headers, form) into its
    error, which must never reach an error, a journal or a result frame."""
    error.message = redact(error.message)
    error.error_data = redact_data(error.error_data)
    for name in ("missing_scope", "field"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            setattr(error, name, redact(value))
    error.args = (error._text(),)
    return error
