"""``POST /video/<id>`` with no writable parameter is a read: it answers like GET and needs
only read rights (reporting clients enrich reports this way with read-only partner tokens)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from _support.sandbox import api_error, bearer, partner_token, password_token

from dmtools.sandbox import Sandbox

FIELDS = "id,title,owner,private,views_total,private_id"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=30, seed=3) as sandbox:
        yield sandbox


def _partner_video(sb: Sandbox, http: requests.Session, headers: dict[str, str]) -> str:
    channel = sb.credentials.private_key.channels[0]
    listing = http.get(sb.url + f"/rest/user/{channel}/videos", headers=headers).json()
    return str(listing["list"][0]["id"])


def test_a_read_only_partner_token_reads_by_post_exactly_like_get(
    sb: Sandbox, http: requests.Session
) -> None:
    reader = bearer(partner_token(sb, scope="read_videos"))
    xid = _partner_video(sb, http, reader)
    commits, version = len(sb.commits()), (sb.get_video(xid) or {})["version"]
    url = sb.url + f"/rest/video/{xid}"
    got = http.get(url, headers=reader, params={"fields": FIELDS})
    for posted in (
        http.post(url, headers=reader, data={"fields": FIELDS}),  # form body
        http.post(url, headers=reader, json={"fields": FIELDS.split(",")}),  # JSON, list
        http.post(url, headers=reader, params={"fields": FIELDS}),  # query string, no body
    ):
        assert posted.status_code == 200, posted.text
        assert posted.json() == got.json()
        assert list(posted.json()) == FIELDS.split(",")
        assert posted.json()["private_id"] is not None  # the owner's view, as with GET
    assert len(sb.commits()) == commits  # nothing written
    assert (sb.get_video(xid) or {})["version"] == version


def test_a_writable_field_makes_it_an_edit_that_needs_edit_rights(
    sb: Sandbox, http: requests.Session
) -> None:
    reader = bearer(partner_token(sb, scope="read_videos"))
    xid = _partner_video(sb, http, reader)
    before = sb.get_video(xid) or {}
    refused = http.post(
        sb.url + f"/rest/video/{xid}", headers=reader, data={"fields": "id", "title": "x"}
    )
    assert refused.status_code == 403
    assert api_error(refused)["error_data"]["scope"] == "edit_videos"
    assert (sb.get_video(xid) or {})["title"] == before["title"]


def test_a_post_read_follows_the_get_rules_for_private_videos(
    sb: Sandbox, http: requests.Session
) -> None:
    owner = bearer(password_token(sb))
    listing = http.get(sb.url + "/me/videos", headers=owner, params={"private": "1"}).json()
    xid = listing["list"][0]["id"]
    anonymous = http.post(sb.url + f"/video/{xid}", data={"fields": "id,title"})
    assert anonymous.status_code == http.get(sb.url + f"/video/{xid}").status_code == 403
    assert "private" in api_error(anonymous)["message"]
    no_scope = bearer(password_token(sb, scope="email"))
    refused = http.post(sb.url + f"/video/{xid}", headers=no_scope, data={"fields": "id"})
    assert api_error(refused)["error_data"]["scope"] == "manage_videos"  # read right, like GET
    mine = http.post(sb.url + f"/video/{xid}", headers=owner, data={"fields": "id,private"})
    assert mine.status_code == 200 and mine.json() == {"id": xid, "private": True}


def test_anyone_reads_a_public_video_by_post_and_a_missing_one_is_404(
    sb: Sandbox, http: requests.Session
) -> None:
    item = http.get(sb.url + "/videos").json()["list"][0]
    answer = http.post(sb.url + f"/video/{item['id']}")  # no token, no parameter at all
    assert answer.status_code == 200 and answer.json() == item
    missing = http.post(sb.url + "/rest/video/xnotfound", data={"fields": "id"})
    assert missing.status_code == 404 and api_error(missing)["type"] == "not_found"
    bad = http.post(sb.url + f"/video/{item['id']}", data={"fields": "id,no_such_field"})
    assert api_error(bad)["type"] == "invalid_parameter"


def test_a_post_read_in_a_call_envelope_and_in_etag_mode(http: requests.Session) -> None:
    with Sandbox(videos=10, seed=5) as sb:
        sb.settings(etag_mode=True)
        reader = partner_token(sb, scope="read_videos")
        xid = _partner_video(sb, http, bearer(reader))
        url = sb.url + f"/rest/video/{xid}"
        posted = http.post(url, headers=bearer(reader), data={"fields": "id"})
        assert posted.headers["ETag"] == http.get(url, headers=bearer(reader)).headers["ETag"]
        envelope = http.post(
            sb.url + "/rest",
            headers=bearer(reader),
            json={"call": f"POST /video/{xid}", "args": {"fields": "id,title"}, "id": 1},
        )
        assert envelope.json()["result"]["id"] == xid
        assert sb.commits() == []
