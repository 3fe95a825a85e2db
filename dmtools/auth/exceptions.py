"""Login errors raised on this side of the wire (no HTTP status of their own).

They sit in the :mod:`dmtools.errors` tree::

    AuthenticationError
    ├── LoginError            a login step failed locally
    │   ├── StateMismatch     callback without our ``state`` (or a stale/used one)
    │   ├── AccessDenied      the user refused consent (``error=access_denied``)
    │   ├── LoginTimeout      no callback reached the local listener in time
    │   └── LoginCancelled    the local login was cancelled
    └── LoginRequired
        └── SessionExpired    no usable refresh token is left: log in again
"""

from __future__ import annotations

from dmtools.errors import AuthenticationError, LoginRequired

__all__ = [
    "AccessDenied",
    "LoginCancelled",
    "LoginError",
    "LoginTimeout",
    "ScopeChangedWarning",
    "SessionExpired",
    "StateMismatch",
]


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


class SessionExpired(LoginRequired):
    """The access token expired and nothing is left to renew it with: log in again."""

    def _text(self) -> str:
        return self.message


class ScopeChangedWarning(UserWarning):
    """The token endpoint granted other scopes than the ones requested."""
