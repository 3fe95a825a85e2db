"""The API v2 token endpoint: ``POST /oauth2/v2/token`` (``client_credentials`` only).

The four form fields of the reference are ``grant_type``, ``client_id``, ``client_secret``
and ``scope``; ``scope`` may be left out (the token then carries the key's permissions, as
working clients rely on). The answer is ``{"access_token": <HS256 JWT>, "token_type":
"Bearer", "expires_in", "scope"}`` (no refresh token) with ``Cache-Control: no-store``.
Refusals use the RFC 6749 JSON: 400 ``invalid_request`` (a missing field),
``unsupported_grant_type`` (anything but client_credentials), ``invalid_scope`` (an unknown
scope, or none the key may grant), ``unauthorized_client`` (a public key); 401
``invalid_client`` (wrong credentials). The client may also authenticate with HTTP Basic.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api import wire
from dmtools.sandbox.api.oauth import OAuthError, answer, authenticate_client, token_form
from dmtools.sandbox.state.store import Store
from dmtools.sandbox.state.tokens import Tokens
from dmtools.sandbox.state.v2tokens import V2Tokens


class V2TokenEndpoint:
    """``/oauth2/v2/token`` over one store."""

    def __init__(self, store: Store, tokens: Tokens, v2_tokens: V2Tokens) -> None:
        self.store = store
        self.tokens = tokens
        self.v2_tokens = v2_tokens

    def token(self, request: Request) -> Response:
        """Answer one token request (errors in the RFC 6749 shape, never raised)."""
        return answer(self.store.settings, lambda: self._grant(request))

    def _grant(self, request: Request) -> dict[str, Any]:
        form = token_form(request)
        request.environ[wire.CLIENT_KEY] = form.get("client_id")
        grant = form.get("grant_type", "")
        if not grant:
            raise OAuthError("invalid_request", "Missing grant_type.")
        if grant != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type",
                f"Unsupported grant_type {grant!r}: API v2 takes client_credentials only "
                "(with a private API key).",
            )
        basic = request.headers.get("Authorization", "").strip().lower().startswith("basic ")
        if not basic and not form.get("client_secret"):
            raise OAuthError("invalid_request", "Missing client_secret.")
        client = authenticate_client(request, form, self.tokens)
        if client["kind"] != "private":
            raise OAuthError(
                "unauthorized_client",
                "API v2 takes private API keys (client_credentials); this is a public key.",
            )
        issued = self.v2_tokens.issue(client, form.get("scope"))
        return {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
