"""What the state layer refuses, in data terms: no HTTP status, no wire format.

Each API dialect turns these into its own error answers (the legacy dialect in
:mod:`dmtools.sandbox.api.legacy.errors`), so one store can serve every dialect.
"""

from __future__ import annotations


class StateError(Exception):
    """Base of the state layer's errors."""


class NotFound(StateError):
    """No ``kind`` object (``"video"``, ``"user"``) has the identifier ``key``."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} {key!r}")
        self.kind = kind
        self.key = key


class StaleVersion(StateError):
    """A conditional write found another version of the video than expected."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the video is at version {current}")
        self.current = current


class RuleViolation(StateError):
    """A write breaks a data rule; ``field`` names the field, ``missing`` that it is unset."""

    def __init__(self, field: str, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.missing = missing


class GrantError(StateError):
    """An OAuth 2.0 grant is refused; ``error`` is the RFC 6749 §5.2 code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class TokenRejected(StateError):
    """An access token is unknown, revoked (``expired`` False) or expired (True)."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("the access token has expired" if expired else "invalid access token")
        self.expired = expired


class QuotaExceeded(StateError):
    """An upload quota is used up; ``reason`` names which, ``limit`` is its value."""

    def __init__(self, reason: str, limit: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.limit = limit
        self.message = message
