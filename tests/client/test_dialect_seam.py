"""A second API dialect plugs in as one module: nothing above the client changes.

The "v9" API of ``_dialect_support`` differs from the legacy one as API v2 does (paths,
renamed and nested fields, ISO dates, JSON ``PATCH`` answered 204, ``data``/``pagination.next``
lists, string error codes, profiles) and is served over real HTTP on 127.0.0.1. Its dialect
is written against :class:`dmtools.dialects.Dialect` alone; the loader, ``videos``, the bulk
engine and frames run unchanged and give what they give on the legacy API.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _support.dialect import FIELDS, V9, Tokens, V9Server, iso, serve, unix

import dmtools as dm
from dmtools.client import Client
from dmtools.config import Endpoints
from dmtools.frames import to_frame

PROFILE, OTHER = "p1", "p2"
#: a busy second: more videos than one page (the loader reads it page by page)
BUSY = 1_700_050_000


def wire_video(i: int, t: int, profile: str, rng: random.Random) -> dict[str, Any]:
    return {
        "video_id": f"x{profile}{i:04d}",
        "title": f"Video {i}",
        "description": None if i % 7 == 0 else f"About {i}",
        "tags": [f"t{i % 5}", "v9"],
        "category": rng.choice(["music", "news", "sport"]),
        "visibility": "private" if i % 4 == 0 else "public",
        "is_for_kids": i % 9 == 0,
        "profile": {"profile_id": profile},
        "created_at": iso(t),
        "updated_at": iso(t + 60),
    }


@pytest.fixture
def api() -> Iterator[V9Server]:
    rng = random.Random(9)
    server = V9Server(tokens={"t1": {"video.read", "video.manage"}, "ro": {"video.read"}})
    times = [1_700_000_000 + rng.randrange(100_000) for _ in range(230)] + [BUSY] * 30
    for i, t in enumerate(times):
        video = wire_video(i, t, PROFILE, rng)
        server.videos[video["video_id"]] = video
    for i in range(15):
        video = wire_video(i, 1_700_000_000 + i, OTHER, rng)
        server.videos[video["video_id"]] = video
    with serve(server):
        yield server


def v9_client(api: V9Server, **kwargs: Any) -> Client:
    return Client(Tokens(Endpoints.sandbox(api.url), **kwargs), dialect=V9(), retries=0)


def canonical(api: V9Server, profile: str | None = None) -> list[dict[str, Any]]:
    """The server's videos as canonical records (what the frame must hold)."""
    dialect = V9()
    return [
        dialect.record(v)
        for v in api.videos.values()
        if profile is None or v["profile"]["profile_id"] == profile
    ]


def logged(api: V9Server, since: int = 0) -> list[tuple[str, str, dict[str, str], Any]]:
    return api.log[since:]


def test_a_load_through_the_v9_dialect_gives_the_canonical_frame(api: V9Server) -> None:
    with v9_client(api) as client:
        df = dm.load_videos(client, owner=PROFILE, fields=FIELDS, progress=False)
    expected = to_frame(canonical(api, PROFILE), fields=["id", *FIELDS])
    pd.testing.assert_frame_equal(df.sort_index(), expected.sort_index())
    assert len(df) == 260 and df.loc[f"x{PROFILE}0004", "private"]  # "visibility": "private"
    assert str(df["created_time"].dtype) == "datetime64[ns, UTC]"  # ISO 8601 on the wire
    listings = [r for r in logged(api) if r[1].endswith("/videos")]
    assert any("created_after" in q for _, _, q, _ in listings)  # windows past the ceiling
    assert all(int(q["page_size"]) <= 20 for _, _, q, _ in listings)


def test_the_default_load_has_the_legacy_columns_and_dtypes_with_what_v9_lacks_missing(
    api: V9Server,
) -> None:
    with v9_client(api) as client:
        df = dm.load_videos(client, progress=False)  # every profile of the key
    legacy = to_frame([], fields=None)
    assert list(df.columns) == list(legacy.columns)
    assert df.dtypes.astype(str).to_dict() == legacy.dtypes.astype(str).to_dict()
    assert len(df) == 275 and set(df["owner"]) == {PROFILE, OTHER}
    assert df["views_total"].isna().all() and df["title"].notna().all()
    asked = {f for _, _, q, _ in logged(api) for f in q.get("fields", "").split(",")}
    assert "views_total" not in asked and "video_id" in asked


def test_dicts_pages_and_first_video_follow_the_v9_envelope(api: V9Server) -> None:
    vid = f"x{PROFILE}0008"
    with v9_client(api) as client:
        video = dm.get_video(client, vid, ["title", "owner", "created_time", "private"])
        assert video == {
            "id": vid,
            "title": "Video 8",
            "owner": PROFILE,
            "created_time": unix(api.videos[vid]["created_at"]),
            "private": True,
        }
        mark = len(api.log)
        ids = [v["id"] for v in dm.iterate_videos(client, owner=OTHER, fields=["id"])]
        assert sorted(ids) == sorted(r["id"] for r in canonical(api, OTHER))
        pages = [q.get("page") for _, _, q, _ in logged(api, mark)]
        assert pages == ["1"]  # 15 videos: one page of 20
        mark = len(api.log)
        first = dm.first_video(client, owner=PROFILE, sort="old", fields=["id"])
        [(method, path, query, _)] = logged(api, mark)
        assert query["page_size"] == "1" and query["sort"] == "created_at"
        pages_seen = list(client.pages(f"/profiles/{PROFILE}/videos", {"fields": "video_id"}))
    oldest = min(canonical(api, PROFILE), key=lambda v: (v["created_time"], v["id"]))
    assert first == {"id": oldest["id"]}
    assert [p.number for p in pages_seen] == [1, 2, 3, 4, 5]  # next links, up to the ceiling
    assert sum(len(p.items) for p in pages_seen) == 100 and pages_seen[-1].next is None


def test_update_video_patches_json_and_reads_the_after_image_back(api: V9Server) -> None:
    vid = f"x{PROFILE}0001"
    with v9_client(api) as client:
        mark = len(api.log)
        after = dm.update_video(
            client,
            vid,
            title="A" * 200,  # over the legacy API's limits, within v9's
            private=True,
            tags=["a", "b"],
            description=None,
            return_fields=["title", "private", "tags", "description"],
        )
    [(patch, path, _, body), (get, _, query, _)] = logged(api, mark)
    assert (patch, path, get) == ("PATCH", f"/v9/videos/{vid}", "GET")
    assert body == {"title": "A" * 200, "visibility": "private", "tags": ["a", "b"]} | {
        "description": None
    }
    assert after == {"id": vid, "title": "A" * 200, "private": True, "tags": ["a", "b"]} | {
        "description": None
    }


def test_bulk_edit_apply_and_undo_run_unchanged_through_the_seam(
    api: V9Server, tmp_path: Path
) -> None:
    with v9_client(api) as client:
        df = dm.load_videos(client, owner=OTHER, fields=FIELDS, progress=False)
        edited = df.copy()
        edited.loc[edited.index[:5], "title"] = "Renamed through v9"
        edited.loc[edited.index[5:8], "private"] = ~edited.loc[edited.index[5:8], "private"]
        plan = dm.plan_edits(df, edited)
        result = plan.apply(client, journal=tmp_path / "v9.journal", progress=False)
        assert set(result.to_frame()["op_status"]) == {"applied"} and len(result) == 8
        assert sum(v["title"] == "Renamed through v9" for v in api.videos.values()) == 5
        patches = [b for m, _, _, b in api.log if m == "PATCH"]
        assert all(set(b) in ({"title"}, {"visibility"}) for b in patches)  # changes only
        undone = result.undo_plan().apply(client, journal=tmp_path / "undo.journal", progress=False)
        assert set(undone.to_frame()["op_status"]) == {"applied"}
        again = dm.load_videos(client, owner=OTHER, fields=FIELDS, progress=False)
    pd.testing.assert_frame_equal(
        again.drop(columns="updated_time"), df.drop(columns="updated_time")
    )


def test_bulk_delete_runs_through_the_seam(api: V9Server, tmp_path: Path) -> None:
    with v9_client(api) as client:
        df = dm.load_videos(client, owner=OTHER, fields=FIELDS, progress=False)
        gone = df.index[:3]
        result = dm.plan_deletes(df.loc[gone]).apply(
            client, confirm=3, export_path=tmp_path / "gone.json", progress=False
        )
    assert set(result.to_frame()["op_status"]) == {"deleted"}
    assert not set(gone) & set(api.videos)
    assert [m for m, *_ in api.log].count("DELETE") == 3


def test_v9_errors_land_in_the_same_tree(api: V9Server) -> None:
    with v9_client(api) as client:
        with pytest.raises(dm.NotFound) as missing:
            dm.get_video(client, "xnothere", ["title"])
        with pytest.raises(dm.ValidationError) as invalid:
            client.send(V9().edit_call(f"x{PROFILE}0002", {"title": ""}, None))
    assert missing.value.type == "RESOURCE_NOT_FOUND" and missing.value.status == 404
    assert invalid.value.field == "title" and invalid.value.type == "INVALID_PARAMETER"
    with v9_client(api, current="ro") as reader, pytest.raises(dm.PermissionDenied) as denied:
        dm.delete_video(reader, f"x{PROFILE}0002")
    assert denied.value.missing_scope == "video.manage"


def test_a_stale_token_is_renewed_once_and_the_call_replayed(api: V9Server) -> None:
    with v9_client(api) as client:
        dm.get_video(client, f"x{PROFILE}0003", ["title"])
        api.tokens.pop("t1")  # expired on the server
        api.tokens["t2"] = {"video.read", "video.manage"}
        video = dm.get_video(client, f"x{PROFILE}0003", ["title"])
        assert video["title"] == "Video 3" and client.stats["replays"] == 1


def test_what_the_v9_api_lacks_is_refused_before_any_request(api: V9Server) -> None:
    with v9_client(api) as client:
        refused = {
            "field": lambda: dm.get_video(client, "x1", ["views_total"]),
            "filter": lambda: dm.all_videos(client, ids=["x1"]),
            "sort": lambda: dm.all_videos(client, sort="visited"),
            "global list": lambda: dm.all_videos(client, owner=None),
            "read-only edit": lambda: dm.update_video(client, "x1", language="fr"),
        }
        reasons = {}
        for name, call in refused.items():
            with pytest.raises(dm.InputError) as info:
                call()
            reasons[name] = str(info.value)
    assert api.log == []
    assert "views_total" in reasons["field"] and "v9" in reasons["field"]
    assert "not supported by the v9 API" in reasons["filter"]
    assert "creation time only" in reasons["sort"]
    assert "not writable through the v9 API" in reasons["read-only edit"]


def test_connect_refuses_a_grant_the_dialect_does_not_accept() -> None:
    with pytest.raises(dm.InputError, match="v9 API does not accept grant 'password'"):
        dm.connect(
            "password",
            client_id="k",
            client_secret="s",
            username="u",
            password="p",
            endpoints=Endpoints.sandbox("http://127.0.0.1:9"),  # nothing listens: no request
            dialect=V9(),
        )
