"""Helpers of the analytics tests: sandboxes, logged-in clients, a sandbox-clock sleep,
and what the sandbox saw (GraphQL requests, reports asked for)."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from typing import Any

import dmtools as dm
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


def client(sb: Sandbox, grant: str = "client_credentials", **options: Any) -> dm.Client:
    """A client of the sandbox with the report scopes (private key by default)."""
    options.setdefault("scope", dm.analytics.SCOPES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dm.ScopeChangedWarning)
        return connect_sandbox(sb, grant=grant, **options)


def clock_sleep(sb: Sandbox, log: list[float] | None = None) -> Callable[[float], None]:
    """A ``sleep`` that moves the sandbox clock instead of waiting (and notes each wait)."""

    def sleep(seconds: float) -> None:
        if log is not None:
            log.append(seconds)
        sb.advance_clock(seconds)

    return sleep


def today(sb: Sandbox) -> dt.date:
    return dt.datetime.fromtimestamp(sb.clock(), dt.UTC).date()


def graphql_requests(sb: Sandbox, since: int = 0) -> list[dict[str, Any]]:
    return [e for e in sb.request_log(since) if e["path"].startswith(("/graphql", "/graphql-api"))]


def last_seq(sb: Sandbox) -> int:
    log = sb.request_log()
    return int(log[-1]["seq"]) if log else 0


def load(sb: Sandbox, c: dm.Client, *args: Any, **kwargs: Any) -> Any:
    """``dm.load_analytics`` on the sandbox clock, without a progress bar, state in memory
    unless given."""
    kwargs.setdefault("sleep", clock_sleep(sb))
    kwargs.setdefault("progress", False)
    kwargs.setdefault("state", False)
    return dm.load_analytics(c, *args, **kwargs)


def cli(sb: Sandbox, home: Any, *args: Any, creds: str | None = "private", **extra: str) -> Any:
    """``dmtools <args>`` in-process, isolated in ``home`` (config, data, runs), logging in
    from DMTOOLS_* variables with the private (or ``"public"``) key of ``sb``."""
    from typer.testing import CliRunner

    from dmtools.cli import app

    names = ("CLIENT_ID", "CLIENT_SECRET", "USERNAME", "PASSWORD", "GRANT", "SANDBOX_URL",
             "REDIRECT_URI", "TOKEN_STORE", "DEBUG", "ALLOW_WRITES", "RUNS_DIR")  # fmt: skip
    env: dict[str, str | None] = {f"DMTOOLS_{n}": None for n in names}
    env.update(
        DMTOOLS_CONFIG_DIR=f"{home}/config",
        DMTOOLS_DATA_DIR=f"{home}/data",
        DMTOOLS_RUNS_DIR=f"{home}/runs",
        DMTOOLS_TOKEN_STORE="file",
    )
    c = sb.credentials
    if creds == "private":
        key = c.private_key
        env.update(DMTOOLS_GRANT="client_credentials")
    elif creds == "public":
        key = c.public_key
        env.update(DMTOOLS_GRANT="password", DMTOOLS_USERNAME=c.user.username,
                   DMTOOLS_PASSWORD=c.user.password)  # fmt: skip
    if creds is not None:
        env.update(DMTOOLS_CLIENT_ID=key.client_id, DMTOOLS_CLIENT_SECRET=key.client_secret,
                   DMTOOLS_SANDBOX_URL=sb.url)  # fmt: skip
    env.update(extra)
    return CliRunner().invoke(app, [str(a) for a in args], env=env)
