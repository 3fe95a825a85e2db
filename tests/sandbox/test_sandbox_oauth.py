"""OAuth behaviour of the sandbox: grants, key/endpoint pairing, token checks, scopes."""

from __future__ import annotations

import base64

import requests
from _support.sandbox import api_error, bearer, partner_token, password_token

from dmtools.sandbox import Sandbox


def _public_form(sb: Sandbox, **values: str) -> dict[str, str]:
    key = sb.credentials.public_key
    return {"client_id": key.client_id, "client_secret": key.client_secret, **values}


#: The keys of every token response (clients index all of them).
TOKEN_KEYS = {"access_token", "token_type", "expires_in", "refresh_token", "scope", "uid"}


def test_password_grant_returns_documented_token_json(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(
        sb.url + "/oauth/token",
        data=_public_form(
            sb,
            grant_type="password",
            username="demo",
            password=sb.credentials.user.password,
            scope="manage_videos email",
        ),
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == TOKEN_KEYS
    assert body["token_type"] == "Bearer" and body["expires_in"] == 36000
    assert body["scope"] == "manage_videos email"
    assert body["uid"] == sb.credentials.user.id
    assert body["access_token"].startswith("emu_") and body["refresh_token"].startswith("emu_")


def test_client_credentials_on_partner_endpoint_has_a_null_refresh_token(sb: Sandbox) -> None:
    body = partner_token(sb)
    assert set(body) == TOKEN_KEYS
    assert body["refresh_token"] is None  # client_credentials has no refresh token
    key = sb.credentials.private_key
    for path in ("/oauth/v1/token", "/rest/oauth/v1/token"):  # both spellings of the endpoint
        again = requests.post(
            sb.url + path,
            timeout=10,
            data={
                "grant_type": "client_credentials",
                "client_id": key.client_id,
                "client_secret": key.client_secret,
                "scope": "read_videos",
            },
        )
        assert again.status_code == 200 and again.json()["refresh_token"] is None
    assert body["scope"] == "read_videos edit_videos delete_videos upload_videos"
    assert body["uid"] == sb.credentials.private_key.channels[0]


def test_wrong_password_is_invalid_grant(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(
        sb.url + "/oauth/token",
        data=_public_form(sb, grant_type="password", username="demo", password="nope", scope=""),
    )
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid credentials.",
    }


def test_bad_client_secret_is_invalid_client_401(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(
        sb.url + "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": sb.credentials.public_key.client_id,
            "client_secret": "emu_wrong",
            "username": "demo",
            "password": "x",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_private_key_on_public_endpoint_is_unauthorized_client(
    sb: Sandbox, http: requests.Session
) -> None:
    key = sb.credentials.private_key
    response = http.post(
        sb.url + "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": key.client_id,
            "client_secret": key.client_secret,
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unauthorized_client"
    assert "/oauth/v1/token" in body["error_description"]


def test_public_key_on_partner_endpoint_is_unauthorized_client(
    sb: Sandbox, http: requests.Session
) -> None:
    response = http.post(
        sb.url + "/oauth/v1/token", data=_public_form(sb, grant_type="client_credentials")
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unauthorized_client"
    assert "password" in body["error_description"]


def test_public_key_client_credentials_on_public_endpoint_is_refused(
    sb: Sandbox, http: requests.Session
) -> None:
    response = http.post(
        sb.url + "/oauth/token", data=_public_form(sb, grant_type="client_credentials")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert "private API keys" in response.json()["error_description"]


def test_unknown_grant_and_missing_grant(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(sb.url + "/oauth/token", data=_public_form(sb, grant_type="magic"))
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")
    response = http.post(sb.url + "/oauth/token", data=_public_form(sb))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_unknown_scope_is_invalid_scope(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(
        sb.url + "/oauth/token",
        data=_public_form(
            sb,
            grant_type="password",
            username="demo",
            password=sb.credentials.user.password,
            scope="manage_everything",
        ),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "manage_everything" in response.json()["error_description"]


def test_basic_and_body_credentials_together_is_invalid_request(
    sb: Sandbox, http: requests.Session
) -> None:
    key = sb.credentials.public_key
    basic = base64.b64encode(f"{key.client_id}:{key.client_secret}".encode()).decode()
    response = http.post(
        sb.url + "/oauth/token",
        headers={"Authorization": "Basic " + basic},
        data=_public_form(
            sb,
            grant_type="password",
            username="demo",
            password=sb.credentials.user.password,
        ),
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_basic_alone_is_accepted(sb: Sandbox, http: requests.Session) -> None:
    key = sb.credentials.public_key
    response = http.post(
        sb.url + "/oauth/token",
        auth=(key.client_id, key.client_secret),
        data={
            "grant_type": "password",
            "username": "demo",
            "password": sb.credentials.user.password,
        },
    )
    assert response.status_code == 200, response.text


def test_stray_bearer_header_on_token_endpoint_is_ignored(
    sb: Sandbox, http: requests.Session
) -> None:
    response = http.post(
        sb.url + "/oauth/token",
        headers=bearer("emu_at_stale"),
        data=_public_form(
            sb,
            grant_type="password",
            username="demo",
            password=sb.credentials.user.password,
        ),
    )
    assert response.status_code == 200


def test_refresh_returns_new_tokens_and_old_refresh_token_stays_valid(
    sb: Sandbox, http: requests.Session
) -> None:
    first = password_token(sb)
    form = _public_form(sb, grant_type="refresh_token", refresh_token=first["refresh_token"])
    second = http.post(sb.url + "/oauth/token", data=form)
    assert second.status_code == 200
    assert second.headers["Cache-Control"] == "no-store"
    renewed = second.json()
    assert renewed["access_token"] != first["access_token"]
    assert renewed["refresh_token"] != first["refresh_token"]
    assert renewed["scope"] == first["scope"]
    again = http.post(sb.url + "/oauth/token", data=form)
    assert again.status_code == 200
    assert http.get(sb.url + "/me", headers=bearer(renewed)).status_code == 200


def test_refresh_cannot_widen_scope(sb: Sandbox, http: requests.Session) -> None:
    first = password_token(sb, scope="email")
    response = http.post(
        sb.url + "/oauth/token",
        data=_public_form(
            sb,
            grant_type="refresh_token",
            refresh_token=first["refresh_token"],
            scope="email manage_videos",
        ),
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


def test_bad_refresh_token_is_invalid_grant(sb: Sandbox, http: requests.Session) -> None:
    response = http.post(
        sb.url + "/oauth/token",
        data=_public_form(sb, grant_type="refresh_token", refresh_token="emu_rt_unknown"),
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid refresh token.",
    }


def test_rotation_reuse_revokes_the_family() -> None:
    with Sandbox(videos=10, rotate_refresh_tokens=True) as sb, requests.Session() as http:
        first = password_token(sb)
        form = _public_form(sb, grant_type="refresh_token", refresh_token=first["refresh_token"])
        second = http.post(sb.url + "/oauth/token", data=form).json()
        reuse = http.post(sb.url + "/oauth/token", data=form)
        assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")
        # the whole family is gone: the newest tokens too
        assert http.get(sb.url + "/me", headers=bearer(second)).status_code == 401
        newest = http.post(
            sb.url + "/oauth/token",
            data=_public_form(
                sb, grant_type="refresh_token", refresh_token=second["refresh_token"]
            ),
        )
        assert newest.status_code == 400


def test_expired_token_gets_401_with_www_authenticate(http: requests.Session) -> None:
    with Sandbox(videos=10) as sb:
        token = password_token(sb)
        assert http.get(sb.url + "/me", headers=bearer(token)).status_code == 200
        sb.expire_tokens()
        response = http.get(sb.url + "/me", headers=bearer(token))
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == (
            'Bearer error="invalid_token", error_description="The access token has expired."'
        )
        error = api_error(response)
        assert error["type"] == "invalid_token"
        refreshed = http.post(
            sb.url + "/oauth/token",
            data=_public_form(sb, grant_type="refresh_token", refresh_token=token["refresh_token"]),
        )
        assert http.get(sb.url + "/me", headers=bearer(refreshed.json())).status_code == 200


def test_token_lifetime_is_settable(http: requests.Session) -> None:
    with Sandbox(videos=10, token_lifetime=120) as sb:
        assert password_token(sb)["expires_in"] == 120
        sb.set_token_lifetime(5)
        assert password_token(sb)["expires_in"] == 5


def test_unknown_token_is_401(sb: Sandbox, http: requests.Session) -> None:
    response = http.get(sb.url + "/me", headers=bearer("emu_at_forged"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_in_access_token_query_parameter_is_accepted(
    sb: Sandbox, http: requests.Session
) -> None:
    token = password_token(sb)
    response = http.get(sb.url + "/auth", params={"access_token": token["access_token"]})
    assert response.json()["username"] == "demo"


def test_missing_token_on_write_is_403_naming_the_scope(
    sb: Sandbox, http: requests.Session
) -> None:
    xid = http.get(sb.url + "/videos").json()["list"][0]["id"]
    response = http.post(sb.url + f"/video/{xid}", data={"title": "x"})
    assert response.status_code == 403
    error = api_error(response)
    assert error["type"] == "access_forbidden"
    assert f"POST /video/{xid}" in error["message"] and "manage_videos" in error["message"]
    assert error["error_data"]["scope"] == "manage_videos"


def test_token_without_manage_videos_cannot_write(sb: Sandbox, http: requests.Session) -> None:
    token = password_token(sb, scope="email")
    xid = http.get(sb.url + "/me/videos", headers=bearer(token)).json()["list"][0]["id"]
    response = http.post(sb.url + f"/video/{xid}", headers=bearer(token), data={"title": "x"})
    assert response.status_code == 403
    assert api_error(response)["error_data"]["scope"] == "manage_videos"


def test_private_key_scopes_are_per_operation(sb: Sandbox, http: requests.Session) -> None:
    token = partner_token(sb, scope="read_videos")
    channel = sb.credentials.private_key.channels[0]
    listing = http.get(sb.url + f"/rest/user/{channel}/videos", headers=bearer(token))
    assert listing.status_code == 200
    xid = listing.json()["list"][0]["id"]
    response = http.post(sb.url + f"/rest/video/{xid}", headers=bearer(token), data={"title": "x"})
    assert response.status_code == 403
    assert api_error(response)["error_data"]["scope"] == "edit_videos"
    response = http.delete(sb.url + f"/rest/video/{xid}", headers=bearer(token))
    assert api_error(response)["error_data"]["scope"] == "delete_videos"


def test_private_key_is_limited_to_its_channels(sb: Sandbox, http: requests.Session) -> None:
    token = partner_token(sb, scope="manage_videos")
    demo_video = http.get(sb.url + f"/user/{sb.credentials.user.id}/videos").json()
    xid = demo_video["list"][0]["id"]
    response = http.post(
        sb.url + f"/rest/video/{xid}", headers=bearer(token), data={"title": "not yours"}
    )
    assert response.status_code == 403
    assert "organisation" in api_error(response)["message"]


def test_tokens_are_bound_to_their_host(sb: Sandbox, http: requests.Session) -> None:
    token = partner_token(sb)
    assert http.get(sb.url + "/rest/auth", headers=bearer(token)).status_code == 200
    assert http.get(sb.url + "/auth", headers=bearer(token)).status_code == 403
    public = password_token(sb)
    assert http.get(sb.url + "/rest/me", headers=bearer(public)).status_code == 403


def test_logout_revokes_the_session(sb: Sandbox, http: requests.Session) -> None:
    token = password_token(sb)
    response = http.get(sb.url + "/logout", headers=bearer(token))
    assert (response.status_code, response.json()) == (200, {})
    assert http.get(sb.url + "/me", headers=bearer(token)).status_code == 401
    refresh = http.post(
        sb.url + "/oauth/token",
        data=_public_form(sb, grant_type="refresh_token", refresh_token=token["refresh_token"]),
    )
    assert refresh.status_code == 400


def test_auth_describes_the_token(sb: Sandbox, http: requests.Session) -> None:
    token = password_token(sb, scope="manage_videos email")
    info = http.get(sb.url + "/auth", headers=bearer(token)).json()
    assert info["username"] == "demo"
    assert info["client_id"] == sb.credentials.public_key.client_id
    assert set(info["scope"]) == {"manage_videos", "email"}
    partner = http.get(sb.url + "/rest/auth", headers=bearer(partner_token(sb))).json()
    assert partner["channels"] == list(sb.credentials.private_key.channels)
