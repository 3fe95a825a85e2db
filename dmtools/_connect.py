"""Logging in: :func:`connect` opens a session and returns a :class:`~dmtools.client.Client`.

Example:
    >>> client = connect(LoginSpec.from_env(access="edit"))                   # doctest: +SKIP
    >>> client = connect("client_credentials", client_id=key, client_secret=secret,
    ...                  scope=["read_videos"], endpoints=sb.endpoints)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Unpack

from dmtools._retry import Backoff, RateLimiter, Timeouts
from dmtools.errors import InputError

if TYPE_CHECKING:
    import requests

    from dmtools.auth import AuthorizationCodeFlow, LoginSpec, TokenStore
    from dmtools.auth.login import LoginKeywords
    from dmtools.client import Client
    from dmtools.dialects import Dialect

__all__ = ["connect"]

TimeoutArg = Timeouts | float | tuple[float, float] | None


def connect(
    spec: LoginSpec | str | None = None,
    *,
    api: str | None = None,
    token_store: TokenStore | None = None,
    code_flow: AuthorizationCodeFlow | None = None,
    leeway: float | None = None,
    reuse: bool = True,
    timeout: TimeoutArg = None,
    retries: Backoff | int | None = None,
    rate_limit: RateLimiter | float | None = None,
    clock: Callable[[], float] | None = None,
    session_factory: Callable[[], requests.Session] | None = None,
    **login: Unpack[LoginKeywords],
) -> Client:
    """Log in and return a :class:`Client`.

    Args:
        spec: the login (a :class:`~dmtools.auth.LoginSpec`), or its grant with the login as
            keywords (``client_id``, ``client_secret``, ``username``, ``password``,
            ``scope``, ``endpoints``, ``dialect``, ``refresh_token``: see LoginSpec):
            ``"client_credentials"`` (private key), ``"password"``, ``"authorization_code"``
            or ``"refresh_token"`` (public key). None: ``client_credentials`` (the one grant
            of API v2; the legacy API needs the grant named).
        api: which API to speak: ``"legacy"`` (the Platform API, the default) or ``"v2"``
            (API v2: private keys, ``client_credentials`` only). The same as the login's
            ``dialect``; the environment's ``DMTOOLS_API`` in ``LoginSpec.from_env``.
        token_store: where to keep tokens between sessions (default: memory only).
        code_flow: the consent-page login of the authorization-code grant (made and run for
            you when omitted).
        leeway: renew tokens this many seconds before expiry (default: the dialect's).
        reuse: use a valid session of ``token_store`` (False: log in afresh, replacing it).
        timeout, retries, rate_limit: transport options (see :class:`Client`).
        clock, session_factory: for the token requests (tests).

    Raises:
        InputError: bad or contradictory values, or a grant the dialect's API does not accept.

    Example:
        >>> client = dm.connect(dm.LoginSpec.from_env(access="edit"))        # doctest: +SKIP
        >>> client = dm.connect(api="v2", client_id=key, client_secret=secret)  # doctest: +SKIP
    """
    from dmtools.auth import LoginSpec, open_session
    from dmtools.auth.login import login_spec
    from dmtools.client import Client

    if isinstance(spec, LoginSpec) and login:
        raise InputError(f"pass the login as a LoginSpec or as keywords, not both: {sorted(login)}")
    if not isinstance(spec, LoginSpec):
        login = _with_api(login, api)
        grant = spec if spec is not None else _default_grant(login.get("dialect"))
        spec = login_spec(grant, code_flow=code_flow, **login)
    elif api is not None and spec.api.name != _named(api):
        spec = spec.replace(dialect=api)
    del login  # the secrets are held as Secret values from here on
    manager = open_session(
        spec,
        token_store=token_store,
        code_flow=code_flow,
        leeway=leeway,
        clock=clock,
        session_factory=session_factory,
        reuse=reuse,
    )
    return Client(
        manager, dialect=spec.api, timeout=timeout, retries=retries, rate_limit=rate_limit
    )


def _named(api: Dialect | str | None) -> str:
    from dmtools.dialects import get_dialect

    return get_dialect(api).name


def _with_api(login: LoginKeywords, api: str | None) -> LoginKeywords:
    """The keywords with ``api`` as their dialect (InputError when they name another)."""
    if api is None:
        return login
    given = login.get("dialect")
    if given is not None and _named(given) != _named(api):
        raise InputError(f"api={api!r} and dialect={given!r} disagree: pass one of them")
    return {**login, "dialect": api}


def _default_grant(dialect: Dialect | str | None) -> str:
    """The grant of a login that names none: the dialect's only grant, else an InputError."""
    from dmtools.dialects import get_dialect

    api = get_dialect(dialect or None)
    if len(api.grants) == 1:
        return next(iter(api.grants))
    raise InputError(
        f"name the grant: dm.connect(grant, ...) with one of {', '.join(sorted(api.grants))}"
    )
