"""One exception tree for everything dmtools raises.

::

    DailymotionError
    ├── InputError                bad user input caught before any request (also ValueError)
    │   └── JournalError          a journal of another job, edited outside dmtools, or busy
    ├── InsecureTransportError    plain http to a non-loopback host (also ValueError)
    ├── TransportError            connection refused/reset, timeout, truncated body
    └── APIError                  the API answered with an error
        ├── AuthenticationError   401, or a token-endpoint error
        │   └── LoginRequired     invalid_grant: the session is gone, log in again
        ├── PermissionDenied      403 (``missing_scope`` names the scope the route needs)
        ├── NotFound              404
        ├── ValidationError       400 invalid/missing parameter (``field`` names it)
        ├── RateLimited           429 (``retry_after`` seconds)
        └── ServerError           5xx (HTML error pages included)

An :class:`APIError` keeps the HTTP status, the API error ``type``, its ``message`` and
``error_data``, plus the method and the path (never the query string, headers or body, so it
can be printed or logged without leaking a secret).

Nor does an error keep what it was raised from: every error leaving the transport, the token
endpoint or a login step has its ``__cause__``/``__context__`` chain cut at the first
exception that is not a dmtools error (:class:`dmtools._sealing.sealing`). A ``requests``
exception keeps the request, with its ``Authorization`` header and form body (password,
client secret, code), and a ``JSONDecodeError`` the document it failed on (a token response).

Example:
    >>> try:
    ...     client.get("/video/xnotfound")
    ... except dm.NotFound as exc:
    ...     print(exc.status, exc.type)
    404 not_found
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

__all__ = [
    "APIError",
    "AuthenticationError",
    "DailymotionError",
    "InputError",
    "InsecureTransportError",
    "JournalError",
    "LoginRequired",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "RateLimited",
    "ServerError",
    "TransportError",
    "ValidationError",
    "parse_retry_after",
    "raise_for_error",
]


class DailymotionError(Exception):
    """Root of every error dmtools raises."""


@dataclass(frozen=True)
class Problem:
    """One bad input cell: which row, which column, and why."""

    row: str | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column!r}" if self.column else "",
            )
            if part
        )
        return f"{where}: {self.reason}" if where else self.reason


class InputError(DailymotionError, ValueError):
    """User input that dmtools refuses before sending anything.

    ``problems`` lists every bad cell found (not only the first one); past 20 of them the
    text groups them by column and reason with counts
    (:func:`dmtools._problems.group_problems`), and
    :meth:`problems_frame` gives all of them as a table.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems: list[Problem] = list(problems)
        self.message = message
        text = message
        if self.problems:
            from dmtools._problems import problem_lines

            text += "\n" + "\n".join(problem_lines(self.problems))
        super().__init__(text)

    def problems_frame(self) -> Any:
        """Every problem as a pandas DataFrame (row, column, reason).

        Example:
            >>> exc.problems_frame().groupby("column").size()            # doctest: +SKIP
        """
        import pandas as pd

        return pd.DataFrame(
            [(p.row, p.column, p.reason) for p in self.problems],
            columns=["row", "column", "reason"],
        )


class JournalError(InputError):
    """The journal cannot be used for this job (another plan, account or API host, rows that
    do not match their digests, or another process is running it)."""


class InsecureTransportError(DailymotionError, ValueError):
    """A plain ``http://`` URL for a host that is not loopback."""


class TransportError(DailymotionError):
    """The request failed at the network level.

    ``sent`` is False when the request certainly never reached the server (connection refused,
    DNS failure) and True when it may have been processed (reset or timeout after sending,
    truncated response): the caller must then resolve the outcome before resending a write.
    """

    def __init__(
        self, message: str, *, method: str = "", path: str = "", sent: bool = True
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.sent = sent


class APIError(DailymotionError):
    """The API answered with an error.

    Attributes:
        status: HTTP status code.
        type: the API error type (``not_found``, ``invalid_parameter``, ``invalid_grant``...).
        message: the API's human-readable message.
        error_data: the API's ``error_data`` dict (may be empty).
        method, path: the request that failed (path without query string).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        type: str | None = None,  # the API calls it "type"
        error_data: Mapping[str, Any] | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.type = type
        self.message = message
        self.error_data: dict[str, Any] = dict(error_data or {})
        self.method = method
        self.path = path
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" ({self.method} {self.path})" if self.method or self.path else ""
        kind = f" {self.type}" if self.type else ""
        return f"HTTP {self.status}{kind}: {self.message}{where}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), str(self), self.__dict__.copy()))


def _rebuild(cls: type[APIError], message: str, state: dict[str, Any]) -> APIError:
    obj = cls.__new__(cls)
    Exception.__init__(obj, message)
    obj.__dict__.update(state)
    return obj


class AuthenticationError(APIError):
    """401 from the API, or an error from the token endpoint."""


class LoginRequired(AuthenticationError):
    """The refresh token or the credentials are no longer accepted: log in again."""


class PermissionDenied(APIError):
    """403: the token lacks a scope (``missing_scope``) or the resource is not yours."""

    @property
    def missing_scope(self) -> str | None:
        scope = self.error_data.get("scope")
        if scope:
            return str(scope)
        found = re.search(r"scope required: ([\w ,]+)", self.message or "")
        return found.group(1).strip() if found else None


class NotFound(APIError):
    """404: the object does not exist (or is not visible to you)."""


class ValidationError(APIError):
    """400: a parameter was invalid or missing; ``field`` names it when the API does."""

    @property
    def field(self) -> str | None:
        param = self.error_data.get("param") or self.error_data.get("field")
        return str(param) if param else None


class RateLimited(APIError):
    """429: slow down; ``retry_after`` is the number of seconds the API asked to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(APIError):
    """5xx from the API (including HTML error pages)."""


class _ResponseLike(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def request(self) -> Any: ...


_WWW_AUTH = re.compile(r'error="(?P<error>[^"]*)"(?:,\s*error_description="(?P<desc>[^"]*)")?')

_OAUTH_LOGIN_REQUIRED = {"invalid_grant"}

#: delay-seconds of RFC 9110: ASCII digits (a fraction is tolerated), not "inf", "1e9", "-5".
_DELAY_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]+)?")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    import time

    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _payload(response: _ResponseLike) -> Any:
    try:
        return json.loads(response.content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None


def _request_line(response: _ResponseLike) -> tuple[str, str]:
    request = getattr(response, "request", None)
    method = str(getattr(request, "method", "") or "")
    url = str(getattr(request, "url", "") or "")
    return method, urlsplit(url).path if url else ""


def _class_for(status: int, error_type: str | None) -> type[APIError]:
    if error_type in _OAUTH_LOGIN_REQUIRED:
        return LoginRequired
    if status == 401 or error_type in {"invalid_token", "invalid_client", "unauthorized_client"}:
        return AuthenticationError
    if status == 403:
        return PermissionDenied
    if status == 404:
        return NotFound
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    if status == 400 and error_type in {"invalid_parameter", "missing_required_parameter"}:
        return ValidationError
    if error_type in {
        "invalid_request",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
    }:
        return AuthenticationError
    return APIError


def error_from_response(response: _ResponseLike) -> APIError | None:
    """The :class:`APIError` a response stands for, or None if it is a success.

    Reads the API's error JSON (``{"error": {...}}``), the OAuth form
    (``{"error": "...", "error_description": "..."}``, also with HTTP 200), the
    ``WWW-Authenticate`` header, and tolerates HTML or empty bodies.
    """
    status = int(response.status_code)
    body = _payload(response)
    method, path = _request_line(response)
    error_type: str | None = None
    message = ""
    data: dict[str, Any] = {}
    if isinstance(body, dict) and "error" in body:
        err = body["error"]
        if isinstance(err, dict):
            error_type = err.get("type") if isinstance(err.get("type"), str) else None
            message = str(err.get("message") or "")
            if isinstance(err.get("error_data"), dict):
                data = dict(err["error_data"])
        else:
            error_type = str(err)
            message = str(body.get("error_description") or err)
    elif status < 400:
        return None
    header = response.headers.get("WWW-Authenticate", "") if response.headers else ""
    found = _WWW_AUTH.search(header or "")
    if found:
        error_type = error_type or found.group("error")
        message = message or (found.group("desc") or "")
    if not message:
        message = _status_text(status, response)
    if status < 400:
        status = 400  # an OAuth error delivered with 200
    cls = _class_for(status, error_type)
    kwargs: dict[str, Any] = {
        "status": status,
        "type": error_type,
        "error_data": data,
        "method": method,
        "path": path,
    }
    if cls is RateLimited:
        return RateLimited(
            message,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            **kwargs,
        )
    return cls(message, **kwargs)


def _status_text(status: int, response: _ResponseLike) -> str:
    content_type = response.headers.get("Content-Type", "") if response.headers else ""
    if "html" in content_type.lower():
        return f"the server answered {status} with an HTML page"
    return f"the server answered {status}"


def raise_for_error(response: _ResponseLike) -> None:
    """Raise the :class:`APIError` matching an error response; do nothing on success."""
    error = error_from_response(response)
    if error is not None:
        raise error
