"""The command line's session: the saved login, the token store, and opening a client.

``dmtools login`` keeps two things in the configuration directory (``DMTOOLS_CONFIG_DIR``,
else the platform's user config dir, e.g. ``~/.config/dmtools``):

* the token, in the token store (the OS keyring when it has a safe backend, else
  ``tokens.json``, mode 0600);
* ``cli.json`` (mode 0600, nothing secret): which API, API key, grant and account the
  token belongs to.

Neither the client secret nor the password is ever written. A saved session is used until
its access token expires; with ``DMTOOLS_CLIENT_SECRET`` in the environment it also renews
itself (refresh token, or a new client-credentials token).

Without a saved session, commands log in from the environment each time
(``DMTOOLS_CLIENT_ID``, ``DMTOOLS_CLIENT_SECRET``, ``DMTOOLS_USERNAME``, ``DMTOOLS_PASSWORD``,
``DMTOOLS_GRANT``, ``DMTOOLS_SANDBOX_URL``), keeping the token in memory only.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.config import Endpoints
from dmtools.errors import InputError, LoginRequired

if TYPE_CHECKING:
    from dmtools.auth import Token, TokenStore
    from dmtools.client import Client

PROFILE_FILE = "cli.json"
PROFILE_VERSION = 1
STORES = ("auto", "file", "keyring")
NOT_LOGGED_IN = (
    "not logged in: run `dmtools login`, or set DMTOOLS_CLIENT_ID and "
    "DMTOOLS_CLIENT_SECRET (plus DMTOOLS_USERNAME and DMTOOLS_PASSWORD for the "
    "password grant)"
)


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


def save_profile(profile: Profile, environ: Mapping[str, str] | None = None) -> Path:
    """Write ``cli.json`` (0600, in a 0700 folder) through a temporary file."""
    folder = config_dir(environ)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / PROFILE_FILE
    temporary = folder / f".{PROFILE_FILE}.{os.getpid()}.tmp"
    data = {"version": PROFILE_VERSION, **asdict(profile), "scopes": list(profile.scopes)}
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def remove_profile(environ: Mapping[str, str] | None = None) -> bool:
    """Delete ``cli.json``; True if there was one."""
    path = config_dir(environ) / PROFILE_FILE
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


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


class RecordingStore:
    """Saves through to a store and remembers the key; loads nothing, so a login is fresh."""

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self.key: str | None = None

    def load(self, key: str) -> Token | None:
        return None

    def save(self, key: str, token: Token) -> None:
        self.key = key
        self.store.save(key, token)

    def delete(self, key: str) -> None:
        self.store.delete(key)


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


def open_client(access: str = "edit", environ: Mapping[str, str] | None = None) -> Client:
    """A client for a command: the saved login, else a login from the environment.

    Args:
        access: scopes asked for when logging in from the environment (``read-only``,
            ``edit`` or ``delete``, see :data:`dmtools.notebook.ACCESS_LEVELS`).

    Raises:
        LoginRequired: neither a saved session nor credentials in the environment.
    """
    from dmtools.auth import SessionExpired
    from dmtools.notebook import connect_from_env_or_sandbox, credentials_in_env

    env = os.environ if environ is None else environ
    profile = load_profile(env)
    env_id = env.get("DMTOOLS_CLIENT_ID")
    if profile is not None and (not env_id or env_id == profile.client_id):
        client = stored_client(profile, env)
        if client is not None:
            return client
        if not credentials_in_env(env):
            raise SessionExpired(
                "the saved session has ended (logged out or refused): run `dmtools login` again",
                type="login_required",
            )
    if not credentials_in_env(env):
        raise SessionExpired(NOT_LOGGED_IN, type="login_required")
    if env.get("DMTOOLS_GRANT") == "authorization_code":
        raise SessionExpired(
            "the authorization-code grant needs a browser: run `dmtools login "
            "--grant authorization_code` once, then the commands use the "
            "saved session",
            type="login_required",
        )
    return connect_from_env_or_sandbox(access, environ=env)


def partner_key_in_use(environ: Mapping[str, str] | None = None) -> bool:
    """True when the commands would act with a private key (client credentials), as far as
    can be told without a request: the saved login, else the environment."""
    env = os.environ if environ is None else environ
    try:
        profile = load_profile(env)
    except InputError:
        profile = None
    if profile is not None and env.get("DMTOOLS_CLIENT_ID") in (None, "", profile.client_id):
        return profile.partner
    if not env.get("DMTOOLS_CLIENT_ID"):
        return False
    grant = env.get("DMTOOLS_GRANT") or (
        "password" if env.get("DMTOOLS_USERNAME") else "client_credentials"
    )
    return grant == "client_credentials"


def describe_store(store: Any) -> str:
    """Where a token store keeps tokens, for people."""
    path = getattr(store, "path", None)
    return f"file {path}" if path is not None else "the system keyring"


def env_or(value: str | None, name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``value`` if given, else the environment variable ``name`` (empty means unset)."""
    env = os.environ if environ is None else environ
    return value if value else (env.get(name) or None)


def profile_for(
    *,
    client_id: str,
    grant: str,
    username: str | None,
    endpoints: Endpoints,
    store: str,
    key: str,
    scopes: Sequence[str],
) -> Profile:
    """The profile of a fresh login."""
    sandbox_url = None if endpoints == Endpoints.dailymotion() else endpoints.api_url
    return Profile(
        client_id=client_id,
        grant=grant,
        username=username,
        sandbox_url=sandbox_url,
        store=store,
        key=key,
        scopes=tuple(scopes),
    )


def snapshot_of(client: Client) -> dict[str, Any]:
    """Who the client is, as a dict (for ``whoami`` and ``login``); one ``/me`` request."""
    try:
        me: dict[str, Any] = client.me(["id", "username", "screenname"])
    except InputError:  # pragma: no cover - fields are constants
        me = {}
    expires = client.token_expires_at
    return {
        "id": me.get("id") or client.account_id,
        "username": me.get("username"),
        "screenname": me.get("screenname"),
        "api": client.base_url,
        "sandbox": client.endpoints.is_sandbox,
        "key": "private" if client.is_partner else "public",
        "scopes": list(client.scopes),
        "expires_at": expires.isoformat(timespec="seconds") if expires is not None else None,
    }
