"""What makes list pages cheap keeps them right: list totals, selected columns, dates, JSON.

* A list's total is counted once per query until anything is committed: every write,
  delete, create and upload, by a client or out of band, on either dialect, shows in the
  next page's total, and so does a write by another store on the same database file.
* A list reading only some columns gets exactly those columns' values of the full rows.
* API v2 dates are the text ``strftime`` gives; answers are the JSON the standard library
  writes (never invalid JSON: a non-finite float is null).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from _support.sandbox import bearer, password_token, v2_token
from hypothesis import given, settings
from hypothesis import strategies as st

from dmtools.sandbox import Sandbox
from dmtools.sandbox.api.v2.views import iso
from dmtools.sandbox.api.wire import dumps
from dmtools.sandbox.state.queries import Paging, VideoFilter, Visibility
from dmtools.sandbox.state.store import Store
from dmtools.sandbox.state.videos import BOOL_COLUMNS, LIST_COLUMNS, VIDEO_COLUMNS

TAG = "zz-count-check"


@pytest.fixture()
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=40, seed=3) as sandbox:
        yield sandbox


class Lists:
    """The totals of one channel's list and of its videos tagged :data:`TAG`, and the
    client writes, in one dialect."""

    def __init__(self, sb: Sandbox, http: requests.Session, dialect: str) -> None:
        self.sb, self.http, self.dialect = sb, http, dialect
        if dialect == "legacy":
            self.owner = sb.credentials.user.id
            self.auth = bearer(password_token(sb))
        else:
            self.owner = sb.credentials.private_key.profiles[0]
            self.auth = bearer(v2_token(sb, "video.read video.manage"))

    def total(self, tagged: bool = False) -> int:
        if self.dialect == "legacy":
            params: dict[str, Any] = {"limit": 1, **({"tags": TAG} if tagged else {})}
            body = self.http.get(self.sb.url + "/me/videos", params=params, headers=self.auth)
            return int(body.json()["total"])
        params = {"page_size": 1, **({"tags": TAG} if tagged else {})}
        url = self.sb.url + f"/v2/profiles/{self.owner}/videos"
        return int(
            self.http.get(url, params=params, headers=self.auth).json()["pagination"]["total"]
        )

    def ids(self) -> list[str]:
        if self.dialect == "legacy":
            url, params, key = self.sb.url + "/me/videos", {"limit": 5, "fields": "id"}, "list"
        else:
            url = self.sb.url + f"/v2/profiles/{self.owner}/videos"
            params, key = {"page_size": 5, "fields": "video_id"}, "data"
        items = self.http.get(url, params=params, headers=self.auth).json()[key]
        return [next(iter(item.values())) for item in items]

    def tag(self, xid: str) -> None:
        if self.dialect == "legacy":
            url, kwargs = f"/video/{xid}", {"data": {"tags": TAG}}
            response = self.http.post(self.sb.url + url, headers=self.auth, **kwargs)
        else:
            body = {"tags": [TAG]}
            response = self.http.patch(
                self.sb.url + f"/v2/videos/{xid}", json=body, headers=self.auth
            )
        assert response.status_code in (200, 204), response.text

    def delete(self, xid: str) -> None:
        path = f"/video/{xid}" if self.dialect == "legacy" else f"/v2/videos/{xid}"
        response = self.http.delete(self.sb.url + path, headers=self.auth)
        assert response.status_code in (200, 204), response.text

    def create_from_upload(self) -> None:
        """Upload a file and create a video of it, tagged."""
        if self.dialect == "legacy":
            target = self.http.get(self.sb.url + "/file/upload", headers=self.auth).json()
        else:
            url = self.sb.url + "/v2/files/upload_sessions"
            target = self.http.post(url, headers=self.auth).json()
        files = {"file": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000, "video/mp4")}
        file_url = self.http.post(target["upload_url"], files=files).json()["url"]
        if self.dialect == "legacy":
            data = {"url": file_url, "title": "Clip", "tags": TAG}
            response = self.http.post(self.sb.url + "/me/videos", data=data, headers=self.auth)
        else:
            body = {
                "title": "Clip",
                "tags": [TAG],
                "source": {"file_url": file_url},
                "visibility": "public",
                "category": "music",
                "is_for_kids": False,
            }
            url = self.sb.url + f"/v2/profiles/{self.owner}/videos"
            response = self.http.post(url, json=body, headers=self.auth)
        assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("dialect", ["legacy", "v2"])
def test_totals_follow_every_write(sb: Sandbox, http: requests.Session, dialect: str) -> None:
    lists = Lists(sb, http, dialect)
    total = lists.total()
    assert total > 5 and lists.total() == total  # counted, then kept
    assert lists.total(tagged=True) == lists.total(tagged=True) == 0
    first, second, third, fourth = lists.ids()[:4]
    steps: list[tuple[Callable[[], Any], int, int]] = [
        (lambda: lists.tag(first), 0, 1),  # a client's edit
        (lambda: sb.edit_video(second, tags=[TAG]), 0, 2),  # an out-of-band edit
        (lambda: sb.add_videos(3, owner=lists.owner), 3, 2),  # videos added out of band
        (lambda: lists.delete(first), 2, 1),  # a client's delete
        (lambda: sb.delete_video(second), 1, 0),  # an out-of-band delete
        (lists.create_from_upload, 2, 1),  # an upload and a create
        (lambda: sb.edit_video(third, tags=[TAG, "b"]), 2, 2),
        (lambda: lists.tag(fourth), 2, 3),
    ]
    for n, (write, added, tagged) in enumerate(steps):
        write()
        assert (lists.total(), lists.total(tagged=True)) == (total + added, tagged), n
        assert (lists.total(), lists.total(tagged=True)) == (total + added, tagged), n


def _page(store: Store, **options: Any) -> tuple[int, list[dict[str, Any]]]:
    owner = (store.user("demo") or {})["id"]
    return store.list_videos(VideoFilter(owner=owner, **options), Visibility.ALL, Paging(1, 1000))


def test_a_write_through_another_connection_to_the_file_is_counted(tmp_path: Path) -> None:
    """Two stores on one database file (two sandboxes, or two processes, sharing it)."""
    path = str(tmp_path / "shared.sqlite")
    first = Store(path)
    first.seed_if_empty(4, 30)
    other = Store(path)
    try:
        total, videos = _page(first)
        assert _page(first)[0] == total == len(videos) > 3
        other.add_videos(2)
        assert _page(first)[0] == total + 2
        other.delete_video(videos[0]["id"])
        other.update_video(videos[1]["id"], {"tags": ["only-here"]})
        assert _page(first)[0] == total + 1
        assert _page(first, tags=("only-here",))[0] == 1
        first.delete_video(videos[1]["id"])
        assert _page(other, tags=("only-here",))[0] == _page(first, tags=("only-here",))[0] == 0
    finally:
        first.close()
        other.close()


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    memory = Store()
    memory.seed_if_empty(9, 60)
    with memory.db.write() as conn:  # some nulls, empty and non-empty lists
        conn.execute(
            "UPDATE videos SET is_created_for_kids = NULL, tags = '[]' WHERE rowid % 3 = 0"
        )
        conn.execute("UPDATE videos SET hashtags = '[\"#été\"]', geo_countries = '[\"FR\"]'")
    yield memory
    memory.close()


@settings(max_examples=40, deadline=None)
@given(columns=st.sets(st.sampled_from(VIDEO_COLUMNS), min_size=1))
def test_a_list_of_some_columns_holds_those_values_of_the_full_rows(
    store: Store, columns: set[str]
) -> None:
    owner = VideoFilter(sort="old")
    total, full = store.list_videos(owner, Visibility.ALL, Paging(1, 100))
    count, some = store.list_videos(owner, Visibility.ALL, Paging(1, 100), columns)
    assert count == total > len(full) == len(some) == 100
    assert [list(v) for v in some] == [[c for c in VIDEO_COLUMNS if c in columns]] * len(some)
    expected = [{c: v[c] for c in VIDEO_COLUMNS if c in columns} for v in full]
    assert [_typed(v) for v in some] == [_typed(v) for v in expected]
    with store.db.read() as conn:  # the whole rows, decoded as the stored types say
        rows = [
            conn.execute("SELECT * FROM videos WHERE id = ?", (v["id"],)).fetchone() for v in full
        ]
    assert [_typed(v) for v in full] == [_typed(_reference(dict(row))) for row in rows]
    assert [store.video(v["id"]) for v in full[:5]] == full[:5]


def _reference(row: dict[str, Any]) -> dict[str, Any]:
    for name in LIST_COLUMNS:
        row[name] = json.loads(row[name] or "[]")
    for name in BOOL_COLUMNS:
        row[name] = None if row[name] is None else bool(row[name])
    return row


def _typed(video: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """A video with the type of every value (``1 == True``, but not as an answer)."""
    return [(name, type(value).__name__, value) for name, value in video.items()]


def test_an_unknown_column_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="nope"):
        store.list_videos(VideoFilter(), Visibility.ALL, Paging(1, 5), ["id", "nope"])


@settings(max_examples=300, deadline=None)
@given(seconds=st.one_of(st.integers(-(10**12), 10**12), st.floats(0, 4e9), st.none()))
def test_v2_dates_are_the_text_strftime_gives(seconds: float | None) -> None:
    def strftime() -> str | None:
        if seconds is None:
            return None
        moment = datetime.fromtimestamp(int(seconds), UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    try:
        expected: Any = strftime()
    except (ValueError, OverflowError, OSError) as exc:
        expected = type(exc)
    try:
        got: Any = iso(seconds)
    except (ValueError, OverflowError, OSError) as exc:
        got = type(exc)
    assert got == expected


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.text(st.characters(exclude_categories=["Cs"])),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(value=_JSON)
def test_answers_are_the_bytes_the_standard_library_writes(value: Any) -> None:
    assert dumps(value) == _stdlib(value)


@settings(max_examples=200, deadline=None)
@given(value=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=8))
def test_floats_keep_their_value(value: list[float]) -> None:
    assert json.loads(dumps(value)) == value == json.loads(_stdlib(value))


def test_answers_are_always_valid_json_and_refuse_what_they_refused() -> None:
    assert dumps({"a": [math.nan, -math.inf], "b": 1.5}) == b'{"a":[null,null],"b":1.5}'
    big = {"n": 2**80, "x": math.inf}  # orjson refuses the integer: the fallback writes it
    assert json.loads(dumps(big)) == {"n": 2**80, "x": None}
    assert dumps({1: "a", None: "b"}) == _stdlib({1: "a", None: "b"})
    deep: Any = []
    for _ in range(300):  # deeper than orjson goes
        deep = [deep]
    assert dumps(deep) == _stdlib(deep)

    @dataclasses.dataclass
    class Point:
        x: int

    for refused, error in [
        ("\ud800", UnicodeEncodeError),
        (Point(1), TypeError),
        ({1, 2}, TypeError),
    ]:
        with pytest.raises(error):
            _stdlib(refused)
        with pytest.raises(error):
            dumps(refused)
