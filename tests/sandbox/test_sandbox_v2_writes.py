"""API v2 writes over real HTTP: PATCH, DELETE, strict types, rules, and one store for both APIs.

Every refused write is checked to leave the stored video untouched (its version unchanged).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from _support.sandbox import api_error, bearer, partner_token, v2_error, v2_token

from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=30, seed=5, archive_videos=30) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def auth(sb: Sandbox) -> dict[str, str]:
    return bearer(v2_token(sb))


@pytest.fixture(scope="module")
def legacy(sb: Sandbox) -> dict[str, str]:
    return bearer(partner_token(sb))


@pytest.fixture()
def vid(sb: Sandbox) -> str:
    """A fresh public video of the key's first profile."""
    return sb.add_videos(1, owner=sb.credentials.private_key.profiles[0])[0]


def _patch(http: requests.Session, sb: Sandbox, vid: str, auth: Any, body: Any) -> Any:
    return http.patch(sb.url + f"/v2/videos/{vid}", headers=auth, json=body)


def _get(http: requests.Session, sb: Sandbox, vid: str, auth: Any, fields: str) -> Any:
    response = http.get(sb.url + f"/v2/videos/{vid}", headers=auth, params={"fields": fields})
    assert response.status_code == 200, response.text
    return response.json()


def test_patch_answers_204_without_a_body_and_the_change_reads_back(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    response = _patch(http, sb, vid, auth, {"title": "Patched", "tags": ["a", "b"]})
    assert response.status_code == 204 and response.content == b""
    assert "Content-Type" not in response.headers and "Content-Length" not in response.headers
    assert _get(http, sb, vid, auth, "title,tags") == {"title": "Patched", "tags": ["a", "b"]}
    commit = sb.commits()[-1]
    assert commit["kind"] == "edit" and commit["video_id"] == vid
    assert commit["fields"] == {"title": "Patched", "tags": ["a", "b"]}  # the v2 names
    assert commit["client_id"] == sb.credentials.private_key.client_id


def test_a_v2_edit_is_seen_by_the_legacy_api(
    sb: Sandbox, http: requests.Session, auth: Any, legacy: Any, vid: str
) -> None:
    body = {
        "title": "Seen by both",
        "category": "music",
        "is_for_kids": True,
        "visibility": "password",
        "password": "s3cret",
        "language": "FR",
        "country": "fr",
    }
    assert _patch(http, sb, vid, auth, body).status_code == 204
    fields = "title,channel,is_created_for_kids,private,password_protected,language,country"
    old = http.get(sb.url + f"/rest/video/{vid}", headers=legacy, params={"fields": fields})
    assert old.json() == {
        "title": "Seen by both",
        "channel": "music",
        "is_created_for_kids": True,
        "private": False,
        "password_protected": True,
        "language": "fr",
        "country": "FR",
    }


def test_a_legacy_edit_is_seen_by_v2(
    sb: Sandbox, http: requests.Session, auth: Any, legacy: Any, vid: str
) -> None:
    form = {"title": "From legacy", "channel": "sport", "private": "true", "tags": "x,y"}
    assert http.post(sb.url + f"/rest/video/{vid}", headers=legacy, data=form).status_code == 200
    got = _get(http, sb, vid, auth, "title,category,visibility,tags,video_url")
    private_id = (sb.get_video(vid) or {})["private_id"]
    assert got == {
        "title": "From legacy",
        "category": "sport",
        "visibility": "private",
        "tags": ["x", "y"],
        "video_url": f"https://www.dailymotion.com/video/{private_id}",
    }


def test_deletes_are_seen_both_ways(
    sb: Sandbox, http: requests.Session, auth: Any, legacy: Any
) -> None:
    first, second = sb.add_videos(2, owner=sb.credentials.private_key.profiles[0])
    assert http.delete(sb.url + f"/v2/videos/{first}", headers=auth).status_code == 204
    assert http.get(sb.url + f"/rest/video/{first}", headers=legacy).status_code == 404
    assert http.delete(sb.url + f"/rest/video/{second}", headers=legacy).status_code == 200
    gone = http.get(sb.url + f"/v2/videos/{second}", headers=auth)
    assert v2_error(gone, "RESOURCE_NOT_FOUND")["details"]["object_id"] == second


_BAD_BODIES: list[tuple[Any, str, str]] = [
    ({"is_for_kids": "true"}, "is_for_kids", "INVALID_PARAMETER"),
    ({"is_for_kids": 1}, "is_for_kids", "INVALID_PARAMETER"),
    ({"is_explicit": None}, "is_explicit", "INVALID_PARAMETER"),
    ({"enable_comments": "false"}, "enable_comments", "INVALID_PARAMETER"),
    ({"tags": "a,b"}, "tags", "INVALID_PARAMETER"),
    ({"hashtags": "#one"}, "hashtags", "INVALID_PARAMETER"),
    ({"tags": ["ok", 3]}, "tags", "INVALID_PARAMETER"),
    ({"tags": ["x" * 51]}, "tags", "INVALID_PARAMETER"),
    ({"tags": [str(n) for n in range(151)]}, "tags", "INVALID_PARAMETER"),
    ({"title": ""}, "title", "INVALID_PARAMETER"),
    ({"title": "   "}, "title", "INVALID_PARAMETER"),
    ({"title": None}, "title", "INVALID_PARAMETER"),
    ({"title": "t" * 256}, "title", "INVALID_PARAMETER"),
    ({"title": 12}, "title", "INVALID_PARAMETER"),
    ({"description": ""}, "description", "INVALID_PARAMETER"),
    ({"description": " \n "}, "description", "INVALID_PARAMETER"),
    ({"description": "d" * 3001}, "description", "INVALID_PARAMETER"),
    ({"category": "Not a category!"}, "category", "INVALID_PARAMETER"),
    ({"category": None}, "category", "INVALID_PARAMETER"),
    ({"visibility": "hidden"}, "visibility", "INVALID_PARAMETER"),
    ({"password": "pw"}, "password", "INVALID_PARAMETER"),
    ({"visibility": "private", "password": "pw"}, "password", "INVALID_PARAMETER"),
    ({"visibility": "password"}, "password", "MISSING_REQUIRED_PARAMETER"),
    ({"visibility": "password", "password": "p" * 33}, "password", "INVALID_PARAMETER"),
    ({"language": "fra"}, "language", "INVALID_PARAMETER"),
    ({"country": "F1"}, "country", "INVALID_PARAMETER"),
    ({"engagement_message": "m" * 501}, "engagement_message", "INVALID_PARAMETER"),
    ({"published_at": "2026-01-01"}, "published_at", "INVALID_PARAMETER"),
    ({"published_at": "2026-01-01T10:00:00"}, "published_at", "INVALID_PARAMETER"),
    (
        {"geo_restriction": {"mode": "allow"}},
        "geo_restriction.countries",
        "MISSING_REQUIRED_PARAMETER",
    ),
    (
        {"geo_restriction": {"mode": "block", "countries": []}},
        "geo_restriction.mode",
        "INVALID_PARAMETER",
    ),
    (
        {"geo_restriction": {"mode": "allow", "countries": ["fr"]}},
        "geo_restriction.countries",
        "INVALID_PARAMETER",
    ),
    ({"geo_restriction": ["FR"]}, "geo_restriction", "INVALID_PARAMETER"),
    ({"embedding": {"embed_url": "https://x"}}, "embedding.embed_url", "INVALID_PARAMETER"),
    ({"embedding": {"enable_embed": "yes"}}, "embedding.enable_embed", "INVALID_PARAMETER"),
    ({"source": {"file_url": "ftp://example.com/a.mp4"}}, "source.file_url", "INVALID_PARAMETER"),
    ({"source": {"duration": 3}}, "source.duration", "INVALID_PARAMETER"),
    ({"can_be_stitched": True, "visibility": "private"}, "can_be_stitched", "INVALID_PARAMETER"),
    ({"nope": 1}, "nope", "INVALID_PARAMETER"),
    ({"channel": "news"}, "channel", "INVALID_PARAMETER"),
    ({"video_id": "x1"}, "video_id", "INVALID_PARAMETER"),
    ({"is_published": False}, "is_published", "INVALID_PARAMETER"),
    ({"created_at": "2026-01-01T00:00:00Z"}, "created_at", "INVALID_PARAMETER"),
    ({"profile": {"profile_id": "x1"}}, "profile", "INVALID_PARAMETER"),
    ({"processing": {}}, "processing", "INVALID_PARAMETER"),
    ({}, "body", "INVALID_PARAMETER"),
    ([{"title": "x"}], "body", "INVALID_PARAMETER"),
    ("title", "body", "INVALID_PARAMETER"),
]


@pytest.mark.parametrize(("body", "param", "code"), _BAD_BODIES, ids=[p for _, p, _ in _BAD_BODIES])
def test_a_bad_patch_is_refused_naming_the_field_and_writes_nothing(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str, body: Any, param: str, code: str
) -> None:
    before = sb.get_video(vid)
    response = _patch(http, sb, vid, auth, body)
    assert response.status_code == 400, response.text
    assert v2_error(response, code)["details"]["param"] == param
    assert sb.get_video(vid) == before


def test_one_bad_field_refuses_the_whole_patch(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    before = sb.get_video(vid)
    response = _patch(http, sb, vid, auth, {"title": "Fine", "is_for_kids": "no"})
    assert v2_error(response, "INVALID_PARAMETER")["details"]["param"] == "is_for_kids"
    assert sb.get_video(vid) == before


def test_malformed_json_is_a_400(sb: Sandbox, http: requests.Session, auth: Any, vid: str) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    for raw in (b"{", b'{"title": NaN}', b'{"title": "a", "title": "b"}', b"\xff"):
        response = http.patch(sb.url + f"/v2/videos/{vid}", headers=headers, data=raw)
        assert response.status_code == 400, raw
        assert v2_error(response, "INVALID_PARAMETER")["details"]["param"] == "body"


def test_validation_errors_can_be_422(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    sb.settings(v2_validation_status=422)
    try:
        assert _patch(http, sb, vid, auth, {"title": ""}).status_code == 422
        missing = _patch(http, sb, vid, auth, {"visibility": "password"})
        assert missing.status_code == 422
        v2_error(missing, "MISSING_REQUIRED_PARAMETER")
    finally:
        sb.settings(v2_validation_status=400)


def test_text_rules(sb: Sandbox, http: requests.Session, auth: Any, vid: str) -> None:
    body = {"title": "t" * 255, "description": "  padded  ", "engagement_message": "m" * 500}
    assert _patch(http, sb, vid, auth, body).status_code == 204
    got = _get(http, sb, vid, auth, "title,description,engagement_message")
    assert got == {"title": "t" * 255, "description": "padded", "engagement_message": "m" * 500}
    assert _patch(http, sb, vid, auth, {"description": None}).status_code == 204
    assert _get(http, sb, vid, auth, "description") == {"description": None}


def test_is_explicit_cannot_be_unset(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    assert _patch(http, sb, vid, auth, {"is_explicit": True}).status_code == 204
    before = sb.get_video(vid)
    response = _patch(http, sb, vid, auth, {"is_explicit": False})
    assert response.status_code == 400
    error = v2_error(response, "INVALID_PARAMETER")
    assert error["details"]["param"] == "is_explicit" and "is_explicit" in error["message"]
    assert sb.get_video(vid) == before


def test_comments_cannot_be_enabled_on_a_video_for_kids(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    assert _patch(http, sb, vid, auth, {"enable_comments": False}).status_code == 204
    assert _patch(http, sb, vid, auth, {"enable_comments": True}).status_code == 204
    assert _patch(http, sb, vid, auth, {"is_for_kids": True}).status_code == 204
    assert _get(http, sb, vid, auth, "enable_comments") == {"enable_comments": False}
    before = sb.get_video(vid)
    response = _patch(http, sb, vid, auth, {"enable_comments": True})
    assert response.status_code == 403
    assert v2_error(response)["details"] == {"param": "enable_comments", "reason": "kids_video"}
    both = _patch(http, sb, vid, auth, {"is_for_kids": False, "enable_comments": True})
    assert both.status_code == 204 and sb.get_video(vid) != before


def test_a_password_goes_with_the_password_visibility_only(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    assert (
        _patch(http, sb, vid, auth, {"visibility": "password", "password": "a"}).status_code == 204
    )
    assert (sb.get_video(vid) or {})["password"] == "a"
    assert _patch(http, sb, vid, auth, {"password": "b"}).status_code == 204  # already password
    assert _patch(http, sb, vid, auth, {"visibility": "password"}).status_code == 204  # keeps it
    assert (sb.get_video(vid) or {})["password"] == "b"
    assert _get(http, sb, vid, auth, "visibility") == {"visibility": "password"}
    assert _patch(http, sb, vid, auth, {"visibility": "public"}).status_code == 204
    stored = sb.get_video(vid) or {}
    assert stored["password"] is None and stored["private"] is False


def test_categories_outside_the_documented_list_are_a_setting(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    assert _patch(http, sb, vid, auth, {"category": "entertainment"}).status_code == 204
    assert _get(http, sb, vid, auth, "category") == {"category": "entertainment"}
    sb.settings(v2_strict_categories=True)
    try:
        for name in ("entertainment", "shortfilms"):
            response = _patch(http, sb, vid, auth, {"category": name})
            assert v2_error(response, "INVALID_PARAMETER")["details"]["param"] == "category"
        assert _patch(http, sb, vid, auth, {"category": "kids"}).status_code == 204
    finally:
        sb.settings(v2_strict_categories=False)


def test_the_other_writable_fields_round_trip(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    body = {
        "hashtags": ["#launch"],
        "ai_subtitles": ["EN", "fr"],
        "geo_restriction": {"mode": "allow", "countries": ["FR", "BE"]},
        "embedding": {"enable_embed": False},
        "published_at": "2026-03-01T12:00:00+01:00",
        "can_be_stitched": True,
        "is_exclusive_content": True,
        "has_paid_partnership": True,
        "is_ai_altered": True,
        "enable_ai_chapter_generation": True,
    }
    assert _patch(http, sb, vid, auth, body).status_code == 204
    names = [name for name in body if name != "embedding"]
    got = _get(http, sb, vid, auth, ",".join([*names, "embedding.enable_embed"]))
    assert got == {
        **body,
        "ai_subtitles": ["en", "fr"],
        "embedding": {"enable_embed": False},
        "published_at": "2026-03-01T11:00:00Z",
    }
    assert _patch(http, sb, vid, auth, {"geo_restriction": None}).status_code == 204
    assert _get(http, sb, vid, auth, "geo_restriction") == {
        "geo_restriction": {"mode": "deny", "countries": []}
    }


def test_delete_is_204_twice_or_404_by_setting(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    first = http.delete(sb.url + f"/v2/videos/{vid}", headers=auth)
    assert first.status_code == 204 and first.content == b""
    assert sb.get_video(vid) is None and sb.commits()[-1]["kind"] == "delete"
    assert http.delete(sb.url + f"/v2/videos/{vid}", headers=auth).status_code == 204
    sb.settings(v2_delete_missing=404)
    try:
        again = http.delete(sb.url + f"/v2/videos/{vid}", headers=auth)
        assert again.status_code == 404
        v2_error(again, "RESOURCE_NOT_FOUND")
    finally:
        sb.settings(v2_delete_missing=204)


def test_videos_outside_the_key_cannot_be_written(
    sb: Sandbox, http: requests.Session, auth: Any
) -> None:
    theirs = sb.add_videos(1)[0]  # the demo user's channel, not in the organisation
    before = sb.get_video(theirs)
    for response in (
        _patch(http, sb, theirs, auth, {"title": "mine now"}),
        http.delete(sb.url + f"/v2/videos/{theirs}", headers=auth),
    ):
        assert response.status_code == 403
        assert (
            v2_error(response, "MISSING_PERMISSIONS")["details"]["reason"] == "profile_not_allowed"
        )
    assert sb.get_video(theirs) == before
    missing = _patch(http, sb, "xnothing", auth, {"title": "x"})
    assert missing.status_code == 404


def test_etag_mode_refuses_a_stale_write(
    sb: Sandbox, http: requests.Session, auth: Any, vid: str
) -> None:
    sb.settings(etag_mode=True)
    try:
        read = http.get(sb.url + f"/v2/videos/{vid}", headers=auth)
        etag = read.headers["ETag"]
        sb.edit_video(vid, title="changed by someone else")
        before = sb.get_video(vid)
        stale = http.patch(
            sb.url + f"/v2/videos/{vid}", headers={**auth, "If-Match": etag}, json={"title": "x"}
        )
        assert stale.status_code == 412
        v2_error(stale, "PRECONDITION_FAILED")
        assert sb.get_video(vid) == before
        fresh = http.get(sb.url + f"/v2/videos/{vid}", headers=auth).headers["ETag"]
        ok = http.patch(
            sb.url + f"/v2/videos/{vid}", headers={**auth, "If-Match": fresh}, json={"title": "y"}
        )
        assert ok.status_code == 204 and ok.headers["ETag"] != fresh
    finally:
        sb.settings(etag_mode=False)


def test_unknown_routes_and_methods(sb: Sandbox, http: requests.Session, auth: Any) -> None:
    missing = http.get(sb.url + "/v2/playlists/x1/videos", headers=auth)
    assert v2_error(missing, "RESOURCE_NOT_FOUND")["details"]["reason"] == "unknown_route"
    wrong = http.put(sb.url + "/v2/videos/x1", headers=auth, json={})
    assert wrong.status_code == 405 and "PATCH" in wrong.headers["Allow"]
    v2_error(wrong, "METHOD_NOT_ALLOWED")
    assert api_error(http.get(sb.url + "/video/x1"))["type"] == "not_found"  # legacy as before
