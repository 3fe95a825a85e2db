"""Token requests on the wire.

oauthlib's client objects build every token request body and parse every token response
(``BackendApplicationClient``, ``LegacyApplicationClient``, ``WebApplicationClient``:
``prepare_request_body``, ``prepare_refresh_body``, ``parse_request_body_response``).
dmtools sends the request itself with a plain ``requests.Session``, because
``OAuth2Session.fetch_token``/``refresh_token`` refuse ``http://`` unless
``OAUTHLIB_INSECURE_TRANSPORT`` is set for the whole process (which would switch the HTTPS
check off for every URL) and log request bodies and tokens at DEBUG. Instead every URL goes
through :func:`dmtools.config.require_secure_url`: HTTPS, or plain http for loopback only.

Each request: POST only, client credentials in the form body only (never HTTP Basic as
well, no ``.netrc``), redirects not followed, timeouts always set, nothing secret in the URL.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from dmtools._sealing import sealing
from dmtools.config import Endpoints, is_loopback_url, require_secure_url
from dmtools.dialects.legacy import LEGACY
from dmtools.errors import (
    APIError,
    AuthenticationError,
    DailymotionError,
    LoginRequired,
    RateLimited,
    ServerError,
    TransportError,
    error_from_response,
)
from dmtools.secrets import Secret, redact, redact_data

from .exceptions import ScopeChangedWarning
from .token import Token

__all__ = ["DEFAULT_TIMEOUT", "TokenEndpoint"]

log = logging.getLogger("dmtools.auth")

#: (connect, read) seconds for token requests.
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 30.0)

# A code is single use: its exchange is never repeated.
_REPEATABLE = {"client_credentials", "password", "refresh_token"}

_RIGHT_GRANT = {
    "client_credentials": (
        "client_credentials needs a private API key (partner endpoint); this looks like a "
        "public API key: use grant 'password' or 'authorization_code' with it"
    ),
    "other": (
        "{grant} needs a public API key; this looks like a private API key: use grant "
        "'client_credentials' with it (partner endpoint)"
    ),
}


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Session auth that adds nothing (and keeps requests from reading ``.netrc``)."""
    return request


def _was_sent(exc: requests.RequestException) -> bool:
    """False when the request certainly never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    seen: Any = exc
    for _ in range(6):
        if isinstance(seen, (NewConnectionError, ConnectTimeoutError)):
            return False
        nested = getattr(seen, "reason", None)
        if nested is None and getattr(seen, "args", None):
            nested = seen.args[0]
        if nested is None or nested is seen or isinstance(nested, str):
            break
        seen = nested
    return True


class TokenEndpoint:
    """One API key talking to its token endpoint.

    Args:
        client_id: the API key.
        client_secret: the API secret.
        endpoints: the deployment; ``partner`` selects ``partner_token_url``.
        partner: True for a private key (``client_credentials``).
        url: the token URL, when the API dialect names another one (see
            :attr:`dmtools.auth.credentials.LoginSpec.token_url`).
        clock: returns POSIX seconds; ``expires_at`` is measured with it.
        session_factory: makes the ``requests.Session`` to send with.
        timeout: (connect, read) seconds.
        sleep: waits before the one retry of a repeatable grant (tests pass a no-op).

    Example:
        >>> endpoint = TokenEndpoint(client_id=key, client_secret=Secret(secret),  # doctest: +SKIP
        ...                          endpoints=sb.endpoints, partner=True)
        >>> endpoint.request("client_credentials", scope=["read_videos"])      # doctest: +SKIP
        Token(access_token=Secret('********'), refresh_token=None, ...)
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: Secret,
        endpoints: Endpoints,
        partner: bool,
        clock: Callable[[], float] = time.time,
        session_factory: Callable[[], requests.Session] | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        url: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.endpoints = endpoints
        self.partner = partner
        self.url = require_secure_url(
            url or (endpoints.partner_token_url if partner else endpoints.token_url)
        )
        self._secret = client_secret
        self._clock = clock
        self._timeout = timeout
        self._sleep = sleep
        session = session_factory() if session_factory else requests.Session()
        session.auth = _no_auth
        if is_loopback_url(self.url):
            session.trust_env = False  # no proxy between us and a loopback server
        self._session = session

    def __repr__(self) -> str:
        return f"TokenEndpoint(client_id={self.client_id!r}, url={self.url!r})"

    def close(self) -> None:
        self._session.close()

    @sealing()
    def request(
        self,
        grant: str,
        *,
        scope: Sequence[str] = (),
        expected_scope: Sequence[str] | None = None,
        username: str | None = None,
        password: Secret | None = None,
        code: Secret | None = None,
        redirect_uri: str | None = None,
        code_verifier: Secret | None = None,
        refresh_token: Secret | None = None,
        session_grant: str | None = None,
    ) -> Token:
        """Send one token request and return the granted :class:`Token`.

        ``scope`` is what the request asks for; ``expected_scope`` (default: ``scope``) is
        what the response is compared with to warn about a changed scope. ``session_grant``
        names the grant of the session a refresh belongs to (kept in the new token).

        Raises:
            LoginRequired: ``invalid_grant`` (bad credentials, used code, revoked refresh token).
            AuthenticationError: any other token-endpoint error, with a hint for a wrong key type.
            ServerError, RateLimited, TransportError: the endpoint is unwell or unreachable.
        """
        kind = self._oauth_client(grant)
        attempts = 2 if grant in _REPEATABLE else 1
        for attempt in range(1, attempts + 1):
            started = self._clock()
            try:
                response = self._post(
                    self._body(
                        kind,
                        grant,
                        scope,
                        username,
                        password,
                        code,
                        redirect_uri,
                        code_verifier,
                        refresh_token,
                    )
                )
                self._raise_for_error(grant, response)
            except (TransportError, RateLimited, ServerError) as exc:
                if attempt == attempts or not self._wait_to_retry(grant, exc):
                    raise
                continue
            return self._parse(
                kind,
                response,
                started,
                scope if expected_scope is None else expected_scope,
                session_grant or grant,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_to_retry(self, grant: str, exc: DailymotionError) -> bool:
        """Wait before the one retry of a token request the endpoint could not serve; False:
        not worth retrying (an error other than 503, or a Retry-After over 10 s)."""
        retry_after = getattr(exc, "retry_after", None)
        unavailable = not isinstance(exc, ServerError) or exc.status == 503
        if not unavailable or (retry_after or 0.0) > 10.0:
            return False
        log.info("token request (%s) failed (%s); retrying once", grant, type(exc).__name__)
        self._sleep(min(retry_after if retry_after is not None else 0.5, 10.0))
        return True

    @staticmethod
    def _oauth_client(grant: str) -> Any:
        """The oauthlib client class that speaks ``grant``."""
        from oauthlib.oauth2 import (
            BackendApplicationClient,
            LegacyApplicationClient,
            WebApplicationClient,
        )

        kinds = {
            "client_credentials": BackendApplicationClient,
            "password": LegacyApplicationClient,
            "authorization_code": WebApplicationClient,
            "refresh_token": WebApplicationClient,
        }
        return kinds[grant]

    def _body(
        self,
        kind: Any,
        grant: str,
        scope: Sequence[str],
        username: str | None,
        password: Secret | None,
        code: Secret | None,
        redirect_uri: str | None,
        code_verifier: Secret | None,
        refresh_token: Secret | None,
    ) -> Secret:
        """The form body, built by oauthlib, wrapped so no frame holds it in clear."""
        client = kind(self.client_id)
        scopes = list(scope) or None
        if grant == "client_credentials":
            body = client.prepare_request_body(
                scope=scopes, include_client_id=True, client_secret=self._secret.reveal()
            )
        elif grant == "password":
            if not username or password is None:
                raise AuthenticationError("the password grant needs a username and a password")
            body = client.prepare_request_body(
                username=username,
                password=password.reveal(),
                scope=scopes,
                include_client_id=True,
                client_secret=self._secret.reveal(),
            )
        elif grant == "authorization_code":
            if code is None or not redirect_uri:
                raise AuthenticationError("a code exchange needs the code and the redirect_uri")
            body = client.prepare_request_body(
                code=code.reveal(),
                redirect_uri=redirect_uri,
                code_verifier=code_verifier.reveal() if code_verifier else None,
                scope=scopes,
                include_client_id=True,
                client_secret=self._secret.reveal(),
            )
        else:
            if refresh_token is None:
                raise AuthenticationError("no refresh token to refresh the session with")
            body = client.prepare_refresh_body(
                refresh_token=refresh_token.reveal(),
                scope=scopes,
                client_id=self.client_id,
                client_secret=self._secret.reveal(),
            )
        return Secret(body)

    def _post(self, body: Secret) -> requests.Response:
        path = urlsplit(self.url).path
        try:
            return self._session.post(
                self.url,
                data=body.reveal(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise TransportError(
                f"token request to {path} failed: {type(exc).__name__}",
                method="POST",
                path=path,
                sent=_was_sent(exc),
            ) from None

    def _raise_for_error(self, grant: str, response: requests.Response) -> None:
        path = urlsplit(self.url).path
        if 300 <= response.status_code < 400:
            raise AuthenticationError(
                "the token endpoint answered with a redirect; dmtools does not follow "
                "redirects with credentials",
                status=response.status_code,
                method="POST",
                path=path,
            )
        error = error_from_response(response, read_body=LEGACY.read_error)
        if error is None:
            return
        error.method, error.path = "POST", path
        error.message = redact(self._explain(grant, error))
        error.error_data = redact_data(error.error_data)  # a server may echo the request there
        error.args = (error._text(),)
        raise error

    def _explain(self, grant: str, error: APIError) -> str:
        message = error.message
        if error.type == "unauthorized_client":
            hint = _RIGHT_GRANT["client_credentials" if grant == "client_credentials" else "other"]
            return f"{message} ({hint.format(grant=grant)})"
        if error.type == "invalid_client":
            kind = "private" if self.partner else "public"
            return (
                f"{message} (the API key or secret was not accepted at the {kind}-key token "
                "endpoint; check both, and that the grant matches the key type)"
            )
        if isinstance(error, LoginRequired):
            what = {
                "password": "check the username and password",
                "authorization_code": "the code is used or expired: start the login again",
                "refresh_token": "the session has ended: log in again",
                "client_credentials": "check the API key and secret",
            }[grant]
            return f"{message} ({what})"
        return message

    def _parse(
        self,
        kind: Any,
        response: requests.Response,
        started: float,
        expected: Sequence[str],
        grant: str,
    ) -> Token:
        from oauthlib.oauth2 import OAuth2Error

        client = kind(self.client_id)
        status, path = response.status_code, urlsplit(self.url).path
        try:
            try:
                parsed = client.parse_request_body_response(
                    response.text, scope=list(expected) or None
                )
            except Warning as changed:  # oauthlib reports a changed scope by raising a Warning
                parsed = getattr(changed, "token", None)
                if parsed is None:
                    raise
                message = (
                    f"the token endpoint granted scope {' '.join(parsed.scopes)!r} "
                    f"instead of {' '.join(expected)!r}"
                )
                log.warning(message)
                warnings.warn(message, ScopeChangedWarning, stacklevel=4)
        except (OAuth2Error, ValueError, TypeError) as exc:
            raise AuthenticationError(
                f"the token endpoint answered without a usable token ({type(exc).__name__})",
                status=status,
                method="POST",
                path=path,
            ) from None
        except DailymotionError:
            raise
        return _token_from(parsed, started, expected, grant)


def _token_from(parsed: Any, started: float, expected: Sequence[str], grant: str) -> Token:
    expires_in = parsed.get("expires_in")
    scope = parsed.get("scope")
    uid = parsed.get("uid")
    refresh = parsed.get("refresh_token")
    return Token(
        access_token=Secret(str(parsed["access_token"])),
        refresh_token=Secret(str(refresh)) if refresh else None,
        expires_at=started + float(expires_in) if expires_in is not None else None,
        scope=tuple(s for s in scope if s) if scope else tuple(expected),  # "" -> ()
        uid=str(uid) if uid not in (None, "") else None,
        token_type=str(parsed.get("token_type") or "Bearer"),
        grant=grant,
    )
