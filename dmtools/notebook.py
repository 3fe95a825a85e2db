"""Notebook conveniences: log in from the environment or an embedded sandbox.

The example notebooks run top to bottom with no credentials at all (a :class:`Sandbox` is
started inside the kernel) and against the real API when credentials are set in the
environment: the login variables (``DMTOOLS_CLIENT_ID``, ``DMTOOLS_CLIENT_SECRET``,
``DMTOOLS_USERNAME``, ``DMTOOLS_PASSWORD``, ``DMTOOLS_GRANT``, ``DMTOOLS_REDIRECT_URI``,
``DMTOOLS_SANDBOX_URL``, ``DMTOOLS_API``) are read by
:meth:`dmtools.auth.LoginSpec.from_env`, which owns their rules; besides them:

=========================  ===========================================================
``DMTOOLS_ALLOW_WRITES``   ``1`` lets the example notebooks edit and delete on the real API
``DMTOOLS_SANDBOX_PRIVATE_CLIENT_ID``, ``..._SECRET``  the private key of that sandbox (set
                           by ``dmtools lab``, for the login panel's "Use the sandbox")
=========================  ===========================================================

Without ``DMTOOLS_CLIENT_ID``, a session saved by ``dmtools login`` (in
``DMTOOLS_CONFIG_DIR``, see :mod:`dmtools.auth.saved`) is used while its token is valid;
only without one does a local sandbox start (its demo user on the legacy API; its private key
on API v2 when ``DMTOOLS_API=v2``).

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

from dmtools.auth.credentials import ACCESS_LEVELS, ENV, GRANT_KIND, env_grant, scopes_for
from dmtools.config import Endpoints

if TYPE_CHECKING:
    from dmtools.client import Client
    from dmtools.sandbox import Sandbox

__all__ = [
    "ACCESS_LEVELS",
    "GRANT_KIND",
    "RunningSandbox",
    "connect_from_env_or_sandbox",
    "connect_videos_and_reports",
    "credentials_in_env",
    "env_sandbox",
    "local_sandbox",
    "login_summary",
    "reports_login",
    "saved_session",
    "scopes_for",
    "stop_local_sandbox",
    "writes_allowed",
]

log = logging.getLogger("dmtools.notebook")

_sandbox_lock = threading.Lock()
_sandbox: Sandbox | None = None


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
    names = ("sandbox_url", "client_id", "client_secret", "username", "password")
    url, key, secret, user, password = (env.get(ENV[n]) or "" for n in names)
    if not (url and key and secret and user and password) or env_grant(env) != "password":
        return None
    private_id = env.get("DMTOOLS_SANDBOX_PRIVATE_CLIENT_ID")
    private_secret = env.get("DMTOOLS_SANDBOX_PRIVATE_CLIENT_SECRET")
    private = SandboxKey(private_id, private_secret) if private_id and private_secret else None
    redirect = env.get(ENV["redirect_uri"]) or None
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
        and not env.get(ENV["client_secret"])
    ):
        log.info("the saved login has expired; not used")
        return None
    return client


def credentials_in_env(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``DMTOOLS_CLIENT_ID`` is set (the notebooks then use the environment)."""
    env = os.environ if environ is None else environ
    return bool(env.get(ENV["client_id"]))


def writes_allowed(client: Client, environ: Mapping[str, str] | None = None) -> bool:
    """True on a sandbox, or when ``DMTOOLS_ALLOW_WRITES=1`` says the real API may be changed.

    Example:
        >>> if writes_allowed(client):                             # doctest: +SKIP
        ...     plan.apply(client)
    """
    env = os.environ if environ is None else environ
    return client.endpoints.is_sandbox or env.get("DMTOOLS_ALLOW_WRITES") == "1"


def connect_from_env_or_sandbox(
    access: str = "read-only",
    *,
    scope: Sequence[str] | str | None = None,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> Client:
    """Log in with the credentials of the environment, or else into a local sandbox.

    With ``DMTOOLS_CLIENT_ID``, the login is :meth:`LoginSpec.from_env
    <dmtools.auth.LoginSpec.from_env>` (see the module notes); else ``dmtools login``'s saved
    session (:func:`saved_session`); else the demo user of :func:`local_sandbox` logs in (it
    owns the big demo channel), or with ``DMTOOLS_API=v2`` that sandbox's private key through
    API v2 (every profile of its organisation).

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
    from dmtools.auth import LoginSpec
    from dmtools.client import connect

    env = os.environ if environ is None else environ
    if credentials_in_env(env):
        return connect(LoginSpec.from_env(env, access=access, scope=scope), **options)
    if (saved := saved_session(env)) is not None:
        return saved
    from dmtools.testing import connect_sandbox

    api = env.get(ENV["dialect"]) or "legacy"
    if api != "legacy":
        chosen = scope if scope is not None else scopes_for(access, "private", api)
        return connect_sandbox(local_sandbox(), api=api, scope=chosen, **options)
    chosen = scope if scope is not None else scopes_for(access, "public")
    return connect_sandbox(local_sandbox(), grant="password", scope=chosen, **options)


#: Why a saved API v2 session alone cannot reach the Reporting API.
REPORTS_NEED_SECRET = (
    "the Reporting API takes a partner token of your private key, which a saved API v2 "
    "session does not hold: set DMTOOLS_CLIENT_ID and DMTOOLS_CLIENT_SECRET (the key and its "
    "secret) and run the cell again"
)


def connect_videos_and_reports(
    access: str = "read-only", *, environ: Mapping[str, str] | None = None, **options: Any
) -> tuple[Client, Client]:
    """Two logins for a notebook that reads videos and reports: ``(videos, reports)``.

    On the legacy API it is one login (one consent for a person) with ``access``'s scopes and
    the report scopes (:data:`dmtools.analytics.SCOPES`), returned twice. On API v2
    (``DMTOOLS_API=v2``) the videos come from :func:`connect_from_env_or_sandbox`'s API v2
    login and the reports from :func:`reports_login`.

    Example:
        >>> client, reports = connect_videos_and_reports()                # doctest: +SKIP
        >>> dm.load_analytics(reports, "views", "day", start="2026-11-01")  # doctest: +SKIP
    """
    from dmtools.analytics.access import SCOPES

    env = os.environ if environ is None else environ
    scope = None
    if (env.get(ENV["dialect"]) or "legacy") == "legacy":
        kind = GRANT_KIND.get(env_grant(env), "public") if credentials_in_env(env) else "public"
        scope = [*scopes_for(access, kind), *SCOPES]
    videos = connect_from_env_or_sandbox(access, scope=scope, environ=env, **options)
    return videos, reports_login(videos, environ=env, **options)


def reports_login(
    client: Client, *, environ: Mapping[str, str] | None = None, **options: Any
) -> Client:
    """The login to give :func:`dmtools.load_analytics` for the account ``client`` reads.

    A legacy client whose token may ask for reports is returned as it is; another legacy
    login logs in again from the same source with its scopes and the report scopes
    (:data:`dmtools.analytics.SCOPES`). API v2 has no view counts and the Reporting API takes
    partner tokens, so for an API v2 client the same private key logs in at the partner token
    endpoint with the report scopes: the key of ``DMTOOLS_CLIENT_ID``/``_SECRET``, else the
    local sandbox's.

    Raises:
        SessionExpired: an API v2 client of a saved session without the key's secret in the
            environment (a saved session does not keep it).

    Example:
        >>> reports = reports_login(client)                              # doctest: +SKIP
    """
    from dmtools.analytics.access import ASKING, SCOPES
    from dmtools.auth import LoginSpec
    from dmtools.client import connect

    env = os.environ if environ is None else environ
    if client.dialect.name == "legacy":
        if ASKING & set(client.scopes):
            return client
        scope = [*client.scopes, *SCOPES]
        return connect_from_env_or_sandbox(scope=scope, environ=env, **options)
    if credentials_in_env(env):
        spec = LoginSpec.from_env(env, grant="client_credentials")
        return connect(spec.for_reporting(SCOPES), **options)
    if (
        not client.endpoints.is_sandbox
        or _sandbox is None
        or client.client_id != (_sandbox.credentials.private_key.client_id)
    ):
        from dmtools.errors import SessionExpired

        raise SessionExpired(REPORTS_NEED_SECRET, type="login_required")
    from dmtools.testing import connect_sandbox

    return connect_sandbox(local_sandbox(), grant="client_credentials", scope=SCOPES, **options)


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
