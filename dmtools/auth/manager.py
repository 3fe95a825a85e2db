"""Keeping a valid access token for one session: :class:`TokenManager`.

The manager renews the access token shortly before it expires (``leeway`` seconds, 60 by
default), and after the API answered 401 ``invalid_token``. Renewal is single-flight: when
many threads find the token stale at once, exactly one token request is sent and the others
wait for its result. ``client_credentials`` sessions fetch a new token (they have no refresh
token); the others use the refresh token, keeping the newest one. A refused refresh token
(``invalid_grant``) ends the session: the tokens are forgotten (also in the token store) and
:class:`~dmtools.errors.LoginRequired` asks for a new login.

A manager without a token endpoint (:meth:`TokenManager.saved`: a session saved by
``dmtools login``, used without the client secret) cannot renew: its token is used until it
expires or the API refuses it, then :class:`~dmtools.errors.SessionExpired` says how to log in
again; the token stays in its store, for a later use with the secret.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from dmtools.config import Endpoints
from dmtools.errors import InputError, LoginRequired
from dmtools.secrets import Secret

from .endpoint import TokenEndpoint
from .exceptions import SessionExpired
from .store import TokenStore
from .token import Token

__all__ = ["TokenManager"]

log = logging.getLogger("dmtools.auth")

_EXPIRED = "the access token expired and this session cannot renew it; log in again"


class TokenManager:
    """A thread-safe source of valid access tokens for one session.

    Usually made by :func:`dmtools.auth.open_session` (or ``dm.connect``).

    Args:
        endpoint: the token endpoint of the API key; None for a session that cannot renew
            (see :meth:`saved`).
        token: the session's current token.
        grant: the grant the session was opened with.
        scope: the scopes asked for (``client_credentials`` asks for them again).
        leeway: renew when ``now >= expires_at - leeway``.
        clock: returns POSIX seconds (inject a fake one in tests).
        store: where renewed tokens are saved before they are used; ``key`` is their key.
        client_id, endpoints, partner: who the session is, for a manager without endpoint.
        expired: the message of the SessionExpired a manager without endpoint raises.

    Example:
        >>> manager = open_session(LoginSpec("client_credentials", key, secret,  # doctest: +SKIP
        ...                                  endpoints=sb.endpoints))
        >>> headers = {"Authorization": f"Bearer {manager.access_token()}"}  # doctest: +SKIP
    """

    def __init__(
        self,
        endpoint: TokenEndpoint | None,
        token: Token,
        *,
        grant: str,
        scope: Sequence[str] = (),
        leeway: float = 60.0,
        clock: Callable[[], float] | None = None,
        store: TokenStore | None = None,
        key: str | None = None,
        client_id: str | None = None,
        endpoints: Endpoints | None = None,
        partner: bool | None = None,
        expired: str = _EXPIRED,
    ) -> None:
        if endpoint is None and (client_id is None or endpoints is None):
            raise InputError("a token manager without endpoint needs client_id and endpoints")
        self._endpoint = endpoint
        self._client_id = endpoint.client_id if endpoint is not None else str(client_id)
        self._endpoints = endpoint.endpoints if endpoint is not None else endpoints
        self._partner = endpoint.partner if endpoint is not None else bool(partner)
        self._expired = expired
        self._token: Token | None = token
        self._grant = grant
        self._scope = tuple(scope)
        self._leeway = float(leeway)
        self._clock = clock or time.time
        self._store = store
        self._key = key
        self._lock = threading.Lock()

    @classmethod
    def saved(
        cls,
        token: Token,
        *,
        client_id: str,
        endpoints: Endpoints,
        partner: bool,
        store: TokenStore | None = None,
        key: str | None = None,
        expired: str = _EXPIRED,
        leeway: float = 5.0,
    ) -> TokenManager:
        """A session that cannot renew (no client secret): ``token`` is used until it
        expires (``leeway`` seconds before) or the API refuses it, then SessionExpired says
        ``expired``; the stored token is kept for a later use with the secret.

        Example:
            >>> manager = TokenManager.saved(token, client_id="key",          # doctest: +SKIP
            ...                              endpoints=sb.endpoints, partner=False)
        """
        return cls(
            None,
            token,
            grant=token.grant,
            scope=token.scope,
            leeway=leeway,
            store=store,
            key=key,
            client_id=client_id,
            endpoints=endpoints,
            partner=partner,
            expired=expired,
        )

    # -- what the client reads ------------------------------------------------------------

    @property
    def grant(self) -> str:
        """The grant the session was opened with."""
        return self._grant

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def endpoints(self) -> Endpoints:
        assert self._endpoints is not None
        return self._endpoints

    @property
    def is_partner(self) -> bool:
        """True for a private API key (partner host, ``client_credentials``)."""
        return self._partner

    @property
    def renewable(self) -> bool:
        """False for a session that cannot get a new token by itself (:meth:`saved`)."""
        return self._endpoint is not None

    @property
    def token(self) -> Token | None:
        """The current token (secrets masked), or None once the session ended."""
        return self._token

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes granted to the current token."""
        token = self._token
        return token.scope if token is not None else ()

    @property
    def expires_at(self) -> float | None:
        token = self._token
        return token.expires_at if token is not None else None

    @property
    def uid(self) -> str | None:
        """The user id the token acts for, when the server said so."""
        token = self._token
        return token.uid if token is not None else None

    @property
    def leeway(self) -> float:
        return self._leeway

    def __repr__(self) -> str:
        token = self._token
        state = "no token" if token is None else f"expires_at={token.expires_at!r}"
        if self._endpoint is None:
            state += ", not renewable"
        return (
            f"TokenManager(grant={self._grant!r}, client_id={self.client_id!r}, "
            f"host={self.endpoints.host_key!r}, scopes={self.scopes!r}, {state})"
        )

    # -- what the client calls ------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token, renewed first if it expires within the leeway.

        Raises:
            LoginRequired: the session has ended; log in again.
            AuthenticationError, ServerError, TransportError: the renewal failed.
        """
        token = self._token
        if token is not None and not token.expires_within(self._leeway, now=self._clock()):
            return token.access_token.reveal()
        with self._lock:
            token = self._current()
            if token.expires_within(self._leeway, now=self._clock()):
                token = self._renew("expiry")
            return token.access_token.reveal()

    def handle_unauthorized(self, used_token: str) -> str:
        """The token to replay a request with, after the API refused ``used_token`` (401).

        Renews once, unless another thread already replaced ``used_token``, in which case
        the newer token is returned without a token request.

        Raises:
            LoginRequired: the refresh token was refused, or there is none.
        """
        used = Secret(used_token)
        del used_token  # keep the plain value out of this frame's locals
        with self._lock:
            token = self._current()
            if token.access_token == used or token.expires_within(self._leeway, now=self._clock()):
                token = self._renew("401")
            return token.access_token.reveal()

    def refresh(self) -> None:
        """Renew the access token now (re-fetch for ``client_credentials``)."""
        with self._lock:
            self._current()
            self._renew("request")

    def clear(self) -> None:
        """End the session here: forget the tokens, in memory and in the token store."""
        with self._lock:
            self._forget()

    def close(self) -> None:
        """Release the connection pool of the token endpoint."""
        if self._endpoint is not None:
            self._endpoint.close()

    # -- inside the lock ------------------------------------------------------------------

    def _current(self) -> Token:
        token = self._token
        if token is None:
            raise SessionExpired(
                "not logged in: the session has ended; log in again", type="login_required"
            )
        return token

    def _renew(self, reason: str) -> Token:
        old = self._current()
        if self._endpoint is None:
            raise SessionExpired(self._expired, type="login_required")
        log.debug("renewing the access token (%s, grant %s)", reason, self._grant)
        try:
            if self._grant == "client_credentials":
                new = self._endpoint.request("client_credentials", scope=self._scope)
            elif old.refresh_token is None:
                raise SessionExpired(
                    "the access token expired and the server gave no refresh token; log in again",
                    type="login_required",
                )
            else:
                new = self._endpoint.request(
                    "refresh_token",
                    refresh_token=old.refresh_token,
                    expected_scope=old.scope,
                    session_grant=old.grant,
                ).with_refresh_token(old.refresh_token)
        except LoginRequired:
            self._forget()
            raise
        self._save(new)
        self._token = new
        return new

    def _save(self, token: Token) -> None:
        if self._store is None or self._key is None:
            return
        try:
            self._store.save(self._key, token)
        except Exception as exc:  # a full disk must not stop a running job
            log.warning("could not save the renewed token (%s: %s)", type(exc).__name__, exc)

    def _forget(self) -> None:
        self._token = None
        if self._store is None or self._key is None:
            return
        try:
            self._store.delete(self._key)
        except Exception as exc:
            log.warning("could not delete the stored token (%s: %s)", type(exc).__name__, exc)
