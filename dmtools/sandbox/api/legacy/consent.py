"""The legacy consent page: ``/oauth/authorize`` (authorization code grant, public keys).

``GET /oauth/authorize`` shows a login + consent form; ``POST /oauth/authorize`` redirects to
the registered ``redirect_uri`` with ``code`` and ``state`` (or ``error=access_denied``). The
redirect URI must match exactly, except for the port of a loopback URI (RFC 8252 §7.3); PKCE
(S256) is checked when a ``code_challenge`` is sent, and can be required.
"""

from __future__ import annotations

import secrets
import threading
import time
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.oauth import NO_STORE
from dmtools.sandbox.api.wire import flatten
from dmtools.sandbox.state.errors import GrantError
from dmtools.sandbox.state.store import Store
from dmtools.sandbox.state.tokens import PUBLIC_SCOPES, Tokens, parse_scope

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


class ConsentPage:
    """The consent page over one :class:`~dmtools.sandbox.state.Store`."""

    def __init__(self, store: Store, tokens: Tokens) -> None:
        self.store = store
        self.tokens = tokens
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def authorize(self, request: Request) -> Response:
        """The consent page (GET) or the user's answer to it (POST)."""
        if request.method not in ("GET", "POST"):
            raise ApiError(
                405, "method_not_allowed", "Use GET or POST.", headers={"Allow": "GET, POST"}
            )
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
        except GrantError as exc:
            return back(error=exc.error, error_description=exc.description)
        challenge = params.get("code_challenge") or None
        problem = self._pkce_problem(challenge, params.get("code_challenge_method", "plain"))
        if problem:
            return back(error="invalid_request", error_description=problem)
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

    def _pkce_problem(self, challenge: str | None, method: str) -> str | None:
        if challenge and method != "S256":
            return "Only code_challenge_method=S256 is supported."
        if challenge is None and self.store.settings.pkce_required:
            return "PKCE is required: send code_challenge (S256)."
        return None

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


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Dailymotion sandbox</title>
<meta name="referrer" content="no-referrer">
<style>body{{font-family:sans-serif;max-width:28em;margin:3em auto}}label{{display:block;
margin:.5em 0}}input{{width:100%}}button{{margin-top:1em;padding:.4em 1.2em}}
.error{{color:#b00020}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""
