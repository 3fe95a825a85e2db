"""Authorization-code grant on the sandbox: consent page, redirects, state, PKCE, code rules."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from dmtools.sandbox import Sandbox


def _authorize_url(sb: Sandbox, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": sb.credentials.public_key.client_id,
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "scope": "manage_videos email",
        "state": "st-" + secrets.token_hex(4),
        **extra,
    }
    return sb.url + "/oauth/authorize?" + urlencode(params)


def _consent(
    http: requests.Session,
    url: str,
    action: str = "allow",
    password: str | None = None,
    username: str = "demo",
    sb: Sandbox | None = None,
) -> requests.Response:
    page = http.get(url)
    assert page.status_code == 200, page.text
    form = {
        unescape(k): unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    assert sb is not None
    form.update(username=username, password=password or sb.credentials.user.password, action=action)
    return http.post(sb.url + "/oauth/authorize", data=form, allow_redirects=False)


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _exchange(
    sb: Sandbox,
    http: requests.Session,
    code: str,
    redirect_uri: str = "http://127.0.0.1:8765/callback",
    **extra: str,
) -> requests.Response:
    key = sb.credentials.public_key
    return http.post(
        sb.url + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": key.client_id,
            "client_secret": key.client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
            **extra,
        },
    )


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def test_consent_page_is_a_self_contained_login_form(sb: Sandbox, http: requests.Session) -> None:
    page = http.get(_authorize_url(sb))
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in page.headers
    html = page.text
    assert 'name="username"' in html and 'type="password"' in html
    assert 'value="allow"' in html and 'value="deny"' in html
    assert "<li>manage_videos</li>" in html and "<li>email</li>" in html
    assert not re.search(r"(src|href)=\"https?://", html)  # no external resources


def test_allow_redirects_with_code_and_unchanged_state(sb: Sandbox, http: requests.Session) -> None:
    url = _authorize_url(sb, state="a b&c=d/é")
    answer = _consent(http, url, sb=sb)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith("http://127.0.0.1:8765/callback?")
    params = _query(location)
    assert params["state"] == "a b&c=d/é" and params["code"].startswith("emu_")
    token = _exchange(sb, http, params["code"])
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["scope"] == "manage_videos email" and "refresh_token" in body
    assert token.headers["Cache-Control"] == "no-store"
    me = http.get(sb.url + "/me", headers={"Authorization": "Bearer " + body["access_token"]})
    assert me.json()["username"] == "demo"


def test_deny_redirects_with_access_denied_and_state(sb: Sandbox, http: requests.Session) -> None:
    answer = _consent(http, _authorize_url(sb, state="keep-me"), action="deny", sb=sb)
    params = _query(answer.headers["Location"])
    assert params["error"] == "access_denied" and params["state"] == "keep-me"
    assert "code" not in params


def test_wrong_password_shows_the_form_again(sb: Sandbox, http: requests.Session) -> None:
    answer = _consent(http, _authorize_url(sb), password="wrong", sb=sb)
    assert answer.status_code == 401
    assert "Invalid username or password" in answer.text and "Location" not in answer.headers


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil.example/callback",
        "http://127.0.0.1:8765/other",
        "https://127.0.0.1/callback",
        "http://127.0.0.1.evil.example/callback",
        "",
    ],
)
def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
    sb: Sandbox, http: requests.Session, redirect_uri: str
) -> None:
    page = http.get(_authorize_url(sb, redirect_uri=redirect_uri), allow_redirects=False)
    assert page.status_code == 400
    assert "Location" not in page.headers and "redirect_uri" in page.text


def test_loopback_redirect_accepts_any_port(sb: Sandbox, http: requests.Session) -> None:
    for port in ("", ":1", ":65000"):
        url = _authorize_url(sb, redirect_uri=f"http://127.0.0.1{port}/callback")
        assert http.get(url).status_code == 200


def test_unknown_client_gets_error_page(sb: Sandbox, http: requests.Session) -> None:
    page = http.get(_authorize_url(sb, client_id="emu_pk_nobody"))
    assert page.status_code == 400 and "Location" not in page.headers


def test_code_is_single_use_and_replay_revokes_tokens(sb: Sandbox, http: requests.Session) -> None:
    code = _query(_consent(http, _authorize_url(sb), sb=sb).headers["Location"])["code"]
    first = _exchange(sb, http, code)
    assert first.status_code == 200
    second = _exchange(sb, http, code)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    me = http.get(
        sb.url + "/me", headers={"Authorization": "Bearer " + first.json()["access_token"]}
    )
    assert me.status_code == 401


def test_code_is_bound_to_redirect_uri_and_client(sb: Sandbox, http: requests.Session) -> None:
    code = _query(_consent(http, _authorize_url(sb), sb=sb).headers["Location"])["code"]
    wrong = _exchange(sb, http, code, redirect_uri="http://127.0.0.1:9999/callback")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = _query(_consent(http, _authorize_url(sb), sb=sb).headers["Location"])["code"]
    other = sb.credentials.other_public_keys[0]
    response = http.post(
        sb.url + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": other.client_id,
            "client_secret": other.client_secret,
            "code": code,
            "redirect_uri": "http://127.0.0.1:8765/callback",
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_pkce_s256_is_verified(sb: Sandbox, http: requests.Session) -> None:
    verifier, challenge = _pkce()
    url = _authorize_url(sb, code_challenge=challenge, code_challenge_method="S256")
    code = _query(_consent(http, url, sb=sb).headers["Location"])["code"]
    bad = _exchange(sb, http, code, code_verifier="not-the-verifier-" + "x" * 40)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    code = _query(_consent(http, url, sb=sb).headers["Location"])["code"]
    assert _exchange(sb, http, code).status_code == 400  # verifier missing
    code = _query(_consent(http, url, sb=sb).headers["Location"])["code"]
    assert _exchange(sb, http, code, code_verifier=verifier).status_code == 200


def test_a_code_issued_without_pkce_is_refused_when_a_verifier_is_presented(
    sb: Sandbox, http: requests.Session
) -> None:
    """RFC 9700 (PKCE downgrade): a verifier for a code that had no challenge is refused."""
    code = _query(_consent(http, _authorize_url(sb), sb=sb).headers["Location"])["code"]
    verifier, _ = _pkce()
    refused = _exchange(sb, http, code, code_verifier=verifier)
    assert refused.status_code == 400
    body = refused.json()
    assert body["error"] == "invalid_grant" and "downgrade" in body["error_description"]
    assert "access_token" not in body
    # the code is spent: dropping the verifier afterwards does not help
    assert _exchange(sb, http, code).json()["error"] == "invalid_grant"
    # without a verifier (or with an empty one) a code without PKCE is still exchanged
    for extra in ({}, {"code_verifier": ""}):
        location = _consent(http, _authorize_url(sb), sb=sb).headers["Location"]
        assert _exchange(sb, http, _query(location)["code"], **extra).status_code == 200


def test_pkce_plain_is_refused(sb: Sandbox, http: requests.Session) -> None:
    answer = http.get(
        _authorize_url(sb, code_challenge="abc", code_challenge_method="plain", state="s1"),
        allow_redirects=False,
    )
    assert answer.status_code == 302
    params = _query(answer.headers["Location"])
    assert params["error"] == "invalid_request" and params["state"] == "s1"


def test_pkce_required_mode(http: requests.Session) -> None:
    with Sandbox(videos=5, pkce_required=True) as sb:
        answer = http.get(_authorize_url(sb), allow_redirects=False)
        assert _query(answer.headers["Location"])["error"] == "invalid_request"
        _, challenge = _pkce()
        assert (
            http.get(
                _authorize_url(sb, code_challenge=challenge, code_challenge_method="S256")
            ).status_code
            == 200
        )


def test_expired_code_is_refused(http: requests.Session) -> None:
    with Sandbox(videos=5) as sb:
        page = http.get(_authorize_url(sb))  # the form is valid for the code lifetime (600 s)
        form = {
            unescape(k): unescape(v)
            for k, v in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text
            )
        }
        sb.settings(code_lifetime=0)  # codes issued from now on are born expired
        form.update(username="demo", password=sb.credentials.user.password, action="allow")
        answer = http.post(sb.url + "/oauth/authorize", data=form, allow_redirects=False)
        code = _query(answer.headers["Location"])["code"]
        response = _exchange(sb, http, code)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
        assert "expired" in response.json()["error_description"]


def test_consent_form_cannot_be_replayed(sb: Sandbox, http: requests.Session) -> None:
    page = http.get(_authorize_url(sb))
    form = {
        unescape(k): unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    form.update(username="demo", password=sb.credentials.user.password, action="allow")
    first = http.post(sb.url + "/oauth/authorize", data=form, allow_redirects=False)
    second = http.post(sb.url + "/oauth/authorize", data=form, allow_redirects=False)
    assert first.status_code == 302 and second.status_code == 400
