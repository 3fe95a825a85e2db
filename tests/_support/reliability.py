"""Shared pieces of the reliability tests (soak, breaker, ambiguous writes, kill and resume).

Test mode (reliability checklist, R-01): every wait of the client goes through
``sleep(s * SCALE)``, so the default backoff (base 0.5 s, cap 20 s) becomes 5 ms..200 ms and
a ``Retry-After: 1`` costs 10 ms. The rate limiter, whose gate holds every request until an
advertised ``Retry-After`` has passed, also gets a clock running 1/SCALE times faster, so its
gate stays shut for 10 ms of real time, not a full second of 1 % waits. Timeouts are real and
measured on the transport's real clock: a read timeout of 2 s, which no answer of the sandbox
comes near even on a busy machine, so that only a held answer (:data:`HOLD`) times out.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import pytest

import dmtools as dm
from _support.sandbox import demo_manager
from dmtools._retry import RateLimiter
from dmtools.sandbox import Sandbox

SCALE = 0.01
READ_TIMEOUT = 2.0
#: Seconds a ``hold`` fault keeps an answer: well past the read timeout.
HOLD = 3 * READ_TIMEOUT


def extended(test: Any) -> Any:
    """Mark a long variant: it runs only with ``DMTOOLS_EXTENDED=1``."""
    skip = pytest.mark.skipif(
        os.environ.get("DMTOOLS_EXTENDED") != "1", reason="extended tier: set DMTOOLS_EXTENDED=1"
    )
    return pytest.mark.extended(skip(test))


def scaled_client(
    sb: Sandbox,
    *,
    read_timeout: float = READ_TIMEOUT,
    dialect: str = "legacy",
    **options: Any,
) -> dm.Client:
    """A client in test mode (scaled waits, real read timeout): the demo user's on the legacy
    API, the private key's on API v2."""
    manager = demo_manager(sb) if dialect == "legacy" else v2_manager(sb)
    limiter = RateLimiter(None, clock=lambda: time.monotonic() / SCALE, sleep=scaled_sleep)
    return dm.Client(
        manager,
        timeout=(2.0, read_timeout),
        sleep=scaled_sleep,
        rate_limit=limiter,
        dialect=dialect,
        **options,
    )


def v2_manager(sb: Sandbox) -> Any:
    """The private key's API v2 token manager (client credentials; read, edit, delete)."""
    from dmtools.auth import LoginSpec, open_session, scopes_for
    from dmtools.secrets import Secret

    key = sb.credentials.private_key
    spec = LoginSpec(
        "client_credentials",
        key.client_id,
        Secret(key.client_secret),
        scopes=scopes_for("delete", "private", "v2"),
        endpoints=sb.endpoints,
        dialect="v2",
    )
    return open_session(spec)


def scaled_sleep(seconds: float) -> None:
    time.sleep(seconds * SCALE)


def last_seq(sb: Sandbox) -> int:
    log = sb.request_log()
    return int(log[-1]["seq"]) if log else 0


def soak_edits(df: pd.DataFrame, *, publish: bool = True) -> pd.DataFrame:
    """One edit per video: 70 % title/description, 20 % tags, 10 % privacy/publish flags
    (privacy only without ``publish``: API v2 cannot write ``published``)."""
    edited = df.copy()
    titles, descriptions = edited["title"].astype(object), edited["description"].astype(object)
    tags = edited["tags"].astype(object)
    private, published = edited["private"].astype(object), edited["published"].astype(object)
    for i, vid in enumerate(df.index):
        slot = i % 10
        if slot < 4:
            titles[vid] = f"{str(df.at[vid, 'title'])[:70]} · soak {i}"
        elif slot < 7:
            descriptions[vid] = f"Soak description {i}\r\nline two é🙂"
        elif slot < 9:
            tags[vid] = [f"soak{i}", "fault-test"]
        elif i % 20 == 9 or not publish:
            private[vid] = not bool(df.at[vid, "private"])
        else:
            published[vid] = not bool(df.at[vid, "published"])
    edited["title"], edited["description"], edited["tags"] = titles, descriptions, tags
    edited["private"], edited["published"] = private, published
    return edited


def exact_rates(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules whose *effective* rates equal their ``rate``.

    The sandbox applies the first rule that fires; each rule draws independently, so rule
    ``i`` wins with ``rate_i * prod(1 - rate_j, j < i)``. Dividing by that product makes the
    share of requests each fault gets exactly its nominal rate.
    """
    out: list[dict[str, Any]] = []
    none_before = 1.0
    for rule in rules:
        rate = float(rule["rate"]) / none_before
        assert rate < 1.0, rule
        out.append({**rule, "rate": rate})
        none_before *= 1.0 - rate
    return out


def by_path(requests: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Request-log entries per path, in the order the server started them."""
    paths: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for entry in requests:
        paths[entry["path"]].append(entry)
    for entries in paths.values():
        entries.sort(key=lambda e: (e["time"], e["seq"]))
    return paths


def settled_requests(
    sb: Sandbox, since: int, sent: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """The API requests logged after ``since``, once all ``sent`` of them are logged.

    The sandbox logs a request when it is done with it, so a held answer (a "hold" fault
    released by ``clear_faults``) can be logged after the client has moved on. ``sent`` is
    the client's own count of requests put on the wire (``transport.stats["sent"]``).
    """
    deadline = time.monotonic() + timeout
    while True:
        logged = [r for r in sb.request_log(since) if not r["path"].startswith("/oauth")]
        if len(logged) >= sent:
            return logged
        assert time.monotonic() < deadline, f"{len(logged)} of {sent} requests logged"
        time.sleep(0.01)
