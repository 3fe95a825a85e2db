"""Where dmtools talks to: the API hosts, token endpoints and consent page.

The real service has two hosts: ``api.dailymotion.com`` for public API keys (token at
``/oauth/token``, consent page at ``/oauth/authorize``) and ``partner.api.dailymotion.com``
for private API keys (token at ``/oauth/v1/token``, REST under ``/rest``). API v2 lives at
``api.dailymotion.com/v2`` with its token endpoint at ``oauth2.dailymotion.com/v2/token``.
The sandbox plays every host on one base URL. :meth:`Endpoints.sandbox` points everything at
it in one call.

Example:
    >>> Endpoints.sandbox("http://127.0.0.1:8123").partner_token_url
    'http://127.0.0.1:8123/oauth/v1/token'
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from dmtools.errors import InsecureTransportError

__all__ = ["Endpoints", "is_loopback_url", "require_secure_url"]

DAILYMOTION_API = "https://api.dailymotion.com"
DAILYMOTION_PARTNER = "https://partner.api.dailymotion.com"
DAILYMOTION_OAUTH2 = "https://oauth2.dailymotion.com"
DAILYMOTION_GRAPHQL = "https://graphql.api.dailymotion.com"


@dataclass(frozen=True)
class Endpoints:
    """The URLs of one API deployment (the real service or a sandbox).

    Attributes:
        api_url: base of public REST calls.
        partner_url: base of partner REST calls (private keys), ``.../rest`` on the real host.
        token_url: public token endpoint (password, authorization_code, refresh_token).
        partner_token_url: partner token endpoint (client_credentials).
        authorize_url: consent page of the authorization-code grant.
        logout_url: session revocation.
        graphql_url: the Reporting API's GraphQL endpoint for private keys (their token
            comes from ``partner_token_url``).
        public_graphql_url: the Reporting API's GraphQL endpoint for public keys.
        public_graphql_token_url: the token endpoint of public keys on the Reporting API's
            host (password, refresh_token, authorization_code).
        v2_api_url: base of API v2 calls (``.../v2``).
        v2_token_url: API v2 token endpoint (client_credentials, JWT access tokens).
    """

    api_url: str = DAILYMOTION_API
    partner_url: str = DAILYMOTION_PARTNER + "/rest"
    token_url: str = DAILYMOTION_API + "/oauth/token"
    partner_token_url: str = DAILYMOTION_PARTNER + "/oauth/v1/token"
    authorize_url: str = DAILYMOTION_API + "/oauth/authorize"
    logout_url: str = DAILYMOTION_API + "/logout"
    graphql_url: str = DAILYMOTION_PARTNER + "/graphql"
    public_graphql_url: str = DAILYMOTION_GRAPHQL + "/"
    public_graphql_token_url: str = DAILYMOTION_GRAPHQL + "/oauth/token"
    v2_api_url: str = DAILYMOTION_API + "/v2"
    v2_token_url: str = DAILYMOTION_OAUTH2 + "/v2/token"

    def __post_init__(self) -> None:
        for url in (
            self.api_url,
            self.partner_url,
            self.token_url,
            self.partner_token_url,
            self.authorize_url,
            self.logout_url,
            self.graphql_url,
            self.public_graphql_url,
            self.public_graphql_token_url,
            self.v2_api_url,
            self.v2_token_url,
        ):
            require_secure_url(url)

    @classmethod
    def dailymotion(cls) -> Endpoints:
        """The real Dailymotion Platform API."""
        return cls()

    @classmethod
    def sandbox(cls, base_url: str) -> Endpoints:
        """Every endpoint on one sandbox base URL (public paths at ``/``, partner at ``/rest``,
        API v2 at ``/v2`` with its token endpoint at ``/oauth2/v2/token``, the Reporting
        API's public host under ``/graphql-api``)."""
        base = base_url.rstrip("/")
        return cls(
            api_url=base,
            partner_url=base + "/rest",
            token_url=base + "/oauth/token",
            partner_token_url=base + "/oauth/v1/token",
            authorize_url=base + "/oauth/authorize",
            logout_url=base + "/logout",
            graphql_url=base + "/graphql",
            public_graphql_url=base + "/graphql-api/",
            public_graphql_token_url=base + "/graphql-api/oauth/token",
            v2_api_url=base + "/v2",
            v2_token_url=base + "/oauth2/v2/token",
        )

    @property
    def host_key(self) -> str:
        """Identifies the deployment (scheme://host:port of the API), for keying stored tokens."""
        parts = urlsplit(self.api_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def is_sandbox(self) -> bool:
        return is_loopback_url(self.api_url)


def is_loopback_url(url: str) -> bool:
    """True for ``http(s)://`` URLs whose host is ``localhost`` or a loopback IP literal.

    Lookalikes such as ``localhost.example.com``, ``127.0.0.1.example.com`` or
    ``http://localhost:80@attacker.test`` are not loopback.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return False
    host = parts.hostname
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def require_secure_url(url: str) -> str:
    """Return ``url`` if it is ``https://`` or a loopback ``http://`` URL; raise otherwise.

    Raises:
        InsecureTransportError: plain http to a non-loopback host, or not an http(s) URL.
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InsecureTransportError(f"not a valid URL: {exc}") from None
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback_url(url):
        return url
    raise InsecureTransportError(
        f"refusing {parts.scheme or 'a'}:// URL for host {parts.hostname or '?'}: "
        "HTTPS is required except for loopback (127.0.0.1, ::1, localhost)"
    )
