"""The video resource against the sandbox: reads, list queries and their validation, edits
and deletes. The sandbox's request and commit logs tell what reached the server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from _support.sandbox import seeded

import dmtools as dm
from dmtools import videos
from dmtools.client import Client
from dmtools.errors import InputError, NotFound
from dmtools.sandbox import Sandbox
from dmtools.sandbox.state import seed as seedmod
from dmtools.testing import connect_sandbox

SEED, SIZE = 11, 300


def requests_since(sb: Sandbox, mark: int) -> list[dict[str, Any]]:
    return sb.request_log()[mark:]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=SIZE, seed=SEED) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Iterator[Client]:
    with connect_sandbox(sb) as c:
        c.me()
        yield c


@pytest.fixture(scope="module")
def mine(sb: Sandbox) -> dict[str, dict[str, Any]]:
    return seeded(SEED, SIZE, sb.credentials.user.id)


def test_get_video_returns_the_requested_fields_as_flat_keys(
    client: Client, sb: Sandbox, mine: dict[str, Any]
) -> None:
    vid = sorted(mine)[0]
    video = videos.get_video(client, vid, fields=["title", "owner.screenname", "views_total"])
    assert video == {
        "id": vid,
        "title": mine[vid]["title"],
        "owner.screenname": "Demo Channel",
        "views_total": mine[vid]["views_total"],
    }


def test_get_video_of_a_missing_video_raises_not_found(client: Client) -> None:
    with pytest.raises(NotFound):
        videos.get_video(client, "xdoesnotexist")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: videos.get_video(c, "x1", fields=["title", "colour", "owner.avatar_url"]),
        lambda c: videos.get_video(c, "../me"),
        lambda c: videos.iterate_videos(c, fields="title,colour,owner.avatar_url"),
        lambda c: dm.load_videos(c, fields=["colour", "owner.avatar_url"], progress=False),
    ],
    ids=["get-fields", "get-id", "iterate-fields", "load-fields"],
)
def test_unknown_fields_and_bad_ids_fail_before_any_request(
    client: Client, sb: Sandbox, call: Any
) -> None:
    mark = len(sb.request_log())
    with pytest.raises(InputError) as raised:
        call(client)
    named = {p.column for p in raised.value.problems}
    assert named in ({"colour", "owner.avatar_url"}, {"video id"})
    assert requests_since(sb, mark) == []


BAD_FILTERS: dict[str, Any] = {
    "colour": "blue",
    "channel": "cooking",
    "sort": "sideways",
    "created_after": "yesterday",
    "private": "maybe",
    "tags": [""],
    "longer_than": -3,
}


@pytest.mark.parametrize(
    "entry", [videos.iterate_videos, videos.all_videos, videos.first_video, dm.load_videos]
)
def test_bad_filters_are_all_named_in_one_error_and_nothing_is_sent(
    client: Client, sb: Sandbox, entry: Any
) -> None:
    mark = len(sb.request_log())
    with pytest.raises(InputError) as raised:
        entry(client, **BAD_FILTERS)
    assert {p.column for p in raised.value.problems} >= set(BAD_FILTERS) - {"sort"}
    assert "colour" in str(raised.value) and "cooking" in str(raised.value)
    assert requests_since(sb, mark) == []


def test_load_videos_refuses_sort_and_bad_worker_counts_before_any_request(
    client: Client, sb: Sandbox
) -> None:
    mark = len(sb.request_log())
    with pytest.raises(InputError, match="sort"):
        dm.load_videos(client, sort="recent", progress=False)
    with pytest.raises(InputError, match="workers"):
        dm.load_videos(client, workers=0, progress=False)
    with pytest.raises(InputError, match="created_after"):
        dm.load_videos(client, created_after=200, created_before=100, progress=False)
    assert requests_since(sb, mark) == []


def test_iterate_videos_filters_by_category_and_creation_window(
    client: Client, mine: dict[str, Any]
) -> None:
    times = sorted(v["created_time"] for v in mine.values())
    lo, hi = times[50], times[250]
    got = list(
        videos.iterate_videos(
            client,
            channel="music",
            created_after=datetime.fromtimestamp(lo, UTC),
            created_before=hi,
            fields=["channel", "created_time"],
        )
    )
    expected = {
        i for i, v in mine.items() if v["channel"] == "music" and lo <= v["created_time"] < hi
    }
    assert expected and {v["id"] for v in got} == expected
    assert all(v["channel"] == "music" for v in got)


def test_date_filters_take_datetimes_iso_text_or_unix_seconds_alike(
    client: Client, mine: dict[str, Any]
) -> None:
    t = sorted(v["created_time"] for v in mine.values())[100]
    moment = datetime.fromtimestamp(t, UTC)
    answers = [
        {v["id"] for v in videos.iterate_videos(client, created_before=value, fields=["id"])}
        for value in (t, moment, moment.isoformat(), moment.replace(tzinfo=None))
    ]
    assert answers[0] == {i for i, v in mine.items() if v["created_time"] < t}
    assert all(a == answers[0] for a in answers)


def test_iterate_videos_pages_through_the_whole_list_in_the_sort_asked(
    client: Client, mine: dict[str, Any]
) -> None:
    got = videos.all_videos(client, sort="old", fields=["created_time"])
    assert len(got) == len(mine) == len({v["id"] for v in got})
    assert [v["created_time"] for v in got] == sorted(v["created_time"] for v in mine.values())
    oldest = videos.first_video(client, sort="old", fields=["created_time"])
    assert oldest is not None and oldest["id"] == got[0]["id"]


def test_owner_none_reads_the_global_list_of_public_videos(client: Client, sb: Sandbox) -> None:
    everyone = seeded(SEED, SIZE, {u for u in [sb.credentials.user.id]})
    got = videos.all_videos(
        client,
        owner=None,
        fields=["private", "published", "owner"],
        created_before=seedmod.EPOCH_START + 86400 * 365,
    )
    assert got and all(v["private"] is False and v["published"] is True for v in got)
    public_mine = {
        i
        for i, v in everyone.items()
        if not v["private"]
        and v["published"]
        and v["created_time"] < seedmod.EPOCH_START + 86400 * 365
    }
    assert public_mine <= {v["id"] for v in got}


def test_owner_by_username_reads_that_users_list(client: Client, sb: Sandbox) -> None:
    other = next(u for u in seedmod.build(seed=SEED, videos=SIZE).users if u.username == "someone")
    got = videos.all_videos(client, owner="someone", fields=["owner"])
    assert {v["owner"] for v in got} == {other.id}
    assert len(got) == len(seeded(SEED, SIZE, other.id))


def test_a_private_key_lists_every_channel_of_its_organisation(sb: Sandbox) -> None:
    channels = set(sb.credentials.private_key.channels)
    with connect_sandbox(sb, grant="client_credentials", scope="read_videos") as partner:
        assert set(videos.organisation_channels(partner)) == channels
        got = videos.all_videos(partner, fields=["owner"])
    assert {v["id"] for v in got} == set(seeded(SEED, SIZE, channels))


def test_iterating_a_list_to_the_ceiling_says_so(
    client: Client, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sb.settings(list_ceiling=100)
    try:
        with caplog.at_level(logging.WARNING, logger="dmtools"):
            got = videos.all_videos(client, fields=["id"])
    finally:
        sb.settings(list_ceiling=1000)
    assert len(got) == 100
    assert "load_videos" in caplog.text


def test_update_video_sends_only_the_given_fields(
    client: Client, sb: Sandbox, mine: dict[str, Any]
) -> None:
    vid = sorted(mine)[1]
    mark = len(sb.commits())
    answer = videos.update_video(
        client,
        vid,
        title="Renamed",
        tags=["a", "b"],
        private=True,
        return_fields=["title", "tags", "private"],
    )
    assert answer == {"id": vid, "title": "Renamed", "tags": ["a", "b"], "private": True}
    commits = sb.commits()[mark:]
    assert [(c["kind"], c["video_id"], sorted(c["fields"])) for c in commits] == [
        ("edit", vid, ["private", "tags", "title"])
    ]
    stored = sb.get_video(vid)
    assert stored is not None and stored["title"] == "Renamed" and stored["tags"] == ["a", "b"]


def test_update_video_with_bad_values_names_each_and_writes_nothing(
    client: Client, sb: Sandbox, mine: dict[str, Any]
) -> None:
    vid = sorted(mine)[2]
    mark, commits = len(sb.request_log()), len(sb.commits())
    with pytest.raises(InputError) as raised:
        videos.update_video(client, vid, title="x" * 101, channel="cooking", views_total=3)
    assert {p.column for p in raised.value.problems} == {"title", "channel", "views_total"}
    with pytest.raises(InputError):
        videos.update_video(client, vid)
    assert requests_since(sb, mark) == [] and len(sb.commits()) == commits


def test_delete_video_removes_it(client: Client, sb: Sandbox, mine: dict[str, Any]) -> None:
    vid = sorted(mine)[3]
    videos.delete_video(client, vid)
    assert sb.get_video(vid) is None
    with pytest.raises(NotFound):
        videos.get_video(client, vid)
