"""Logging in: :func:`connect` opens a session and returns a :class:`~dmtools.client.Client`.

Example:
    >>> client = connect("client_credentials", client_id=key, client_secret=secret,
    ...                  scope=["read_videos"], endpoints=sb.endpoints)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dmtools._retry import Backoff, RateLimiter, Timeouts
from dmtools.config import Endpoints
from dmtools.dialects import Dialect, get_dialect
from dmtools.errors import InputError
from dmtools.secrets import Secret

if TYPE_CHECKING:
    from dmtools.client import Client

__all__ = ["connect"]

TimeoutArg = Timeouts | float | tuple[float, float] | None


def connect(
    grant: str,
    *,
    client_id: str,
    client_secret: Any,
    username: str | None = None,
    password: Any = None,
    scope: Sequence[str] | str | None = None,
    endpoints: Endpoints | None = None,
    token_store: Any = None,
    timeout: TimeoutArg = None,
    retries: Backoff | int | None = None,
    rate_limit: RateLimiter | float | None = None,
    dialect: Dialect | str | None = None,
    **kwargs: Any,
) -> Client:
    """Log in and return a :class:`Client`.

    Args:
        grant: ``"client_credentials"`` (private key, partner host), ``"password"``,
            ``"authorization_code"`` or ``"refresh_token"`` (public key).
        client_id, client_secret: the API key and its secret.
        username, password: for the password grant.
        scope: scopes to ask for (``["manage_videos"]``...).
        endpoints: where to log in (default: the real API; ``sandbox.endpoints`` for a sandbox).
        token_store: where to keep tokens between sessions (default: memory only).
        timeout, retries, rate_limit: transport options (see :class:`Client`).
        dialect: the API dialect, or its name (default: ``"legacy"``, the Platform API).
        **kwargs: passed on to :func:`dmtools.auth.create_token_manager` (``code_flow``,
            ``refresh_token``, ``leeway``...).

    Raises:
        InputError: bad arguments, or a grant the dialect's API does not accept.
    """
    from dmtools.auth import create_token_manager
    from dmtools.client import Client

    # Secrets held as Secret from here on, so tracebacks with locals show them masked.
    client_secret = Secret.wrap(client_secret)
    password = Secret.wrap(password)
    options: dict[str, Any] = {
        name: Secret.wrap(value) if name == "refresh_token" else value
        for name, value in kwargs.items()
    }
    del kwargs
    api = _dialect_for(grant, dialect)
    options.setdefault("leeway", api.renew_ahead)
    manager = create_token_manager(
        grant,
        client_id=client_id,
        client_secret=client_secret,
        username=username,
        password=password,
        scope=scope,
        endpoints=endpoints,
        token_store=token_store,
        **options,
    )
    return Client(manager, dialect=api, timeout=timeout, retries=retries, rate_limit=rate_limit)


def _dialect_for(grant: str, dialect: Dialect | str | None) -> Dialect:
    """The dialect, once it is known to accept ``grant`` (InputError otherwise)."""
    api = get_dialect(dialect)
    if grant not in api.grants:
        raise InputError(
            f"the {api.name} API does not accept grant {grant!r}: use one of "
            f"{', '.join(sorted(api.grants))}"
        )
    return api
