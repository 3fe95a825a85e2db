"""API v2 creates over real HTTP: upload sessions, ``source.file_url``, processing, quotas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from _support.sandbox import bearer, partner_token, v2_error, v2_token

from dmtools.sandbox import Sandbox

DEFAULT_FIELDS = {"video_id", "title", "category", "visibility", "created_at", "profile"}


@pytest.fixture()
def sb() -> Iterator[Sandbox]:
    """A sandbox per test: quotas count every create of a profile."""
    with Sandbox(videos=5, seed=9, archive_videos=5) as sandbox:
        sandbox.settings(v2_processing_seconds=0)
        yield sandbox


def _auth(sb: Sandbox) -> dict[str, str]:
    return bearer(v2_token(sb, "video.manage"))


def _upload(http: requests.Session, sb: Sandbox, auth: Any, size: int = 50_000) -> str:
    session = http.post(sb.url + "/v2/files/upload_sessions", headers=auth)
    assert session.status_code == 201, session.text
    answer = http.post(session.json()["upload_url"], files={"file": ("clip.mp4", b"v" * size)})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["url"])


def _body(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Launch recap",
        "visibility": "public",
        "category": "news",
        "is_for_kids": False,
        "source": {"file_url": url},
        **extra,
    }


def _create(
    http: requests.Session, sb: Sandbox, auth: Any, body: Any, profile: str | None = None
) -> requests.Response:
    pid = profile or sb.credentials.private_key.profiles[0]
    return http.post(sb.url + f"/v2/profiles/{pid}/videos", headers=auth, json=body)


def test_the_upload_session_flow_creates_a_video(sb: Sandbox, http: requests.Session) -> None:
    auth = _auth(sb)
    session = http.post(sb.url + "/v2/files/upload_sessions", headers=auth)
    assert session.status_code == 201 and set(session.json()) == {"upload_url", "progress_url"}
    for url in session.json().values():
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == sb.url  # absolute, the API's scheme
    upload = http.post(session.json()["upload_url"], files={"file": ("launch.mp4", b"x" * 9000)})
    assert upload.status_code == 200 and upload.json()["url"].startswith(sb.url + "/")
    created = _create(http, sb, auth, _body(upload.json()["url"], tags=["launch", "recap"]))
    assert created.status_code == 201, created.text
    video = created.json()
    assert set(video) == DEFAULT_FIELDS
    assert video["profile"]["profile_id"] == sb.credentials.private_key.profiles[0]
    assert created.headers["Location"] == f"{sb.url}/v2/videos/{video['video_id']}"
    stored = sb.get_video(video["video_id"]) or {}
    assert stored["source_url"] == upload.json()["url"] and stored["published"] is True
    assert stored["tags"] == ["launch", "recap"] and stored["channel"] == "news"
    commit = sb.commits()[-1]
    assert commit["kind"] == "create" and commit["fields"]["title"] == "Launch recap"
    legacy = http.get(
        sb.url + f"/rest/video/{video['video_id']}",
        headers=bearer(partner_token(sb)),
        params={"fields": "title,channel,published"},
    )
    assert legacy.json() == {"title": "Launch recap", "channel": "news", "published": True}


def test_create_asks_only_for_the_documented_fields(sb: Sandbox, http: requests.Session) -> None:
    auth = _auth(sb)
    url = _upload(http, sb, auth)
    for name in ("title", "visibility", "category", "is_for_kids", "source"):
        body = _body(url)
        del body[name]
        response = _create(http, sb, auth, body)
        assert response.status_code == 400, name
        assert v2_error(response, "MISSING_REQUIRED_PARAMETER")["details"]["param"] == name
    no_url = _create(http, sb, auth, _body(url, source={}))
    assert v2_error(no_url, "MISSING_REQUIRED_PARAMETER")["details"]["param"] == "source.file_url"
    bad = _create(http, sb, auth, _body(url, is_for_kids="false"))
    assert v2_error(bad, "INVALID_PARAMETER")["details"]["param"] == "is_for_kids"
    # unknown or read-only top-level keys are ignored, as working clients send some
    ok = _create(http, sb, auth, _body(url, file_url=url, published=True, video_id="x0"))
    assert ok.status_code == 201, ok.text
    assert ok.json()["video_id"] != "x0"


def test_an_upload_works_for_one_video_only(sb: Sandbox, http: requests.Session) -> None:
    auth = _auth(sb)
    url = _upload(http, sb, auth)
    assert _create(http, sb, auth, _body(url)).status_code == 201
    again = _create(http, sb, auth, _body(url))
    assert again.status_code == 400
    assert v2_error(again, "INVALID_PARAMETER")["details"]["reason"] == "already_used"
    unknown = _create(http, sb, auth, _body(sb.url + "/upload/files/nothing.mp4"))
    assert v2_error(unknown, "INVALID_PARAMETER")["details"]["param"] == "source.file_url"
    outside = _create(http, sb, auth, _body("https://cdn.example.com/clip.mp4"))
    assert outside.status_code == 201  # a file hosted elsewhere skips the upload


def test_encoding_takes_the_processing_delay(sb: Sandbox, http: requests.Session) -> None:
    auth = _auth(sb)
    sb.settings(v2_processing_seconds=3600)
    created = _create(http, sb, auth, _body(_upload(http, sb, auth)))
    vid = created.json()["video_id"]
    fields = {"fields": "processing"}
    busy = http.get(sb.url + f"/v2/videos/{vid}", headers=auth, params=fields).json()
    assert busy["processing"]["encoding_status"] == "processing"
    assert busy["processing"]["encoding_progress"] < 100
    sb.settings(v2_processing_seconds=0)
    done = http.get(sb.url + f"/v2/videos/{vid}", headers=auth, params=fields).json()
    assert done["processing"] == {
        "encoding_status": "ready",
        "encoding_progress": 100,
        "publishing_progress": 100,
    }
    sb.settings(v2_processing_seconds=3600)
    new_source = {"source": {"file_url": _upload(http, sb, auth)}}
    assert (
        http.patch(sb.url + f"/v2/videos/{vid}", headers=auth, json=new_source).status_code == 204
    )
    again = http.get(sb.url + f"/v2/videos/{vid}", headers=auth, params=fields).json()
    assert again["processing"]["encoding_status"] == "processing"  # a new source re-encodes


def test_a_profile_creates_at_most_its_daily_uploads(sb: Sandbox, http: requests.Session) -> None:
    auth = _auth(sb)
    sb.settings(v2_daily_uploads=3)
    news, sport = sb.credentials.private_key.profiles[:2]
    created = [_create(http, sb, auth, _body(_upload(http, sb, auth))) for _ in range(3)]
    assert [r.status_code for r in created] == [201, 201, 201]
    gone = http.delete(sb.url + f"/v2/videos/{created[0].json()['video_id']}", headers=auth)
    assert gone.status_code == 204
    before = len(sb.commits())
    refused = _create(http, sb, auth, _body(_upload(http, sb, auth)))
    assert refused.status_code == 403
    error = v2_error(refused, "QUOTA_EXCEEDED")
    assert error["details"] == {"reason": "daily_videos", "limit": 3}  # a delete gives none back
    assert len(sb.commits()) == before
    assert _create(http, sb, auth, _body(_upload(http, sb, auth)), profile=sport).status_code == 201


def test_legacy_creates_count_in_the_same_quota(sb: Sandbox, http: requests.Session) -> None:
    sb.settings(v2_daily_uploads=1)
    legacy = bearer(partner_token(sb))
    target = http.get(sb.url + "/rest/file/upload", headers=legacy).json()
    url = http.post(target["upload_url"], files={"file": ("a.mp4", b"a" * 1000)}).json()["url"]
    made = http.post(sb.url + "/rest/me/videos", headers=legacy, data={"url": url, "title": "L"})
    assert made.status_code == 200, made.text
    auth = _auth(sb)
    refused = _create(http, sb, auth, _body(_upload(http, sb, auth)))
    assert v2_error(refused, "QUOTA_EXCEEDED")["details"]["reason"] == "daily_videos"


@pytest.mark.parametrize(
    ("settings", "size", "reason"),
    [
        ({"v2_max_video_seconds": 10}, 600_000, "video_duration"),  # 12 s of video
        ({"v2_max_video_bytes": 1000}, 5000, "video_size"),
        ({"v2_daily_upload_seconds": 15}, 500_000, "daily_duration"),  # 10 s, twice
    ],
)
def test_length_and_size_quotas(
    sb: Sandbox, http: requests.Session, settings: dict[str, int], size: int, reason: str
) -> None:
    auth = _auth(sb)
    sb.settings(**settings)
    tries = [_create(http, sb, auth, _body(_upload(http, sb, auth, size))) for _ in range(2)]
    refused = tries[-1]
    assert refused.status_code == 403
    assert v2_error(refused, "QUOTA_EXCEEDED")["details"]["reason"] == reason
    if reason == "daily_duration":
        assert tries[0].status_code == 201


def test_premium_profiles_get_the_premium_quotas(sb: Sandbox, http: requests.Session) -> None:
    auth = _auth(sb)
    archive = sb.credentials.private_key.profiles[2]  # a verified user: premium
    sb.settings(v2_daily_uploads=1, v2_premium_daily_uploads=2, v2_max_video_seconds=1)
    made = [
        _create(http, sb, auth, _body(_upload(http, sb, auth, 600_000)), profile=archive)
        for _ in range(3)
    ]
    assert [r.status_code for r in made] == [201, 201, 403]  # no duration limit, 2 a day
    assert v2_error(made[2], "QUOTA_EXCEEDED")["details"] == {"reason": "daily_videos", "limit": 2}


def test_creating_in_a_profile_outside_the_key_is_403(sb: Sandbox, http: requests.Session) -> None:
    auth = _auth(sb)
    response = _create(
        http, sb, auth, _body(_upload(http, sb, auth)), profile=sb.credentials.user.id
    )
    assert response.status_code == 403
    v2_error(response, "MISSING_PERMISSIONS")
    assert _create(http, sb, auth, _body("https://x.example/a.mp4"), "xnothing").status_code == 404
