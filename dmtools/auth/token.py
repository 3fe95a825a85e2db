"""The :class:`Token` value: what a token endpoint granted, with its secrets wrapped."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dmtools.errors import InputError
from dmtools.secrets import Secret

__all__ = ["GRANTS", "Token", "normalize_scope"]

#: The grants dmtools speaks. ``client_credentials`` needs a private API key (partner token
#: endpoint); the others a public API key.
GRANTS = ("client_credentials", "password", "authorization_code", "refresh_token")


def normalize_scope(scope: str | Iterable[str] | None) -> tuple[str, ...]:
    """Scopes as a tuple, from ``"a b"``, ``["a", "b"]`` or ``None``; duplicates dropped.

    Raises:
        InputError: a scope name is empty or contains whitespace.

    Example:
        >>> normalize_scope("manage_videos email manage_videos")
        ('manage_videos', 'email')
    """
    if scope is None:
        return ()
    items = scope.split() if isinstance(scope, str) else list(scope)
    result: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item or item != item.strip() or " " in item:
            raise InputError(f"invalid scope name {item!r}: scopes are single words")
        if item not in result:
            result.append(item)
    return tuple(result)


@dataclass(frozen=True)
class Token:
    """An OAuth 2.0 token as granted by the token endpoint.

    Attributes:
        access_token: the bearer token (masked when shown).
        refresh_token: the refresh token, if the grant returns one (never for
            ``client_credentials``).
        expires_at: POSIX time at which the access token expires (the time just before the
            token request was sent, plus ``expires_in``); None if the server gave no lifetime.
        scope: the scopes granted.
        uid: the user id the token acts for, when the server says so.
        token_type: normally ``"Bearer"``.
        grant: the grant that produced the session (a refresh keeps the original grant).

    Example:
        >>> token = Token(Secret("abc123"), expires_at=1000.0, scope=("manage_videos",))
        >>> token  # doctest: +NORMALIZE_WHITESPACE
        Token(access_token=Secret('********'), refresh_token=None, expires_at=1000.0,
              scope=('manage_videos',), uid=None, token_type='Bearer', grant='password')
        >>> token.expires_within(60, now=950.0)
        True
    """

    access_token: Secret
    refresh_token: Secret | None = None
    expires_at: float | None = None
    scope: tuple[str, ...] = ()
    uid: str | None = None
    token_type: str = "Bearer"
    grant: str = "password"

    def expires_within(self, seconds: float, *, now: float) -> bool:
        """True when the token is expired or expires within ``seconds`` of ``now``."""
        return self.expires_at is not None and now >= self.expires_at - seconds

    def with_refresh_token(self, fallback: Secret | None) -> Token:
        """This token, keeping ``fallback`` as refresh token when none was returned."""
        if self.refresh_token is not None or fallback is None:
            return self
        return dataclasses.replace(self, refresh_token=fallback)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict *with the secrets revealed*, for a token store."""
        return {
            "access_token": self.access_token.reveal(),
            "refresh_token": self.refresh_token.reveal() if self.refresh_token else None,
            "expires_at": self.expires_at,
            "scope": list(self.scope),
            "uid": self.uid,
            "token_type": self.token_type,
            "grant": self.grant,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        """The inverse of :meth:`to_dict`.

        Raises:
            InputError: the mapping is not a stored token.
        """
        access = data.get("access_token")
        grant = data.get("grant", "password")
        if not isinstance(access, str) or not access or grant not in GRANTS:
            raise InputError("not a stored dmtools token")
        refresh = data.get("refresh_token")
        expires_at = data.get("expires_at")
        uid = data.get("uid")
        return cls(
            access_token=Secret(access),
            refresh_token=Secret(refresh) if isinstance(refresh, str) and refresh else None,
            expires_at=float(expires_at) if isinstance(expires_at, (int, float)) else None,
            scope=normalize_scope(data.get("scope") or ()),
            uid=str(uid) if uid is not None else None,
            token_type=str(data.get("token_type") or "Bearer"),
            grant=str(grant),
        )
