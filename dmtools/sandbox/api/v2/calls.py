"""One API v2 call: the request, who it speaks for, and the access rules.

A v2 call authenticates with ``Authorization: Bearer <JWT>`` only. Without the header the
call is anonymous (allowed for public video reads, a setting); a header that is not a valid
v2 token is a 401 ``UNAUTHENTICATED`` whatever the route. Each route needs one scope
(``account.read``, ``profile.read``, ``video.read`` or ``video.manage``) and reaches only the
profiles (channels) of the token's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from dmtools.sandbox.api import wire
from dmtools.sandbox.api.v2.errors import missing_scope, profile_forbidden, unauthenticated
from dmtools.sandbox.state.tokens import Principal
from dmtools.sandbox.state.v2tokens import V2Tokens


def principal_of(request: Request, tokens: V2Tokens) -> Principal | None:
    """Who the request speaks for (None: no ``Authorization`` header).

    Raises:
        ApiError: 401 for a header that is not ``Bearer <token>``.
        TokenRejected: the token is not a valid v2 token.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthenticated("invalid_token")
    principal = tokens.authenticate(value.strip())
    request.environ[wire.CLIENT_KEY] = principal.client_id
    return principal


@dataclass
class Call:
    """One v2 API call."""

    request: Request
    principal: Principal | None

    @property
    def base_url(self) -> str:
        """The API's own scheme and host (links and upload URLs are absolute)."""
        return self.request.host_url.rstrip("/")

    def need(self, scope: str) -> Principal:
        """The principal, which must hold ``scope`` (401 without a token, 403 without it)."""
        if self.principal is None:
            raise unauthenticated("missing_token")
        if scope not in self.principal.scopes:
            raise missing_scope(scope)
        return self.principal

    def need_profile(self, profile_id: str, scope: str) -> Principal:
        """:meth:`need`, and the profile must be one of the key's channels (else 403)."""
        principal = self.need(scope)
        if not principal.owns(profile_id):
            raise profile_forbidden(profile_id, scope)
        return principal

    def owns(self, owner: str) -> bool:
        return self.principal is not None and self.principal.owns(owner)


def no_content(headers: dict[str, Any] | None = None) -> Response:
    """A ``204 No Content`` answer (no body, no content type)."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
