"""The API client: one logged-in session with the Dailymotion API (or a sandbox).

:func:`connect` logs in with any grant and returns a :class:`Client`; the client sends every
call through its :class:`~dmtools._http.Transport` (timeouts, retries, rate limit, errors),
worded by its API dialect (:mod:`dmtools.dialects`; the legacy Platform API by default: the
public host for public API keys, ``/rest`` on the partner host for private keys). Resources
(:mod:`dmtools.videos`, the loader, bulk apply) take a client and never its transport.

Example:
    >>> import dmtools as dm
    >>> client = dm.connect("password", client_id=key, client_secret=secret,
    ...                     username=user, password=pw, scope=["manage_videos"],
    ...                     endpoints=sb.endpoints)                       # doctest: +SKIP
    >>> client.me(["id", "screenname"])                                  # doctest: +SKIP
    {'id': 'x1abcd', 'screenname': 'Demo channel'}
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from dmtools._connect import connect
from dmtools._http import Backoff, RateLimiter, RetryBudget, Timeouts, Transport
from dmtools._retry import Clock, Sleep
from dmtools.config import Endpoints
from dmtools.dialects import Call, Dialect, Op, Page, get_dialect
from dmtools.errors import AuthenticationError
from dmtools.schema import FieldLimits

__all__ = ["Client", "TokenManagerLike", "connect"]

log = logging.getLogger("dmtools.client")

TimeoutArg = Timeouts | float | tuple[float, float] | None


class TokenManagerLike(Protocol):
    """What a client needs from :func:`dmtools.auth.create_token_manager`'s result."""

    def access_token(self) -> str: ...

    def handle_unauthorized(self, used_token: str) -> str: ...

    @property
    def scopes(self) -> Sequence[str]: ...

    @property
    def expires_at(self) -> Any: ...

    @property
    def uid(self) -> str | None: ...

    @property
    def is_partner(self) -> bool: ...

    @property
    def endpoints(self) -> Endpoints: ...

    @property
    def client_id(self) -> str: ...

    @property
    def grant(self) -> str: ...


class Client:
    """A logged-in API session; entry point for every resource.

    Args:
        manager: the token manager (from :func:`dmtools.auth.create_token_manager`).
        dialect: the API dialect, or its name (default: ``"legacy"``, the Platform API).
        timeout: seconds (read timeout), ``(connect, read)`` or a ``Timeouts``. Each call
            also has a time budget, ``Timeouts.total`` (default twice the read timeout): a
            stalled API fails a read after about that long and a write after the read timeout.
        retries: number of retries per call (``0`` disables) or a ``Backoff``.
        rate_limit: at most this many requests per second, shared by every thread of the
            client, or a ``RateLimiter`` (for a burst); slows down on 429s and recovers
            gradually. None: only ``Retry-After`` pauses.
        budget, sleep, clock: retry budget and time functions (tests inject fakes).

    Example:
        >>> for video in client.iterate("/me/videos", {"fields": "id,title"}):  # doctest: +SKIP
        ...     print(video["title"])
    """

    def __init__(
        self,
        manager: TokenManagerLike,
        *,
        dialect: Dialect | str | None = None,
        timeout: TimeoutArg = None,
        retries: Backoff | int | None = None,
        rate_limit: RateLimiter | float | None = None,
        budget: RetryBudget | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self._manager = manager
        self._dialect = get_dialect(dialect)
        self._transport = Transport(
            self._dialect.base_url(manager.endpoints, partner=bool(manager.is_partner)),
            auth=manager,
            dialect=self._dialect,
            timeout=timeout,
            retries=retries,
            rate_limit=rate_limit,
            budget=budget,
            sleep=sleep,
            clock=clock,
        )
        self._account_id: str | None = None
        self._sleep, self._clock = sleep, clock

    @classmethod
    def from_token_manager(cls, manager: TokenManagerLike, **options: Any) -> Client:
        """A client over an existing token manager (same options as the constructor).

        Example:
            >>> client = Client.from_token_manager(manager, retries=0)      # doctest: +SKIP
        """
        return cls(manager, **options)

    # -- calls ------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET path`` (a read: retried on transient failures) and return the JSON.

        Example:
            >>> client.get("/video/x8abc", {"fields": ["id", "title"]})       # doctest: +SKIP
        """
        return self._transport.request("GET", path, params=params, op="read")

    def post(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        op: Op = "edit",
    ) -> Any:
        """``POST path`` with a body (the legacy dialect sends a form). ``op="edit"`` for
        absolute edits (retried only when the API certainly did not process it),
        ``op="create"`` for creations (never resent once they reached the API).

        Example:
            >>> client.post("/video/x8abc", {"title": "New title"})          # doctest: +SKIP
        """
        return self._transport.request("POST", path, params=params, data=data, op=op)

    def delete(self, path: str) -> Any:
        """``DELETE path``; an ambiguous failure raises ``TransportError(sent=True)``.

        Example:
            >>> client.delete("/video/x8abc")                                 # doctest: +SKIP
        """
        return self._transport.request("DELETE", path, op="delete")

    def send(self, call: Call) -> Any:
        """Send a call worded by :attr:`dialect` (retries by its ``op``); the decoded JSON.

        Example:
            >>> client.send(client.dialect.video_call("x8abc", ["id"]))       # doctest: +SKIP
            {'id': 'x8abc'}
        """
        return self._transport.send(call)

    def pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> Iterator[Page]:
        """The pages of a listing, one request each, up to the API's result ceiling.

        Each :class:`~dmtools.dialects.Page` has ``items`` (records), ``number``, ``more``
        and ``total``; ``limit`` is the page size (default: the largest the API allows).

        Example:
            >>> first = next(client.pages("/me/videos", {"fields": "id"}, limit=10))  # doctest: +SKIP
            >>> first.number, len(first.items), first.more                   # doctest: +SKIP
            (1, 10, True)
        """
        return self._transport.pages(path, params, limit=limit)

    def iterate(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a listing, page after page, up to the API's result ceiling.

        Example:
            >>> ids = [v["id"] for v in client.iterate("/me/videos")]         # doctest: +SKIP
        """
        return self._transport.iterate(path, params, limit=limit)

    def me(self, fields: Sequence[str] | str | None = None) -> dict[str, Any]:
        """The logged-in user (or organisation, for a private key).

        Example:
            >>> client.me(["id", "username"])                                 # doctest: +SKIP
        """
        result = self._dialect.read_account(self.send(self._dialect.account_call(fields)))
        if result.get("id"):
            self._account_id = str(result["id"])
        return result

    def logout(self) -> None:
        """Revoke the session on the API (legacy: ``GET /logout``), then forget the tokens
        locally. The local tokens are dropped even when the API cannot be reached.

        Example:
            >>> client.logout()                                               # doctest: +SKIP
        """
        call = self._dialect.logout_call()
        try:
            if call is not None:
                self._transport.send(call, replay_401=False)
        except AuthenticationError:
            log.info("the session was already gone on the API side")
        finally:
            clear = getattr(self._manager, "clear", None)
            if callable(clear):
                clear()
            self._account_id = None

    def close(self) -> None:
        """Close the HTTP connections (the tokens stay valid)."""
        self._transport.close()
        close = getattr(self._manager, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transport_for(
        self, base_url: str, *, authenticated: bool = True, dialect: Dialect | None = None
    ) -> Transport:
        """A transport to another host of the same API (the Reporting API's GraphQL endpoint,
        its report files) with this client's policy: timeouts, retries, retry budget and
        rate limit, and its token unless ``authenticated`` is False; ``dialect`` reads its
        error answers (default: this client's). Close it after use.

        Example:
            >>> files = client.transport_for("https://files.example", authenticated=False)  # doctest: +SKIP
        """
        t = self._transport
        return Transport(
            base_url,
            auth=self._manager if authenticated else None,
            dialect=dialect or self._dialect,
            timeout=t.timeouts,
            retries=t.backoff,
            rate_limit=t.limiter,
            budget=t.budget,
            sleep=self._sleep,
            clock=self._clock,
        )

    # -- facts ------------------------------------------------------------------------------

    @property
    def transport(self) -> Transport:
        """The transport (resources use :meth:`send`, :meth:`pages` and :attr:`budget`)."""
        return self._transport

    @property
    def dialect(self) -> Dialect:
        """The API dialect this client speaks."""
        return self._dialect

    @property
    def budget(self) -> RetryBudget:
        """The retry budget shared by every call (``budget.exhausted``: the service is down)."""
        return self._transport.budget

    @property
    def stats(self) -> dict[str, Any]:
        """Request counters of the transport (sent, retries, statuses...)."""
        return self._transport.stats

    @property
    def endpoints(self) -> Endpoints:
        return self._manager.endpoints

    @property
    def base_url(self) -> str:
        """Where calls go (legacy: the API host, or the partner ``/rest`` base for private keys)."""
        return self._transport.base_url

    @property
    def is_partner(self) -> bool:
        """True for a private API key (client credentials, partner host)."""
        return bool(self._manager.is_partner)

    @property
    def limits(self) -> FieldLimits:
        """Field length limits for this key (partner keys get longer titles/descriptions)."""
        return self._dialect.limits(partner=self.is_partner)

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self._manager.scopes or ())

    @property
    def client_id(self) -> str:
        """The API key this client logged in with."""
        return str(self._manager.client_id)

    @property
    def account_id(self) -> str:
        """The user (or organisation) id; read once from ``/me`` if the token did not say."""
        uid = self._manager.uid
        if uid:
            return str(uid)
        if self._account_id is None:
            self.me(["id"])
        return self._account_id or ""

    @property
    def token_expires_at(self) -> datetime | None:
        """When the current access token expires (local time zone), if known."""
        value = self._manager.expires_at
        if value is None:
            return None
        if isinstance(value, datetime):
            return value
        return datetime.fromtimestamp(float(value)).astimezone()

    # -- display ----------------------------------------------------------------------------

    def _facts(self) -> dict[str, str]:
        expires = self.token_expires_at
        if expires is None:
            validity = "unknown"
        else:
            left = expires.timestamp() - time.time()
            validity = (
                f"expired {expires:%Y-%m-%d %H:%M}"
                if left <= 0
                else (f"{_duration(left)} left (until {expires:%Y-%m-%d %H:%M})")
            )
        return {
            "user": str(self._manager.uid or self._account_id or "?"),
            "host": self.base_url,
            "key": "private (partner)" if self.is_partner else "public",
            "grant": str(self._manager.grant),
            "scopes": " ".join(self.scopes) or "(none)",
            "token": validity,
        }

    def __repr__(self) -> str:
        f = self._facts()
        return (
            f"<dmtools.Client user={f['user']} host={f['host']} key={f['key']} "
            f"grant={f['grant']} scopes={f['scopes']!r} token={f['token']}>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._facts().items()
        )
        return f"<table><caption>dmtools.Client</caption>{rows}</table>"


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
