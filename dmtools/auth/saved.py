"""A login saved by ``dmtools login``, for every front end: the commands and the notebooks.

``dmtools login`` keeps two things in the configuration directory (``DMTOOLS_CONFIG_DIR``,
else the platform's user config dir, e.g. ``~/.config/dmtools``): the token, in a token
store (the OS keyring when it has a safe backend, else ``tokens.json``, mode 0600), and
``cli.json`` (mode 0600, nothing secret) saying which deployment, API generation, key, grant
and account the token belongs to. Neither the client secret nor the password is ever written. A saved session is
used until its access token expires; with ``DMTOOLS_CLIENT_SECRET`` in the environment it
also renews itself.

Example:
    >>> profile = load_profile()                       # doctest: +SKIP
    >>> client = stored_client(profile, os.environ)    # None when no token is stored
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dmtools.config import Endpoints
from dmtools.errors import InputError
from dmtools.secrets import Secret

if TYPE_CHECKING:
    from dmtools.auth import LoginSpec, Token, TokenManager, TokenStore
    from dmtools.client import Client

__all__ = [
    "EXPIRED",
    "PROFILE_FILE",
    "PROFILE_VERSION",
    "STORES",
    "Profile",
    "StoredSession",
    "config_dir",
    "load_profile",
    "open_store",
    "saved_manager",
    "stored_client",
]

PROFILE_FILE = "cli.json"
PROFILE_VERSION = 1
STORES = ("auto", "file", "keyring")


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``DMTOOLS_CONFIG_DIR``, else the folder of the default token file."""
    env = os.environ if environ is None else environ
    if env.get("DMTOOLS_CONFIG_DIR"):
        return Path(env["DMTOOLS_CONFIG_DIR"]).expanduser().resolve()
    from dmtools.auth.store import default_token_path

    return default_token_path().parent


@dataclass(frozen=True)
class Profile:
    """What a saved login is: where, which key, which grant and account (nothing secret)."""

    client_id: str
    grant: str
    username: str | None
    sandbox_url: str | None
    store: str
    key: str
    scopes: tuple[str, ...] = ()
    api: str = "legacy"

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints.sandbox(self.sandbox_url) if self.sandbox_url else Endpoints.dailymotion()

    @property
    def partner(self) -> bool:
        return self.grant == "client_credentials"

    def spec(self, secret: Secret) -> LoginSpec:
        """The login this profile was saved from, with the client secret given again."""
        from dmtools.auth.credentials import LoginSpec

        return LoginSpec(
            self.grant,
            self.client_id,
            secret,
            username=self.username,
            scopes=self.scopes,
            endpoints=self.endpoints,
            dialect=self.api,
        )

    @classmethod
    def of(cls, spec: LoginSpec, *, store: str, scopes: Sequence[str]) -> Profile:
        """The profile of a fresh login (``scopes``: those granted)."""
        sandbox_url = None if spec.endpoints == Endpoints.dailymotion() else spec.endpoints.api_url
        return cls(
            client_id=spec.client_id,
            grant=spec.grant,
            username=spec.username if spec.grant == "password" else None,
            sandbox_url=sandbox_url,
            store=store,
            key=spec.store_key,
            scopes=tuple(scopes),
            api=spec.api.name,
        )


def load_profile(environ: Mapping[str, str] | None = None) -> Profile | None:
    """The saved login, or None."""
    path = config_dir(environ) / PROFILE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read {path}: {exc}; run `dmtools logout` and log in again"
        ) from None
    if not isinstance(data, dict) or data.get("version") != PROFILE_VERSION:
        raise InputError(f"{path} is not a dmtools login file; run `dmtools logout`")
    return Profile(
        client_id=str(data["client_id"]),
        grant=str(data["grant"]),
        username=data.get("username"),
        sandbox_url=data.get("sandbox_url"),
        store=str(data["store"]),
        key=str(data["key"]),
        scopes=tuple(data.get("scopes") or ()),
        api=str(data.get("api") or "legacy"),
    )


def open_store(kind: str, environ: Mapping[str, str] | None = None) -> tuple[TokenStore, str]:
    """The token store ``kind`` names (``auto``: keyring if safe, else file) and its kind."""
    from dmtools.auth import FileTokenStore, KeyringTokenStore, TokenStoreError

    if kind not in STORES:
        raise InputError(f"unknown token store {kind!r}: use one of {', '.join(STORES)}")
    if kind in ("auto", "keyring"):
        try:
            return KeyringTokenStore(), "keyring"
        except TokenStoreError:
            if kind == "keyring":
                raise
    return FileTokenStore(config_dir(environ) / "tokens.json"), "file"


#: What a saved session that cannot renew says once its token has expired or was refused.
EXPIRED = (
    "the saved session has expired: run `dmtools login` again, or set "
    "DMTOOLS_CLIENT_SECRET so that it renews itself"
)


def saved_manager(profile: Profile, token: Token, store: TokenStore) -> TokenManager:
    """The saved session used without the client secret: a :class:`TokenManager` that
    cannot renew (valid until its access token expires or is refused)."""
    from dmtools.auth.manager import TokenManager

    return TokenManager.saved(
        token,
        client_id=profile.client_id,
        endpoints=profile.endpoints,
        partner=profile.partner,
        store=store,
        key=profile.key,
        expired=EXPIRED,
    )


def StoredSession(profile: Profile, token: Token, store: TokenStore) -> TokenManager:
    """Deprecated alias of :func:`saved_manager` (the saved session is a TokenManager now)."""
    warnings.warn(
        "StoredSession is deprecated: use dmtools.auth.saved.saved_manager (a TokenManager)",
        DeprecationWarning,
        stacklevel=2,
    )
    return saved_manager(profile, token, store)


def stored_client(profile: Profile, env: Mapping[str, str]) -> Client | None:
    """The client of a saved login, renewing itself when ``DMTOOLS_CLIENT_SECRET`` is set;
    None when its token store holds no token."""
    from dmtools.auth.credentials import ENV
    from dmtools.auth.manager import TokenManager
    from dmtools.client import Client

    store, _ = open_store(profile.store, env)
    token = store.load(profile.key)
    if token is None:
        return None
    secret = Secret.wrap(env.get(ENV["client_secret"]) or None)
    if secret is None:
        return Client(saved_manager(profile, token, store), dialect=profile.api)
    spec = profile.spec(secret)
    manager = TokenManager(
        spec.token_endpoint(),
        token,
        grant=token.grant,
        scope=token.scope,
        leeway=spec.api.renew_ahead,
        store=store,
        key=profile.key,
    )
    return Client(manager, dialect=profile.api)
