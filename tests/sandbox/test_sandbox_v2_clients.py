"""Third-party API v2 clients, written the way public client code talks to the live API,
work against the sandbox unchanged but for their base URLs.

Each client below is independent of dmtools (plain ``requests``, its own constants and
parsing): a publisher (token, ``/v2/me``, JWT ``sub`` as the profile id, upload session,
create, poll, edit), a read client (pages with ``pagination.next``, nested
``profile.display_name`` and ``source.duration``), a token script, and an error reader.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from _support import ROOT

from dmtools.sandbox import Sandbox
from dmtools.sandbox.state import seed as seedmod

SEED, VIDEOS, ARCHIVE = 13, 50, 1100


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=VIDEOS, seed=SEED, archive_videos=ARCHIVE) as sandbox:
        yield sandbox


# -- a publisher (token, /v2/me, sub as the profile, upload session, create, poll, edit) ----
class Publisher:
    """A v2 publishing script: fetches 30-minute tokens and re-fetches them at 80 %."""

    def __init__(self, api: str, token_url: str, client_id: str, client_secret: str) -> None:
        self.api, self.token_url = api, token_url
        self.client_id, self.client_secret = client_id, client_secret
        self.session = requests.Session()
        self.token: str | None = None
        self.renew_at = 0.0

    def _auth(self) -> dict[str, str]:
        if self.token is None or time.time() >= self.renew_at:
            r = self.session.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "scope": "video.manage account.read",
                },
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )
            if r.status_code in (400, 401, 403):
                raise RuntimeError(f"token refused: {r.json().get('error_description')}")
            r.raise_for_status()
            payload = r.json()
            self.token = payload["access_token"]
            self.renew_at = time.time() + 0.8 * int(payload.get("expires_in", 1800))
        return {"Authorization": f"Bearer {self.token}"}

    def profile_from_token(self) -> str:
        self._auth()
        assert self.token is not None
        body = self.token.split(".")[1]
        return str(json.loads(base64.urlsafe_b64decode(body + "==="))["sub"])

    def my_profiles(self) -> list[str]:
        r = self.session.get(f"{self.api}/me", headers=self._auth(), timeout=30)
        r.raise_for_status()
        return [p["profile_id"] for p in r.json()["profiles"]]

    def upload(self, name: str, data: bytes) -> str:
        r = self.session.post(f"{self.api}/files/upload_sessions", headers=self._auth(), timeout=30)
        if r.status_code not in (200, 201):
            raise RuntimeError(r.text)
        upload_url = r.json()["upload_url"]
        r = self.session.post(upload_url, files={"file": (name, data, "video/mp4")}, timeout=300)
        r.raise_for_status()
        return str(r.json()["url"])

    def publish(self, profile: str, file_url: str, title: str) -> str:
        body = {
            "title": title,
            "description": "Posted by the nightly job.",
            "category": "entertainment",
            "visibility": "public",
            "is_for_kids": False,
            "tags": ["nightly", "auto"],
            "source": {"file_url": file_url},
            "published": True,
            "file_url": file_url,
        }
        r = self.session.post(
            f"{self.api}/profiles/{profile}/videos", headers=self._auth(), json=body, timeout=60
        )
        if r.status_code not in (200, 201):
            raise RuntimeError(f"create failed: {r.status_code} {r.text}")
        return str(r.json()["video_id"])

    def wait_until_ready(self, video_id: str, attempts: int = 5) -> dict[str, Any]:
        for _ in range(attempts):
            r = self.session.get(
                f"{self.api}/videos/{video_id}",
                headers=self._auth(),
                params={"fields": "video_id,title,processing.encoding_status,video_url"},
                timeout=30,
            )
            r.raise_for_status()
            if r.json()["processing"]["encoding_status"] == "ready":
                return dict(r.json())
        raise RuntimeError("still processing")

    def retitle(self, video_id: str, title: str) -> None:
        r = self.session.patch(
            f"{self.api}/videos/{video_id}", headers=self._auth(), json={"title": title}, timeout=30
        )
        if r.status_code != 204:
            raise RuntimeError(r.text)


def test_a_publisher_uploads_creates_and_edits() -> None:
    with Sandbox(videos=5, seed=SEED, archive_videos=5) as sb:
        sb.settings(v2_processing_seconds=0)
        _publish_and_edit(sb)


def _publish_and_edit(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    pub = Publisher(sb.url + "/v2", sb.url + "/oauth2/v2/token", key.client_id, key.client_secret)
    profile = pub.profile_from_token()
    assert profile in pub.my_profiles() and profile == key.profiles[0]
    file_url = pub.upload("nightly.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 120_000)
    video_id = pub.publish(profile, file_url, "Nightly recap")
    ready = pub.wait_until_ready(video_id)
    assert ready["title"] == "Nightly recap"
    assert ready["video_url"] == f"https://www.dailymotion.com/video/{video_id}"
    pub.retitle(video_id, "Nightly recap (edited)")
    stored = sb.get_video(video_id) or {}
    assert stored["title"] == "Nightly recap (edited)" and stored["owner"] == profile
    assert stored["channel"] == "entertainment" and stored["tags"] == ["nightly", "auto"]


# -- a read client (a video picker: pages by pagination.next, nested objects) ---------------
def client_token(token_url: str, client_id: str, client_secret: str, scope: str) -> str:
    """A v2 access token, the way the read client and the error reader below fetch one."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": scope,
    }
    return str(requests.post(token_url, data=form, timeout=30).json()["access_token"])


def pick_videos(api: str, token: str | None, profile: str) -> Iterator[dict[str, Any]]:
    """Every video of a profile, as a CMS video picker lists them."""
    fields = "video_id,title,created_at,thumbnail.h720_url,source.duration,profile.display_name"
    url: str | None = f"{api}/profiles/{profile}/videos?" + urlencode(
        {"fields": fields, "page_size": 100}
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    while url:
        response = requests.get(url, headers=headers, timeout=30)
        response.raise_for_status()
        data = response.json()
        for item in data["data"]:
            yield {
                "id": item["video_id"],
                "title": item["title"],
                "duration": item["source"]["duration"],
                "author": item["profile"]["display_name"],
                "thumbnail": item["thumbnail"]["h720_url"],
            }
        url = (data.get("pagination") or {}).get("next") or data.get("next")


def test_a_read_client_pages_through_a_profile(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    token = client_token(
        sb.url + "/oauth2/v2/token", key.client_id, key.client_secret, "bundle.public"
    )
    data = seedmod.build(SEED, VIDEOS, ARCHIVE)
    users = {u.id: u for u in data.users}
    for profile in key.profiles:
        picked = list(pick_videos(sb.url + "/v2", token, profile))
        expected = {v["id"]: v for v in data.videos if v["owner"] == profile}
        assert len(picked) == min(1000, len(expected))  # the archive stops at the ceiling
        assert len({p["id"] for p in picked}) == len(picked)
        for item in picked:
            assert item["duration"] == expected[item["id"]]["duration"]
            assert item["author"] == users[profile].screenname
    anonymous = list(pick_videos(sb.url + "/v2", None, sb.credentials.user.id))
    public = [
        v
        for v in data.videos
        if v["owner"] == sb.credentials.user.id
        and v["published"]
        and not v["private"]
        and v["password"] is None
    ]
    assert {p["id"] for p in anonymous} == {v["id"] for v in public}


# -- a token script ---------------------------------------------------------------------------
def test_a_token_script_reads_expires_in_and_the_jwt(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    token_url = sb.url + "/oauth2/v2/token"

    def fetch() -> tuple[str, float, dict[str, Any]]:
        r = requests.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": key.client_id,
                "client_secret": key.client_secret,
            },
            timeout=30,
        )
        r.raise_for_status()
        j = r.json()
        claims = json.loads(base64.urlsafe_b64decode(j["access_token"].split(".")[1] + "==="))
        return j["access_token"], time.time() + j["expires_in"], claims

    first, expires, claims = fetch()
    assert abs(claims["exp"] - expires) < 5 and claims["exp"] - claims["iat"] == 1800
    second, _, _ = fetch()
    for token in (first, second):  # a new token does not revoke the previous one
        me = requests.get(
            sb.url + "/v2/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert me.status_code == 200 and me.json()["user_id"] == claims["sub"]


# -- an error reader ------------------------------------------------------------------------
class ApiFailure(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.details = status, code, details


def call(method: str, url: str, token: str, **kwargs: Any) -> requests.Response:
    response = requests.request(
        method, url, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs
    )
    if response.status_code >= 400:
        error = response.json()["error"]
        raise ApiFailure(response.status_code, error["code"], error["message"], error["details"])
    return response


def test_an_error_reader_gets_codes_and_details(sb: Sandbox) -> None:
    key = sb.credentials.private_key
    token = client_token(
        sb.url + "/oauth2/v2/token", key.client_id, key.client_secret, "video.read"
    )
    with pytest.raises(ApiFailure) as missing:
        call("GET", sb.url + "/v2/videos/xnothing1", token)
    assert (missing.value.status, missing.value.code) == (404, "RESOURCE_NOT_FOUND")
    assert missing.value.details["object_id"] == "xnothing1"
    with pytest.raises(ApiFailure) as scope:
        call("PATCH", sb.url + "/v2/videos/xnothing1", token, json={"title": "x"})
    assert scope.value.code == "MISSING_PERMISSIONS"
    assert scope.value.details["required_scope"] == "video.manage"


def test_the_private_key_printed_by_the_cli_works_on_both_apis() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dmtools.cli import main; main()", "sandbox", "--json"],
        stdout=subprocess.PIPE,
        cwd=str(ROOT),
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        url, key = ready["url"], ready["private_key"]
        form = {
            "grant_type": "client_credentials",
            "client_id": key["client_id"],
            "client_secret": key["client_secret"],
        }
        v2 = requests.post(url + "/oauth2/v2/token", data=form, timeout=30).json()
        me = requests.get(
            url + "/v2/me", headers={"Authorization": f"Bearer {v2['access_token']}"}, timeout=30
        ).json()
        assert [p["profile_id"] for p in me["profiles"]] == key["profiles"]
        assert len(key["profiles"]) >= 3
        totals = [
            requests.get(
                url + f"/v2/profiles/{p}/videos",
                headers={"Authorization": f"Bearer {v2['access_token']}"},
                params={"page_size": 1, "fields": "video_id"},
                timeout=30,
            ).json()["pagination"]["total"]
            for p in key["profiles"]
        ]
        assert max(totals) > 1000  # the default demo has a profile past the ceiling
        legacy = requests.post(
            url + "/oauth/v1/token", data={**form, "scope": "read_videos"}, timeout=30
        ).json()
        mine = requests.get(
            url + f"/rest/user/{key['profiles'][0]}/videos",
            headers={"Authorization": f"Bearer {legacy['access_token']}"},
            timeout=30,
        )
        assert mine.status_code == 200 and mine.json()["total"] == totals[0]
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
