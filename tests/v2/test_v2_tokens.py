"""API v2 tokens: renewed ahead of expiry, single-flight, once more on a 401 with a replay.

The client's clock is a fake moved by the test (no sleeps): a job of an hour on 30-minute
tokens is sixty calls a simulated minute apart. Token requests are counted in the sandbox's
request log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import dmtools as dm
from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

TOKEN_PATH = "/oauth2/v2/token"


class Clock:
    """POSIX seconds that move only when the test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=60, seed=14) as sandbox:
        yield sandbox


def token_requests(sb: Sandbox, since: int) -> int:
    return sum(r["path"] == TOKEN_PATH for r in sb.request_log(since))


def _client(sb: Sandbox, clock: Clock, **options: object) -> Client:
    return connect_sandbox(sb, api="v2", clock=clock, **options)


def test_a_job_of_an_hour_and_a_half_on_30_minute_tokens_runs_through(sb: Sandbox) -> None:
    clock = Clock()
    mark = len(sb.request_log())
    with _client(sb, clock) as client:
        assert client.token_expires_at is not None
        assert client.token_expires_at.timestamp() == clock.now + 1800  # the sandbox's default
        ids = list(dm.load_videos(client, fields=["id"], progress=False).index)
        read, renewed = [], []
        for minute in range(1, 91):
            clock.now += 60
            if minute == 40:
                sb.expire_tokens()  # the server forgets every token: one 401, one replay
            before = token_requests(sb, mark)
            read.append(dm.get_video(client, ids[minute % len(ids)], ["title"])["id"])
            renewed += [minute] * (token_requests(sb, mark) - before)
        replays = client.stats["replays"]
    assert len(read) == 90
    # 30-minute tokens renewed 6 minutes ahead: at minute 24; on the 401 at minute 40; then
    # 24 minutes after that, at minute 64, and at 88
    assert renewed == [24, 40, 64, 88]
    assert token_requests(sb, mark) == 1 + len(renewed)
    assert replays == 1
    statuses = [r["status"] for r in sb.request_log(mark) if r["path"] != TOKEN_PATH]
    assert statuses.count(401) == 1


def test_threads_needing_a_token_at_once_send_one_token_request(sb: Sandbox) -> None:
    clock = Clock()
    with _client(sb, clock) as client:
        vid = next(iter(dm.load_videos(client, fields=["id"], progress=False).index))
        clock.now += 1800 - 300  # inside the renewal lead: every caller needs a new token
        mark = len(sb.request_log())
        start = threading.Barrier(8)
        errors: list[BaseException] = []

        def read() -> None:
            start.wait()
            try:
                dm.get_video(client, vid, ["title"])
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert token_requests(sb, mark) == 1
    assert sum(r["path"].startswith("/v2/videos/") for r in sb.request_log(mark)) == 8


def test_a_401_fetches_one_new_token_and_replays_the_call_once(sb: Sandbox) -> None:
    with connect_sandbox(sb, api="v2") as client:
        vid = next(iter(dm.load_videos(client, fields=["id"], progress=False).index))
        sb.expire_tokens()
        mark = len(sb.request_log())
        assert dm.get_video(client, vid, ["id"]) == {"id": vid}
        assert client.stats["replays"] == 1
    log = [(r["method"], r["path"], r["status"]) for r in sb.request_log(mark)]
    assert log == [
        ("GET", f"/v2/videos/{vid}", 401),
        ("POST", TOKEN_PATH, 200),
        ("GET", f"/v2/videos/{vid}", 200),
    ]


def test_a_key_the_token_endpoint_refuses_is_a_login_error(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    with pytest.raises(dm.AuthenticationError, match="invalid_client"):
        dm.connect(api="v2", client_id=key.client_id, client_secret="wrong", endpoints=sb.endpoints)
    public = sb.credentials.public_key  # v2 takes private keys only
    with pytest.raises(dm.AuthenticationError, match="private"):
        dm.connect(
            api="v2",
            client_id=public.client_id,
            client_secret=public.client_secret,
            endpoints=sb.endpoints,
        )
