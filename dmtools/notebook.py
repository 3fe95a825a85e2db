"""Notebook conveniences: log in from the environment or an embedded sandbox.

The example notebooks run top to bottom with no credentials at all (a :class:`Sandbox` is
started inside the kernel) and against the real API when credentials are set in the
environment:

=========================  ===========================================================
``DMTOOLS_CLIENT_ID``      the API key
``DMTOOLS_CLIENT_SECRET``  its secret
``DMTOOLS_USERNAME``       the account (password grant)
``DMTOOLS_PASSWORD``       its password (password grant)
``DMTOOLS_GRANT``          ``client_credentials``, ``password`` or ``authorization_code``
                           (default: ``password`` when a username is set, else
                           ``client_credentials``)
``DMTOOLS_REDIRECT_URI``   the callback URL registered for a public key (authorization code)
``DMTOOLS_SANDBOX_URL``    talk to a sandbox already running there instead of the real API
``DMTOOLS_ALLOW_WRITES``   ``1`` lets the example notebooks edit and delete on the real API
``DMTOOLS_SANDBOX_PRIVATE_CLIENT_ID``, ``..._SECRET``  the private key of that sandbox (set
                           by ``dmtools lab``, for the login panel's "Use the sandbox")
=========================  ===========================================================

Without ``DMTOOLS_CLIENT_ID``, a session saved by ``dmtools login`` (in
``DMTOOLS_CONFIG_DIR``, see :mod:`dmtools.auth.saved`) is used while its token is valid;
only without one does a local sandbox start.

Secrets read from the environment are wrapped in :class:`~dmtools.secrets.Secret` at once and
never displayed.

Example:
    >>> from dmtools.notebook import connect_from_env_or_sandbox, login_summary
    >>> client = connect_from_env_or_sandbox("edit")              # doctest: +SKIP
    >>> login_summary(client)                                     # doctest: +SKIP
    'Logged in as Demo Channel with manage_videos, token expires at 2025-06-01 22:14 CEST'
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dmtools.config import Endpoints
from dmtools.errors import InputError
from dmtools.secrets import Secret

if TYPE_CHECKING:
    from dmtools.client import Client
    from dmtools.sandbox import Sandbox

__all__ = [
    "ACCESS_LEVELS",
    "RunningSandbox",
    "connect_from_env_or_sandbox",
    "credentials_in_env",
    "env_sandbox",
    "local_sandbox",
    "login_summary",
    "saved_session",
    "scopes_for",
    "stop_local_sandbox",
    "writes_allowed",
]

log = logging.getLogger("dmtools.notebook")

#: Scope presets: access level -> key kind ("public" / "private") -> scopes to ask for.
#: Public keys read their own private videos only with ``manage_videos``; private keys have a
#: scope per capability.
ACCESS_LEVELS: dict[str, dict[str, tuple[str, ...]]] = {
    "read-only": {"public": (), "private": ("read_videos",)},
    "edit": {"public": ("manage_videos",), "private": ("read_videos", "edit_videos")},
    "delete": {
        "public": ("manage_videos",),
        "private": ("read_videos", "edit_videos", "delete_videos"),
    },
}

GRANT_KIND = {"client_credentials": "private", "password": "public", "authorization_code": "public"}

_sandbox_lock = threading.Lock()
_sandbox: Sandbox | None = None


def scopes_for(access: str, kind: str) -> tuple[str, ...]:
    """The scopes of an access level (``read-only``, ``edit``, ``delete``) for a key kind.

    Example:
        >>> scopes_for("edit", "private")
        ('read_videos', 'edit_videos')
    """
    if access not in ACCESS_LEVELS:
        raise InputError(f"unknown access level {access!r}: use one of {', '.join(ACCESS_LEVELS)}")
    if kind not in ("public", "private"):
        raise InputError(f"unknown key kind {kind!r}: use 'public' or 'private'")
    return ACCESS_LEVELS[access][kind]


def local_sandbox(videos: int | None = None, seed: int = 7) -> Sandbox:
    """The sandbox of this Python process, started on first use and stopped at exit.

    Later calls return the same sandbox (their arguments are then ignored). ``videos``
    defaults to ``DMTOOLS_SANDBOX_VIDEOS`` or 1500.

    Example:
        >>> sb = local_sandbox()                                   # doctest: +SKIP
        >>> sb.url                                                 # doctest: +SKIP
        'http://127.0.0.1:40123'
    """
    global _sandbox
    with _sandbox_lock:
        if _sandbox is None:
            from dmtools.sandbox import Sandbox

            count = (
                videos
                if videos is not None
                else int(os.environ.get("DMTOOLS_SANDBOX_VIDEOS") or 1500)
            )
            _sandbox = Sandbox(videos=count, seed=seed).start()
            atexit.register(stop_local_sandbox)
            log.info("started a local sandbox at %s", _sandbox.url)
        return _sandbox


def stop_local_sandbox() -> None:
    """Stop the sandbox started by :func:`local_sandbox` (no effect if none runs)."""
    global _sandbox
    with _sandbox_lock:
        sandbox, _sandbox = _sandbox, None
    if sandbox is not None:
        sandbox.stop()


@dataclass(frozen=True)
class SandboxKey:
    """An API key of a running sandbox (secret kept out of the repr)."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str | None = None


@dataclass(frozen=True)
class SandboxUser:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class SandboxCredentials:
    public_key: SandboxKey
    private_key: SandboxKey | None
    user: SandboxUser


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox started outside this kernel (``dmtools lab``, ``dmtools sandbox``), as the
    ``DMTOOLS_*`` variables describe it: what the login panel's "Use the sandbox" box
    uses instead of starting a second one."""

    url: str
    credentials: SandboxCredentials

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints.sandbox(self.url)


def env_sandbox(environ: Mapping[str, str] | None = None) -> RunningSandbox | None:
    """The sandbox at ``DMTOOLS_SANDBOX_URL`` with its public key and demo user from the
    environment (and its private key when ``DMTOOLS_SANDBOX_PRIVATE_*`` are set); None
    when any of them is missing or the grant is not ``password``."""
    env = os.environ if environ is None else environ
    names = ("DMTOOLS_SANDBOX_URL", "DMTOOLS_CLIENT_ID", "DMTOOLS_CLIENT_SECRET")
    url, key, secret = (env.get(n) or "" for n in names)
    user, password = env.get("DMTOOLS_USERNAME") or "", env.get("DMTOOLS_PASSWORD") or ""
    if not (url and key and secret and user and password):
        return None
    if (env.get("DMTOOLS_GRANT") or "password") != "password":
        return None
    private_id = env.get("DMTOOLS_SANDBOX_PRIVATE_CLIENT_ID")
    private_secret = env.get("DMTOOLS_SANDBOX_PRIVATE_CLIENT_SECRET")
    private = SandboxKey(private_id, private_secret) if private_id and private_secret else None
    redirect = env.get("DMTOOLS_REDIRECT_URI") or None
    return RunningSandbox(
        url,
        SandboxCredentials(SandboxKey(key, secret, redirect), private, SandboxUser(user, password)),
    )


def saved_session(environ: Mapping[str, str] | None = None) -> Client | None:
    """The client of the session ``dmtools login`` saved, or None (no saved login, no token,
    or a saved file that cannot be read: logged, never raised).

    Example:
        >>> client = saved_session()        # after `dmtools login` in a terminal  # doctest: +SKIP
    """
    from dmtools.auth.saved import load_profile, stored_client

    env = os.environ if environ is None else environ
    try:
        profile = load_profile(env)
        client = stored_client(profile, env) if profile is not None else None
    except Exception as exc:  # a broken saved login must not stop a notebook from starting
        log.warning("the saved login cannot be used: %s", exc)
        return None
    expires = client.token_expires_at if client is not None else None
    if (
        expires is not None
        and expires.timestamp() < time.time()
        and not env.get("DMTOOLS_CLIENT_SECRET")
    ):
        log.info("the saved login has expired; not used")
        return None
    return client


def credentials_in_env(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``DMTOOLS_CLIENT_ID`` is set (the notebooks then use the environment)."""
    env = os.environ if environ is None else environ
    return bool(env.get("DMTOOLS_CLIENT_ID"))


def writes_allowed(client: Client, environ: Mapping[str, str] | None = None) -> bool:
    """True on a sandbox, or when ``DMTOOLS_ALLOW_WRITES=1`` says the real API may be changed.

    Example:
        >>> if writes_allowed(client):                             # doctest: +SKIP
        ...     plan.apply(client)
    """
    env = os.environ if environ is None else environ
    return client.endpoints.is_sandbox or env.get("DMTOOLS_ALLOW_WRITES") == "1"


def _scope(access: str | None, scope: Sequence[str] | str | None, kind: str) -> Any:
    if scope is not None:
        return scope
    return list(scopes_for(access or "read-only", kind))


def connect_from_env_or_sandbox(
    access: str = "read-only",
    *,
    scope: Sequence[str] | str | None = None,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> Client:
    """Log in with the credentials of the environment, or else into a local sandbox.

    With ``DMTOOLS_CLIENT_ID``, the login comes from the ``DMTOOLS_*`` variables (see the
    module notes); else from ``dmtools login``'s saved session (:func:`saved_session`); else
    the demo user of :func:`local_sandbox` logs in (it owns the big demo channel).

    Args:
        access: ``read-only``, ``edit`` or ``delete``: picks the scopes for the key kind.
        scope: exact scopes instead of ``access``.
        environ: variables to read (default ``os.environ``).
        **options: passed to :func:`dmtools.connect` (``timeout``, ``retries``...).

    Raises:
        InputError: incomplete or contradictory variables.

    Example:
        >>> client = connect_from_env_or_sandbox("delete")         # doctest: +SKIP
    """
    from dmtools.client import connect

    env = os.environ if environ is None else environ
    if not credentials_in_env(env):
        if (saved := saved_session(env)) is not None:
            return saved
        sb = local_sandbox()
        key, user = sb.credentials.public_key, sb.credentials.user
        return connect(
            "password",
            client_id=key.client_id,
            client_secret=Secret(key.client_secret),
            username=user.username,
            password=Secret(user.password),
            scope=_scope(access, scope, "public"),
            endpoints=sb.endpoints,
            **options,
        )
    secret = Secret.wrap(env.get("DMTOOLS_CLIENT_SECRET") or None)
    if secret is None:
        raise InputError("DMTOOLS_CLIENT_ID is set but DMTOOLS_CLIENT_SECRET is not")
    username = env.get("DMTOOLS_USERNAME") or None
    grant = env.get("DMTOOLS_GRANT") or ("password" if username else "client_credentials")
    if grant not in GRANT_KIND:
        raise InputError(f"DMTOOLS_GRANT={grant!r}: use one of {', '.join(GRANT_KIND)}")
    sandbox_url = env.get("DMTOOLS_SANDBOX_URL")
    endpoints = Endpoints.sandbox(sandbox_url) if sandbox_url else Endpoints.dailymotion()
    common: dict[str, Any] = dict(
        client_id=env["DMTOOLS_CLIENT_ID"],
        client_secret=secret,
        scope=_scope(access, scope, GRANT_KIND[grant]),
        endpoints=endpoints,
        **options,
    )
    if grant == "password":
        password = Secret.wrap(env.get("DMTOOLS_PASSWORD") or None)
        if not username or password is None:
            raise InputError("the password grant needs DMTOOLS_USERNAME and DMTOOLS_PASSWORD")
        return connect(grant, username=username, password=password, **common)
    if grant == "authorization_code":
        from dmtools.auth import AuthorizationCodeFlow

        flow = AuthorizationCodeFlow(
            common["client_id"],
            secret,
            redirect_uri=env.get("DMTOOLS_REDIRECT_URI") or None,
            scope=common["scope"],
            endpoints=endpoints,
        )
        return connect(grant, code_flow=flow, **common)
    return connect(grant, **common)


def login_summary(client: Client) -> str:
    """One line for people: who is logged in, with which scopes, until when.

    Example:
        >>> login_summary(client)                                 # doctest: +SKIP
        'Logged in as Demo Channel with manage_videos, token expires at 2025-06-01 22:14 CEST'
    """
    try:
        me = client.me(["screenname"])
        who = str(me.get("screenname") or me.get("username") or me.get("id") or "?")
    except Exception:  # the login worked; an account that cannot read /me still gets a line
        log.info("could not read /me for the login summary", exc_info=True)
        who = "your account"
    granted = [name for name in client.scopes if name]
    scopes = " ".join(granted) if granted else "no scopes (public data only)"
    expires = client.token_expires_at
    until = (
        f", token expires at {expires:%Y-%m-%d %H:%M %Z}".rstrip() if expires is not None else ""
    )
    where = " (local sandbox)" if client.endpoints.is_sandbox else ""
    return f"Logged in as {who}{where} with {scopes}{until}"
