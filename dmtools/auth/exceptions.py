"""Login errors raised on this side of the wire (no HTTP status of their own).

They live in :mod:`dmtools.errors`, whose docstring draws the whole tree; this module keeps
the names importable from ``dmtools.auth.exceptions``.
"""

from __future__ import annotations

from dmtools.errors import (
    AccessDenied,
    LoginCancelled,
    LoginError,
    LoginTimeout,
    ScopeChangedWarning,
    SessionExpired,
    StateMismatch,
)

__all__ = [
    "AccessDenied",
    "LoginCancelled",
    "LoginError",
    "LoginTimeout",
    "ScopeChangedWarning",
    "SessionExpired",
    "StateMismatch",
]
