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
