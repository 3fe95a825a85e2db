"""Pages of one query read at once and glued by their overlap (``dmtools._windows`` runs).

The pure parts (which pages a run reads, what one page proves, what is left) are checked
against snapshots of a list built here; the loader against the in-memory list API of
``test_loader_windows`` with videos added and deleted between the pages of one run.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from _support.listapi import DIALECTS, ListAPI, make_videos, new_video
from hypothesis import given, settings
from hypothesis import strategies as st
from test_loader_windows import load

import dmtools as dm
from dmtools._windows import OVERLAP, claim, gaps, run_pages
from dmtools.dialects import Page
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    held=st.integers(0, 1_000),
    until=st.integers(0, 2_000),
    size=st.integers(1, 100),
    reach=st.integers(1, 1_000),
    most=st.integers(1, 20),
)
def test_run_pages_overlap_the_page_before_and_stay_within_the_ceiling(
    held: int, until: int, size: int, reach: int, most: int
) -> None:
    pages = run_pages(held, until, size, reach, most)
    assert len(pages) <= most
    end = held
    for number, width in pages:
        first, last = width * (number - 1), width * number
        assert 1 <= width <= size and number >= 1 and last <= reach
        assert first == 0 if end == 0 else first <= end - OVERLAP  # glued to what is held
        assert last > end  # each page reads something new
        end = last
    if len(pages) < most and end < min(until, reach):
        # stopped early only where no aligned page can overlap and go further
        assert end - OVERLAP < 0 or all(
            width * ((end - OVERLAP) // width + 1) <= end
            or width * ((end - OVERLAP) // width + 1) > reach
            for width in range(1, size + 1)
        )


def _page(items: list[dict[str, Any]], number: int, size: int, total: int) -> Page:
    return Page(items, number, number * size < total, total, size)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(0, 400),
    span=st.integers(1, 300),
    size=st.integers(5, 60),
    pages=st.integers(1, 8),
    oldest_first=st.booleans(),
    changes=st.integers(0, 6),
)
def test_every_claim_is_true_of_the_snapshot_its_page_was_read_from(
    seed: int, n: int, span: int, size: int, pages: int, oldest_first: bool, changes: int
) -> None:
    """Pages of one query read from different snapshots (videos added and deleted between
    them, anywhere): what each page claims holds for the videos of its own snapshot, and the
    seconds no claim covers are exactly what has to be read again."""
    rng = random.Random(seed)
    lo, hi = 0, span
    rows = [{"id": f"v{i}", "created_time": rng.randint(lo, hi)} for i in range(n)]
    specs = run_pages(0, 10**9, size, 10**9, pages)
    claims = []
    counter = n
    for number, width in specs:
        for _ in range(rng.randint(0, changes)):  # the list changes between two reads
            if rows and rng.random() < 0.5:
                rows.pop(rng.randrange(len(rows)))
            else:
                counter += 1
                rows.append({"id": f"v{counter}", "created_time": rng.randint(lo, hi)})
        order = sorted(rows, key=lambda v: (v["created_time"], v["id"]), reverse=not oldest_first)
        start = width * (number - 1)
        items = order[start : start + width]
        page = _page(items, number, width, len(order))
        times = [v["created_time"] for v in items]
        got = claim(start, page, times, lo, hi, oldest_first)
        claims.append(got)
        if got is not None:
            a, b = got
            inside = {v["id"] for v in order if a <= v["created_time"] <= b}
            assert inside <= {v["id"] for v in items}
    # without changes, pages of one snapshot that reach its end leave only the seconds where
    # two pages meet inside one second (read on their own as busy seconds)
    if changes == 0 and specs and width * number >= len(rows):
        times = [v["created_time"] for v in rows]
        for a, b in gaps(claims, lo, hi):
            assert a == b and times.count(a) >= OVERLAP


def test_gaps_are_the_seconds_no_claim_covers() -> None:
    assert gaps([], 0, 9) == [(0, 9)]
    assert gaps([(0, 9)], 0, 9) == []
    assert gaps([(2, 3), None, (5, 5), (4, 4)], 0, 9) == [(0, 1), (6, 9)]
    assert gaps([(-5, 2), (8, 40)], 0, 9) == [(3, 7)]


def test_the_first_round_reads_both_ends_of_the_list_with_every_worker() -> None:
    rng = random.Random(11)
    api = ListAPI(make_videos([rng.randrange(0, 100_000) for _ in range(3_000)], rng))
    assert sorted(load(api, workers=8)) == sorted(api.videos)
    first = {(c["sort"], c["page"], c["limit"]) for c in api.calls[:8]}
    pages = run_pages(0, 10**9, 100, 1_000, 4)
    assert first == {(s, str(n), str(w)) for s in ("old", "recent") for n, w in pages}
    assert not any("created_after" in c or "created_before" in c for c in api.calls[:8])
    # about one request per 100 videos all the same
    assert len(api.calls) <= 3_000 / 100 * 1.25 + 8


@pytest.mark.parametrize("dialect", DIALECTS)
def test_videos_added_between_the_pages_of_a_run_are_read_where_the_pages_do_not_meet(
    dialect: str,
) -> None:
    """Each time a later page of a run is asked for, videos are first added before its
    positions (and one deleted): the pages shift, the loader sees where they no longer meet
    and reads those seconds again; every video present throughout is returned once. (Many
    workers and random changes: ``test_property_videos_present_throughout_appear_exactly_once``.)"""
    rng = random.Random(12)
    videos = make_videos(sorted(rng.randrange(0, 50_000) for _ in range(4_000)), rng)
    before = set(videos)
    added: list[str] = []
    deleted: set[str] = set()

    def shift(api: ListAPI) -> None:
        asked = api.asked
        if asked.get("page", "1") == "1":
            return
        # before the page's positions in its own order: at the start of its window
        if asked["sort"] == "old":
            t = int(asked.get("created_after", -1)) + 1
        else:
            t = int(asked.get("created_before", 50_001)) - 1
        for _ in range(OVERLAP + 2):  # more than the overlap: the pages cannot meet
            vid = f"n{len(added):05d}"
            added.append(vid)
            api.videos[vid] = new_video(vid, t)
        victim = rng.choice(sorted(set(api.videos) - deleted - set(added)))
        deleted.add(victim)
        del api.videos[victim]

    still = ListAPI(dict(videos), dialect=dialect)
    assert sorted(load(still, workers=1)) == sorted(before)
    api = ListAPI(videos, dialect=dialect, between=shift)
    ids = load(api, workers=1)  # one request at a time: the same windows as ``still``
    assert len(ids) == len(set(ids))
    assert before - deleted <= set(ids) <= before | set(added)
    assert len(deleted) > 20

    def windows(calls: list[dict[str, Any]]) -> int:
        return sum(1 for c in calls if "created_after" in c and c["page"] == "1")

    assert windows(api.calls) > windows(still.calls)  # where pages did not meet


def test_a_small_list_costs_one_request_per_worker_of_the_first_round() -> None:
    """What reading ahead costs (the README says it): a list of fewer than a page of videos
    is read by the first round alone, one page per worker, all but one empty or short."""
    with Sandbox(videos=40, seed=1) as sb, connect_sandbox(sb) as client:
        for workers, expected in ((12, 12), (2, 2), (1, 2)):
            mark = len(sb.request_log())
            df = dm.load_videos(client, progress=False, workers=workers)
            assert len(df) == 40
            assert len(sb.request_log()) - mark == expected
