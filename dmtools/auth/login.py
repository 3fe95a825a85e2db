"""Opening a session: :func:`create_token_manager`."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterable

import requests

from dmtools.config import Endpoints
from dmtools.errors import InputError, LegacyGrantWarning, LoginRequired
from dmtools.secrets import Secret

from .codeflow import AuthorizationCodeFlow
from .endpoint import TokenEndpoint
from .exceptions import SessionExpired
from .manager import TokenManager
from .store import TokenStore, token_key
from .token import GRANTS, Token, normalize_scope

__all__ = ["LegacyGrantWarning", "create_token_manager"]

log = logging.getLogger("dmtools.auth")


def _subject(grant: str, username: str | None) -> str:
    if grant == "client_credentials":
        return "client_credentials"
    return f"user:{username}" if username else "user"


def _check_arguments(
    grant: str,
    client_id: str,
    secret: Secret | None,
    username: str | None,
    password: Secret | None,
    code_flow: AuthorizationCodeFlow | None,
    refresh_token: Secret | None,
) -> None:
    if grant not in GRANTS:
        raise InputError(f"unknown grant {grant!r}: use one of {', '.join(GRANTS)}")
    if not client_id or not isinstance(client_id, str):
        raise InputError("client_id (the API key) is missing")
    if not secret:
        raise InputError("client_secret (the API secret) is missing")
    if grant == "client_credentials" and (username or password or code_flow or refresh_token):
        raise InputError(
            "client_credentials authenticates the API key itself (a private key, partner "
            "endpoint) and takes no username, password, code flow or refresh token; for a "
            "user login with a public key use grant 'password' or 'authorization_code'"
        )
    if grant == "password" and not username:
        raise InputError("the password grant needs username= (and password=)")
    if code_flow is not None and grant != "authorization_code":
        raise InputError("code_flow= goes with grant 'authorization_code'")
    if code_flow is not None and code_flow.client_id != client_id:
        raise InputError("code_flow was made for another client_id")


def create_token_manager(
    grant: str,
    *,
    client_id: str,
    client_secret: str | Secret,
    username: str | None = None,
    password: str | Secret | None = None,
    scope: str | Iterable[str] | None = None,
    endpoints: Endpoints | None = None,
    token_store: TokenStore | None = None,
    code_flow: AuthorizationCodeFlow | None = None,
    refresh_token: str | Secret | None = None,
    leeway: float = 60.0,
    clock: Callable[[], float] | None = None,
    session_factory: Callable[[], requests.Session] | None = None,
) -> TokenManager:
    """Open a session with ``grant`` and return its :class:`TokenManager`, with a valid token.

    A valid session found in ``token_store`` (same deployment, API key and account, scopes
    covering ``scope``) is reused, refreshed if needed, without sending credentials.

    Args:
        grant: ``client_credentials`` (private key), ``password`` or ``authorization_code``
            (public key), or ``refresh_token`` (continue a session from its refresh token).
        client_id, client_secret: the API key and secret.
        username, password: the Dailymotion account (``password`` grant); the password is
            used once and never kept.
        scope: scopes to ask for, as ``"a b"`` or ``["a", "b"]``.
        endpoints: the deployment (default: the real service).
        token_store: where the session is kept (default: nowhere but this manager).
        code_flow: an :class:`AuthorizationCodeFlow`, completed or not (if not, its local
            listener runs and a browser opens); made for you when omitted.
        refresh_token: for the ``refresh_token`` grant.
        leeway: renew this many seconds before expiry.
        clock: POSIX seconds (tests).
        session_factory: makes the ``requests.Session`` for token requests.

    Raises:
        InputError: missing or contradictory arguments (e.g. a username with client_credentials).
        LoginRequired: the credentials, code or refresh token were refused.
        AuthenticationError: another token-endpoint error, naming the right grant for the key.

    Example:
        >>> manager = create_token_manager(                       # doctest: +SKIP
        ...     "password", client_id=key, client_secret=secret, username="me",
        ...     password=getpass(), scope=["manage_videos"], endpoints=sb.endpoints)
        >>> manager.scopes                                        # doctest: +SKIP
        ('manage_videos',)
    """
    secret = Secret.wrap(client_secret)
    user_password = Secret.wrap(password)
    given_refresh = Secret.wrap(refresh_token)
    del client_secret, password, refresh_token  # only Secret-wrapped values stay in this frame
    _check_arguments(grant, client_id, secret, username, user_password, code_flow, given_refresh)
    assert secret is not None
    if endpoints is None:
        endpoints = code_flow.endpoints if code_flow is not None else Endpoints.dailymotion()
    if code_flow is not None and code_flow.endpoints != endpoints:
        raise InputError(
            "code_flow was made for other endpoints; a code is only exchanged where it was issued"
        )
    scopes = normalize_scope(scope)
    now = clock or time.time
    endpoint = TokenEndpoint(
        client_id=client_id,
        client_secret=secret,
        endpoints=endpoints,
        partner=grant == "client_credentials",
        clock=now,
        session_factory=session_factory,
    )
    key = token_key(endpoints, client_id, _subject(grant, username))

    def open_session(token: Token) -> TokenManager:
        return TokenManager(
            endpoint,
            token,
            grant=token.grant,
            scope=scopes,
            leeway=leeway,
            clock=now,
            store=token_store,
            key=key,
        )

    fresh_flow = code_flow is not None and code_flow.token is not None
    if token_store is not None and given_refresh is None and not fresh_flow:
        stored = token_store.load(key)
        if stored is not None and set(scopes) <= set(stored.scope):
            reused = open_session(stored)
            try:
                if stored.expires_within(leeway, now=now()):
                    reused.refresh()
                log.debug("reusing the stored session")
                return reused
            except LoginRequired:
                log.info("the stored session has ended; logging in again")

    if grant == "client_credentials":
        token = endpoint.request("client_credentials", scope=scopes)
    elif grant == "password":
        if user_password is None:
            raise InputError("the password grant needs password=")
        if not endpoints.is_sandbox:
            warnings.warn(
                "the password grant is a legacy flow (RFC 9700 §2.4 says it must not "
                "be used); prefer grant 'authorization_code'",
                LegacyGrantWarning,
                stacklevel=2,
            )
        token = endpoint.request(
            "password", scope=scopes, username=username, password=user_password
        )
        del user_password
    elif grant == "refresh_token":
        if given_refresh is None:
            raise SessionExpired(
                "the refresh_token grant needs refresh_token= (or a stored session); log in again",
                type="login_required",
            )
        token = endpoint.request(
            "refresh_token", refresh_token=given_refresh, expected_scope=scopes
        ).with_refresh_token(given_refresh)
    else:
        flow = code_flow or AuthorizationCodeFlow(
            client_id,
            secret,
            scope=scopes,
            endpoints=endpoints,
            clock=now,
            session_factory=session_factory,
        )
        token = flow.token if flow.token is not None else flow.run_local_server()
    if token_store is not None:
        token_store.save(key, token)
    return open_session(token)
