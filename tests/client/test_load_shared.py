"""Several profiles loaded at once go through one client: its connections and its rate budget.

``load_videos(client, profile="all")`` reads every profile's list in one pool of workers,
on the legacy API (a private key's channels) and on API v2; the sandbox counts the TCP
connections it accepts, and a counting rate limiter (the client's one budget) sees every
request of every profile.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

import dmtools as dm
from dmtools._retry import RateLimiter
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

WORKERS = 4


class CountingLimiter(RateLimiter):
    """A real limiter (it paces) that also counts the requests it let through."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate, burst=4)
        self.calls = 0
        self._count = threading.Lock()

    def acquire(self) -> float:
        with self._count:
            self.calls += 1
        return super().acquire()


def _count_connections(sb: Sandbox) -> list[Any]:
    """The client addresses of the connections the sandbox accepts from now on."""
    httpd = sb._server.httpd  # thread mode: the server object of this process
    accepted: list[Any] = []
    serve = httpd.process_request

    def counting(request: Any, address: Any) -> None:
        accepted.append(address)
        serve(request, address)

    httpd.process_request = counting  # type: ignore[method-assign]
    return accepted


@pytest.mark.parametrize("api", ["legacy", "v2"])
def test_profiles_loaded_at_once_share_one_pool_and_one_rate_budget(sandbox_factory, api) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(videos=30, seed=9, archive_videos=1100)
    profiles = set(sb.credentials.private_key.profiles)
    limiter = CountingLimiter(400.0)
    grant = {} if api == "v2" else {"grant": "client_credentials", "scope": "read_videos"}
    with connect_sandbox(sb, api=api, rate_limit=limiter, **grant) as client:
        accepted = _count_connections(sb)
        mark, calls = len(sb.request_log()), limiter.calls
        df = dm.load_videos(
            client, profile="all", fields=["title"], progress=False, workers=WORKERS
        )
        log = sb.request_log(mark)
    assert set(df["owner"]) == profiles and len(df) >= 1100  # every profile, in one frame
    listed = {p for p in profiles if any(f"/{p}/" in r["path"] for r in log)}
    assert listed == profiles  # each profile's list was read in this one load
    assert limiter.calls - calls == len(log)  # every request of every profile: one budget
    assert len(log) > 3 * (WORKERS + 1)  # many more requests than ...
    # ... connections: one per thread of the client (the caller's, which lists the
    # profiles, and each worker's), whatever the number of profiles
    assert 1 <= len(accepted) <= WORKERS + 1
    assert {r["client_id"] for r in log} == {sb.credentials.private_key.client_id}


def test_shared_values_keep_records_equal_and_hold_each_repeated_value_once() -> None:
    from dmtools._shared import SharedValues

    def record(i: int) -> dict[str, Any]:
        return {
            "id": f"x{i}",
            "title": "t" + str(i % 3),
            "channel": "mu" + "sic",  # a new string object each time
            "owner.screenname": "".join(["Demo", " ", "Channel"]),
            "tags": ["".join(["li", "ve"]), "x" * (i % 2)],
            "language": None,
            "status": 3,  # not text: left alone
        }

    share = SharedValues(limit=4)
    records = [share(record(i)) for i in range(6)]
    assert records == [record(i) for i in range(6)]  # values unchanged
    assert len({id(r["channel"]) for r in records}) == 1
    assert len({id(r["owner.screenname"]) for r in records}) == 1
    assert len({id(r["tags"][0]) for r in records}) == 1
    assert share([1, 2]) == [1, 2] and share({"tags": [1, "a"]}) == {"tags": [1, "a"]}
    late = SharedValues(limit=0)(record(1))  # past the limit: nothing new is kept
    assert late == record(1)
