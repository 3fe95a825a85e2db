"""Logging in: :func:`connect` opens a session and returns a :class:`~dmtools.client.Client`.

Example:
    >>> client = connect(LoginSpec.from_env(access="edit"))                   # doctest: +SKIP
    >>> client = connect("client_credentials", client_id=key, client_secret=secret,
    ...                  scope=["read_videos"], endpoints=sb.endpoints)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dmtools._retry import Backoff, RateLimiter, Timeouts
from dmtools.config import Endpoints
from dmtools.errors import InputError
from dmtools.secrets import Secret

if TYPE_CHECKING:
    import requests

    from dmtools.auth import AuthorizationCodeFlow, LoginSpec, TokenStore
    from dmtools.client import Client
    from dmtools.dialects import Dialect

__all__ = ["connect"]

TimeoutArg = Timeouts | float | tuple[float, float] | None


def connect(
    spec: LoginSpec | str,
    *,
    client_id: str | None = None,
    client_secret: str | Secret | None = None,
    username: str | None = None,
    password: str | Secret | None = None,
    scope: Sequence[str] | str | None = None,
    endpoints: Endpoints | None = None,
    dialect: Dialect | str | None = None,
    refresh_token: str | Secret | None = None,
    token_store: TokenStore | None = None,
    code_flow: AuthorizationCodeFlow | None = None,
    leeway: float | None = None,
    timeout: TimeoutArg = None,
    retries: Backoff | int | None = None,
    rate_limit: RateLimiter | float | None = None,
    clock: Callable[[], float] | None = None,
    session_factory: Callable[[], requests.Session] | None = None,
    reuse: bool = True,
) -> Client:
    """Log in and return a :class:`Client`.

    Args:
        spec: the login (a :class:`~dmtools.auth.LoginSpec`), or its grant name with the
            login as keywords: ``"client_credentials"`` (private key, partner host),
            ``"password"``, ``"authorization_code"`` or ``"refresh_token"`` (public key).
        client_id, client_secret: the API key and its secret.
        username, password: for the password grant.
        scope: scopes to ask for (``["manage_videos"]``...).
        endpoints: where to log in (default: the real API; ``sandbox.endpoints`` for a sandbox).
        dialect: the API dialect, or its name (default: ``"legacy"``, the Platform API).
        refresh_token: for the ``refresh_token`` grant.
        token_store: where to keep tokens between sessions (default: memory only).
        code_flow: the consent-page login of the authorization-code grant (made and run for
            you when omitted).
        leeway: renew tokens this many seconds before expiry (default: the dialect's).
        timeout, retries, rate_limit: transport options (see :class:`Client`).
        clock, session_factory: for the token requests (tests).
        reuse: use a valid session found in ``token_store`` (False: log in afresh and
            replace it).

    Raises:
        InputError: bad arguments, or a grant the dialect's API does not accept.

    Example:
        >>> client = dm.connect(dm.LoginSpec.from_env(access="edit"))        # doctest: +SKIP
    """
    from dmtools.auth import LoginSpec, open_session
    from dmtools.auth.login import login_spec
    from dmtools.client import Client

    login: dict[str, Any] = {
        "client_id": client_id,
        "client_secret": Secret.wrap(client_secret),
        "username": username,
        "password": Secret.wrap(password),
        "scope": scope,
        "endpoints": endpoints,
        "dialect": dialect,
        "refresh_token": Secret.wrap(refresh_token),
    }
    del client_secret, password, refresh_token  # only Secret-wrapped values stay in this frame
    if isinstance(spec, LoginSpec):
        given = sorted(name for name, value in login.items() if value is not None)
        if given:
            raise InputError(f"pass the login as a LoginSpec or as keywords, not both: {given}")
    else:
        spec = login_spec(spec, code_flow=code_flow, **login)
    manager = open_session(
        spec,
        token_store=token_store,
        code_flow=code_flow,
        leeway=leeway,
        clock=clock,
        session_factory=session_factory,
        reuse=reuse,
    )
    return Client(
        manager, dialect=spec.api, timeout=timeout, retries=retries, rate_limit=rate_limit
    )
