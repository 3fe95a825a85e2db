"""Video routes of the sandbox: read with fields, edit, delete, validation, visibility."""

from __future__ import annotations

import pytest
import requests
from _support.sandbox import api_error, bearer, partner_token, password_token

from dmtools.sandbox import Sandbox


@pytest.fixture()
def token(sb: Sandbox) -> dict[str, str]:
    return bearer(password_token(sb))


def _own_video(sb: Sandbox, http: requests.Session, headers: dict[str, str], **filters: str) -> str:
    listing = http.get(sb.url + "/me/videos", headers=headers, params=filters).json()
    return str(listing["list"][0]["id"])


def test_get_video_default_fields(sb: Sandbox, http: requests.Session) -> None:
    item = http.get(sb.url + "/videos").json()["list"][0]
    response = http.get(sb.url + f"/video/{item['id']}")
    assert response.status_code == 200
    assert set(response.json()) == {"id", "title", "channel", "owner"}
    assert response.json()["id"].startswith("x")


def test_dotted_fields_come_back_as_flat_keys(sb: Sandbox, http: requests.Session) -> None:
    xid = http.get(sb.url + "/videos").json()["list"][0]["id"]
    body = http.get(
        sb.url + f"/video/{xid}",
        params={"fields": "id,owner.screenname,owner.username,owner,created_time"},
    ).json()
    assert list(body) == ["id", "owner.screenname", "owner.username", "owner", "created_time"]
    assert isinstance(body["created_time"], int)
    user = http.get(sb.url + f"/user/{body['owner']}", params={"fields": "screenname"}).json()
    assert body["owner.screenname"] == user["screenname"]


def test_unknown_field_is_invalid_parameter_naming_it(sb: Sandbox, http: requests.Session) -> None:
    xid = http.get(sb.url + "/videos").json()["list"][0]["id"]
    response = http.get(sb.url + f"/video/{xid}", params={"fields": "id,dislikes_total"})
    assert response.status_code == 400
    error = api_error(response)
    assert error["type"] == "invalid_parameter" and "dislikes_total" in error["message"]


def test_missing_video_is_documented_404(sb: Sandbox, http: requests.Session) -> None:
    response = http.get(sb.url + "/video/xnotfound")
    assert response.status_code == 404
    error = api_error(response)
    assert error["type"] == "not_found"
    assert error["message"] == "Can't find object video for `id' parameter"


def test_edit_returns_object_and_is_committed(
    sb: Sandbox, http: requests.Session, token: dict[str, str]
) -> None:
    xid = _own_video(sb, http, token)
    before = len(sb.commits())
    response = http.post(
        sb.url + f"/video/{xid}",
        headers=token,
        data={"title": "Edited title", "tags": "one,two words", "private": "false"},
        params={"fields": "id,title,tags,private"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": xid,
        "title": "Edited title",
        "tags": ["one", "two words"],
        "private": False,
    }
    commit = sb.commits()[before]
    assert commit["kind"] == "edit" and commit["video_id"] == xid
    assert commit["fields"] == {
        "title": "Edited title",
        "tags": ["one", "two words"],
        "private": False,
    }
    assert commit["client_id"] == sb.credentials.public_key.client_id
    stored = sb.get_video(xid)
    assert stored is not None and stored["title"] == "Edited title"


def test_edit_accepts_json_body_and_query_params(
    sb: Sandbox, http: requests.Session, token: dict[str, str]
) -> None:
    xid = _own_video(sb, http, token)
    response = http.post(
        sb.url + f"/video/{xid}",
        headers=token,
        json={"tags": ["a, with comma", "b"], "description": "d"},
    )
    assert response.status_code == 200
    assert sb.get_video(xid)["tags"] == ["a, with comma", "b"]  # type: ignore[index]
    response = http.post(
        sb.url + f"/video/{xid}", headers=token, params={"description": "from query"}
    )
    assert response.status_code == 200
    assert sb.get_video(xid)["description"] == "from query"  # type: ignore[index]


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("title", "x" * 101, "title"),
        ("description", "y" * 3001, "description"),
        ("channel", "cooking", "channel"),
        ("language", "klingon", "language"),
        ("private", "maybe", "private"),
        ("tags", ",".join(["t"] * 151), "tags"),
        ("tags", "z" * 51, "tags"),
        ("views_total", "5", "views_total"),
        ("colour", "red", "colour"),
        ("title", "   ", "title"),
    ],
)
def test_invalid_edit_is_400_naming_the_field(
    sb: Sandbox,
    http: requests.Session,
    token: dict[str, str],
    field: str,
    value: str,
    needle: str,
) -> None:
    xid = _own_video(sb, http, token)
    before = len(sb.commits())
    response = http.post(sb.url + f"/video/{xid}", headers=token, data={field: value})
    assert response.status_code == 400
    error = api_error(response)
    assert error["type"] == "invalid_parameter"
    assert error["error_data"]["param"] == needle and needle in error["message"]
    assert len(sb.commits()) == before


def test_partner_key_gets_partner_limits(sb: Sandbox, http: requests.Session) -> None:
    headers = bearer(partner_token(sb))
    channel = sb.credentials.private_key.channels[0]
    xid = http.get(sb.url + f"/rest/user/{channel}/videos", headers=headers).json()["list"][0]["id"]
    ok = http.post(sb.url + f"/rest/video/{xid}", headers=headers, data={"title": "p" * 150})
    assert ok.status_code == 200
    too_long = http.post(sb.url + f"/rest/video/{xid}", headers=headers, data={"title": "p" * 151})
    assert api_error(too_long)["error_data"]["param"] == "title"


def test_explicit_flag_cannot_be_removed(
    sb: Sandbox, http: requests.Session, token: dict[str, str]
) -> None:
    xid = _own_video(sb, http, token)
    assert (
        http.post(sb.url + f"/video/{xid}", headers=token, data={"explicit": "true"}).status_code
        == 200
    )
    response = http.post(sb.url + f"/video/{xid}", headers=token, data={"explicit": "0"})
    assert api_error(response)["error_data"]["param"] == "explicit"


def test_publishing_requires_channel(
    sb: Sandbox, http: requests.Session, token: dict[str, str]
) -> None:
    xid = _own_video(sb, http, token, unpublished="1")
    sb.edit_video(xid, channel=None)
    response = http.post(sb.url + f"/video/{xid}", headers=token, data={"published": "true"})
    assert response.status_code == 400
    error = api_error(response)
    assert (
        error["type"] == "missing_required_parameter" and error["error_data"]["param"] == "channel"
    )
    ok = http.post(
        sb.url + f"/video/{xid}",
        headers=token,
        data={"published": "true", "channel": "music", "is_created_for_kids": "no"},
    )
    assert ok.status_code == 200
    assert sb.get_video(xid)["status"] == "published"  # type: ignore[index]


def test_delete_returns_id_then_404(
    sb: Sandbox, http: requests.Session, token: dict[str, str]
) -> None:
    xid = _own_video(sb, http, token)
    response = http.delete(sb.url + f"/video/{xid}", headers=token)
    assert (response.status_code, response.json()) == (200, {"id": xid})
    assert sb.commits()[-1]["kind"] == "delete"
    assert http.get(sb.url + f"/video/{xid}").status_code == 404
    again = http.delete(sb.url + f"/video/{xid}", headers=token)
    assert again.status_code == 404
    assert sb.get_video(xid) is None


def test_someone_elses_video_cannot_be_edited(
    sb: Sandbox, http: requests.Session, token: dict[str, str]
) -> None:
    other = http.get(sb.url + "/user/someone/videos").json()["list"][0]["id"]
    response = http.post(sb.url + f"/video/{other}", headers=token, data={"title": "mine"})
    assert response.status_code == 403
    assert api_error(response)["type"] == "access_forbidden"


def test_private_video_needs_owner_token_with_scope(sb: Sandbox, http: requests.Session) -> None:
    owner = bearer(password_token(sb))
    xid = _own_video(sb, http, owner, private="1")
    assert http.get(sb.url + f"/video/{xid}").status_code == 403
    no_scope = bearer(password_token(sb, scope="email"))
    response = http.get(sb.url + f"/video/{xid}", headers=no_scope)
    assert api_error(response)["error_data"]["scope"] == "manage_videos"
    assert (
        http.get(
            sb.url + f"/video/{xid}", headers=owner, params={"fields": "id,private,private_id"}
        )
        .json()["private_id"]
        .startswith("k")
    )


def test_method_not_allowed_and_unknown_route(sb: Sandbox, http: requests.Session) -> None:
    response = http.put(sb.url + "/video/x123")
    assert response.status_code == 405
    assert api_error(response)["type"] == "method_not_allowed"
    response = http.get(sb.url + "/no/such/route")
    assert response.status_code == 404
    assert api_error(response)["type"] == "not_found"


def test_partner_paths_mirror_public_ones(sb: Sandbox, http: requests.Session) -> None:
    xid = http.get(sb.url + "/videos").json()["list"][0]["id"]
    assert (
        http.get(sb.url + f"/rest/video/{xid}").json() == http.get(sb.url + f"/video/{xid}").json()
    )


def test_me_and_user(sb: Sandbox, http: requests.Session) -> None:
    token = bearer(password_token(sb, scope="email"))
    me = http.get(sb.url + "/me", headers=token, params={"fields": "id,username,email,limits"})
    assert me.json()["username"] == "demo" and me.json()["email"] == "demo@example.com"
    assert me.json()["limits"]["video_duration"] > 0
    assert http.get(sb.url + "/me").status_code == 403
    user = http.get(sb.url + "/user/demo", params={"fields": "id,videos_total"}).json()
    assert user["id"] == sb.credentials.user.id and user["videos_total"] > 0
    no_email = http.get(
        sb.url + "/me",
        headers=bearer(password_token(sb, scope="")),
        params={"fields": "email"},
    )
    assert api_error(no_email)["error_data"]["scope"] == "email"


def test_channels_and_echo(sb: Sandbox, http: requests.Session) -> None:
    channels = http.get(sb.url + "/channels").json()
    assert channels["total"] == 17 and len(channels["list"]) == 17
    assert {"id", "name", "description"} == set(channels["list"][0])
    assert http.get(sb.url + "/echo", params={"message": "hi"}).json() == {"message": "hi"}
    missing = http.get(sb.url + "/echo")
    assert api_error(missing)["type"] == "missing_required_parameter"


def test_etag_mode_refuses_stale_writes(http: requests.Session) -> None:
    with Sandbox(videos=10) as sb:
        sb.settings(etag_mode=True, delete_body="empty")
        owner = bearer(password_token(sb))
        xid = _own_video(sb, http, owner)
        etag = http.get(sb.url + f"/video/{xid}", headers=owner).headers["ETag"]
        assert etag == '"1"'
        sb.edit_video(xid, title="Changed by someone else")  # version 2
        stale = http.post(
            sb.url + f"/video/{xid}", headers={**owner, "If-Match": etag}, data={"title": "Mine"}
        )
        assert stale.status_code == 412
        assert api_error(stale)["type"] == "precondition_failed"
        assert (sb.get_video(xid) or {})["title"] == "Changed by someone else"
        fresh = http.post(
            sb.url + f"/video/{xid}", headers={**owner, "If-Match": '"2"'}, data={"title": "Mine"}
        )
        assert fresh.status_code == 200 and fresh.headers["ETag"] == '"3"'
        assert (
            http.delete(sb.url + f"/video/{xid}", headers={**owner, "If-Match": '"2"'}).status_code
            == 412
        )
        deleted = http.delete(sb.url + f"/video/{xid}", headers={**owner, "If-Match": '"3"'})
        assert (deleted.status_code, deleted.json()) == (200, {})


def test_token_errors_can_come_with_http_200(http: requests.Session) -> None:
    with Sandbox(videos=5) as sb:
        sb.settings(token_errors_as_200=True)
        key = sb.credentials.public_key
        response = http.post(
            sb.url + "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": key.client_id,
                "client_secret": key.client_secret,
                "username": "demo",
                "password": "wrong",
            },
        )
        assert response.status_code == 200
        assert response.json()["error"] == "invalid_grant"
        with pytest.raises(RuntimeError):
            sb.settings(no_such_setting=True)
