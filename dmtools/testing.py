"""Helpers for code that tests itself against a sandbox: a logged-in client in one line.

:func:`connect_sandbox` logs in to a running :class:`dmtools.Sandbox` (or to any sandbox
whose :class:`~dmtools.sandbox.sandbox.Credentials` you hold, e.g. from
``dmtools sandbox --json``) with its demo keys and user, by any grant, including the
authorization-code grant: it answers the sandbox's consent page itself, over HTTP, as the
demo user would.

Example:
    >>> import dmtools as dm
    >>> from dmtools.testing import connect_sandbox
    >>> with dm.Sandbox(videos=20) as sb, connect_sandbox(sb) as client:
    ...     len(dm.all_videos(client, fields=["id"]))
    20

``connect_sandbox(sb, api="v2")`` logs in to the sandbox's API v2 with its private key
(``client_credentials``; scopes to read, edit and delete), for a test of any promise on
both dialects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import unescape
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from dmtools.config import Endpoints
from dmtools.errors import InputError, LoginError
from dmtools.secrets import Secret

if TYPE_CHECKING:
    from dmtools.auth import AuthorizationCodeFlow, LoginSpec
    from dmtools.client import Client
    from dmtools.sandbox.sandbox import Credentials, DemoUser, PrivateKey, PublicKey, Sandbox

__all__ = ["GRANTS", "connect_sandbox"]

#: The grants :func:`connect_sandbox` logs in with.
GRANTS = ("password", "client_credentials", "authorization_code")
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def connect_sandbox(
    sb: Sandbox | Credentials,
    *,
    grant: str | None = None,
    scope: Sequence[str] | str | None = None,
    api: str = "legacy",
    **options: Any,
) -> Client:
    """A client logged in to a sandbox with its demo credentials.

    Args:
        sb: a running :class:`~dmtools.Sandbox`, or the ``Credentials`` of one.
        grant: ``"password"`` (the demo user, public key; the legacy default),
            ``"client_credentials"`` (the private key: every channel of the demo
            organisation; the only grant, and the default, of ``api="v2"``) or
            ``"authorization_code"`` (the demo user through the consent page, answered over
            HTTP).
        scope: scopes to ask for (default: ``manage_videos`` on the legacy API; read, edit
            and delete rights, ``account.read video.read video.manage``, on API v2).
        api: ``"legacy"`` (the Platform API) or ``"v2"`` (API v2, with the private key):
            ``connect_sandbox(sb, api="v2")`` is a v2 client in one line.
        **options: passed to :func:`dmtools.connect` (``timeout``, ``retries``,
            ``rate_limit``, ``token_store``, ``dialect``...).

    Raises:
        InputError: an unknown grant.
        LoginError: the consent page did not send the user back with a code.

    Example:
        >>> client = connect_sandbox(sb, grant="client_credentials", scope="read_videos")  # doctest: +SKIP
    """
    from dmtools.auth import LoginSpec, scopes_for
    from dmtools.client import connect

    credentials = cast("Credentials", getattr(sb, "credentials", sb))
    public, user = credentials.public_key, credentials.user
    dialect = options.pop("dialect", None) or api
    v2 = getattr(dialect, "name", dialect) == "v2"
    grant = grant or ("client_credentials" if v2 else "password")
    if scope is None:
        scope = scopes_for("edit", "private", "v2") if v2 else ("manage_videos",)
    common: dict[str, Any] = {
        "scopes": [scope] if isinstance(scope, str) else list(scope),
        "endpoints": Endpoints.sandbox(credentials.url),
        "dialect": dialect,
    }
    key: PublicKey | PrivateKey = public
    if grant == "client_credentials":
        key = credentials.private_key
    elif grant == "password":
        common.update(username=user.username, password=Secret(user.password))
    elif grant == "authorization_code":
        common.update(redirect_uri=public.redirect_uri)
    else:
        raise InputError(f"connect_sandbox does not log in with {grant!r}: use one of {GRANTS}")
    spec = LoginSpec(grant, key.client_id, Secret(key.client_secret), **common)
    if grant == "authorization_code":
        options["code_flow"] = _consented(spec, user)
    return connect(spec, **options)


def _consented(spec: LoginSpec, user: DemoUser) -> AuthorizationCodeFlow:
    """A completed authorization-code login: the consent page answered as ``user``."""
    flow = spec.code_flow()
    flow.complete(_consent(flow.authorization_url(), user.username, Secret(user.password)))
    return flow


def _consent(authorization_url: str, username: str, password: Secret) -> str:
    """Allow access on the sandbox's consent page as ``username``; the redirected URL."""
    import requests

    parts = urlsplit(authorization_url)
    with requests.Session() as browser:
        browser.trust_env = False  # the sandbox is on loopback: no proxy
        page = browser.get(authorization_url, timeout=10)
        form = {unescape(k): unescape(v) for k, v in _HIDDEN.findall(page.text)}
        form.update(username=username, password=password.reveal(), action="allow")
        answer = browser.post(
            f"{parts.scheme}://{parts.netloc}{parts.path}",
            data=form,
            allow_redirects=False,
            timeout=10,
        )
    location = answer.headers.get("Location", "")
    if answer.status_code != 302 or "code=" not in location:
        raise LoginError(
            f"the sandbox consent page answered {answer.status_code} without a code",
            status=answer.status_code,
            type="consent_failed",
        )
    return location
