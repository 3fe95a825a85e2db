"""Reader options: the login, the query and the budget, checked on the driver; one logged-in
client per Python worker process, reused by every partition that worker reads."""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dmtools import schema
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    from dmtools.client import Client

__all__ = ["LOGIN_OPTIONS", "ReadOptions", "client_for"]

#: Options that say how to log in (secrets are redacted by Spark's ``spark.redaction.regex``).
LOGIN_OPTIONS = (
    "grant",
    "client_id",
    "client_secret",
    "username",
    "password",
    "scope",
    "sandbox_url",
)
#: Options of the read itself.
READ_OPTIONS = ("owner", "fields", "partitions", "workers", "rate_limit", "budget")
_SECRET = ("client_secret", "password")


@dataclass(frozen=True)
class ReadOptions:
    """The checked options of a read (strings as Spark passes them)."""

    login: tuple[tuple[str, str], ...]
    owner: str
    fields: tuple[str, ...]
    filters: tuple[tuple[str, str], ...]
    partitions: int
    workers: int
    rate_limit: float | None
    budget: str

    @classmethod
    def parse(cls, options: Mapping[str, str]) -> ReadOptions:
        """Check every option at once.

        Raises:
            InputError: naming every unknown option and bad value.
        """
        from dmtools.frames import resolve_fields

        given = {str(k).lower(): str(v) for k, v in options.items() if k.lower() != "path"}
        problems: list[Problem] = []
        unknown = [
            k
            for k in given
            if k not in LOGIN_OPTIONS and k not in READ_OPTIONS and k not in schema.VIDEO_FILTERS
        ]
        problems += [Problem(None, k, "unknown option") for k in unknown]
        if "client_id" not in given:
            problems.append(Problem(None, "client_id", "missing: the API key to log in with"))
        if "sort" in given:
            problems.append(Problem(None, "sort", "a read returns every video; sort the DataFrame"))

        def number(name: str, default: float, low: float, high: float) -> float:
            try:
                value = float(given.get(name, default))
            except ValueError:
                value = float("nan")
            if not low <= value <= high:
                problems.append(
                    Problem(None, name, f"{given.get(name)!r}: expected {low:g} to {high:g}")
                )
                return default
            return value

        partitions = int(number("partitions", 16, 1, 1_000))
        workers = int(number("workers", 4, 1, 64))
        rate = number("rate_limit", 25.0, 0, 10_000)  # requests/s per machine; 0: no limit
        try:
            fields = tuple(resolve_fields(given.get("fields")))
        except InputError as exc:
            problems += exc.problems
            fields = ()
        if problems:
            raise InputError("bad options for the dailymotion videos source", problems)
        login = tuple(sorted((k, v) for k, v in given.items() if k in LOGIN_OPTIONS))
        filters = tuple(sorted((k, v) for k, v in given.items() if k in schema.VIDEO_FILTERS))
        key = json.dumps([given.get("sandbox_url"), given["client_id"], rate])
        return cls(
            login=login,
            owner=given.get("owner", "me"),
            fields=fields,
            filters=filters,
            partitions=partitions,
            workers=workers,
            rate_limit=rate or None,
            budget=given.get("budget", hashlib.sha256(key.encode()).hexdigest()[:16]),
        )


_clients: dict[str, Client] = {}
_clients_lock = threading.Lock()


def client_for(options: ReadOptions) -> Client:
    """The logged-in client of this process for these options (logs in on first use)."""
    key = hashlib.sha256(
        repr((options.login, options.rate_limit, options.budget)).encode()
    ).hexdigest()
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _connect(options)
        return client


def _connect(options: ReadOptions) -> Client:
    from dmtools.client import connect
    from dmtools.config import Endpoints
    from dmtools.spark._budget import HostRateLimiter

    login: dict[str, Any] = dict(options.login)
    url = login.pop("sandbox_url", None)
    grant = login.pop("grant", None) or (
        "password" if login.get("username") else "client_credentials"
    )
    scope = login.pop("scope", None)
    limiter = (
        HostRateLimiter(options.rate_limit, name=options.budget) if options.rate_limit else None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the password grant's legacy warning, once per worker
        return connect(
            grant,
            scope=scope.replace(",", " ").split() if scope else None,
            endpoints=Endpoints.sandbox(url) if url else None,
            rate_limit=limiter,
            **login,
        )
