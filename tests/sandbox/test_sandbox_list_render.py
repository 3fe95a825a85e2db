"""A list page shows every video as its single read does, on both API dialects.

A list page reads only the stored columns its fields need and renders the page as one batch;
a single read reads the whole stored video. Every item of a page is checked against an
oracle written from the field tables (the legacy fields, the v2 mapping documented in
``dmtools.sandbox.api.v2.views``) applied to the full stored video, and items of the page
against the single-video GET with the same fields, for random field selections. The
sandbox holds varied videos: private, password-protected, unpublished, other owners,
non-ASCII titles, empty and non-empty lists, null columns, every v2-only column set.
"""

from __future__ import annotations

import dataclasses
import hashlib
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from _support.sandbox import bearer, partner_token, password_token, v2_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmtools.sandbox import Sandbox
from dmtools.sandbox.api.legacy.views import VIDEO_READABLE
from dmtools.sandbox.api.v2.views import _FORMATS, _FRAMES, _PREVIEWS, _SIZES, _THUMBS, VIDEO
from dmtools.sandbox.state import seed as seedmod
from dmtools.schema import CATEGORY_LABELS

SEED, VIDEOS, ARCHIVE = 23, 90, 30
DATA = seedmod.build(SEED, VIDEOS, ARCHIVE)
USERS = {u.id: dataclasses.asdict(u) for u in DATA.users}
BY_NAME = {u.username: u.id for u in DATA.users}
WEB, CDN = "https://www.dailymotion.com", "https://s1.dmcdn.net/v"

#: Out-of-band edits (stored column names) given to the first videos of every owner.
EDITS: tuple[dict[str, Any], ...] = (
    {"title": 'Été à Tōkyō — 東京 🎥 "q"', "tags": ["été", "漢字", "a,b"], "description": ""},
    {"private": True, "password": "s3cret", "hashtags": ["#été", "#b"]},
    {"private": False, "published": True, "password": "pw", "geo_mode": "allow"},
    {"published": False, "updated_time": None, "tags": [], "is_created_for_kids": True},
    {
        "published_at": 1_700_000_000,
        "source_url": "https://example.com/a.mp4",
        "ai_subtitles": ["en", "fr"],
        "engagement_message": "Merci ✓",
        "geo_countries": ["FR", "DE"],
        "is_ai_altered": True,
        "allow_embed": False,
        "explicit": True,
        "enable_comments": False,
        "can_be_stitched": True,
        "is_exclusive_content": True,
        "has_paid_partnership": True,
        "enable_ai_chapter_generation": True,
    },
    {"is_created_for_kids": None, "channel": None, "duration": None, "language": None},
    {"private": True, "private_id": None, "published": False, "title": None},
)
#: Random field selections per list (the module's sandbox serves them all).
EXAMPLES = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LEGACY_FIELDS = sorted(VIDEO_READABLE)
V2_FIELDS = sorted(
    {*VIDEO.scalars, *VIDEO.embedded}
    | {f"{name}.{sub}" for name, subs in VIDEO.embedded.items() for sub in subs}
)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=VIDEOS, seed=SEED, archive_videos=ARCHIVE) as sandbox:
        for owner in USERS:
            mine = [v["id"] for v in DATA.videos if v["owner"] == owner]
            for xid, edit in zip(mine, EDITS, strict=False):
                sandbox.edit_video(xid, **edit)
        yield sandbox


class Stored(dict[str, dict[str, Any]]):
    """Every stored video, whole, by id (the admin API's view)."""

    def __repr__(self) -> str:
        return f"<{len(self)} stored videos>"


@pytest.fixture(scope="module")
def stored(sb: Sandbox) -> Stored:
    return Stored({v["id"]: sb.get_video(v["id"]) or {} for v in DATA.videos})


# -- the oracles -----------------------------------------------------------------------
def legacy_value(video: dict[str, Any], name: str, owner_view: bool) -> Any:
    """A legacy field as the legacy field list describes it."""
    xid, user = video["id"], USERS[video["owner"]]
    if name.startswith("owner."):
        sub = name[6:]
        if sub == "url":
            return f"{WEB}/{user['username']}"
        return f"https://s2.dmcdn.net/u/{user['id']}/120x120" if "avatar" in sub else user[sub]
    if name.startswith("thumbnail_") and name != "thumbnail_url":
        return f"https://s1.dmcdn.net/v/{xid}/x{name.split('_')[1]}"
    computed = {
        "channel.id": video["channel"],
        "channel.name": CATEGORY_LABELS.get(video["channel"] or ""),
        "private_id": video["private_id"] if owner_view else None,
        "password_protected": video["password"] is not None,
        "uploaded_time": video["created_time"],
        "item_type": "video",
        "url": f"{WEB}/video/{xid}",
        "embed_url": f"{WEB}/embed/video/{xid}",
        "embed_html": '<iframe frameborder="0" width="480" height="270" '
        f'src="{WEB}/embed/video/{xid}" allowfullscreen></iframe>',
        "thumbnail_url": f"https://s1.dmcdn.net/v/{xid}/x720",
    }
    return computed[name] if name in computed else video.get(name)


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def v2_whole(video: dict[str, Any], name: str, owns: bool) -> Any:
    """A whole v2 field as the mapping table of ``dmtools.sandbox.api.v2.views`` says."""
    xid, user = video["id"], USERS[video["owner"]]
    width, height = _SIZES[zlib.crc32(xid.encode()) % len(_SIZES)]
    private = video["private"] and video["private_id"] and owns
    published = video["published_at"] or (video["created_time"] if video["published"] else None)
    url = f"{WEB}/embed/video/{xid}"
    table = {
        "video_id": xid,
        "category": video["channel"],
        "description": video["description"] or None,
        "visibility": "private"
        if video["private"]
        else ("password" if video["password"] is not None else "public"),
        "is_published": video["published"],
        "is_for_kids": video["is_created_for_kids"],
        "is_explicit": video["explicit"],
        "created_at": _iso(video["created_time"]),
        "updated_at": _iso(video["updated_time"] or video["created_time"]),
        "uploaded_at": _iso(video["created_time"]),
        "published_at": _iso(published),
        "video_url": f"{WEB}/video/{video['private_id'] if private else xid}",
        "enable_comments": bool(video["enable_comments"] and not video["is_created_for_kids"]),
        "available_formats": [str(n) for n in _FORMATS if n <= min(width, height)],
        "profile": {
            "profile_id": user["id"],
            "name": user["username"],
            "display_name": user["screenname"],
            "profile_url": f"{WEB}/{user['username']}",
        },
        "source": {
            "duration": video["duration"],
            "width": width,
            "height": height,
            "checksum": hashlib.sha1(
                f"{xid}:{video['source_url'] or ''}".encode(), usedforsecurity=False
            ).hexdigest(),
        },
        "embedding": {
            "enable_embed": video["allow_embed"],
            "embed_url": url,
            "embed_html": f'<iframe frameborder="0" width="480" height="270" src="{url}" '
            "allowfullscreen></iframe>",
        },
        "geo_restriction": {
            "mode": video["geo_mode"] or "deny",
            "countries": video["geo_countries"],
        },
        "processing": {
            "encoding_status": "ready",
            "encoding_progress": 100,
            "publishing_progress": 100,
        },
        "thumbnail": {f"h{n}_url": f"{CDN}/{xid}/x{n}" for n in _THUMBS},
        "first_frame": {f"h{n}_url": f"{CDN}/{xid}/ff/x{n}" for n in _FRAMES},
        "preview": {f"p{n}_url": f"{CDN}/{xid}/preview/p{n}.mp4" for n in _PREVIEWS},
    }
    return table[name] if name in table else video[name]


def v2_expected(video: dict[str, Any], fields: str | None, owns: bool) -> dict[str, Any]:
    out = {}
    for name, subs in VIDEO.parse(fields).items():
        value = v2_whole(video, name, owns)
        out[name] = value if subs is None else {sub: value[sub] for sub in subs}
    return out


# -- the checks ------------------------------------------------------------------------
#: The videos given an edit (the first ones of every owner).
EDITED = {
    xid
    for owner in USERS
    for xid in [v["id"] for v in DATA.videos if v["owner"] == owner][: len(EDITS)]
}


def _check_page(
    http: requests.Session,
    sb: Sandbox,
    page: tuple[str, dict[str, Any], Any],
    single: tuple[str, str, dict[str, Any]],
    expected: Any,
) -> int:
    """Every item of a list page against the oracle ``expected(stored video)``; the edited
    ones and the first three against their single read (path template, id key, params).
    The number of edited videos on the page."""
    path, params, auth = page
    template, key, fields = single
    response = http.get(sb.url + path, params=params, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    id_params = {**params, "fields": key}
    items = body.get("list", body.get("data"))
    ids = [
        i[key]
        for i in (lambda b: b.get("list", b.get("data")))(
            http.get(sb.url + path, params=id_params, headers=auth).json()
        )
    ]
    assert len(ids) == len(items) > 0
    for n, (xid, item) in enumerate(zip(ids, items, strict=True)):
        assert item == expected(xid), (xid, item)
        if xid in EDITED or n < 3:
            one = http.get(sb.url + template.format(xid), params=fields, headers=auth)
            assert one.status_code == 200, one.text
            assert one.json() == item and list(one.json()) == list(item), xid
    return len(EDITED.intersection(ids))


# -- legacy ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def legacy_auth(sb: Sandbox) -> dict[str, Any]:
    return {"demo": bearer(password_token(sb)), "partner": bearer(partner_token(sb))}


def _legacy_lists(
    auth: dict[str, Any],
) -> dict[str, tuple[str, dict[str, Any], Any, set[str], str]]:
    """name -> (path, params, auth header, owners seen as their owner, single read path)."""
    demo, news = BY_NAME["demo"], BY_NAME["demo-news"]
    others = ",".join(name for name in BY_NAME if name != "demo-archive")
    return {
        "own channel": ("/me/videos", {}, auth["demo"], {demo}, "/video/{}"),
        "public, several owners": (
            "/videos",
            {"owners": others, "sort": "old"},  # the edited videos are the oldest
            auth["demo"],
            {demo},
            "/video/{}",
        ),
        "organisation channel": (
            f"/rest/user/{news}/videos",
            {},
            auth["partner"],
            set(USERS),
            "/rest/video/{}",
        ),
    }


@pytest.mark.parametrize("which", ["own channel", "public, several owners", "organisation channel"])
@EXAMPLES
@given(fields=st.lists(st.sampled_from(LEGACY_FIELDS), min_size=1, max_size=12, unique=True))
def test_legacy_list_items_equal_their_single_reads_and_the_field_list(
    sb: Sandbox, stored: Stored, legacy_auth: Any, http: Any, which: str, fields: list[str]
) -> None:
    path, params, auth, owned, single = _legacy_lists(legacy_auth)[which]
    query = {"fields": ",".join(fields)}

    def expected(xid: str) -> dict[str, Any]:
        video = stored[xid]
        return {n: legacy_value(video, n, video["owner"] in owned) for n in fields}

    page = (path, {**params, **query, "limit": 100}, auth)
    assert _check_page(http, sb, page, (single, "id", query), expected) > 0


# -- API v2 ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def v2_auth(sb: Sandbox) -> Any:
    return bearer(v2_token(sb, "video.read"))


@pytest.mark.parametrize("profile", ["demo-news", "demo-sport", "demo-archive", "anonymous"])
@EXAMPLES
@given(fields=st.lists(st.sampled_from(V2_FIELDS), min_size=1, max_size=10, unique=True))
def test_v2_list_items_equal_their_single_reads_and_the_mapping_table(
    sb: Sandbox,
    stored: dict[str, dict[str, Any]],
    v2_auth: Any,
    http: requests.Session,
    profile: str,
    fields: list[str],
) -> None:
    anonymous = profile == "anonymous"
    pid = BY_NAME["demo-news" if anonymous else profile]
    auth = {} if anonymous else v2_auth
    query = {"fields": ",".join(fields)}

    def expected(xid: str) -> dict[str, Any]:
        return v2_expected(stored[xid], query["fields"], owns=not anonymous)

    page = (f"/v2/profiles/{pid}/videos", {**query, "page_size": 100}, auth)
    assert _check_page(http, sb, page, ("/v2/videos/{}", "video_id", query), expected) > 0


def test_the_defaults_every_field_alone_and_all_together(
    sb: Sandbox, stored: Stored, legacy_auth: Any, v2_auth: Any, http: Any
) -> None:
    """The default fields, each field of each dialect's table on its own (so no getter can
    hide behind a random draw), then every field in one request."""
    path, params, auth, owned, single = _legacy_lists(legacy_auth)["own channel"]
    for fields in [None, *([name] for name in LEGACY_FIELDS), LEGACY_FIELDS]:
        query = {} if fields is None else {"fields": ",".join(fields)}
        names = fields or ["id", "title", "channel", "owner"]

        def legacy(xid: str, names: list[str] = names) -> dict[str, Any]:
            return {n: legacy_value(stored[xid], n, True) for n in names}

        page = (path, {**params, **query, "limit": 100}, auth)
        assert _check_page(http, sb, page, (single, "id", query), legacy) > 0
    pid = BY_NAME["demo-news"]
    for fields in [None, *([name] for name in V2_FIELDS), V2_FIELDS]:
        query = {} if fields is None else {"fields": ",".join(fields)}

        def v2(xid: str, query: dict[str, str] = query) -> dict[str, Any]:
            return v2_expected(stored[xid], query.get("fields"), owns=True)

        page = (f"/v2/profiles/{pid}/videos", {**query, "page_size": 100}, v2_auth)
        assert _check_page(http, sb, page, ("/v2/videos/{}", "video_id", query), v2) > 0
