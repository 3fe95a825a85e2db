"""Putting one request on the wire with ``requests``, for :class:`dmtools._http.Transport`.

:class:`Sessions` keeps one ``requests.Session`` per thread (a session must not cross
threads), sets the Bearer header, never follows redirects and counts answers by status.
:func:`classify` sorts every ``requests`` exception into a :class:`Failure`: whether the
request may have reached the server (``sent``) and whether trying again can help.

Example:
    >>> sessions = Sessions(loopback=True)                              # doctest: +SKIP
    >>> sessions.send("GET", url, params={}, body=None, json_body=False,
    ...               token=None, timeout=(3.05, 30.0)).status_code     # doctest: +SKIP
    200
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from dmtools import __version__
from dmtools.errors import DailymotionError
from dmtools.secrets import Secret

__all__ = ["Failure", "Sessions", "classify"]

log = logging.getLogger("dmtools.http")


class Failure(Exception):
    """A classified network failure, turned into a TransportError when it surfaces."""

    def __init__(self, kind: str, sent: bool, retryable: bool, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.sent = sent
        self.retryable = retryable
        self.detail = detail


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


class Sessions:
    """The ``requests`` sessions of one transport, one per thread, and what they answered.

    Args:
        loopback: the API is on a loopback host (the sandbox): ignore proxy variables,
            ``.netrc`` and CA bundle overrides.
    """

    def __init__(self, *, loopback: bool) -> None:
        self._loopback = loopback
        self._local = threading.local()
        self._all: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._statuses: Counter[int] = Counter()
        self._threads: dict[int, set[int]] = {}  # session serial -> thread idents
        self._serials = itertools.count(1)
        self.closed = False

    def session(self) -> requests.Session:
        """This thread's session (made on first use)."""
        if self.closed:
            raise DailymotionError("this transport is closed")
        session: requests.Session | None = getattr(self._local, "session", None)
        thread = threading.get_ident()
        if session is None:
            session = requests.Session()
            self._local.serial = next(self._serials)
            session.trust_env = not self._loopback
            session.headers.update(
                {
                    "Accept": "application/json",
                    "User-Agent": f"dmtools/{__version__} python-requests/{requests.__version__}",
                }
            )
            self._local.session = session
            self._local.owner = thread
            self._all.add(session)
        assert self._local.owner == thread, "a requests.Session must not cross threads"
        with self._lock:
            self._threads.setdefault(self._local.serial, set()).add(thread)
        return session

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Any,
        body: Any,
        json_body: bool,
        token: Secret | None,
        timeout: tuple[float, float],
    ) -> requests.Response:
        """Send once; raise :class:`Failure` for a network failure."""
        session = self.session()
        started = time.monotonic()
        try:
            response = session.request(
                method,
                url,
                params=params or None,
                data=None if json_body else body,
                json=body if json_body else None,
                auth=_BearerAuth(token),
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise classify(exc) from None
        with self._lock:
            self._statuses[response.status_code] += 1
        log.debug(
            "%s %s -> %d in %.3f s",
            method,
            urlsplit(url).path,
            response.status_code,
            time.monotonic() - started,
        )
        return response

    def close(self) -> None:
        """Close every session (all threads); later sends raise DailymotionError."""
        self.closed = True
        for session in list(self._all):
            session.close()

    def counts(self) -> dict[str, Any]:
        """``statuses`` by code, ``sessions`` used and ``sessions_shared`` across threads."""
        with self._lock:
            return {
                "statuses": dict(self._statuses),
                "sessions": len(self._threads),
                "sessions_shared": sum(len(t) > 1 for t in self._threads.values()),
            }

    def reset(self) -> None:
        with self._lock:
            self._statuses.clear()
            self._threads.clear()


def classify(exc: requests.RequestException) -> Failure:
    """Sort a requests exception into: not sent / ambiguous, retryable or not."""
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    if isinstance(exc, requests.exceptions.SSLError):
        return Failure("tls", False, False, "TLS handshake failed")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Failure("connect", False, True, "connection timed out")
    if isinstance(exc, requests.exceptions.ProxyError):
        return Failure("connect", False, True, "could not reach the proxy")
    if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
        inner, urllib3.exceptions.ReadTimeoutError
    ):
        return Failure("timeout", True, True, "the server did not answer in time")
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return Failure("truncated", True, True, "the response was cut short")
    if isinstance(exc, requests.exceptions.ConnectionError):
        if isinstance(inner, urllib3.exceptions.NewConnectionError):
            return Failure("connect", False, True, "could not connect to the server")
        return Failure("reset", True, True, "the connection was closed or reset")
    return Failure("invalid", False, False, f"request failed: {type(exc).__name__}")
