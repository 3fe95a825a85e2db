"""API v2 reads over real HTTP: ``/v2/me``, profiles, video lists, ``fields``, filters, sort.

Expectations come from the seed (``seed.build``), not from the API under test: the
organisation has three profiles, the archive one past the 1,000-results ceiling.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from _support.sandbox import bearer, v2_error, v2_token

from dmtools.sandbox import Sandbox
from dmtools.sandbox.state import seed as seedmod

SEED, VIDEOS, ARCHIVE = 11, 200, 1200
DATA = seedmod.build(SEED, VIDEOS, ARCHIVE)


def seeded(owner: str) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in DATA.videos if v["owner"] == owner}


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=VIDEOS, seed=SEED, archive_videos=ARCHIVE) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def auth(sb: Sandbox) -> dict[str, str]:
    return bearer(v2_token(sb, "video.read profile.read account.read"))


@pytest.fixture(scope="module")
def profiles(sb: Sandbox) -> dict[str, str]:
    """username -> profile id of the key's profiles."""
    users = {u.id: u.username for u in DATA.users}
    return {users[p]: p for p in sb.credentials.private_key.profiles}


def _list(http: requests.Session, sb: Sandbox, profile: str, auth: Any, **params: Any) -> Any:
    response = http.get(sb.url + f"/v2/profiles/{profile}/videos", headers=auth, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _walk(http: requests.Session, url: str, auth: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item reachable by following ``pagination.next``; and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    while url:
        body = http.get(url, headers=auth).json()
        items += body["data"]
        pages += 1
        url = body["pagination"]["next"]
    return items, pages


def test_me_lists_the_keys_profiles(sb: Sandbox, http: requests.Session, auth: Any) -> None:
    me = http.get(sb.url + "/v2/me", headers=auth).json()
    key = sb.credentials.private_key
    assert me["user_id"] == key.profiles[0]
    assert [p["profile_id"] for p in me["profiles"]] == list(key.profiles)
    assert len(me["profiles"]) >= 3
    names = {p["name"] for p in me["profiles"]}
    assert names == {"demo-news", "demo-sport", "demo-archive"}
    assert all(p["display_name"] for p in me["profiles"])
    # unknown names in fields are ignored on /v2/me (clients ask for ``id``)
    assert http.get(sb.url + "/v2/me", headers=auth, params={"fields": "id"}).json() == me
    only = http.get(sb.url + "/v2/me", headers=auth, params={"fields": "user_id,id"}).json()
    assert only == {"user_id": key.profiles[0]}


def test_one_profile_has_more_than_a_thousand_videos(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    archive = profiles["demo-archive"]
    assert len(seeded(archive)) > 1000
    body = _list(http, sb, archive, auth, page_size=1)
    assert body["pagination"]["total"] == len(seeded(archive))


def test_a_profile_reads_with_fields_and_dot_notation(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-news"]
    user = next(u for u in DATA.users if u.id == pid)
    body = http.get(sb.url + f"/v2/profiles/{pid}", headers=auth).json()
    assert body["profile_id"] == pid and body["name"] == "demo-news"
    assert body["display_name"] == user.screenname and body["created_at"] == iso(user.created_time)
    dotted = http.get(
        sb.url + f"/v2/profiles/{pid}",
        headers=auth,
        params={"fields": "name,content_defaults.language"},
    ).json()
    assert dotted == {"name": "demo-news", "content_defaults": {"language": user.language}}
    bad = http.get(sb.url + f"/v2/profiles/{pid}", headers=auth, params={"fields": "nope"})
    assert v2_error(bad, "INVALID_PARAMETER")["details"]["field"] == "nope"


def test_profiles_outside_the_key_are_403_and_unknown_ones_404(
    sb: Sandbox, http: requests.Session, auth: Any
) -> None:
    demo = sb.credentials.user.id  # a channel outside the organisation
    for path in (f"/v2/profiles/{demo}", f"/v2/profiles/{demo}/videos"):
        response = http.get(sb.url + path, headers=auth)
        error = v2_error(response, "MISSING_PERMISSIONS")
        assert response.status_code == 403 and error["details"]["profile_id"] == demo
    missing = http.get(sb.url + "/v2/profiles/xnothing/videos", headers=auth)
    assert missing.status_code == 404
    assert v2_error(missing, "RESOURCE_NOT_FOUND")["details"]["object_type"] == "Profile"
    by_name = http.get(sb.url + "/v2/profiles/demo-news", headers=auth)
    assert by_name.status_code == 404  # profile ids, not usernames


def test_the_list_envelope_and_links(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-news"]
    query = {"page_size": 7, "fields": "video_id,title", "sort": "title", "is_explicit": "false"}
    body = _list(http, sb, pid, auth, **query)
    assert set(body) == {"data", "pagination"}
    assert set(body["pagination"]) == {"page", "page_size", "total", "next", "previous"}
    assert (body["pagination"]["page"], body["pagination"]["page_size"]) == (1, 7)
    assert len(body["data"]) == 7 and body["pagination"]["previous"] is None
    link = urlsplit(body["pagination"]["next"])
    assert f"{link.scheme}://{link.netloc}" == sb.url and link.path == f"/v2/profiles/{pid}/videos"
    assert parse_qs(link.query) == {**{k: [str(v)] for k, v in query.items()}, "page": ["2"]}
    second = http.get(body["pagination"]["next"], headers=auth).json()
    back = urlsplit(second["pagination"]["previous"])
    assert parse_qs(back.query)["page"] == ["1"] and parse_qs(back.query)["sort"] == ["title"]
    assert {v["video_id"] for v in second["data"]}.isdisjoint(v["video_id"] for v in body["data"])
    assert _list(http, sb, pid, auth)["pagination"]["page_size"] == 20  # the default


def test_following_next_reaches_every_video_once(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-news"]
    url = sb.url + f"/v2/profiles/{pid}/videos?page_size=9&fields=video_id"
    items, pages = _walk(http, url, auth)
    ids = [v["video_id"] for v in items]
    assert len(ids) == len(set(ids)) and set(ids) == set(seeded(pid))
    assert pages == -(-len(ids) // 9)


def test_at_most_a_thousand_results_are_reachable(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-archive"]
    url = sb.url + f"/v2/profiles/{pid}/videos?page_size=100&fields=video_id"
    items, pages = _walk(http, url, auth)
    assert len(items) == 1000 and pages == 10
    assert len({v["video_id"] for v in items}) == 1000
    refused = http.get(url + "&page=11", headers=auth)
    assert refused.status_code == 400
    assert v2_error(refused, "INVALID_PARAMETER")["details"]["param"] == "page"
    # a page size that does not divide 1,000: the last page is cut at the ceiling
    last = _list(http, sb, pid, auth, page_size=30, page=34, fields="video_id")
    assert len(last["data"]) == 10 and last["pagination"]["next"] is None
    assert last["pagination"]["total"] == len(seeded(pid))
    assert http.get(url + "&page_size=30&page=35", headers=auth).status_code == 400


def test_total_is_exact_capped_or_null_by_setting(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-archive"]
    try:
        for mode, expected in (("capped", 1000), ("null", None), ("exact", len(seeded(pid)))):
            sb.settings(v2_total=mode)
            assert _list(http, sb, pid, auth, page_size=1)["pagination"]["total"] == expected
    finally:
        sb.settings(v2_total="exact")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"fields": "video_id,views_total"}, "fields"),
        ({"fields": "profile.nickname"}, "fields"),
        ({"fields": "owner.screenname"}, "fields"),
        ({"sort": "recent"}, "sort"),
        ({"sort": "title,title"}, "sort"),
        ({"visibility": "hidden"}, "visibility"),
        ({"is_for_kids": "1"}, "is_for_kids"),
        ({"is_explicit": "True"}, "is_explicit"),
        ({"created_after": "2020-01-01"}, "created_after"),
        ({"created_before": "yesterday"}, "created_before"),
        ({"limit": 10}, "limit"),
        ({"search": "cats"}, "search"),
        ({"access_token": "x"}, "access_token"),
        ({"page_size": [5, 6]}, "page_size"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(
    sb: Sandbox,
    http: requests.Session,
    auth: Any,
    profiles: dict[str, str],
    params: dict[str, Any],
    param: str,
) -> None:
    url = sb.url + f"/v2/profiles/{profiles['demo-news']}/videos"
    response = http.get(url, headers=auth, params=params)
    assert response.status_code == 400, response.text
    assert v2_error(response, "INVALID_PARAMETER")["details"]["param"] == param


def test_fields_select_nested_objects_and_dot_notation(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-sport"]
    default = _list(http, sb, pid, auth, page_size=3)["data"]
    assert all(
        set(v) == {"video_id", "title", "category", "visibility", "created_at", "profile"}
        for v in default
    )
    assert set(default[0]["profile"]) == {"profile_id", "name", "display_name", "profile_url"}
    items = _list(
        http,
        sb,
        pid,
        auth,
        page_size=5,
        fields="video_id,profile.display_name,source.duration,profile.name,thumbnail.h720_url",
    )["data"]
    for item in items:
        video = seeded(pid)[item["video_id"]]
        assert item == {
            "video_id": video["id"],
            "profile": {"display_name": "Demo Sport", "name": "demo-sport"},
            "source": {"duration": video["duration"]},
            "thumbnail": {"h720_url": f"https://s1.dmcdn.net/v/{video['id']}/x720"},
        }


def _matches(http: requests.Session, sb: Sandbox, pid: str, auth: Any, **params: Any) -> set[str]:
    url = sb.url + f"/v2/profiles/{pid}/videos?page_size=100&fields=video_id"
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return {v["video_id"] for v in _walk(http, url + extra, auth)[0]}


def test_filters_match_the_seeded_data(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-archive"]
    videos = seeded(pid).values()
    cases = {
        "visibility=private": {v["id"] for v in videos if v["private"]},
        "is_for_kids=true": {v["id"] for v in videos if v["is_created_for_kids"]},
        "is_explicit=true": {v["id"] for v in videos if v["explicit"]},
        "is_explicit=true&is_for_kids=false": {
            v["id"] for v in videos if v["explicit"] and not v["is_created_for_kids"]
        },
    }
    for query, expected in cases.items():
        assert 0 < len(expected) < 1000, query
        params = dict(part.split("=") for part in query.split("&"))
        assert _matches(http, sb, pid, auth, **params) == expected, query
    protected = next(v for v in videos if not v["private"])
    sb.edit_video(protected["id"], password="s3cret")
    try:
        assert _matches(http, sb, pid, auth, visibility="password") == {protected["id"]}
    finally:
        sb.edit_video(protected["id"], password=None)
    news = seeded(profiles["demo-news"]).values()
    tagged = next(v for v in news if len(v["tags"]) >= 2)
    wanted = tagged["tags"][:2]
    got = _matches(http, sb, profiles["demo-news"], auth, tags=",".join(wanted).replace(" ", "+"))
    assert tagged["id"] in got
    assert got == {
        v["id"] for v in news if {t.lower() for t in wanted} <= {t.lower() for t in v["tags"]}
    }
    everything = _matches(http, sb, profiles["demo-news"], auth, enable_advertising="true")
    assert everything == {v["id"] for v in news}
    assert _matches(http, sb, profiles["demo-news"], auth, enable_advertising="false") == set()


def test_date_filters_are_inclusive_at_both_ends(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-news"]
    videos = sorted(seeded(pid).values(), key=lambda v: v["created_time"])
    lo, hi = videos[10]["created_time"], videos[30]["created_time"]
    got = _matches(
        http,
        sb,
        pid,
        auth,
        created_after=iso(lo),
        created_before=iso(hi).replace("Z", "%2B00:00"),
    )
    assert got == {v["id"] for v in videos if lo <= v["created_time"] <= hi}
    assert {videos[10]["id"], videos[30]["id"]} <= got


def test_sort_orders_by_created_at_or_title_with_ties_by_id(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-news"]
    videos = list(seeded(pid).values())
    for sort, key, reverse in (
        (None, lambda v: (v["created_time"], v["id"]), True),
        ("created_at", lambda v: (v["created_time"], v["id"]), False),
        ("title", lambda v: (v["title"], v["id"]), False),
        ("-title", lambda v: (v["title"], v["id"]), True),
    ):
        url = sb.url + f"/v2/profiles/{pid}/videos?page_size=100&fields=video_id"
        got = [v["video_id"] for v in _walk(http, url + (f"&sort={sort}" if sort else ""), auth)[0]]
        assert got == [v["id"] for v in sorted(videos, key=key, reverse=reverse)], sort


def test_anonymous_reads_show_public_videos_of_any_profile(
    sb: Sandbox, http: requests.Session
) -> None:
    demo = sb.credentials.user.id
    url = sb.url + f"/v2/profiles/{demo}/videos?page_size=100&fields=video_id"
    got = {v["video_id"] for v in _walk(http, url, None)[0]}
    public = {
        v["id"]
        for v in seeded(demo).values()
        if v["published"] and not v["private"] and v["password"] is None
    }
    assert got == set(sorted(public, key=lambda i: (-seeded(demo)[i]["created_time"], i))[:1000])
    assert http.get(url + "&visibility=private").json()["data"] == []
    hidden = next(v for v in seeded(demo).values() if v["private"])
    assert http.get(sb.url + f"/v2/videos/{hidden['id']}").status_code == 404
    by_link = http.get(sb.url + f"/v2/videos/{hidden['private_id']}", params={"fields": "title"})
    assert by_link.status_code == 200 and by_link.json() == {"title": hidden["title"]}
    sb.settings(v2_anonymous_reads=False)
    try:
        refused = http.get(url)
        assert v2_error(refused, "UNAUTHENTICATED")["details"]["reason"] == "missing_token"
    finally:
        sb.settings(v2_anonymous_reads=True)


def test_the_v2_object_maps_the_legacy_fields(
    sb: Sandbox, http: requests.Session, auth: Any, profiles: dict[str, str]
) -> None:
    pid = profiles["demo-news"]
    every = ",".join(
        [
            "video_id,title,description,tags,category,language,country,created_at,updated_at",
            "uploaded_at,is_published,is_for_kids,is_explicit,visibility,video_url,profile",
            "source,thumbnail,embedding,processing,geo_restriction,enable_comments,hashtags",
        ]
    )
    items = _list(http, sb, pid, auth, page_size=60, fields=every)["data"]
    assert len(items) == len(seeded(pid))
    for item in items:
        v = seeded(pid)[item["video_id"]]
        assert not any(k.startswith(("views_", "likes", "owner", "channel")) for k in item)
        assert (item["title"], item["tags"], item["category"]) == (
            v["title"],
            v["tags"],
            v["channel"],
        )
        assert item["description"] == (v["description"] or None)
        assert (item["language"], item["country"]) == (v["language"], v["country"])
        assert item["created_at"] == iso(v["created_time"])
        assert item["updated_at"] == iso(v["updated_time"])
        assert item["is_published"] is v["published"] and item["is_explicit"] is v["explicit"]
        assert item["is_for_kids"] is v["is_created_for_kids"]
        assert item["visibility"] == ("private" if v["private"] else "public")
        assert item["profile"]["profile_id"] == pid and item["source"]["duration"] == v["duration"]
        assert item["embedding"]["enable_embed"] is v["allow_embed"]
        link = v["private_id"] if v["private"] else v["id"]
        assert item["video_url"] == f"https://www.dailymotion.com/video/{link}"
        assert item["processing"]["encoding_status"] == "ready"
        assert item["enable_comments"] is (not v["is_created_for_kids"])
