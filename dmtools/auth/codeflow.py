"""The authorization-code grant: consent page, callback, code exchange.

Every login gets a fresh 256-bit ``state`` and a PKCE S256 verifier. The callback is
checked before any token request: a missing, empty, stale (over 10 minutes) or mismatched
``state`` is refused (constant-time comparison), and a state works once. The code is
exchanged exactly once and never retried.

The authorization URL is built by ``requests_oauthlib.OAuth2Session.authorization_url``
and the callback parsed by oauthlib's ``WebApplicationClient``. Both refuse ``http://``
unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set for the whole process, which dmtools never
does: a loopback URL, already checked by :func:`dmtools.config.require_secure_url`, is
handed to them with its scheme spelled ``https`` and given back as ``http`` (the way
google-auth-oauthlib handles its loopback callback).
"""

from __future__ import annotations

import hmac
import logging
import secrets as _random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import requests

from dmtools._sealing import sealing
from dmtools.config import Endpoints, is_loopback_url, require_secure_url
from dmtools.errors import DailymotionError, InputError
from dmtools.secrets import Secret

from .endpoint import TokenEndpoint
from .exceptions import AccessDenied, LoginError, StateMismatch
from .local import LocalLogin
from .loopback import LoopbackListener
from .token import Token, normalize_scope

__all__ = ["AuthorizationCodeFlow", "new_state", "pkce_pair"]

log = logging.getLogger("dmtools.auth")

STATE_TTL = 600.0  # seconds a login may take (RFC 6749 §4.1.2 recommends codes live <= 10 min)


def pkce_pair(verifier: str | None = None) -> tuple[str, str]:
    """A PKCE (verifier, S256 challenge) pair; a fresh 128-character verifier by default.

    Example:
        >>> pkce_pair("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")[1]
        'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    """
    from oauthlib.oauth2 import WebApplicationClient

    client = WebApplicationClient(None)
    if verifier is None:
        verifier = client.create_code_verifier(128)
    return verifier, client.create_code_challenge(verifier, "S256")


def new_state() -> str:
    """A fresh ``state``: 32 random bytes (256 bits), 43 URL-safe characters.

    Example:
        >>> len(new_state())
        43
    """
    return _random.token_urlsafe(32)


def _for_oauthlib(url: str) -> str:
    """A checked URL as oauthlib accepts it: a loopback ``http://`` spelled ``https://``."""
    require_secure_url(url)
    return "https://" + url[len("http://") :] if url.startswith("http://") else url


def _from_oauthlib(url: str, original: str) -> str:
    return "http://" + url[len("https://") :] if original.startswith("http://") else url


@dataclass(frozen=True)
class _Pending:
    state: Secret
    verifier: Secret
    redirect_uri: str
    started: float


def _target(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path


@dataclass(frozen=True)
class _Callback:
    """What an authorization response says, with its secrets wrapped."""

    target: tuple[str, str, str]
    state: Secret | None
    error: str | None
    description: str


def _read_callback(callback: Secret) -> _Callback:
    params = dict(parse_qsl(urlsplit(callback.reveal()).query, keep_blank_values=True))
    state = Secret(params["state"]) if params.get("state") else None
    return _Callback(
        _target(callback.reveal()),
        state,
        params.get("error") or None,
        params.get("error_description", ""),
    )


def _code_from(callback: Secret, state: Secret, client_id: str) -> Secret | None:
    """The code, as oauthlib's ``WebApplicationClient`` parses it (None if absent)."""
    from oauthlib.oauth2 import OAuth2Error, WebApplicationClient

    try:
        return Secret(
            WebApplicationClient(client_id).parse_request_uri_response(
                _for_oauthlib(callback.reveal()), state=state.reveal()
            )["code"]
        )
    except OAuth2Error:
        return None


class AuthorizationCodeFlow:
    """Log a user in with the authorization-code grant (public API key).

    Two ways to get the callback:

    * paste flow: send the user to :meth:`authorization_url`, then pass the URL the browser
      was redirected to to :meth:`complete`;
    * local listener: :meth:`run_local_server` (blocking) or :meth:`start_local_server`
      (non-blocking, for notebook widgets) receive it on ``http://127.0.0.1:PORT/callback``.

    Args:
        client_id: the public API key.
        client_secret: its secret.
        redirect_uri: the callback URL registered for the key (HTTPS, or loopback http).
            The local listener uses it when it is a loopback URL, else its own.
        scope: scopes to ask for.
        endpoints: the deployment (default: the real service).
        clock: POSIX seconds, for the state lifetime and ``expires_at``.
        session_factory: makes the ``requests.Session`` for the code exchange.
        token_url: where the code is exchanged, when the API dialect names another URL than
            ``endpoints.token_url``.

    Example:
        >>> flow = dm.AuthorizationCodeFlow(key, secret, scope=["manage_videos"])  # doctest: +SKIP
        >>> token = flow.run_local_server()                                       # doctest: +SKIP
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str | Secret,
        redirect_uri: str | None = None,
        scope: str | Iterable[str] | None = None,
        endpoints: Endpoints | None = None,
        *,
        clock: Callable[[], float] | None = None,
        session_factory: Callable[[], requests.Session] | None = None,
        state_ttl: float = STATE_TTL,
        token_url: str | None = None,
    ) -> None:
        if not client_id:
            raise InputError("client_id is empty")
        if redirect_uri is not None:
            require_secure_url(redirect_uri)
        self.client_id = client_id
        self.endpoints = endpoints or Endpoints.dailymotion()
        self.redirect_uri = redirect_uri
        self.scope = normalize_scope(scope)
        self.token: Token | None = None
        self._clock = clock or time.time
        self._state_ttl = state_ttl
        self._authorize_url = require_secure_url(self.endpoints.authorize_url)
        self._endpoint = TokenEndpoint(
            client_id=client_id,
            client_secret=Secret(client_secret),
            endpoints=self.endpoints,
            partner=False,
            clock=self._clock,
            session_factory=session_factory,
            url=token_url,
        )
        self._pending: _Pending | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        status = "done" if self.token else ("waiting" if self._pending else "idle")
        return (
            f"AuthorizationCodeFlow(client_id={self.client_id!r}, "
            f"host={self.endpoints.host_key!r}, scope={self.scope!r}, {status})"
        )

    def authorization_url(self, redirect_uri: str | None = None) -> str:
        """The consent-page URL of a new login (replaces any login in progress)."""
        from requests_oauthlib import OAuth2Session

        target = redirect_uri or self.redirect_uri
        if not target:
            raise InputError(
                "a redirect_uri is needed: the callback URL registered for the "
                "API key (or use run_local_server())"
            )
        require_secure_url(target)
        state = new_state()
        verifier, challenge = pkce_pair()
        with OAuth2Session(
            self.client_id, redirect_uri=target, scope=list(self.scope) or None
        ) as session:
            url, _ = session.authorization_url(
                _for_oauthlib(self._authorize_url),
                state=state,
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        with self._lock:
            self._pending = _Pending(Secret(state), Secret(verifier), target, self._clock())
        return _from_oauthlib(url, self._authorize_url)

    def complete(self, redirected_url: str) -> Token:
        """Check the callback URL and exchange its code for a token (once).

        Raises:
            StateMismatch: no login in progress, or the URL lacks its ``state``, or the
                login is older than 10 minutes. No token request is sent.
            AccessDenied: the user refused on the consent page.
            LoginError: the callback carries another error or no code.
            LoginRequired, AuthenticationError: the token endpoint refused the code.
        """
        callback = Secret(redirected_url.strip())
        del redirected_url  # keep the code out of this frame's locals
        with sealing():
            return self._complete(callback)

    def _complete(self, callback: Secret) -> Token:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            raise StateMismatch(
                "no login is in progress (or it was already completed): "
                "call authorization_url() again",
                type="invalid_state",
            )
        code = self._check_callback(callback, pending)
        log.debug("exchanging the authorization code")
        token = self._endpoint.request(
            "authorization_code",
            scope=self.scope,
            code=code,
            redirect_uri=pending.redirect_uri,
            code_verifier=pending.verifier,
        )
        self.token = token
        return token

    def _check_callback(self, callback: Secret, pending: _Pending) -> Secret:
        """The code of a callback URL, after checking state, age, target and error.

        Secret values stay wrapped here, so a traceback with locals shows none of them.
        """
        answer = _read_callback(callback)
        if answer.state is None or not hmac.compare_digest(
            answer.state.reveal().encode(), pending.state.reveal().encode()
        ):
            raise StateMismatch(
                "the login response does not carry the state of this login "
                "(missing or different): refused",
                type="invalid_state",
            )
        if self._clock() - pending.started > self._state_ttl:
            raise StateMismatch(
                f"the login took longer than {self._state_ttl / 60:g} minutes: start again",
                type="invalid_state",
            )
        if answer.target != _target(pending.redirect_uri):
            raise StateMismatch(
                "the login response was not sent to this login's redirect_uri", type="invalid_state"
            )
        if answer.error == "access_denied":
            raise AccessDenied(
                f"access was refused on the consent page ({answer.description or answer.error})",
                type=answer.error,
            )
        if answer.error:
            raise LoginError(
                f"the authorization server answered {answer.error}: {answer.description}",
                type=answer.error,
            )
        code = _code_from(callback, answer.state, self.client_id)
        if code is None:
            raise LoginError(
                "the login response carries no authorization code", type="invalid_request"
            )
        return code

    def start_local_server(
        self,
        *,
        timeout: float = 300.0,
        port: int | None = None,
        callback: Callable[[Token | None, BaseException | None], None] | None = None,
    ) -> LocalLogin:
        """Start a one-shot listener in the background and return at once.

        Show ``login.url`` to the user; ``login.wait()`` returns the token, or ``callback``
        is called with ``(token, None)`` or ``(None, error)`` when the login ends.

        Raises:
            OSError: the port is in use.
        """
        path, wanted = "/callback", 0
        if self.redirect_uri and is_loopback_url(self.redirect_uri):
            registered = urlsplit(self.redirect_uri)
            path, wanted = registered.path or "/", registered.port or 0
        listener = LoopbackListener(port=wanted if port is None else port, path=path)
        try:
            url = self.authorization_url(listener.redirect_uri)
        except BaseException:
            listener.close()
            raise
        return LocalLogin(url, listener, self._on_callback, timeout=timeout, callback=callback)

    def run_local_server(
        self, *, open_browser: bool = True, timeout: float = 300.0, port: int | None = None
    ) -> Token:
        """Open the consent page and wait for the callback on 127.0.0.1 (blocking).

        Raises:
            LoginTimeout: no callback within ``timeout`` seconds.
            OSError: the port is in use.
        """
        login = self.start_local_server(timeout=timeout, port=port)
        if open_browser:
            import webbrowser

            if not webbrowser.open(login.url):
                log.warning("could not open a browser; open the login URL by hand")
        return login.wait(timeout + 5.0)

    def _on_callback(self, url: str) -> tuple[int, Token | None, BaseException | None, str]:
        callback = Secret(url)
        del url  # keep the code out of this frame's locals
        try:
            token = self.complete(callback.reveal())
        except AccessDenied as exc:
            return 403, None, exc, "Access was refused. You can close this tab."
        except DailymotionError as exc:
            return 400, None, exc, f"Login failed: {exc}"
        return 200, token, None, "Logged in. You can close this tab and go back to your notebook."
