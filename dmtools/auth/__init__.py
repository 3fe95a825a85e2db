"""OAuth 2.0 for the Dailymotion Platform API.

* :func:`create_token_manager` opens a session with any grant and returns a
  :class:`TokenManager`, the thread-safe source of valid access tokens the client uses.
* :class:`AuthorizationCodeFlow` runs the consent-page login (paste the redirected URL, or
  let a one-shot listener on 127.0.0.1 catch it).
* :class:`MemoryTokenStore` (default), :class:`KeyringTokenStore` and
  :class:`FileTokenStore` keep sessions.

Secrets are :class:`dmtools.secrets.Secret` values, and importing this package installs log
redaction (:func:`dmtools.secrets.install_redaction`).

Example:
    >>> from dmtools.auth import create_token_manager
    >>> manager = create_token_manager(                          # doctest: +SKIP
    ...     "client_credentials", client_id=key, client_secret=secret,
    ...     scope=["read_videos"], endpoints=sb.endpoints)
    >>> manager.access_token()                                    # doctest: +SKIP
"""

from __future__ import annotations

from dmtools.secrets import Secret, install_redaction

from .codeflow import AuthorizationCodeFlow, pkce_pair
from .endpoint import TokenEndpoint
from .exceptions import (
    AccessDenied,
    LoginCancelled,
    LoginError,
    LoginTimeout,
    ScopeChangedWarning,
    SessionExpired,
    StateMismatch,
)
from .local import LocalLogin
from .login import LegacyGrantWarning, create_token_manager
from .loopback import LoopbackListener
from .manager import TokenManager
from .store import (
    FileTokenStore,
    KeyringTokenStore,
    MemoryTokenStore,
    TokenStore,
    TokenStoreError,
    token_key,
)
from .token import GRANTS, Token

__all__ = [
    "GRANTS",
    "AccessDenied",
    "AuthorizationCodeFlow",
    "FileTokenStore",
    "KeyringTokenStore",
    "LegacyGrantWarning",
    "LocalLogin",
    "LoginCancelled",
    "LoginError",
    "LoginTimeout",
    "LoopbackListener",
    "MemoryTokenStore",
    "ScopeChangedWarning",
    "Secret",
    "SessionExpired",
    "StateMismatch",
    "Token",
    "TokenEndpoint",
    "TokenManager",
    "TokenStore",
    "TokenStoreError",
    "create_token_manager",
    "pkce_pair",
    "token_key",
]

install_redaction()
