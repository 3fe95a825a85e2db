"""The videos of a load handed over before its last reads end, and the frame built in two parts.

``load_records(early=...)`` gives the videos held so far to ``early`` once, when nearly all
are in and only the last reads are in flight (:mod:`dmtools._handover`); ``load_videos``
builds their frame then (:mod:`dmtools._loadframe`). With one worker the loader's steps do
not depend on timing, so a load with a handover and one without read exactly the same pages:
what they return must be the same videos with the same values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from _support.listapi import DIALECTS, Churn, ListAPI, make_videos
from hypothesis import given, settings
from hypothesis import strategies as st

import dmtools as dm
from dmtools import _loadframe
from dmtools._handover import EARLY_MOST, EARLY_SHARE, Handover
from dmtools._loadframe import FrameParts, ReadAgain
from dmtools.errors import InputError
from dmtools.frames import to_frame
from dmtools.loader import load_records, newest_first
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox
from dmtools.videos import VideoQuery

QUERY = VideoQuery(paths=("/me/videos",), fields=("id", "title"), params={"fields": "id,title"})
FIELDS = ["id", "title", "channel", "views_total", "created_time"]


class Retitle:
    """A ``between`` hook: a ``Churn``, and with chance ``rate`` a new title for a video."""

    def __init__(self, api_videos: dict[str, Any], rng: random.Random, rate: float) -> None:
        self.churn = Churn(api_videos, rng, rate=rate, span=50_000)
        self.rng, self.rate, self.edits = rng, rate, 0

    def __call__(self, api: ListAPI) -> None:
        self.churn(api)
        if api.videos and self.rng.random() < self.rate:
            self.edits += 1
            api.videos[self.rng.choice(sorted(api.videos))]["title"] = f"edit {self.edits}"


def run(dialect: str, seed: int, early: Callable[[list[dict[str, Any]]], None] | None) -> Any:
    rng = random.Random(seed)
    videos = make_videos(sorted(rng.randrange(0, 50_000) for _ in range(1_500)), rng)
    api = ListAPI(videos, dialect=dialect, between=Retitle(videos, rng, rate=0.3))
    return load_records(api, QUERY, progress=False, workers=1, early=early)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("seed", range(6))
def test_handed_over_and_returned_videos_are_what_one_load_returns(dialect: str, seed: int) -> None:
    """Titles edited and videos added or deleted between every few reads: the videos handed
    over, overridden by those returned at the end (read later), are exactly the load's."""
    handed: list[list[dict[str, Any]]] = []
    late = run(dialect, seed, lambda videos: handed.append([dict(v) for v in videos]))
    whole = run(dialect, seed, None)
    assert len(handed) == 1, "one handover per load"
    [early] = handed
    assert len(early) >= EARLY_SHARE * len(whole) > 0
    assert early == sorted(early, key=newest_first) and late == sorted(late, key=newest_first)
    joined = {v["id"]: v for v in early} | {v["id"]: v for v in late}
    assert sorted(joined.values(), key=newest_first) == whole
    assert len(late) < len(whole) - len(early) + len({v["id"] for v in late} & set(joined))


def test_the_handover_waits_for_an_empty_queue_reads_in_flight_and_most_videos() -> None:
    handover = Handover(lambda videos: None)
    assert handover.due(held=90, expected=100, queued=0, running=1)
    assert not handover.due(held=89, expected=100, queued=0, running=1)
    assert not handover.due(held=95, expected=100, queued=1, running=1)
    assert not handover.due(held=95, expected=100, queued=0, running=0)
    assert not handover.due(held=95, expected=0, queued=0, running=1)  # no totals: no plan
    assert handover.due(held=EARLY_MOST, expected=EARLY_MOST, queued=0, running=1)
    big = EARLY_MOST + 1  # built once at the end: less memory held at once
    assert not handover.due(held=big, expected=big, queued=0, running=1)
    assert not Handover(None).due(held=95, expected=100, queued=0, running=1)


def test_the_count_of_a_load_counts_a_video_handed_over_and_read_again_once() -> None:
    handover = Handover(lambda videos: None)
    handover.give({"a": {"id": "a"}, "b": {"id": "b"}}, order=lambda v: v["id"])
    assert handover.count([{"id": "b"}, {"id": "c"}]) == 3
    assert not handover.due(held=100, expected=100, queued=0, running=1)  # once only


# -- the frame in two parts -----------------------------------------------------------------


def video(i: int, **values: Any) -> dict[str, Any]:
    return {
        "id": f"x{i:04d}",
        "title": f"title {i}",
        "channel": "news",
        "views_total": i,
        "created_time": 1_600_000_000 + i // 3,  # three videos a second: ties sorted by id
        **values,
    }


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 60),
    st.sampled_from([FIELDS, ["id"], ["id", "title"], ["id", "created_time"]]),
    st.data(),
)
def test_two_parts_make_the_frame_of_the_whole_load(
    n: int, fields: list[str], data: st.DataObject
) -> None:
    """Any split of a load's videos, with some of the early ones read again later with new
    values, whatever the columns (none but the id too): the frame equals the one built at
    once from the latest reads."""
    videos = [video(i) for i in range(n)]
    early_ids = data.draw(st.sets(st.integers(0, n - 1)))
    again = data.draw(st.sets(st.sampled_from(sorted(early_ids)))) if early_ids else set()
    early = [dict(videos[i]) for i in sorted(early_ids)]
    late = [dict(v) for i, v in enumerate(videos) if i not in early_ids]
    late += [video(i, title=f"read again {i}", views_total=10_000 + i) for i in again]
    latest = {v["id"]: dict(v) for v in early} | {v["id"]: dict(v) for v in late}
    rows: list[dict[str, Any]] = sorted(latest.values(), key=newest_first)
    expected = to_frame(rows, fields=fields)
    parts = FrameParts(fields)  # takes the values out of the records it is given
    parts.early(sorted(early, key=newest_first))
    frame = parts.frame(sorted(late, key=newest_first))
    pd.testing.assert_frame_equal(frame, expected)


def test_a_category_only_one_part_holds_stays_a_category() -> None:
    parts = FrameParts(FIELDS)
    parts.early([video(2), video(1)])
    frame = parts.frame([video(3, channel="somethingnew")])
    assert isinstance(frame["channel"].dtype, pd.CategoricalDtype)
    assert frame["channel"].tolist() == ["somethingnew", "news", "news"]
    assert "somethingnew" in frame["channel"].cat.categories


def test_bad_values_of_both_parts_are_reported_together() -> None:
    parts = FrameParts(FIELDS)
    parts.early([video(2, views_total="many"), video(1)])
    with pytest.raises(InputError) as caught:
        parts.frame([video(3, views_total=[1])])
    assert sorted(str(p.row) for p in caught.value.problems) == ["x0002", "x0003"]
    assert {p.column for p in caught.value.problems} == {"views_total"}


def test_a_bad_value_read_again_mended_asks_for_the_load_again() -> None:
    parts = FrameParts(FIELDS)
    parts.early([video(2, views_total="many"), video(1)])
    with pytest.raises(ReadAgain):
        parts.frame([video(2)])


def test_a_bad_value_read_again_still_bad_is_reported_once() -> None:
    parts = FrameParts(FIELDS)
    parts.early([video(2, views_total="many"), video(1)])
    with pytest.raises(InputError) as caught:
        parts.frame([video(2, views_total="lots")])
    assert [(p.row, p.column) for p in caught.value.problems] == [("x0002", "views_total")]


# -- load_videos over the sandbox ------------------------------------------------------------


@pytest.mark.parametrize("fields", [None, ["id"]])
@pytest.mark.parametrize("api", ["legacy", "v2"])
def test_load_videos_builds_most_of_its_frame_early_and_loses_nothing(
    api: str, fields: list[str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker: the last read is in flight when the rest is handed over."""
    sizes: list[int] = []
    early = FrameParts.early

    def spy(self: FrameParts, records: list[dict[str, Any]]) -> None:
        sizes.append(len(records))
        early(self, records)

    sb = Sandbox(videos=1_200, seed=3) if api == "legacy" else Sandbox(archive_videos=1_200)
    with sb, connect_sandbox(sb, api=api) as client:
        who = {} if api == "legacy" else {"profile": sb.credentials.private_key.profiles[-1]}
        monkeypatch.setattr(_loadframe.FrameParts, "early", spy)
        frame = dm.load_videos(client, progress=False, workers=1, fields=fields, **who)
        monkeypatch.setattr(_loadframe.FrameParts, "early", early)
        monkeypatch.setattr(Handover, "due", lambda self, *args: False)
        at_once = dm.load_videos(client, progress=False, workers=1, fields=fields, **who)
    assert len(sizes) == 1 and EARLY_SHARE * len(frame) <= sizes[0] < len(frame)
    pd.testing.assert_frame_equal(frame, at_once)
