"""Opening a session: :func:`open_session` turns a :class:`LoginSpec` into a TokenManager.

One small function per grant fetches the first token; a valid session found in the token
store is reused first. :func:`create_token_manager` is the keyword form of the same.
"""

from __future__ import annotations

import functools
import logging
import time
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypedDict, Unpack

import requests

from dmtools.config import Endpoints
from dmtools.errors import InputError, LegacyGrantWarning, LoginRequired
from dmtools.secrets import Secret

from .codeflow import AuthorizationCodeFlow
from .credentials import LoginSpec
from .endpoint import TokenEndpoint
from .exceptions import SessionExpired
from .manager import TokenManager
from .store import TokenStore
from .token import Token, normalize_scope

if TYPE_CHECKING:
    from dmtools.dialects import Dialect

__all__ = [
    "LegacyGrantWarning",
    "LoginKeywords",
    "create_token_manager",
    "login_spec",
    "open_session",
]

log = logging.getLogger("dmtools.auth")

#: Gives the consent-page login of a spec (the one passed to :func:`open_session`, or a new one).
FlowSource = Callable[[], AuthorizationCodeFlow]
Fetch = Callable[[LoginSpec, TokenEndpoint, FlowSource], Token]


def _client_credentials(spec: LoginSpec, endpoint: TokenEndpoint, flow: FlowSource) -> Token:
    return endpoint.request("client_credentials", scope=spec.scopes)


def _password(spec: LoginSpec, endpoint: TokenEndpoint, flow: FlowSource) -> Token:
    if spec.password is None:  # checked here: a stored session needs no password
        raise InputError("the password grant needs password=")
    if not spec.endpoints.is_sandbox:
        warnings.warn(
            "the password grant is a legacy flow (RFC 9700 §2.4 says it must not "
            "be used); prefer grant 'authorization_code'",
            LegacyGrantWarning,
            stacklevel=4,
        )
    return endpoint.request(
        "password", scope=spec.scopes, username=spec.username, password=spec.password
    )


def _refresh_token(spec: LoginSpec, endpoint: TokenEndpoint, flow: FlowSource) -> Token:
    if spec.refresh_token is None:
        raise SessionExpired(
            "the refresh_token grant needs refresh_token= (or a stored session); log in again",
            type="login_required",
        )
    return endpoint.request(
        "refresh_token", refresh_token=spec.refresh_token, expected_scope=spec.scopes
    ).with_refresh_token(spec.refresh_token)


def _authorization_code(spec: LoginSpec, endpoint: TokenEndpoint, flow: FlowSource) -> Token:
    login = flow()
    return login.token if login.token is not None else login.run_local_server()


#: The first token of a session, by grant.
FIRST_TOKEN: dict[str, Fetch] = {
    "client_credentials": _client_credentials,
    "password": _password,
    "refresh_token": _refresh_token,
    "authorization_code": _authorization_code,
}


def _check_flow(spec: LoginSpec, flow: AuthorizationCodeFlow | None) -> None:
    if flow is None:
        return
    if spec.grant != "authorization_code":
        raise InputError("code_flow= goes with grant 'authorization_code'")
    if flow.client_id != spec.client_id:
        raise InputError("code_flow was made for another client_id")
    if flow.endpoints != spec.endpoints:
        raise InputError(
            "code_flow was made for other endpoints; a code is only exchanged where it was issued"
        )


def _stored(
    spec: LoginSpec,
    store: TokenStore,
    manager: Callable[..., TokenManager],
    now: Callable[[], float],
) -> TokenManager | None:
    """The session kept in ``store`` for this login, renewed if needed; None if there is
    none, it lacks a scope, or it has ended."""
    stored = store.load(spec.store_key)
    if stored is None or not set(spec.scopes) <= set(stored.scope):
        return None
    reused = manager(stored, grant=stored.grant)
    try:
        if stored.expires_within(reused.leeway, now=now()):
            reused.refresh()
    except LoginRequired:
        log.info("the stored session has ended; logging in again")
        return None
    log.debug("reusing the stored session")
    return reused


def open_session(
    spec: LoginSpec,
    *,
    token_store: TokenStore | None = None,
    code_flow: AuthorizationCodeFlow | None = None,
    leeway: float | None = None,
    clock: Callable[[], float] | None = None,
    session_factory: Callable[[], requests.Session] | None = None,
    reuse: bool = True,
) -> TokenManager:
    """Open the session ``spec`` describes and return its :class:`TokenManager`.

    A valid session found in ``token_store`` (same deployment, API key, account and API
    generation, scopes covering the spec's) is reused, refreshed if needed, without sending
    credentials (unless ``reuse`` is False: a fresh login that replaces it).

    Args:
        spec: the login.
        token_store: where the session is kept (default: only in the manager).
        code_flow: a completed (or not) consent-page login of this spec; made with
            :meth:`LoginSpec.code_flow` and run (listener, browser) when omitted.
        leeway: renew this many seconds before expiry (default: the dialect's).
        clock: POSIX seconds (tests).
        session_factory: makes the ``requests.Session`` for token requests.

    Raises:
        InputError: a code flow made for another login.
        LoginRequired: the credentials, code or refresh token were refused.
        AuthenticationError: another token-endpoint error, naming the right grant for the key.

    Example:
        >>> manager = open_session(LoginSpec.from_env(access="edit"))     # doctest: +SKIP
    """
    _check_flow(spec, code_flow)
    now = clock or time.time
    endpoint = spec.token_endpoint(clock=now, session_factory=session_factory)
    manager = functools.partial(
        TokenManager,
        endpoint,
        scope=spec.scopes,
        leeway=spec.api.renew_ahead if leeway is None else leeway,
        clock=now,
        store=token_store,
        key=spec.store_key,
    )
    fresh_flow = code_flow is not None and code_flow.token is not None
    if token_store is not None and reuse and spec.refresh_token is None and not fresh_flow:
        reused = _stored(spec, token_store, manager, now)
        if reused is not None:
            return reused

    def flow() -> AuthorizationCodeFlow:
        return code_flow or spec.code_flow(clock=now, session_factory=session_factory)

    token = FIRST_TOKEN[spec.grant](spec, endpoint, flow)
    if token_store is not None:
        token_store.save(spec.store_key, token)
    return manager(token, grant=token.grant)


class LoginKeywords(TypedDict, total=False):
    """The keyword form of a login (``dm.connect("password", client_id=..., ...)``); see
    :class:`LoginSpec` for each value (``scope`` is its ``scopes``)."""

    client_id: str
    client_secret: str | Secret
    username: str | None
    password: str | Secret | None
    scope: str | Iterable[str] | None
    endpoints: Endpoints | None
    dialect: Dialect | str | None
    refresh_token: str | Secret | None


def login_spec(
    grant: str, *, code_flow: AuthorizationCodeFlow | None = None, **login: Unpack[LoginKeywords]
) -> LoginSpec:
    """The :class:`LoginSpec` of the keyword form; the endpoints default to those of
    ``code_flow``, else the real service."""
    unknown = sorted(set(login) - LoginKeywords.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected login keyword(s): {', '.join(unknown)}")
    endpoints = login.get("endpoints")
    if endpoints is None:
        endpoints = code_flow.endpoints if code_flow is not None else Endpoints.dailymotion()
    return LoginSpec(
        grant,
        login.get("client_id", ""),
        Secret.wrap(login.get("client_secret")) or Secret(""),  # empty: refused as missing
        username=login.get("username"),
        password=Secret.wrap(login.get("password")),
        scopes=normalize_scope(login.get("scope")),
        endpoints=endpoints,
        dialect=login.get("dialect") or "legacy",
        refresh_token=Secret.wrap(login.get("refresh_token")),
    )


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
    """:func:`open_session` with the login given as keywords (see :class:`LoginSpec`).

    Raises:
        InputError: missing or contradictory arguments (e.g. a username with client_credentials).
        LoginRequired: the credentials, code or refresh token were refused.

    Example:
        >>> manager = create_token_manager(                       # doctest: +SKIP
        ...     "password", client_id=key, client_secret=secret, username="me",
        ...     password=getpass(), scope=["manage_videos"], endpoints=sb.endpoints)
    """
    spec = login_spec(
        grant,
        client_id=client_id,
        client_secret=client_secret,
        username=username,
        password=password,
        scope=scope,
        endpoints=endpoints,
        refresh_token=refresh_token,
        code_flow=code_flow,
    )
    del client_secret, password, refresh_token  # only Secret-wrapped values stay in this frame
    return open_session(
        spec,
        token_store=token_store,
        code_flow=code_flow,
        leeway=leeway,
        clock=clock,
        session_factory=session_factory,
    )
