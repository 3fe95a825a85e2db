"""OAuth 2.0 for the Dailymotion Platform API.

* :class:`LoginSpec` is a login as data (grant, key, secret, account, scopes, endpoints, API
  dialect); :meth:`LoginSpec.from_env` reads it from the ``DMTOOLS_*`` variables.
* :func:`open_session` opens it and returns a :class:`TokenManager`, the thread-safe source
  of valid access tokens the client uses (:func:`create_token_manager` is its keyword form).
* :class:`AuthorizationCodeFlow` runs the consent-page login (paste the redirected URL, or
  let a one-shot listener on 127.0.0.1 catch it).
* :class:`MemoryTokenStore` (default), :class:`KeyringTokenStore` and
  :class:`FileTokenStore` keep sessions.

Secrets are :class:`dmtools.secrets.Secret` values, and importing this package installs log
redaction (:func:`dmtools.secrets.install_redaction`).

Example:
    >>> from dmtools.auth import LoginSpec, open_session
    >>> spec = LoginSpec("client_credentials", key, secret,      # doctest: +SKIP
    ...                  scopes=["read_videos"], endpoints=sb.endpoints)
    >>> open_session(spec).access_token()                         # doctest: +SKIP
"""

from __future__ import annotations

from dmtools.secrets import Secret, install_redaction

from .codeflow import AuthorizationCodeFlow, pkce_pair
from .credentials import ACCESS_LEVELS, LoginSpec, env_grant, scopes_for
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
from .login import LegacyGrantWarning, create_token_manager, open_session
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
    "ACCESS_LEVELS",
    "GRANTS",
    "AccessDenied",
    "AuthorizationCodeFlow",
    "FileTokenStore",
    "KeyringTokenStore",
    "LegacyGrantWarning",
    "LocalLogin",
    "LoginSpec",
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
    "env_grant",
    "open_session",
    "pkce_pair",
    "scopes_for",
    "token_key",
]

install_redaction()
