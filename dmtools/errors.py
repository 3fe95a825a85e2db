"""One exception tree for everything dmtools raises, and the warnings it gives.

::

    DailymotionError
    ├── InputError                bad user input caught before any request (also ValueError)
    │   ├── JournalError          a journal of another job, edited outside dmtools, or busy
    │   └── HistoryConflict       history is append-only: a different snapshot at that time
    ├── InsecureTransportError    plain http to a non-loopback host (also ValueError)
    ├── TransportError            connection refused/reset, timeout, truncated body
    ├── TokenStoreError           a token store that is unsafe or unusable
    └── APIError                  the API answered with an error
        ├── AuthenticationError   401, or a token-endpoint error
        │   ├── LoginError        a login step failed on this side of the wire
        │   │   ├── StateMismatch     callback without our ``state`` (or a stale/used one)
        │   │   ├── AccessDenied      the user refused consent (``error=access_denied``)
        │   │   ├── LoginTimeout      no callback reached the local listener in time
        │   │   └── LoginCancelled    the local login was cancelled
        │   └── LoginRequired     invalid_grant: the session is gone, log in again
        │       └── SessionExpired    no usable refresh token is left: log in again
        ├── PermissionDenied      403 (``missing_scope`` names the scope the route needs)
        ├── NotFound              404
        ├── ValidationError       400 invalid/missing parameter (``field`` names it)
        ├── RateLimited           429 (``retry_after`` seconds)
        ├── ServerError           5xx (HTML error pages included)
        └── ReportError           a report ended FAILED or EXPIRED (after one retry), or
                                  did not finish in time (``report_status``)

    DailymotionWarning (a UserWarning)
    ├── LegacyGrantWarning        the password grant is legacy (RFC 9700 §2.4)
    ├── ScopeChangedWarning       the token endpoint granted other scopes than requested
    └── IncompleteLoadWarning     some videos of a load could not be reached (named)

An :class:`APIError` keeps the HTTP status, the API error ``type``, its ``message`` and
``error_data``, plus the method and the path (never the query string, headers or body, so it
can be printed or logged without leaking a secret).

Reading an error answer is split in two: each API dialect reads its own error JSON into an
:class:`ErrorBody` (:meth:`dmtools.dialects.Dialect.read_error`); this module reads what every
dialect shares (the OAuth 2.0 error form of RFC 6749, ``WWW-Authenticate``, ``Retry-After``,
HTML and empty bodies) and picks the class. The Reporting API's GraphQL ``errors`` array
(sent with HTTP 200 for a refused report) maps onto the same classes by its
``extensions.reason``: a broken limit is a :class:`ValidationError`, a missing scope or
permission a :class:`PermissionDenied`, too many reports in progress a :class:`RateLimited`,
an unknown report a :class:`NotFound`, a bad token an :class:`AuthenticationError`
(:func:`dmtools._answers.error_from_graphql`).

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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "APIError",
    "AccessDenied",
    "AuthenticationError",
    "DailymotionError",
    "DailymotionWarning",
    "ErrorBody",
    "HistoryConflict",
    "IncompleteLoadWarning",
    "InputError",
    "InsecureTransportError",
    "JournalError",
    "LegacyGrantWarning",
    "LoginCancelled",
    "LoginError",
    "LoginRequired",
    "LoginTimeout",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "RateLimited",
    "ReportError",
    "ScopeChangedWarning",
    "ServerError",
    "SessionExpired",
    "StateMismatch",
    "TokenStoreError",
    "TransportError",
    "ValidationError",
    "error_from_response",
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


class HistoryConflict(InputError):
    """The history store (or a dataset partition) already holds a different snapshot at
    that time: history is append-only (``replace=True`` where a dataset allows it)."""


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


class TokenStoreError(DailymotionError):
    """A token store refused to work (unsafe backend, file or location)."""


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


class LoginError(AuthenticationError):
    """A login step failed before or without a token-endpoint error."""

    def _text(self) -> str:
        return self.message


class StateMismatch(LoginError):
    """The authorization response does not carry the ``state`` of a login in progress."""


class AccessDenied(LoginError):
    """The user refused to grant access on the consent page."""


class LoginTimeout(LoginError):
    """The local callback listener got no authorization response in time."""


class LoginCancelled(LoginError):
    """The local login was cancelled before a response arrived."""


class LoginRequired(AuthenticationError):
    """The refresh token or the credentials are no longer accepted: log in again."""


class SessionExpired(LoginRequired):
    """The access token expired and nothing is left to renew it with: log in again."""

    def _text(self) -> str:
        return self.message


class PermissionDenied(APIError):
    """403: the token lacks a scope (``missing_scope``, when the API names it) or the
    resource is not yours (``profile``: the profile the key may not reach, on API v2)."""

    def __init__(
        self,
        message: str,
        *,
        missing_scope: str | None = None,
        profile: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.missing_scope = missing_scope
        self.profile = profile
        super().__init__(message, **kwargs)


class NotFound(APIError):
    """404: the object does not exist (or is not visible to you)."""


class ValidationError(APIError):
    """400: a parameter was invalid or missing; ``field`` names it when the API does."""

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        self.field = field
        super().__init__(message, **kwargs)


class RateLimited(APIError):
    """429: slow down; ``retry_after`` is the number of seconds the API asked to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(APIError):
    """5xx from the API (including HTML error pages)."""


class ReportError(APIError):
    """A Reporting API report could not be had: it ended ``FAILED`` or ``EXPIRED`` again
    after being asked once more, or it was still in progress when the wait ran out.

    Attributes:
        report_status: ``FAILED``, ``EXPIRED`` or ``IN_PROGRESS`` (the wait ran out).
        start, end: the dates the report covers (ISO ``YYYY-MM-DD``).
    """

    def __init__(
        self,
        message: str,
        *,
        report_status: str,
        start: str = "",
        end: str = "",
        **kwargs: Any,
    ) -> None:
        self.report_status = report_status
        self.start = start
        self.end = end
        super().__init__(message, **kwargs)

    def _text(self) -> str:
        return self.message


class DailymotionWarning(UserWarning):
    """Root of the warnings dmtools gives (filter them all with this class)."""


class LegacyGrantWarning(DailymotionWarning):
    """The password grant is legacy (RFC 9700 §2.4 says it must not be used)."""


class ScopeChangedWarning(DailymotionWarning):
    """The token endpoint granted other scopes than the ones requested."""


class IncompleteLoadWarning(DailymotionWarning):
    """Some videos could not be reached: more in one second than one query reaches, and no
    filter splits them further (the message names the second and the count)."""


# -- reading error answers ---------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorBody:
    """What an error answer says, as one API dialect reads it (or the OAuth 2.0 form).

    Attributes:
        type: the error type or code exactly as sent (``not_found``, ``INVALID_PARAMETER``...).
        message: the human-readable message.
        data: the details the API attached (``error_data``, ``details``...).
        invalid_input: the API says a parameter was invalid or missing (a ValidationError).
        param: the parameter it names.
        scope: the scope the route needs (a 403 for a missing scope).
        profile: the profile (channel) the key may not reach (API v2), when the API names it.
    """

    type: str | None = None
    message: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    invalid_input: bool = False
    param: str | None = None
    scope: str | None = None
    profile: str | None = None


#: Reads a dialect's error JSON (status, decoded payload) into an ErrorBody; None: not one.
BodyReader = Callable[[int, Any], "ErrorBody | None"]


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


def error_from_response(response: Any, *, read_body: BodyReader | None = None) -> APIError | None:
    """The :class:`APIError` a response stands for, or None if it is a success.

    See :func:`dmtools._answers.error_from_response` (where answers are read).
    """
    from dmtools._answers import error_from_response as read

    return read(response, read_body=read_body)


def raise_for_error(response: Any, *, read_body: BodyReader | None = None) -> None:
    """Raise the :class:`APIError` matching an error response; do nothing on success.

    ``read_body`` is the dialect's reader of its error JSON (see :func:`error_from_response`).
    """
    error = error_from_response(response, read_body=read_body)
    if error is not None:
        raise error
