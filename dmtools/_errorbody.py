"""What an error answer says (:class:`ErrorBody`, as one API dialect reads it) and how long
a ``Retry-After`` asks to wait; the exceptions themselves are in :mod:`dmtools.errors`, which
re-exports these names."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["BodyReader", "ErrorBody", "parse_retry_after"]


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
