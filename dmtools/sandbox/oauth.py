"""OAuth 2.0 endpoints of the sandbox: the two token endpoints and the consent page.

* ``POST /oauth/token`` (public keys): ``password``, ``authorization_code``, ``refresh_token``.
* ``POST /oauth/v1/token`` (private keys): ``client_credentials``.
* ``GET /oauth/authorize`` shows a login + consent form; ``POST /oauth/authorize`` redirects
  to the registered ``redirect_uri`` with ``code`` and ``state`` (or ``error=access_denied``).

Client credentials travel in the form body (HTTP Basic alone is accepted too, both together
is ``invalid_request``); a stray ``Authorization: Bearer`` header is ignored. Every answer
carries ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from html import escape
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.apierrors import ApiError, OAuthError
from dmtools.sandbox.calls import flatten, json_response, read_json
from dmtools.sandbox.store import Store
from dmtools.sandbox.tokens import PRIVATE_SCOPES, PUBLIC_SCOPES, Tokens, parse_scope

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PUBLIC_GRANTS = ("password", "authorization_code", "refresh_token")
PAGE_HEADERS = {
    **NO_STORE,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
}
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def redirect_matches(registered: str | None, given: str) -> bool:
    """Exact match, except that a loopback redirect URI may use any port (RFC 8252 §7.3)."""
    if not registered or not given:
        return False
    if given == registered:
        return True
    try:
        reg, got = urlsplit(registered), urlsplit(given)
        port_ok = got.port is None or got.port > 0  # .port raises ValueError when malformed
    except ValueError:
        return False
    if (
        not port_ok
        or reg.hostname not in _LOOPBACK_HOSTS
        or got.fragment
        or got.username
        or got.password
    ):
        return False
    return (reg.scheme, reg.hostname, reg.path, reg.query) == (
        got.scheme,
        got.hostname,
        got.path,
        got.query,
    )


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


class OAuthEndpoints:
    """Token endpoints and consent page over one :class:`Store`."""

    def __init__(self, store: Store, tokens: Tokens) -> None:
        self.store = store
        self.tokens = tokens
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- token endpoints ---------------------------------------------------------------
    def token(self, request: Request, partner: bool) -> Response:
        try:
            if request.method != "POST":
                raise OAuthError("invalid_request", "The token endpoint only accepts POST.")
            body = self._token(request, partner)
        except OAuthError as exc:
            status = 200 if self.store.settings.token_errors_as_200 else exc.status
            return json_response(exc.body(), status, {**NO_STORE, **exc.headers})
        return json_response(body, 200, NO_STORE)

    def _form(self, request: Request) -> dict[str, Any]:
        if request.mimetype == "application/json":
            data = read_json_or_oauth(request)
            return {k: str(v) for k, v in data.items()}
        return {k: (v if isinstance(v, str) else v[0]) for k, v in flatten(request.form).items()}

    def _client(self, request: Request, form: dict[str, Any]) -> dict[str, Any]:
        header = request.headers.get("Authorization", "").strip()
        scheme, _, value = header.partition(" ")
        basic: tuple[str, str] | None = None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_request", "Malformed HTTP Basic credentials.") from None
            user, _, password = decoded.partition(":")
            basic = (unquote(user), unquote(password))
        if basic and form.get("client_secret"):
            raise OAuthError(
                "invalid_request",
                "Send the client credentials either with HTTP Basic or in the form "
                "body (client_id, client_secret), not both.",
            )
        if basic:
            client_id, secret = basic
            if form.get("client_id") and form["client_id"] != client_id:
                raise OAuthError("invalid_request", "client_id differs from the Basic credentials.")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id:
            raise OAuthError("invalid_request", "Missing client_id.")
        client = self.store.client(client_id)
        if client is None or not hmac.compare_digest(client["client_secret"], secret or ""):
            headers = {"WWW-Authenticate": 'Basic realm="sandbox"'} if basic else {}
            raise OAuthError("invalid_client", "Invalid client credentials.", 401, headers)
        return client

    def _token(self, request: Request, partner: bool) -> dict[str, Any]:
        form = self._form(request)
        grant = form.get("grant_type", "")
        if not grant:
            raise OAuthError("invalid_request", "Missing grant_type.")
        if grant not in (*PUBLIC_GRANTS, "client_credentials"):
            raise OAuthError("unsupported_grant_type", f"Unsupported grant_type {grant!r}.")
        client = self._client(request, form)
        if partner:
            if client["kind"] != "private":
                raise OAuthError(
                    "unauthorized_client",
                    "Public API keys cannot use /oauth/v1/token: use grant_type "
                    "password or authorization_code at /oauth/token.",
                )
            if grant != "client_credentials":
                raise OAuthError(
                    "unauthorized_client",
                    f"grant_type {grant} is not available at /oauth/v1/token: "
                    "private API keys use grant_type client_credentials.",
                )
            scopes = parse_scope(form.get("scope", ""), PRIVATE_SCOPES)
            return self.tokens.issue(client, None, scopes, "client_credentials")
        if client["kind"] == "private":
            raise OAuthError(
                "unauthorized_client",
                "Private API keys use grant_type client_credentials at "
                "/oauth/v1/token (the partner host).",
            )
        if grant == "client_credentials":
            raise OAuthError(
                "unauthorized_client",
                "grant_type client_credentials is only available to private API keys "
                "at /oauth/v1/token; public API keys use password or "
                "authorization_code.",
            )
        if grant == "password":
            username, password = form.get("username", ""), form.get("password", "")
            if not username or not password:
                raise OAuthError("invalid_request", "Missing username or password.")
            scopes = parse_scope(form.get("scope", ""), PUBLIC_SCOPES)
            user = self.store.check_password(username, password)
            if user is None:
                raise OAuthError("invalid_grant", "Invalid credentials.")
            return self.tokens.issue(client, user["id"], scopes, "password")
        if grant == "refresh_token":
            if not form.get("refresh_token"):
                raise OAuthError("invalid_request", "Missing refresh_token.")
            return self.tokens.refresh(client, form["refresh_token"], form.get("scope", ""))
        if not form.get("code"):
            raise OAuthError("invalid_request", "Missing code.")
        return self.tokens.exchange_code(
            client, form["code"], form.get("redirect_uri", ""), form.get("code_verifier")
        )

    # -- consent page ------------------------------------------------------------------
    def authorize(self, request: Request) -> Response:
        params = flatten(request.form if request.method == "POST" else request.args)
        params = {k: (v if isinstance(v, str) else v[0]) for k, v in params.items()}
        client = self.store.client(params.get("client_id", ""))
        if client is None or client["kind"] != "public":
            return self._error_page("Unknown client_id: this application is not registered.")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_matches(client["redirect_uri"], redirect_uri):
            return self._error_page(
                "The redirect_uri does not match the Callback URL registered "
                "for this API key; you were not redirected."
            )
        state = params.get("state")

        def back(**values: str) -> Response:
            if state is not None:
                values["state"] = state
            return self._redirect(with_query(redirect_uri, values))

        if params.get("response_type") != "code":
            return back(
                error="unsupported_response_type",
                error_description="Only response_type=code is supported.",
            )
        try:
            scopes = parse_scope(params.get("scope", ""), PUBLIC_SCOPES)
        except OAuthError as exc:
            return back(error=exc.error, error_description=exc.description)
        challenge = params.get("code_challenge") or None
        if challenge and params.get("code_challenge_method", "plain") != "S256":
            return back(
                error="invalid_request",
                error_description="Only code_challenge_method=S256 is supported.",
            )
        if challenge is None and self.store.settings.pkce_required:
            return back(
                error="invalid_request",
                error_description="PKCE is required: send code_challenge (S256).",
            )
        if request.method != "POST":
            return self._page(client, params, scopes)
        if not self._take_nonce(params.get("consent_nonce", "")):
            return self._error_page("This consent form has expired; start the login again.")
        if params.get("action") != "allow":
            return back(error="access_denied", error_description="The user denied access.")
        user = self.store.check_password(params.get("username", ""), params.get("password", ""))
        if user is None:
            return self._page(client, params, scopes, "Invalid username or password.")
        code = self.tokens.create_code(
            client["client_id"], redirect_uri, user["id"], scopes, challenge
        )
        return back(code=code)

    def _take_nonce(self, nonce: str) -> bool:
        now = time.time()
        with self._lock:
            for key in [k for k, until in self._nonces.items() if until < now]:
                del self._nonces[key]
            return self._nonces.pop(nonce, 0.0) >= now

    def _new_nonce(self) -> str:
        nonce = secrets.token_urlsafe(16)
        with self._lock:
            if len(self._nonces) > 10_000:
                self._nonces.clear()
            self._nonces[nonce] = time.time() + self.store.settings.code_lifetime
        return nonce

    @staticmethod
    def _redirect(location: str) -> Response:
        response = Response("", status=302, headers={"Location": location, **PAGE_HEADERS})
        response.autocorrect_location_header = False
        return response

    @staticmethod
    def _error_page(message: str) -> Response:
        html = _PAGE.format(
            title="Authorization error", body=f'<p class="error">{escape(message)}</p>'
        )
        return Response(html, status=400, mimetype="text/html", headers=PAGE_HEADERS)

    def _page(
        self,
        client: dict[str, Any],
        params: dict[str, str],
        scopes: list[str],
        error: str | None = None,
    ) -> Response:
        keep = (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "display",
        )
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{escape(params[k])}">'
            for k in keep
            if k in params
        )
        hidden += f'<input type="hidden" name="consent_nonce" value="{self._new_nonce()}">'
        items = "".join(f"<li>{escape(s)}</li>" for s in scopes) or "<li>public data only</li>"
        body = (
            (f'<p class="error">{escape(error)}</p>' if error else "")
            + f"<p><strong>{escape(client['name'] or client['client_id'])}</strong> asks to "
            f"access your Dailymotion sandbox account with these permissions:</p><ul>{items}</ul>"
            f'<form method="post" action="/oauth/authorize">{hidden}'
            '<label>Username <input name="username" autocomplete="username"></label>'
            '<label>Password <input name="password" type="password" '
            'autocomplete="current-password"></label>'
            '<button name="action" value="allow" type="submit">Allow</button> '
            '<button name="action" value="deny" type="submit">Deny</button></form>'
        )
        html = _PAGE.format(title="Authorize application", body=body)
        return Response(
            html, status=200 if not error else 401, mimetype="text/html", headers=PAGE_HEADERS
        )


def read_json_or_oauth(request: Request) -> dict[str, Any]:
    try:
        data = read_json(request)
    except ApiError:
        raise OAuthError("invalid_request", "Malformed request body.") from None
    if not isinstance(data, dict):
        raise OAuthError("invalid_request", "The request body must be form-encoded parameters.")
    return data


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Dailymotion sandbox</title>
<meta name="referrer" content="no-referrer">
<style>body{{font-family:sans-serif;max-width:28em;margin:3em auto}}label{{display:block;
margin:.5em 0}}input{{width:100%}}button{{margin-top:1em;padding:.4em 1.2em}}
.error{{color:#b00020}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""
