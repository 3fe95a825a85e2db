"""TokenManager against the sandbox: expiry leeway, single-flight renewal, 401 handling,
refresh-token rotation and persistence (S-09, S-10, S-11)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from _support.auth import Clock, Recorder, last_seq, token_posts
from _support.sandbox import demo_manager

from dmtools.auth import FileTokenStore, MemoryTokenStore, Token, TokenManager, create_token_manager
from dmtools.errors import LoginRequired
from dmtools.sandbox import Sandbox
from dmtools.secrets import Secret


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=5) as sandbox:
        yield sandbox


def partner_manager(sb: Sandbox, **kwargs: Any) -> TokenManager:
    c = sb.credentials
    return create_token_manager(
        "client_credentials",
        client_id=c.private_key.client_id,
        client_secret=c.private_key.client_secret,
        scope=["read_videos"],
        endpoints=sb.endpoints,
        **kwargs,
    )


def me_status(sb: Sandbox, token: str) -> int:
    with requests.Session() as session:
        session.trust_env = False
        return session.get(
            sb.url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).status_code


def together(n: int, call: Callable[[], str]) -> list[str]:
    """Run ``call`` in ``n`` threads released at the same moment; their results."""
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait(timeout=10)
        value = call()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_renewal_happens_inside_the_leeway_and_not_before(sb: Sandbox) -> None:
    clock = Clock()
    recorder = Recorder()
    manager = demo_manager(sb, clock=clock, session_factory=recorder)
    first = manager.access_token()
    assert manager.expires_at is not None and manager.leeway == 60.0
    clock.now = manager.expires_at - 61
    assert manager.access_token() == first
    clock.now = manager.expires_at - 59
    second = manager.access_token()
    assert second != first and recorder.grants() == ["password", "refresh_token"]
    assert me_status(sb, second) == 200


def test_expires_at_counts_from_just_before_the_request(sb: Sandbox) -> None:
    clock = Clock()
    start = clock.now
    manager = demo_manager(sb, clock=clock)
    assert manager.expires_at == pytest.approx(start + 36000)


def test_a_wall_clock_jump_renews_before_the_next_call(sb: Sandbox) -> None:
    clock = Clock()
    recorder = Recorder()
    manager = demo_manager(sb, clock=clock, session_factory=recorder)
    first = manager.access_token()
    clock.advance(36000 + 2 * 3600)  # laptop asleep past expiry
    assert manager.access_token() != first
    assert recorder.grants() == ["password", "refresh_token"]


def test_client_credentials_fetch_again_and_never_refresh(sb: Sandbox) -> None:
    clock = Clock()
    recorder = Recorder()
    manager = partner_manager(sb, clock=clock, session_factory=recorder)
    first = manager.access_token()
    clock.advance(36000)
    assert manager.access_token() != first
    assert recorder.grants() == ["client_credentials", "client_credentials"]
    assert manager.token is not None and manager.token.refresh_token is None


def test_sixteen_threads_on_an_expired_token_send_one_token_request(sb: Sandbox) -> None:
    clock = Clock()
    manager = demo_manager(sb, clock=clock)
    old = manager.access_token()
    clock.advance(36000)
    mark = last_seq(sb)
    tokens = together(16, manager.access_token)
    assert len(token_posts(sb.request_log(since=mark))) == 1
    assert len(set(tokens)) == 1 and tokens[0] != old


def test_sixteen_threads_after_a_401_send_one_token_request(sb: Sandbox) -> None:
    manager = demo_manager(sb)
    old = manager.access_token()
    sb.expire_tokens()
    assert me_status(sb, old) == 401
    mark = last_seq(sb)
    tokens = together(16, lambda: manager.handle_unauthorized(old))
    assert len(token_posts(sb.request_log(since=mark))) == 1
    assert len(set(tokens)) == 1 and tokens[0] != old
    assert me_status(sb, tokens[0]) == 200


def test_a_401_for_an_already_replaced_token_sends_no_token_request(sb: Sandbox) -> None:
    manager = demo_manager(sb)
    old = manager.access_token()
    manager.refresh()
    mark = last_seq(sb)
    assert manager.handle_unauthorized(old) == manager.access_token() != old
    assert token_posts(sb.request_log(since=mark)) == []


def test_the_newest_refresh_token_is_kept_and_persisted_before_use(
    sb: Sandbox, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    manager = demo_manager(sb, token_store=store)
    assert manager.token is not None
    old_refresh = manager.token.refresh_token
    manager.refresh()
    assert manager.token.refresh_token is not None and manager.token.refresh_token != old_refresh
    [stored] = [FileTokenStore(tmp_path / "tokens.json").load(k) for k in _keys(tmp_path)]
    assert stored == manager.token


def _keys(tmp_path: Path) -> list[str]:
    import json

    return list(json.loads((tmp_path / "tokens.json").read_text())["tokens"])


def test_the_old_refresh_token_is_kept_when_none_is_returned() -> None:
    old = Secret("refresh-old-1")
    new = Token(access_token=Secret("access-new-1"), grant="password")
    assert new.with_refresh_token(old).refresh_token is old
    rotated = Token(access_token=Secret("access-new-2"), refresh_token=Secret("refresh-new-2"))
    assert rotated.with_refresh_token(old) is rotated


def test_a_revoked_session_clears_the_tokens_and_asks_for_a_new_login(sb: Sandbox) -> None:
    store = MemoryTokenStore()
    manager = demo_manager(sb, token_store=store)
    with requests.Session() as session:  # /logout revokes the access and refresh tokens
        session.trust_env = False
        session.get(
            sb.url + "/logout",
            timeout=10,
            headers={"Authorization": f"Bearer {manager.access_token()}"},
        )
    with pytest.raises(LoginRequired, match="log in again"):
        manager.handle_unauthorized(manager.access_token())
    assert manager.token is None and manager.scopes == ()
    assert all(store.load(k) is None for k in list(store._tokens))
    mark = last_seq(sb)
    with pytest.raises(LoginRequired, match="log in again"):
        manager.access_token()
    assert token_posts(sb.request_log(since=mark)) == []


def test_rotating_refresh_tokens_survive_many_concurrent_renewals() -> None:
    with Sandbox(videos=1, rotate_refresh_tokens=True) as sandbox:
        manager = demo_manager(sandbox)
        failures: list[BaseException] = []

        def renew_cycle() -> str:
            for _ in range(25):
                try:
                    token = manager.access_token()
                    manager.handle_unauthorized(token)
                except BaseException as exc:
                    failures.append(exc)
            return manager.access_token()

        together(8, renew_cycle)
        assert failures == []
        assert me_status(sandbox, manager.access_token()) == 200


def test_a_stored_session_is_reused_without_credentials(sb: Sandbox, tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    first = demo_manager(sb, token_store=store)
    mark = last_seq(sb)
    again = demo_manager(sb, token_store=FileTokenStore(tmp_path / "tokens.json"))
    assert token_posts(sb.request_log(since=mark)) == []
    assert again.access_token() == first.access_token()


def test_an_expired_stored_session_is_refreshed_not_logged_in_again(
    sb: Sandbox, tmp_path: Path
) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path / "tokens.json")
    demo_manager(sb, token_store=store, clock=clock)
    clock.advance(36000)
    recorder = Recorder()
    again = demo_manager(sb, token_store=store, clock=clock, session_factory=recorder)
    assert recorder.grants() == ["refresh_token"]
    assert me_status(sb, again.access_token()) == 200


def test_sandbox_and_real_sessions_never_share_a_stored_token(sb: Sandbox) -> None:
    store = MemoryTokenStore()
    demo_manager(sb, token_store=store)
    with Sandbox(videos=1) as other:
        mark = last_seq(other)
        demo_manager(other, token_store=store)
        assert len(token_posts(other.request_log(since=mark))) == 1
    assert len(store._tokens) == 2


def test_the_repr_names_the_session_and_hides_the_tokens(sb: Sandbox) -> None:
    manager = demo_manager(sb)
    assert manager.token is not None
    text = repr(manager) + repr(manager.token)
    assert manager.access_token() not in text
    assert manager.token.refresh_token is not None
    assert manager.token.refresh_token.reveal() not in text
    assert "grant='password'" in text and sb.endpoints.host_key in text
