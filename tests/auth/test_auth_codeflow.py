"""The authorization-code grant: state, PKCE, paste flow and local listener (S-01..S-04)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from _support.auth import Clock, Recorder, consent, last_seq, query, token_posts

from dmtools.auth import (
    AccessDenied,
    AuthorizationCodeFlow,
    LoginTimeout,
    StateMismatch,
    Token,
    TokenEndpoint,
    create_token_manager,
    pkce_pair,
)
from dmtools.auth.codeflow import new_state
from dmtools.config import Endpoints
from dmtools.errors import InputError, InsecureTransportError, LoginRequired
from dmtools.sandbox import Sandbox
from dmtools.secrets import Secret

VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=5, pkce_required=True) as sandbox:
        yield sandbox


def make_flow(sb: Sandbox, **kwargs: Any) -> AuthorizationCodeFlow:
    key = sb.credentials.public_key
    options: dict[str, Any] = {
        "redirect_uri": key.redirect_uri,
        "scope": ["manage_videos"],
        "endpoints": sb.endpoints,
        **kwargs,
    }
    return AuthorizationCodeFlow(key.client_id, key.client_secret, **options)


def allow(sb: Sandbox, url: str, action: str = "allow") -> str:
    return consent(url, sb.credentials.user.username, sb.credentials.user.password, action)


def browse(url: str) -> requests.Response:
    with requests.Session() as browser:
        browser.trust_env = False
        return browser.get(url, timeout=10)


def test_pkce_matches_the_rfc_7636_appendix_b_vector() -> None:
    verifier, challenge = pkce_pair("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_fresh_pkce_verifiers_are_long_unreserved_and_distinct() -> None:
    pairs = [pkce_pair() for _ in range(50)]
    assert all(len(v) == 128 and VERIFIER.match(v) for v, _ in pairs)
    assert len({v for v, _ in pairs}) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", c) for _, c in pairs)


def test_states_are_256_bit_and_unique() -> None:
    states = [new_state() for _ in range(10_000)]
    assert len(set(states)) == 10_000
    assert all(len(s) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in states)


def test_the_authorization_url_carries_state_and_an_s256_challenge(sb: Sandbox) -> None:
    flow = make_flow(sb)
    first, second = query(flow.authorization_url()), query(flow.authorization_url())
    assert first["response_type"] == "code"
    assert first["client_id"] == sb.credentials.public_key.client_id
    assert first["redirect_uri"] == sb.credentials.public_key.redirect_uri
    assert first["scope"] == "manage_videos"
    assert first["code_challenge_method"] == "S256" and len(first["code_challenge"]) == 43
    assert len(first["state"]) == 43
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]
    assert flow.authorization_url().startswith(sb.endpoints.authorize_url + "?")


def test_paste_flow_logs_in_with_the_same_redirect_uri_in_both_requests(sb: Sandbox) -> None:
    recorder = Recorder()
    flow = make_flow(sb, session_factory=recorder)
    url = flow.authorization_url()
    token = flow.complete(allow(sb, url))
    assert token.uid == sb.credentials.user.id and token.grant == "authorization_code"
    assert flow.token is token
    [sent] = recorder.sent
    assert sent.form["redirect_uri"] == query(url)["redirect_uri"]
    assert sent.form["grant_type"] == "authorization_code" and "code_verifier" in sent.form
    assert "Authorization" not in sent.headers and sent.allow_redirects is False


@pytest.mark.parametrize("tamper", ["missing", "empty", "other"])
def test_a_bad_state_is_refused_before_any_token_request(sb: Sandbox, tamper: str) -> None:
    flow = make_flow(sb)
    redirected = allow(sb, flow.authorization_url())
    params = query(redirected)
    if tamper == "missing":
        del params["state"]
    else:
        params["state"] = "" if tamper == "empty" else new_state()
    mark = last_seq(sb)
    with pytest.raises(StateMismatch):
        flow.complete(redirected.split("?")[0] + "?" + urlencode(params))
    assert token_posts(sb.request_log(since=mark)) == []


def test_a_login_older_than_ten_minutes_is_refused(sb: Sandbox) -> None:
    clock = Clock()
    flow = make_flow(sb, clock=clock)
    redirected = allow(sb, flow.authorization_url())
    clock.advance(601)
    mark = last_seq(sb)
    with pytest.raises(StateMismatch, match="10 minutes"):
        flow.complete(redirected)
    assert token_posts(sb.request_log(since=mark)) == []


def test_a_state_works_once_and_the_code_is_exchanged_once(sb: Sandbox) -> None:
    flow = make_flow(sb)
    redirected = allow(sb, flow.authorization_url())
    mark = last_seq(sb)
    flow.complete(redirected)
    with pytest.raises(StateMismatch, match="no login is in progress"):
        flow.complete(redirected)
    assert len(token_posts(sb.request_log(since=mark))) == 1


def test_a_reused_code_is_refused_by_the_server_as_login_required(sb: Sandbox) -> None:
    flow = make_flow(sb)
    redirected = allow(sb, flow.authorization_url())
    pending = flow._pending
    assert pending is not None
    flow.complete(redirected)
    key = sb.credentials.public_key
    endpoint = TokenEndpoint(
        client_id=key.client_id,
        client_secret=Secret(key.client_secret),
        endpoints=sb.endpoints,
        partner=False,
    )
    with pytest.raises(LoginRequired, match="start the login again"):
        endpoint.request(
            "authorization_code",
            code=Secret(query(redirected)["code"]),
            redirect_uri=pending.redirect_uri,
            code_verifier=pending.verifier,
        )


def test_a_refusal_on_the_consent_page_is_a_clear_error(sb: Sandbox) -> None:
    flow = make_flow(sb)
    redirected = allow(sb, flow.authorization_url(), action="deny")
    mark = last_seq(sb)
    with pytest.raises(AccessDenied, match="refused"):
        flow.complete(redirected)
    assert token_posts(sb.request_log(since=mark)) == []


def test_a_wrong_verifier_is_refused_by_the_server(sb: Sandbox) -> None:
    flow = make_flow(sb)
    redirected = allow(sb, flow.authorization_url())
    pending = flow._pending
    assert pending is not None
    flow._pending = type(pending)(
        pending.state, Secret(pkce_pair()[0]), pending.redirect_uri, pending.started
    )
    with pytest.raises(LoginRequired):
        flow.complete(redirected)


def test_local_listener_login_in_the_background_with_a_callback(sb: Sandbox) -> None:
    flow = make_flow(sb, redirect_uri=None)
    finished = threading.Event()
    results: list[tuple[Token | None, BaseException | None]] = []

    def on_done(token: Token | None, error: BaseException | None) -> None:
        results.append((token, error))
        finished.set()

    login = flow.start_local_server(timeout=20, callback=on_done)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", login.redirect_uri)
    assert query(login.url)["redirect_uri"] == login.redirect_uri
    redirected = allow(sb, login.url)
    assert redirected.startswith(login.redirect_uri + "?")
    page = browse(redirected)
    assert page.status_code == 200 and "Logged in" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert finished.wait(10)
    token = login.wait(1)
    assert results == [(token, None)] and token.uid == sb.credentials.user.id
    assert login.done()
    with pytest.raises(requests.ConnectionError):
        browse(redirected)


def test_local_listener_uses_the_registered_loopback_path(sb: Sandbox) -> None:
    flow = make_flow(sb)  # registered: http://127.0.0.1/callback (any port on loopback)
    login = flow.start_local_server(timeout=20)
    try:
        assert login.redirect_uri.endswith("/callback")
        assert login.redirect_uri != sb.credentials.public_key.redirect_uri
    finally:
        login.cancel()


def test_run_local_server_blocks_until_the_browser_comes_back(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    def user_in_browser(url: str) -> bool:
        threading.Thread(target=lambda: browse(allow(sb, url)), daemon=True).start()
        return True

    monkeypatch.setattr(webbrowser, "open", user_in_browser)
    token = make_flow(sb).run_local_server(open_browser=True, timeout=20)
    assert token.uid == sb.credentials.user.id


def test_local_listener_reports_a_refusal(sb: Sandbox) -> None:
    login = make_flow(sb).start_local_server(timeout=20)
    page = browse(allow(sb, login.url, action="deny"))
    assert page.status_code == 403 and "refused" in page.text
    with pytest.raises(AccessDenied):
        login.wait(10)


def test_local_listener_times_out_with_a_typed_error(sb: Sandbox) -> None:
    login = make_flow(sb).start_local_server(timeout=0.3)
    with pytest.raises(LoginTimeout):
        login.wait(10)


def test_a_completed_flow_opens_a_session_with_refresh(sb: Sandbox) -> None:
    flow = make_flow(sb)
    flow.complete(allow(sb, flow.authorization_url()))
    key = sb.credentials.public_key
    manager = create_token_manager(
        "authorization_code",
        client_id=key.client_id,
        client_secret=key.client_secret,
        code_flow=flow,
        scope=["manage_videos"],
    )
    assert manager.grant == "authorization_code" and manager.endpoints == sb.endpoints
    old = manager.access_token()
    manager.refresh()
    assert manager.access_token() != old


def test_a_flow_of_one_server_is_not_used_with_another(sb: Sandbox) -> None:
    flow = make_flow(sb)
    key = sb.credentials.public_key
    with pytest.raises(InputError, match="other endpoints"):
        create_token_manager(
            "authorization_code",
            client_id=key.client_id,
            client_secret=key.client_secret,
            code_flow=flow,
            endpoints=Endpoints.dailymotion(),
        )


def test_a_plain_http_redirect_uri_off_loopback_is_refused() -> None:
    with pytest.raises(InsecureTransportError):
        AuthorizationCodeFlow("key", "secret", redirect_uri="http://example.test/callback")


def test_the_flow_repr_hides_its_secrets(sb: Sandbox) -> None:
    flow = make_flow(sb)
    url = flow.authorization_url()
    assert query(url)["state"] not in repr(flow)
    assert sb.credentials.public_key.client_secret not in repr(flow)
