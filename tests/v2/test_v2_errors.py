"""API v2 errors land in the one exception tree, naming the field, the scope or the profile."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import dmtools as dm
from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=40, seed=5) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def v2(sb: Sandbox) -> Iterator[Client]:
    with connect_sandbox(sb, api="v2") as client:
        yield client


@pytest.fixture(scope="module")
def vid(v2: Client) -> str:
    return str(dm.first_video(v2, owner=str(v2.me()["id"]), fields=["id"])["id"])


def test_a_refused_value_is_a_validation_error_naming_the_canonical_field(
    v2: Client, vid: str
) -> None:
    dialect = v2.dialect
    with pytest.raises(dm.ValidationError) as title:
        v2.send(dialect.edit_call(vid, {"title": "   "}, None))  # past the client's checks
    with pytest.raises(dm.ValidationError) as category:
        v2.send(dialect.call("PATCH", f"/videos/{vid}", data={"category": "Not a slug!"}))
    with pytest.raises(dm.ValidationError) as listing:
        v2.get(f"/profiles/{v2.me()['id']}/videos", {"page_size": 1000})
    assert (title.value.field, title.value.type, title.value.status) == (
        "title",
        "INVALID_PARAMETER",
        400,
    )
    assert category.value.field == "channel"  # v2's category is the canonical channel
    assert listing.value.field == "page_size"


def test_a_missing_scope_is_named(sb: Sandbox, vid: str) -> None:
    with connect_sandbox(sb, api="v2", scope=["account.read", "video.read"]) as reader:
        assert dm.get_video(reader, vid, ["title"])["id"] == vid
        with pytest.raises(dm.PermissionDenied) as denied:
            dm.update_video(reader, vid, title="Nope")
        with pytest.raises(dm.PermissionDenied) as deleting:
            dm.delete_video(reader, vid)
    assert denied.value.missing_scope == deleting.value.missing_scope == "video.manage"
    assert denied.value.type == "MISSING_PERMISSIONS"
    assert sb.get_video(vid) is not None and sb.get_video(vid)["title"] != "Nope"


def test_a_profile_outside_the_key_is_named(sb: Sandbox, v2: Client) -> None:
    outsider = sb.credentials.user.id  # the demo user: not a channel of the organisation
    with pytest.raises(dm.PermissionDenied) as denied:
        dm.load_videos(v2, profile=outsider, progress=False)
    assert denied.value.profile == outsider and outsider in str(denied.value)
    with pytest.raises(dm.NotFound) as missing:
        dm.load_videos(v2, profile="xnothere", progress=False)
    assert "xnothere" in str(missing.value) and missing.value.type == "RESOURCE_NOT_FOUND"


def test_a_missing_video_is_not_found(v2: Client) -> None:
    with pytest.raises(dm.NotFound) as missing:
        dm.get_video(v2, "xmissing1", ["title"])
    assert missing.value.status == 404 and missing.value.path == "/v2/videos/xmissing1"


def test_what_v2_cannot_express_is_refused_before_any_request(sb: Sandbox, v2: Client) -> None:
    mark = len(sb.request_log())
    refused = {
        "filter": lambda: dm.all_videos(v2, owner="x1", search="cats"),
        "private=False": lambda: dm.all_videos(v2, owner="x1", private=False),
        "sort": lambda: dm.all_videos(v2, owner="x1", sort="visited"),
        "published": lambda: dm.update_video(v2, "x1", published=False),
        "explicit": lambda: dm.update_video(v2, "x1", explicit=False),
        "strict boolean": lambda: dm.update_video(v2, "x1", private="yes"),
    }
    reasons = {}
    for name, call in refused.items():
        with pytest.raises(dm.InputError) as info:
            call()
        reasons[name] = str(info.value)
    assert sb.request_log(mark) == []
    assert "not supported by the v2 API" in reasons["filter"]
    assert "visibility" in reasons["private=False"]
    assert "read-only on API v2" in reasons["published"]
    assert "cannot unset explicit" in reasons["explicit"]
    assert "not a boolean" in reasons["strict boolean"]
