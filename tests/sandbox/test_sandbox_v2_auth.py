"""API v2 authentication over real HTTP: the token endpoint, JWTs, scopes, 401/403 bodies.

The private key printed by the sandbox gets HS256 JWTs at ``/oauth2/v2/token`` (client
credentials only, 30 minutes by default), with bundles expanded, ``x.manage`` implying
``x.read``, and the scopes bounded by the key's permissions.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from _support.sandbox import api_error, bearer, partner_token, v2_error, v2_token

from dmtools.sandbox import Sandbox

TOKEN = "/oauth2/v2/token"
EVERY_SCOPE = {
    f"{a}.{lvl}"
    for a in (
        "account",
        "profile",
        "video",
        "playlist",
        "player",
        "live",
        "analytics",
        "organization",
    )
    for lvl in ("read", "manage")
}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=20, seed=3, archive_videos=20) as sandbox:
        yield sandbox


def _form(sb: Sandbox, **values: str | None) -> dict[str, str]:
    key = sb.credentials.private_key
    form = {
        "grant_type": "client_credentials",
        "client_id": key.client_id,
        "client_secret": key.client_secret,
        "scope": "video.read",
    }
    form.update(values)  # type: ignore[arg-type]
    return {k: v for k, v in form.items() if v is not None}


def _claims(token: str) -> dict[str, Any]:
    """The JWT payload, decoded the way client scripts do it (no library, no check)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_the_private_key_gets_a_30_minute_hs256_jwt(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(sb.url + TOKEN, data=_form(sb, scope="video.manage account.read"))
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}  # no refresh
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    claims = _claims(body["access_token"])
    assert claims["sub"] == sb.credentials.private_key.profiles[0]
    assert claims["client_id"] == sb.credentials.private_key.client_id
    assert claims["scope"] == body["scope"] == "account.read video.manage video.read"
    assert claims["exp"] - claims["iat"] == 1800 and claims["jti"]


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        ("bundle.public", {"playlist.read", "profile.read", "video.read"}),
        (
            "bundle.user",
            {"playlist.read", "profile.read", "video.read"}
            | {
                f"{a}.{lvl}"
                for a in ("account", "live", "playlist", "profile", "video")
                for lvl in ("read", "manage")
            },
        ),
        ("bundle.organization", EVERY_SCOPE),
        ("video.manage", {"video.manage", "video.read"}),
        ("player.manage profile.read", {"player.manage", "player.read", "profile.read"}),
    ],
)
def test_bundles_expand_and_manage_implies_read(
    sb: Sandbox, http: requests.Session, asked: str, granted: set[str]
) -> None:
    body = v2_token(sb, asked, session=http)
    assert set(body["scope"].split()) == granted
    assert set(_claims(body["access_token"])["scope"].split()) == granted


def test_publisher_bundle_holds_analytics_and_players_but_not_the_organisation(
    sb: Sandbox, http: requests.Session
) -> None:
    scopes = set(v2_token(sb, "bundle.publisher", session=http)["scope"].split())
    assert {"analytics.manage", "player.manage", "video.manage", "account.manage"} <= scopes
    assert "organization.manage" not in scopes


def test_a_request_without_scope_carries_the_key_permissions(
    sb: Sandbox, http: requests.Session
) -> None:
    assert set(v2_token(sb, None, session=http)["scope"].split()) == EVERY_SCOPE
    read_only = sb.credentials.other_private_keys[0]
    body = v2_token(sb, None, key=read_only, session=http)
    assert set(body["scope"].split()) == {
        "playlist.read",
        "profile.read",
        "video.read",
        "account.read",
    }


def test_scopes_are_bounded_by_the_key_permissions(sb: Sandbox, http: requests.Session) -> None:
    read_only = sb.credentials.other_private_keys[0]
    body = v2_token(sb, "video.manage account.read", key=read_only, session=http)
    assert body["scope"] == "account.read video.read"  # video.manage dropped, its read kept
    form = _form(sb, scope="organization.manage")
    form.update(client_id=read_only.client_id, client_secret=read_only.client_secret)
    refused = http.post(sb.url + TOKEN, data=form)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"grant_type": None}, 400, "invalid_request"),
        ({"client_id": None}, 400, "invalid_request"),
        ({"client_secret": None}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
        ({"grant_type": "refresh_token"}, 400, "unsupported_grant_type"),
        ({"grant_type": "magic"}, 400, "unsupported_grant_type"),
        ({"scope": "video.read videos.everything"}, 400, "invalid_scope"),
        ({"scope": "manage_videos"}, 400, "invalid_scope"),
        ({"client_secret": "emu_xs_wrong"}, 401, "invalid_client"),
        ({"client_id": "emu_xk_unknown"}, 401, "invalid_client"),
    ],
)
def test_token_errors_use_the_oauth_body(
    sb: Sandbox, http: requests.Session, change: dict[str, str | None], status: int, error: str
) -> None:
    response = http.post(sb.url + TOKEN, data=_form(sb, **change))
    assert response.status_code == status, response.text
    assert response.json().keys() == {"error", "error_description"}
    assert response.json()["error"] == error and response.json()["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_public_key_and_a_get_are_refused(sb: Sandbox, http: requests.Session) -> None:
    public = sb.credentials.public_key
    form = _form(sb, client_id=public.client_id, client_secret=public.client_secret)
    response = http.post(sb.url + TOKEN, data=form)
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")
    response = http.get(sb.url + TOKEN, params={"grant_type": "client_credentials"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_http_basic_client_authentication_works(sb: Sandbox, http: requests.Session) -> None:
    key = sb.credentials.private_key
    response = http.post(
        sb.url + TOKEN,
        data={"grant_type": "client_credentials", "scope": "account.read"},
        auth=(key.client_id, key.client_secret),
    )
    assert response.status_code == 200, response.text
    assert http.get(sb.url + "/v2/me", headers=bearer(response.json())).status_code == 200


def test_the_lifetime_is_a_setting(sb: Sandbox, http: requests.Session) -> None:
    sb.settings(v2_token_lifetime=90)
    try:
        body = v2_token(sb, "account.read", session=http)
        claims = _claims(body["access_token"])
        assert body["expires_in"] == 90 and claims["exp"] - claims["iat"] == 90
        sb.settings(v2_token_lifetime=0)
        dead = v2_token(sb, "account.read", session=http)
        error = v2_error(http.get(sb.url + "/v2/me", headers=bearer(dead)), "UNAUTHENTICATED")
        assert error["details"] == {"reason": "expired_token"}
        assert sb.settings()["token_lifetime"] == 36000  # the legacy lifetime is its own
    finally:
        sb.settings(v2_token_lifetime=1800)


def test_401_bodies_say_why(sb: Sandbox, http: requests.Session) -> None:
    missing = http.get(sb.url + "/v2/me")
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    assert v2_error(missing, "UNAUTHENTICATED")["details"] == {"reason": "missing_token"}
    token = v2_token(sb, "account.read", session=http)["access_token"]
    head, payload, signature = token.split(".")
    claims = _claims(token)
    forged_payload = base64.urlsafe_b64encode(
        json.dumps({**claims, "scope": "organization.manage"}).encode()
    ).rstrip(b"=")
    forged_key = jwt.encode(claims, "not the sandbox secret " * 4, algorithm="HS256")
    for bad in (
        "garbage",
        f"{head}.{forged_payload.decode()}.{signature}",
        forged_key,
        jwt.encode({**claims, "jti": "other"}, "x" * 32, algorithm="HS256"),
    ):
        response = http.get(sb.url + "/v2/me", headers=bearer(bad))
        assert response.status_code == 401, bad
        assert v2_error(response, "UNAUTHENTICATED")["details"] == {"reason": "invalid_token"}
    basic = http.get(sb.url + "/v2/me", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401


def test_expiring_every_token_reaches_v2_tokens(sb: Sandbox, http: requests.Session) -> None:
    token = v2_token(sb, "account.read", session=http)
    assert http.get(sb.url + "/v2/me", headers=bearer(token)).status_code == 200
    sb.expire_tokens()
    response = http.get(sb.url + "/v2/me", headers=bearer(token))
    assert v2_error(response, "UNAUTHENTICATED")["details"]["reason"] == "expired_token"
    fresh = v2_token(sb, "account.read", session=http)
    assert http.get(sb.url + "/v2/me", headers=bearer(fresh)).status_code == 200


def test_tokens_stay_with_their_api(sb: Sandbox, http: requests.Session) -> None:
    legacy = partner_token(sb, session=http)
    response = http.get(sb.url + "/v2/me", headers=bearer(legacy))
    assert v2_error(response, "UNAUTHENTICATED")["details"]["reason"] == "invalid_token"
    v2 = v2_token(sb, session=http)
    response = http.get(sb.url + "/rest/me", headers=bearer(v2))
    assert response.status_code == 401 and api_error(response)["type"] == "invalid_token"
    # the same key works on both, each with its own token
    assert http.get(sb.url + "/rest/me", headers=bearer(legacy)).status_code == 200
    assert http.get(sb.url + "/v2/me", headers=bearer(v2)).status_code == 200


def test_fetching_many_tokens_revokes_none(sb: Sandbox, http: requests.Session) -> None:
    tokens = [v2_token(sb, "account.read", session=http)["access_token"] for _ in range(25)]
    assert len(set(tokens)) == 25
    assert all(http.get(sb.url + "/v2/me", headers=bearer(t)).status_code == 200 for t in tokens)


@pytest.mark.parametrize(
    ("scope", "method", "path", "needed"),
    [
        ("video.read", "GET", "/v2/me", "account.read"),
        ("account.read", "GET", "/v2/profiles/{profile}", "profile.read"),
        ("account.read", "GET", "/v2/profiles/{profile}/videos", "video.read"),
        ("video.read", "POST", "/v2/files/upload_sessions", "video.manage"),
        ("video.read", "PATCH", "/v2/videos/{video}", "video.manage"),
        ("video.read", "DELETE", "/v2/videos/{video}", "video.manage"),
        ("video.read", "POST", "/v2/profiles/{profile}/videos", "video.manage"),
    ],
)
def test_a_missing_scope_is_403_naming_it(
    sb: Sandbox, http: requests.Session, scope: str, method: str, path: str, needed: str
) -> None:
    profile = sb.credentials.private_key.profiles[0]
    video = sb.add_videos(1, owner=profile)[0]
    token = v2_token(sb, scope, session=http)
    url = sb.url + path.format(profile=profile, video=video)
    response = http.request(method, url, headers=bearer(token), json={"title": "x"})
    assert response.status_code == 403, response.text
    assert v2_error(response, "MISSING_PERMISSIONS")["details"]["required_scope"] == needed
    assert (sb.get_video(video) or {}).get("title") != "x"
