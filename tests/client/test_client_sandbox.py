"""The client end to end against the sandbox: logins, paging, 401 replay, retries, writes
under ambiguous failures, timeouts, threads and environment hygiene.

The sandbox's request and commit logs are the source of truth for what reached the server.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from _support.fakeapi import FakeAPI

from dmtools.client import Client
from dmtools.errors import LoginRequired, ServerError, TransportError
from dmtools.sandbox import Sandbox
from dmtools.schema import LIMITS_PARTNER, LIST_CEILING
from dmtools.testing import connect_sandbox

SECRET_WORDS = ("access_token", "refresh_token", "client_secret", "password", "code_verifier")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=250, seed=7) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _clean(sb: Sandbox) -> Iterator[None]:
    sb.clear_faults()
    sb.set_rate_limit(None)
    yield
    sb.clear_faults()
    sb.set_rate_limit(None)


def log_since(sb: Sandbox, mark: int, *, at_least: int = 0) -> list[dict[str, Any]]:
    """Requests logged after ``mark``; waits (up to 5 s) for ``at_least`` of them, since a
    request answered with a reset is logged just after the reset reached the client."""
    deadline = time.monotonic() + 5
    while True:
        entries = sb.request_log()[mark:]
        if len(entries) >= at_least or time.monotonic() > deadline:
            return entries
        time.sleep(0.01)


def first_video(client: Client) -> str:
    return str(next(client.iterate("/me/videos", {"fields": "id"}))["id"])


# -- logins ---------------------------------------------------------------------------------


def test_password_login_reads_me_on_the_public_host(sb: Sandbox) -> None:
    with connect_sandbox(sb) as client:
        me = client.me(["id", "username"])
        assert me["id"] == sb.credentials.user.id == client.account_id
        assert not client.is_partner and "manage_videos" in client.scopes
        assert client.token_expires_at is not None
        shown = repr(client)
        assert sb.credentials.user.id in shown and sb.url in shown
        assert sb.credentials.user.password not in shown


def test_client_credentials_login_calls_the_partner_rest_base(sb: Sandbox) -> None:
    mark = len(sb.request_log())
    with connect_sandbox(sb, grant="client_credentials") as client:
        assert client.is_partner and client.limits == LIMITS_PARTNER
        client.me(["id"])
    paths = [r["path"] for r in log_since(sb, mark)]
    assert "/oauth/v1/token" in paths and "/rest/me" in paths and "/me" not in paths


# -- paging ---------------------------------------------------------------------------------


def test_iterate_reads_every_video_once_and_stops_at_has_more(sb: Sandbox) -> None:
    with connect_sandbox(sb) as client:
        mark = len(sb.request_log())
        ids = [v["id"] for v in client.iterate("/me/videos", {"fields": "id"})]
    pages = [r for r in log_since(sb, mark) if r["path"] == "/me/videos"]
    assert len(ids) == len(set(ids)) == 250
    assert len(pages) == 3 and all(r["status"] == 200 for r in pages)


def test_iterate_stops_at_the_result_ceiling_without_a_refused_page() -> None:
    with Sandbox(videos=LIST_CEILING + 50, seed=3) as big, connect_sandbox(big) as client:
        mark = len(big.request_log())
        ids = [v["id"] for v in client.iterate("/me/videos", {"fields": "id"})]
        pages = [r for r in log_since(big, mark) if r["path"] == "/me/videos"]
    assert len(ids) == len(set(ids)) == LIST_CEILING
    assert len(pages) == 10 and all(r["status"] == 200 for r in pages)


# -- 401 and retries --------------------------------------------------------------------------


def test_expired_token_is_renewed_once_and_the_call_replayed(sb: Sandbox) -> None:
    with connect_sandbox(sb) as client:
        client.me(["id"])
        sb.expire_tokens()
        mark = len(sb.request_log())
        assert client.me(["id"])["id"] == sb.credentials.user.id
    calls = [(r["path"], r["status"]) for r in log_since(sb, mark)]
    assert calls == [("/me", 401), ("/oauth/token", 200), ("/me", 200)]


def test_503_with_retry_after_is_retried_after_the_advertised_time(sb: Sandbox) -> None:
    with connect_sandbox(sb) as client:
        video = first_video(client)
        sb.set_faults(
            rules=[
                {"kind": "status", "status": 503, "at": [1], "retry_after": 1, "path": "^/video/"}
            ]
        )
        mark = len(sb.request_log())
        assert client.get(f"/video/{video}", {"fields": "id"})["id"] == video
    first, second = log_since(sb, mark)
    assert (first["status"], second["status"]) == (503, 200)
    assert second["time"] - first["time"] >= 0.95


def test_429_from_the_server_rate_limit_is_honoured(sb: Sandbox) -> None:
    with connect_sandbox(sb) as client:
        video = first_video(client)
        sb.set_rate_limit(rate=2.0, burst=1)
        mark = len(sb.request_log())
        for _ in range(3):
            client.get(f"/video/{video}", {"fields": "id"})
        assert client.stats["throttled"] >= 1
    entries = log_since(sb, mark)
    assert [r["status"] for r in entries].count(200) == 3
    for i, entry in enumerate(entries[:-1]):
        if entry["status"] == 429:
            assert entries[i + 1]["time"] - entry["time"] >= 0.95  # Retry-After: 1


def test_client_rate_limit_keeps_under_the_server_limit(sb: Sandbox) -> None:
    with connect_sandbox(sb, rate_limit=40.0) as client:
        video = first_video(client)
        sb.set_rate_limit(rate=40.0, burst=5)
        mark = len(sb.request_log())

        def work() -> None:
            for _ in range(20):
                client.get(f"/video/{video}", {"fields": "id"})

        threads = [threading.Thread(target=work) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        limiter = client.transport.limiter
    statuses = [r["status"] for r in log_since(sb, mark)]
    assert statuses.count(200) == 80 and statuses.count(429) == 0
    assert limiter.rate == 40.0  # never slowed down (its pace is pinned in the R-06 tests)


# -- writes under ambiguous failures ---------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"kind": "reset", "after_commit": True}, TransportError),
        ({"kind": "truncate"}, TransportError),
        ({"kind": "status", "status": 500, "after_commit": True}, ServerError),
        ({"kind": "status", "status": 502, "after_commit": True}, ServerError),
    ],
)
def test_an_ambiguous_edit_is_not_resent_and_commits_exactly_once(
    sb: Sandbox, rule: dict[str, Any], error: type[Exception]
) -> None:
    with connect_sandbox(sb) as client:
        video = first_video(client)
        title = f"edited {rule['kind']} {rule.get('status', '')}"
        commits = len(sb.commits())
        sb.set_faults(rules=[{**rule, "methods": ["POST"], "path": "^/video/", "at": [1]}])
        mark = len(sb.request_log())
        with pytest.raises(error) as info:
            client.post(f"/video/{video}", {"title": title})
    if isinstance(info.value, TransportError):
        assert info.value.sent is True
    posts = [r for r in log_since(sb, mark, at_least=1) if r["method"] == "POST"]
    new = sb.commits()[commits:]
    assert len(posts) == 1
    assert [(c["video_id"], c["fields"].get("title")) for c in new] == [(video, title)]
    assert sb.get_video(video)["title"] == title


def test_an_edit_refused_with_503_before_commit_is_retried_and_commits_once(sb: Sandbox) -> None:
    with connect_sandbox(sb) as client:
        video = first_video(client)
        commits = len(sb.commits())
        sb.set_faults(
            rules=[
                {
                    "kind": "status",
                    "status": 503,
                    "methods": ["POST"],
                    "path": "^/video/",
                    "at": [1, 2],
                }
            ]
        )
        client.post(f"/video/{video}", {"title": "after two 503"})
    assert [c["fields"]["title"] for c in sb.commits()[commits:]] == ["after two 503"]


def test_stalled_server_fails_within_the_read_timeout_without_leaking_threads(sb: Sandbox) -> None:
    before = _client_threads()
    with (
        connect_sandbox(sb, timeout=(2.0, 1.0)) as edits,
        connect_sandbox(sb, timeout=(2.0, 1.0), retries=0) as reads,
    ):
        video = first_video(edits)
        sb.set_faults(rules=[{"kind": "hold", "seconds": 60, "path": "^/video/"}])
        for call in (
            lambda: edits.post(f"/video/{video}", {"title": "held"}),
            lambda: reads.get(f"/video/{video}"),
        ):
            started = time.monotonic()
            with pytest.raises(TransportError) as info:
                call()
            assert info.value.sent is True
            # at the read timeout, long before the server would have answered
            assert 1.0 <= time.monotonic() - started < 60 / 4
    assert _client_threads() <= before


def _client_threads() -> set[threading.Thread]:
    """Threads other than the sandbox server's own (which serve held connections)."""
    return {th for th in threading.enumerate() if not th.name.startswith("dmtools-sandbox")}


# -- security and hygiene -------------------------------------------------------------------


def test_no_secret_in_any_url_and_environment_untouched(sb: Sandbox) -> None:
    environ = dict(os.environ)
    mark = len(sb.request_log())
    with connect_sandbox(sb) as client:
        sb.expire_tokens()
        list(client.iterate("/me/videos", {"fields": "id,title"}))
        client.logout()
    assert dict(os.environ) == environ
    for entry in log_since(sb, mark):
        assert not set(entry["query_keys"]) & set(SECRET_WORDS)


def test_sandbox_traffic_ignores_proxy_variables(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    trap = FakeAPI()
    try:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, trap.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        with connect_sandbox(sb) as client:
            client.me(["id"])
        assert trap.log == []
    finally:
        trap.close()


def test_logout_revokes_the_token_and_ends_the_session(sb: Sandbox) -> None:
    client = connect_sandbox(sb)
    token = client.transport.auth.access_token()  # type: ignore[union-attr]
    client.logout()
    with pytest.raises(LoginRequired):
        client.me()
    answer = requests.get(sb.url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 401
    client.close()


def test_sixteen_threads_on_an_expired_token_renew_once_each_with_its_own_session(
    sb: Sandbox,
) -> None:
    with connect_sandbox(sb) as client:
        client.me(["id"])
        sb.expire_tokens()
        mark = len(sb.request_log())
        barrier = threading.Barrier(16)
        results: list[Any] = []

        def work() -> None:
            barrier.wait(10)
            try:
                results.append(client.me(["id"])["id"])
            except Exception as exc:
                results.append(exc)

        threads = [threading.Thread(target=work) for _ in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        stats = client.stats
    assert results == [sb.credentials.user.id] * 16
    token_calls = [r for r in log_since(sb, mark) if r["path"] == "/oauth/token"]
    assert len(token_calls) == 1
    assert stats["sessions"] >= 16 and stats["sessions_shared"] == 0
