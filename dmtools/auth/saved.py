"""A login saved by ``dmtools login``, for every front end: the commands and the notebooks.

``dmtools login`` keeps two things in the configuration directory (``DMTOOLS_CONFIG_DIR``,
else the platform's user config dir, e.g. ``~/.config/dmtools``): the token, in a token
store (the OS keyring when it has a safe backend, else ``tokens.json``, mode 0600), and
``cli.json`` (mode 0600, nothing secret) saying which API, key, grant and account the token
belongs to. Neither the client secret nor the password is ever written. A saved session is
used until its access token expires; with ``DMTOOLS_CLIENT_SECRET`` in the environment it
also renews itself.

Example:
    >>> profile = load_profile()                       # doctest: +SKIP
    >>> client = stored_client(profile, os.environ)    # None when no token is stored
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dmtools.config import Endpoints
from dmtools.errors import InputError, LoginRequired

if TYPE_CHECKING:
    from dmtools.auth import Token, TokenStore
    from dmtools.client import Client

__all__ = [
    "PROFILE_FILE",
    "PROFILE_VERSION",
    "STORES",
    "Profile",
    "StoredSession",
    "config_dir",
    "load_profile",
    "open_store",
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

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints.sandbox(self.sandbox_url) if self.sandbox_url else Endpoints.dailymotion()

    @property
    def partner(self) -> bool:
        return self.grant == "client_credentials"


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


class StoredSession:
    """A saved session used without the client secret: valid until its access token expires.

    It satisfies :class:`dmtools.client.TokenManagerLike`; renewing needs the secret, so an
    expired or refused token asks for a new login instead.
    """

    def __init__(self, profile: Profile, token: Token, store: TokenStore) -> None:
        self._profile = profile
        self._token: Token | None = token
        self._store = store

    def _expired(self) -> LoginRequired:
        from dmtools.auth import SessionExpired

        return SessionExpired(
            "the saved session has expired: run `dmtools login` again, or set "
            "DMTOOLS_CLIENT_SECRET so that it renews itself",
            type="login_required",
        )

    def access_token(self) -> str:
        token = self._token
        if token is None or token.expires_within(5.0, now=time.time()):
            raise self._expired()
        return token.access_token.reveal()

    def handle_unauthorized(self, used_token: str) -> str:
        raise self._expired()

    @property
    def scopes(self) -> Sequence[str]:
        return self._token.scope if self._token is not None else ()

    @property
    def expires_at(self) -> float | None:
        return self._token.expires_at if self._token is not None else None

    @property
    def uid(self) -> str | None:
        return self._token.uid if self._token is not None else None

    @property
    def is_partner(self) -> bool:
        return self._profile.partner

    @property
    def endpoints(self) -> Endpoints:
        return self._profile.endpoints

    @property
    def client_id(self) -> str:
        return self._profile.client_id

    @property
    def grant(self) -> str:
        return self._profile.grant

    def clear(self) -> None:
        """Forget the session, here and in the token store."""
        self._token = None
        self._store.delete(self._profile.key)


def stored_client(profile: Profile, env: Mapping[str, str]) -> Client | None:
    from dmtools.auth import TokenEndpoint, TokenManager
    from dmtools.client import Client
    from dmtools.secrets import Secret

    store, _ = open_store(profile.store, env)
    token = store.load(profile.key)
    if token is None:
        return None
    secret = Secret.wrap(env.get("DMTOOLS_CLIENT_SECRET") or None)
    if secret is None:
        return Client(StoredSession(profile, token, store))
    endpoint = TokenEndpoint(
        client_id=profile.client_id,
        client_secret=secret,
        endpoints=profile.endpoints,
        partner=profile.partner,
    )
    manager = TokenManager(
        endpoint, token, grant=token.grant, scope=token.scope, store=store, key=profile.key
    )
    return Client(manager)
