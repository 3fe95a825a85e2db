"""The command line's session: saving the login, and opening a client for a command.

What a saved login is, and how it is read back (also by the notebooks), is in
:mod:`dmtools.auth.saved`; this module writes it (``dmtools login``) and removes it
(``dmtools logout``).

Without a saved session, commands log in from the environment each time
(``DMTOOLS_CLIENT_ID``, ``DMTOOLS_CLIENT_SECRET``, ``DMTOOLS_USERNAME``, ``DMTOOLS_PASSWORD``,
``DMTOOLS_GRANT``, ``DMTOOLS_SANDBOX_URL``, ``DMTOOLS_API``), keeping the token in memory
only. The saved session remembers its API (``legacy`` or ``v2``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.auth.saved import (
    PROFILE_FILE,
    PROFILE_VERSION,
    Profile,
    config_dir,
    load_profile,
    stored_client,
)
from dmtools.auth.saved import STORES as STORES  # the saved login lives in dmtools.auth.saved
from dmtools.auth.saved import open_store as open_store
from dmtools.errors import InputError

if TYPE_CHECKING:
    from dmtools.client import Client

NOT_LOGGED_IN = (
    "not logged in: run `dmtools login`, or set DMTOOLS_CLIENT_ID and "
    "DMTOOLS_CLIENT_SECRET (plus DMTOOLS_USERNAME and DMTOOLS_PASSWORD for the "
    "password grant, or DMTOOLS_API=v2 for API v2 with a private key)"
)


def save_profile(profile: Profile, environ: Mapping[str, str] | None = None) -> Path:
    """Write ``cli.json`` (0600, in a 0700 folder), atomically."""
    from dmtools._safefiles import atomic_write

    folder = config_dir(environ)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = {"version": PROFILE_VERSION, **asdict(profile), "scopes": list(profile.scopes)}
    return atomic_write(folder / PROFILE_FILE, json.dumps(data, indent=1), mode=0o600)


def remove_profile(environ: Mapping[str, str] | None = None) -> bool:
    """Delete ``cli.json``; True if there was one."""
    path = config_dir(environ) / PROFILE_FILE
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def open_client(
    access: str = "edit",
    environ: Mapping[str, str] | None = None,
    *,
    scope: Sequence[str] | None = None,
) -> Client:
    """A client for a command: the saved login, else a login from the environment.

    Args:
        access: scopes asked for when logging in from the environment (``read-only``,
            ``edit`` or ``delete``, see :data:`dmtools.notebook.ACCESS_LEVELS`).
        scope: exact scopes to ask for instead (``dmtools analytics``: the report scopes).

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
    return connect_from_env_or_sandbox(access, scope=scope, environ=env)


def saved_login(env: Mapping[str, str]) -> Profile | None:
    """The saved login the commands use: None without one, when it cannot be read, or when
    ``DMTOOLS_CLIENT_ID`` names another key (the environment's login wins then)."""
    try:
        profile = load_profile(env)
    except InputError:
        return None
    if profile is not None and env.get("DMTOOLS_CLIENT_ID") in (None, "", profile.client_id):
        return profile
    return None


def api_in_use(environ: Mapping[str, str] | None = None) -> str:
    """The API the commands would speak: the saved login's, else ``DMTOOLS_API``."""
    env = os.environ if environ is None else environ
    profile = saved_login(env)
    return profile.api if profile is not None else env.get("DMTOOLS_API") or "legacy"


#: Why a saved API v2 session alone cannot reach the Reporting API.
REPORTING_NEEDS_SECRET = (
    "the Reporting API takes a partner token of your private key, which an API v2 session "
    "does not hold: set DMTOOLS_CLIENT_SECRET (the key's secret) and run the command again"
)


def open_reporting_client(scope: Sequence[str], environ: Mapping[str, str] | None = None) -> Client:
    """A client for the Reporting API with the report scopes ``scope``.

    A legacy login is used as :func:`open_client` uses it. The Reporting API takes partner
    tokens (legacy ``client_credentials``), so an API v2 login reaches it through the same
    private key on the legacy token endpoint: that needs the key's secret
    (``DMTOOLS_CLIENT_SECRET``), which a saved session does not keep.

    Raises:
        SessionExpired: an API v2 login without the key's secret in the environment.
    """
    from dmtools.auth import LoginSpec, SessionExpired
    from dmtools.client import connect
    from dmtools.secrets import Secret

    env = os.environ if environ is None else environ
    if api_in_use(env) == "legacy":
        return open_client("read-only", env, scope=scope)
    secret = env.get("DMTOOLS_CLIENT_SECRET")
    if not secret:
        raise SessionExpired(REPORTING_NEEDS_SECRET, type="login_required")
    profile = saved_login(env)
    if profile is not None:
        spec = profile.spec(Secret(secret))
    else:
        spec = LoginSpec.from_env(env, grant="client_credentials")
    return connect(spec.for_reporting(scope))


def partner_key_in_use(environ: Mapping[str, str] | None = None) -> bool:
    """True when the commands would act with a private key (client credentials), as far as
    can be told without a request: the saved login, else the environment."""
    env = os.environ if environ is None else environ
    profile = saved_login(env)
    if profile is not None:
        return profile.partner
    if not env.get("DMTOOLS_CLIENT_ID"):
        return False
    from dmtools.auth.credentials import env_grant

    return env_grant(env) == "client_credentials" or (env.get("DMTOOLS_API") or "legacy") != (
        "legacy"
    )


def describe_store(store: Any) -> str:
    """Where a token store keeps tokens, for people."""
    path = getattr(store, "path", None)
    return f"file {path}" if path is not None else "the system keyring"


def env_or(value: str | None, name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``value`` if given, else the environment variable ``name`` (empty means unset)."""
    env = os.environ if environ is None else environ
    return value if value else (env.get(name) or None)


def snapshot_of(client: Client) -> dict[str, Any]:
    """Who the client is, as a dict (for ``whoami`` and ``login``): one ``/me`` request (and
    on API v2 the key's profiles, from the same answer)."""
    try:
        me: dict[str, Any] = client.me(["id", "username", "screenname"])
    except InputError:  # pragma: no cover - fields are constants
        me = {}
    expires = client.token_expires_at
    dialect = client.dialect.name
    return {
        "id": me.get("id") or client.account_id,
        "username": me.get("username"),
        "screenname": me.get("screenname"),
        "dialect": dialect,
        "profiles": _profiles(client) if dialect != "legacy" else [],
        "api": client.base_url,
        "sandbox": client.endpoints.is_sandbox,
        "key": "private" if client.is_partner else "public",
        "scopes": list(client.scopes),
        "expires_at": expires.isoformat(timespec="seconds") if expires is not None else None,
    }


def _profiles(client: Client) -> list[str]:
    """The profile (channel) ids the client's key reaches, in the API's order."""
    dialect = client.dialect
    return dialect.read_channels(client.send(dialect.channels_call()))
