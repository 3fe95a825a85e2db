"""The demo API keys and users of a sandbox, as its ``--json`` line and admin API give them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dmtools.config import Endpoints


@dataclass(frozen=True)
class PublicKey:
    """A public API key (password / authorization_code / refresh_token grants)."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str


@dataclass(frozen=True)
class PrivateKey:
    """A private API key, limited to ``channels``: client_credentials on the partner host
    (legacy API) and on the API v2 token endpoint, where its channels are its profiles."""

    client_id: str
    client_secret: str = field(repr=False)
    channels: tuple[str, ...]

    @property
    def profiles(self) -> tuple[str, ...]:
        """The API v2 profile ids the key reaches (its channels; the first is JWT ``sub``)."""
        return self.channels

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PrivateKey:
        return cls(data["client_id"], data["client_secret"], tuple(data["channels"]))

    def to_json(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "channels": list(self.channels),
            "profiles": list(self.profiles),
        }


@dataclass(frozen=True)
class DemoUser:
    """The demo user, who owns the big channel."""

    id: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class ReportingUrls:
    """Where a Reporting API client points, on one sandbox (it plays both hosts).

    Attributes:
        token_url: private keys' token endpoint (``client_credentials`` with report scopes;
            ``https://partner.api.dailymotion.com/oauth/v1/token``).
        graphql_url: private keys' GraphQL endpoint (``.../graphql`` on the partner host).
        public_token_url: public keys' token endpoint on the GraphQL host
            (``https://graphql.api.dailymotion.com/oauth/token``).
        public_graphql_url: public keys' GraphQL endpoint, the GraphQL host's root
            (``https://graphql.api.dailymotion.com/``).
        files_url: the prefix of report download links.

    Example:
        >>> ReportingUrls.of("http://127.0.0.1:8123").public_graphql_url
        'http://127.0.0.1:8123/graphql-api/'
    """

    token_url: str
    graphql_url: str
    public_token_url: str
    public_graphql_url: str
    files_url: str

    @classmethod
    def of(cls, base_url: str) -> ReportingUrls:
        base = base_url.rstrip("/")
        return cls(
            token_url=base + "/oauth/v1/token",
            graphql_url=base + "/graphql",
            public_token_url=base + "/graphql-api/oauth/token",
            public_graphql_url=base + "/graphql-api/",
            files_url=base + "/reports/files/",
        )


@dataclass(frozen=True)
class Credentials:
    """The demo keys and user of a sandbox (deterministic for a seed).

    Example:
        >>> with Sandbox(videos=50) as sb:
        ...     sb.credentials.user.username
        'demo'
    """

    url: str
    public_key: PublicKey
    private_key: PrivateKey
    user: DemoUser
    other_public_keys: tuple[PublicKey, ...] = ()
    users: Mapping[str, str] = field(default_factory=dict, repr=False)  # username -> password
    #: More private keys (the read-only one: API v2 permissions ``bundle.public account.read``).
    other_private_keys: tuple[PrivateKey, ...] = ()

    @property
    def endpoints(self) -> Endpoints:
        """Every URL of the sandbox (legacy hosts, API v2 base and token endpoint)."""
        return Endpoints.sandbox(self.url)

    @classmethod
    def from_json(cls, url: str, data: Mapping[str, Any]) -> Credentials:
        pub, priv, user = data["public_key"], data["private_key"], data["user"]
        return cls(
            url=url,
            public_key=PublicKey(pub["client_id"], pub["client_secret"], pub["redirect_uri"]),
            private_key=PrivateKey.from_json(priv),
            user=DemoUser(user["id"], user["username"], user["password"]),
            other_public_keys=tuple(
                PublicKey(k["client_id"], k["client_secret"], k["redirect_uri"])
                for k in data.get("other_public_keys", ())
            ),
            users={u["username"]: u["password"] for u in data.get("users", ())},
            other_private_keys=tuple(
                PrivateKey.from_json(k) for k in data.get("other_private_keys", ())
            ),
        )

    @property
    def reporting(self) -> ReportingUrls:
        """The Reporting API's URLs on this sandbox."""
        return ReportingUrls.of(self.url)

    def to_json(self) -> dict[str, Any]:
        """``{"url", "public_key", "private_key", "user"}`` (secrets included: handle with care).

        The private key lists its ``channels`` and, under their API v2 name, its ``profiles``;
        API v2 is at ``url + "/v2"``, its token endpoint at ``url + "/oauth2/v2/token"``
        (:attr:`endpoints`).
        """
        return {
            "url": self.url,
            "public_key": {
                "client_id": self.public_key.client_id,
                "client_secret": self.public_key.client_secret,
                "redirect_uri": self.public_key.redirect_uri,
            },
            "private_key": self.private_key.to_json(),
            "user": {
                "id": self.user.id,
                "username": self.user.username,
                "password": self.user.password,
            },
        }
