"""The legacy OAuth 2.0 token endpoints.

* ``POST /oauth/token`` (public keys): ``password``, ``authorization_code``, ``refresh_token``.
* ``POST /oauth/v1/token`` (private keys): ``client_credentials``; unknown scope names are
  ignored (working Reporting API clients send some), ``invalid_scope`` with the
  ``strict_partner_scopes`` setting. Every call issues a new token and keeps the earlier ones
  of the key valid (clients that fetch a token per call rely on it).
* ``POST /graphql-api/oauth/token``: the same public-key endpoint, on the path where the
  sandbox plays the Reporting API's public host (``graphql.api.dailymotion.com``).

Client credentials travel in the form body (HTTP Basic alone is accepted too, both together
is ``invalid_request``); a stray ``Authorization: Bearer`` header is ignored. Every answer
carries ``Cache-Control: no-store``. The token response has the keys ``access_token``,
``token_type``, ``expires_in``, ``refresh_token`` (null for ``client_credentials``, which has
none), ``scope`` and ``uid``: client code indexes all of them.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api.oauth import OAuthError, answer, authenticate_client, token_form
from dmtools.sandbox.state.store import Store
from dmtools.sandbox.state.tokens import PRIVATE_SCOPES, PUBLIC_SCOPES, Issued, Tokens, parse_scope

PUBLIC_GRANTS = ("password", "authorization_code", "refresh_token")


def token_body(issued: Issued) -> dict[str, Any]:
    """The token response (RFC 6749 §5.1 plus ``uid``)."""
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
        "scope": " ".join(issued.scopes),
        "uid": issued.account_id,
    }


class TokenEndpoint:
    """``/oauth/token`` and ``/oauth/v1/token`` over one store."""

    def __init__(self, store: Store, tokens: Tokens) -> None:
        self.store = store
        self.tokens = tokens

    def token(self, request: Request, partner: bool) -> Response:
        """Answer one token request (errors in the RFC 6749 shape, never raised)."""
        return answer(self.store.settings, lambda: token_body(self._token(request, partner)))

    def _token(self, request: Request, partner: bool) -> Issued:
        form = token_form(request)
        grant = form.get("grant_type", "")
        if not grant:
            raise OAuthError("invalid_request", "Missing grant_type.")
        if grant not in (*PUBLIC_GRANTS, "client_credentials"):
            raise OAuthError("unsupported_grant_type", f"Unsupported grant_type {grant!r}.")
        client = authenticate_client(request, form, self.tokens)
        if partner:
            return self._partner_grant(client, grant, form)
        return self._public_grant(client, grant, form)

    def _partner_grant(self, client: dict[str, Any], grant: str, form: dict[str, str]) -> Issued:
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
        scopes = parse_scope(
            form.get("scope", ""),
            PRIVATE_SCOPES,
            ignore_unknown=not self.store.settings.strict_partner_scopes,
        )
        return self.tokens.issue(client, None, scopes, "client_credentials")

    def _public_grant(self, client: dict[str, Any], grant: str, form: dict[str, str]) -> Issued:
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
