"""Logins as data: :class:`LoginSpec` says everything a login needs, and nothing is sent yet.

Every front end (``dm.connect``'s keywords, the notebooks' environment login, ``dmtools
login``, the login panel and the text login) builds a :class:`LoginSpec` and hands it to
:func:`dmtools.connect` (or :func:`dmtools.auth.open_session`). The rules of the
``DMTOOLS_*`` variables, the grant default and the scope presets live here only.

=========================  ===========================================================
``DMTOOLS_CLIENT_ID``      the API key
``DMTOOLS_CLIENT_SECRET``  its secret
``DMTOOLS_USERNAME``       the account (password grant)
``DMTOOLS_PASSWORD``       its password (password grant)
``DMTOOLS_GRANT``          the grant (default: ``password`` with a username, else
                           ``client_credentials``: :func:`env_grant`)
``DMTOOLS_REDIRECT_URI``   the callback URL registered for a public key (authorization code)
``DMTOOLS_SANDBOX_URL``    talk to a sandbox running there instead of the real API
``DMTOOLS_API``            the API dialect: ``legacy`` (the Platform API, the default) or
                           ``v2`` (API v2: private keys, ``client_credentials`` only)
=========================  ===========================================================

A new API generation is one more :attr:`LoginSpec.dialect`, which gives its token URL, renewal
lead, grants and scope presets (:mod:`dmtools.dialects`); its sessions are stored apart.

Example:
    >>> LoginSpec("client_credentials", "key", Secret("secret"), scopes="read_videos").kind
    'private'
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dmtools.config import Endpoints, require_secure_url
from dmtools.errors import InputError
from dmtools.secrets import Secret

from .store import token_key
from .token import GRANTS, normalize_scope

if TYPE_CHECKING:
    import requests

    from dmtools.dialects import Dialect

    from .codeflow import AuthorizationCodeFlow
    from .endpoint import TokenEndpoint

__all__ = [
    "ACCESS_LEVELS",
    "ENV",
    "GRANT_KIND",
    "LOGIN_GRANTS",
    "Ask",
    "LoginSpec",
    "env_grant",
    "scopes_for",
]

#: Scope presets of the Platform API: access level -> kind of key -> scopes. Public keys read
#: their own private videos only with ``manage_videos``; private keys have a scope per
#: capability. A dialect may bring its own (:attr:`dmtools.dialects.Dialect.access_scopes`).
ACCESS_LEVELS: dict[str, dict[str, tuple[str, ...]]] = {
    "read-only": {"public": (), "private": ("read_videos",)},
    "edit": {"public": ("manage_videos",), "private": ("read_videos", "edit_videos")},
    "delete": {
        "public": ("manage_videos",),
        "private": ("read_videos", "edit_videos", "delete_videos"),
    },
}

#: The kind of API key each grant needs.
GRANT_KIND = {"client_credentials": "private", "password": "public", "authorization_code": "public"}
#: The grants a person logs in with (``refresh_token`` continues a session instead).
LOGIN_GRANTS = tuple(GRANT_KIND)

#: The environment variables a login reads, by what they hold.
ENV = {
    "client_id": "DMTOOLS_CLIENT_ID",
    "client_secret": "DMTOOLS_CLIENT_SECRET",
    "username": "DMTOOLS_USERNAME",
    "password": "DMTOOLS_PASSWORD",
    "grant": "DMTOOLS_GRANT",
    "redirect_uri": "DMTOOLS_REDIRECT_URI",
    "sandbox_url": "DMTOOLS_SANDBOX_URL",
    "dialect": "DMTOOLS_API",
}

#: Asks a person for a missing value: ``ask(prompt, secret)`` returns the answer.
Ask = Callable[[str, bool], str]


def scopes_for(access: str, kind: str, dialect: Dialect | str | None = None) -> tuple[str, ...]:
    """The scopes of an access level (``read-only``, ``edit``, ``delete``) for a key kind.

    Raises:
        InputError: an unknown access level or key kind.

    Example:
        >>> scopes_for("edit", "private")
        ('read_videos', 'edit_videos')
    """
    if access not in ACCESS_LEVELS:
        raise InputError(f"unknown access level {access!r}: use one of {', '.join(ACCESS_LEVELS)}")
    if kind not in ("public", "private"):
        raise InputError(f"unknown key kind {kind!r}: use 'public' or 'private'")
    presets = _dialect(dialect).access_scopes if dialect is not None else None
    return tuple((presets or ACCESS_LEVELS)[access][kind])


def env_grant(environ: Mapping[str, str] | None = None) -> str:
    """``DMTOOLS_GRANT``, else ``password`` with a username, else ``client_credentials``.

    Example:
        >>> env_grant({"DMTOOLS_USERNAME": "demo"})
        'password'
    """
    env = os.environ if environ is None else environ
    return env.get(ENV["grant"]) or (
        "password" if env.get(ENV["username"]) else "client_credentials"
    )


def _dialect(dialect: Dialect | str | None) -> Dialect:
    from dmtools.dialects import get_dialect  # the legacy dialect is imported on first use

    return get_dialect(dialect)


@dataclass(frozen=True)
class LoginSpec:
    """Everything one login needs (checked when made; no request is sent).

    Attributes:
        grant: ``client_credentials`` (private key), ``password`` or ``authorization_code``
            (public key), or ``refresh_token`` (continue a session).
        client_id: the API key.
        client_secret: its secret (a :class:`~dmtools.secrets.Secret`; plain text is wrapped).
        username, password: the account of the password grant (the password is wrapped).
        scopes: scopes to ask for (``"a b"`` or a list is accepted).
        endpoints: the deployment (default: the real service).
        dialect: the API generation, by name (``"legacy"`` or ``"v2"``) or as a Dialect
            (``dm.connect``'s ``api=``).
        redirect_uri: the callback URL registered for a public key (authorization code).
        refresh_token: for the ``refresh_token`` grant.

    Raises:
        InputError: an unknown grant, a missing key or secret, contradictory values (a
            username with ``client_credentials``...), or a grant the dialect's API refuses.
        InsecureTransportError: a callback URL that is neither HTTPS nor loopback.

    Example:
        >>> client = dm.connect(LoginSpec.from_env(access="edit"))          # doctest: +SKIP
    """

    grant: str
    client_id: str
    client_secret: Secret
    username: str | None = None
    password: Secret | None = None
    scopes: tuple[str, ...] = ()
    endpoints: Endpoints = field(default_factory=Endpoints.dailymotion)
    dialect: Dialect | str = "legacy"
    redirect_uri: str | None = None
    refresh_token: Secret | None = None

    def __post_init__(self) -> None:
        for name in ("client_secret", "password", "refresh_token"):
            object.__setattr__(self, name, Secret.wrap(getattr(self, name)))
        object.__setattr__(self, "scopes", normalize_scope(self.scopes))
        self._check()

    def _check(self) -> None:
        grant = self.grant
        if grant not in GRANTS:
            raise InputError(f"unknown grant {grant!r}: use one of {', '.join(GRANTS)}")
        if grant not in self.api.grants:
            raise InputError(
                f"the {self.api.name} API does not accept grant {grant!r}: use one of "
                f"{', '.join(sorted(self.api.grants))}"
            )
        if not self.client_id or not isinstance(self.client_id, str):
            raise InputError("client_id (the API key) is missing")
        if not self.client_secret:
            raise InputError("client_secret (the API secret) is missing")
        if grant == "client_credentials" and (self.username or self.password or self.refresh_token):
            raise InputError(
                "client_credentials authenticates the API key itself (a private key, partner "
                "endpoint) and takes no username, password, code flow or refresh token; for a "
                "user login with a public key use grant 'password' or 'authorization_code'"
            )
        if grant == "password" and not self.username:
            raise InputError("the password grant needs username= (and password=)")
        if self.redirect_uri is not None:
            require_secure_url(self.redirect_uri)  # HTTPS, or http on loopback only

    # -- what the login is -------------------------------------------------------------------

    @property
    def api(self) -> Dialect:
        """The dialect object of :attr:`dialect`."""
        return _dialect(self.dialect)

    @property
    def kind(self) -> str:
        """``private`` (client credentials) or ``public``: the kind of API key."""
        return GRANT_KIND.get(self.grant, "public")

    @property
    def partner(self) -> bool:
        """True for a private API key (client credentials)."""
        return self.grant == "client_credentials"

    @property
    def token_url(self) -> str:
        """Where the tokens of this login come from (the dialect says)."""
        return self.api.token_url(self.endpoints, grant=self.grant)

    @property
    def store_key(self) -> str:
        """This login's key in a token store (deployment, key, account, API generation)."""
        if self.grant == "client_credentials":
            subject = "client_credentials"
        else:
            subject = f"user:{self.username}" if self.username else "user"
        if self.api.name != "legacy":
            subject = f"{subject}@{self.api.name}"
        return token_key(self.endpoints, self.client_id, subject)

    def replace(self, **changes: Any) -> LoginSpec:
        """A copy with some values changed (checked again): ``spec.replace(scopes=[...])``."""
        return dataclasses.replace(self, **changes)

    def for_reporting(self, scopes: Iterable[str]) -> LoginSpec:
        """This key's login on the Reporting API (partner tokens: legacy client credentials
        with the report ``scopes``), whichever API the key logged in to."""
        return self.replace(grant="client_credentials", dialect="legacy", scopes=tuple(scopes))

    # -- what it builds ----------------------------------------------------------------------

    def token_endpoint(
        self,
        *,
        clock: Callable[[], float] | None = None,
        session_factory: Callable[[], requests.Session] | None = None,
    ) -> TokenEndpoint:
        """The token endpoint of this login's key."""
        from .endpoint import TokenEndpoint

        options: dict[str, Any] = {"clock": clock} if clock is not None else {}
        return TokenEndpoint(
            client_id=self.client_id,
            client_secret=self.client_secret,
            endpoints=self.endpoints,
            partner=self.partner,
            url=self.token_url,
            session_factory=session_factory,
            **options,
        )

    def code_flow(
        self,
        *,
        clock: Callable[[], float] | None = None,
        session_factory: Callable[[], requests.Session] | None = None,
    ) -> AuthorizationCodeFlow:
        """The consent-page login of this spec (authorization-code grant only).

        Example:
            >>> flow = spec.code_flow(); token = flow.run_local_server()     # doctest: +SKIP
        """
        from .codeflow import AuthorizationCodeFlow

        if self.grant != "authorization_code":
            raise InputError(
                f"a consent-page login is the authorization_code grant, not {self.grant!r}"
            )
        return AuthorizationCodeFlow(
            self.client_id,
            self.client_secret,
            redirect_uri=self.redirect_uri,
            scope=self.scopes,
            endpoints=self.endpoints,
            clock=clock,
            session_factory=session_factory,
            token_url=self.token_url,
        )

    # -- from the environment ----------------------------------------------------------------

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        access: str = "read-only",
        scope: str | Iterable[str] | None = None,
        ask: Ask | None = None,
        grant: str | None = None,
        client_id: str | None = None,
        username: str | None = None,
        sandbox_url: str | None = None,
        redirect_uri: str | None = None,
        dialect: str | None = None,
    ) -> LoginSpec:
        """The login the ``DMTOOLS_*`` variables describe (see the module notes).

        Args:
            environ: the variables (default ``os.environ``).
            access: ``read-only``, ``edit`` or ``delete``: the scope preset of the key kind.
            scope: exact scopes instead of ``access``.
            ask: asks a person for what is missing (the key, its secret, and the username
                and password of the password grant); without it a missing value is an error.
            grant, client_id, username, sandbox_url, redirect_uri, dialect: values that take
                precedence over their variables (command-line options).

        Raises:
            InputError: incomplete or contradictory values (nothing is sent).

        Example:
            >>> LoginSpec.from_env({"DMTOOLS_CLIENT_ID": "k", "DMTOOLS_CLIENT_SECRET": "s"},
            ...                    access="edit").scopes
            ('read_videos', 'edit_videos')
        """
        env = os.environ if environ is None else environ
        given = dict(grant=grant, client_id=client_id, username=username, dialect=dialect)
        given.update(sandbox_url=sandbox_url, redirect_uri=redirect_uri)
        reader = _EnvReader(env, {k: v for k, v in given.items() if v}, ask)
        return reader.spec(access, scope)


class _EnvReader:
    """Reads one login from the variables, the given values and the person (in that order
    of precedence: given, variable, asked)."""

    def __init__(self, env: Mapping[str, str], given: dict[str, str], ask: Ask | None) -> None:
        self.env, self.given, self.ask = env, given, ask

    def value(self, name: str) -> str | None:
        return self.given.get(name) or self.env.get(ENV[name]) or None

    def needed(self, name: str, prompt: str, *, secret: bool, missing: str) -> str:
        found = self.value(name) if not secret else (self.env.get(ENV[name]) or None)
        if found is None and self.ask is not None:
            found = self.ask(prompt, secret) or None
        if found is None:
            raise InputError(missing)
        return found

    def grant(self) -> str:
        chosen = self.given.get("grant") or env_grant({**self.env, **self._user()})
        if chosen not in LOGIN_GRANTS:
            where = "grant" if "grant" in self.given else ENV["grant"]
            shown = f"unknown grant {chosen!r}" if where == "grant" else f"{where}={chosen!r}"
            raise InputError(f"{shown}: use one of {', '.join(LOGIN_GRANTS)}")
        return chosen

    def _user(self) -> dict[str, str]:
        user = self.value("username")
        return {ENV["username"]: user} if user else {}

    def spec(self, access: str, scope: str | Iterable[str] | None) -> LoginSpec:
        grant = self.grant()
        url = self.value("sandbox_url")
        dialect = self.value("dialect") or "legacy"
        scopes = scope if scope is not None else scopes_for(access, GRANT_KIND[grant], dialect)
        client_id = self.needed(
            "client_id",
            "API key (client id)",
            secret=False,
            missing=f"{ENV['client_id']} is not set",
        )
        secret = Secret(
            self.needed(
                "client_secret",
                "API secret",
                secret=True,
                missing=f"{ENV['client_id']} is set but {ENV['client_secret']} is not",
            )
        )
        user: dict[str, Any] = {}
        if grant == "password":
            missing = f"the password grant needs {ENV['username']} and {ENV['password']}"
            user["username"] = self.needed("username", "Username", secret=False, missing=missing)
            user["password"] = Secret(
                self.needed("password", "Password", secret=True, missing=missing)
            )
        return LoginSpec(
            grant,
            client_id,
            secret,
            scopes=normalize_scope(scopes),
            endpoints=Endpoints.sandbox(url) if url else Endpoints.dailymotion(),
            dialect=dialect,
            redirect_uri=self.value("redirect_uri") if grant == "authorization_code" else None,
            **user,
        )
