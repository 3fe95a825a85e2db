"""The loader against list APIs that misbehave as a real API or a proxy might.

Each case checks the loader's promise (every video present for the whole load returned
exactly once, or an :class:`IncompleteLoadWarning` naming what could not be reached) or a
clear :class:`DailymotionError`, and that the number of requests stays sane. The API double
stops answering after :data:`HARD_STOP` requests, so a runaway loader fails instead of hanging.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from _support.listapi import Churn, ListAPI, make_videos, new_video
from hypothesis import given, settings
from hypothesis import strategies as st
from test_loader_windows import QUERY

from dmtools.errors import DailymotionError
from dmtools.loader import IncompleteLoadWarning, load_records

#: Requests after which the double refuses to answer (a loader that runs away fails fast).
HARD_STOP = 3_000

Params = dict[str, str]
Answer = dict[str, Any]


class Runaway(AssertionError):
    """The loader sent more requests than any sane plan needs."""


class HostileAPI(ListAPI):
    """:class:`ListAPI` whose requests (``pre``) and answers (``post``) are tampered with."""

    def __init__(
        self,
        videos: dict[str, dict[str, Any]],
        *,
        pre: Callable[[Params], Params] = lambda p: p,
        post: Callable[[Params, Answer], Answer] = lambda p, a: a,
        **knobs: Any,
    ) -> None:
        super().__init__(videos, **knobs)
        self.pre, self.post = pre, post

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        if len(self.calls) >= HARD_STOP:
            raise Runaway(f"{len(self.calls)} requests")
        return self.post(params, super().answer(self.pre(dict(params))))


def budget(n: int) -> int:
    """The most requests a load of ``n`` videos may take, whatever the API does."""
    return int(5 * n / 100 + 50)


def spread(n: int, seed: int, span: int = 50_000, busy: int = 0) -> dict[str, dict[str, Any]]:
    rng = random.Random(seed)
    times = [rng.randrange(0, span) for _ in range(n)] + [span // 2] * busy
    return make_videos(times, rng)


def add(api: ListAPI, vid: str, t: int) -> None:
    """A video added to the list between two requests."""
    api.videos[vid] = new_video(vid, t)


def run(api: ListAPI, workers: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The records a load returns and the incomplete-load warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IncompleteLoadWarning)
        records = load_records(api, QUERY, progress=False, workers=workers)  # type: ignore[arg-type]
    notes = [str(w.message) for w in caught if issubclass(w.category, IncompleteLoadWarning)]
    return records, notes


def complete(api: ListAPI, workers: int, expected: set[str] | None = None, times: int = 1) -> None:
    """The load returns every video exactly once, warns of nothing, within ``times`` the
    budget."""
    expected = set(api.videos) if expected is None else expected
    records, notes = run(api, workers)
    ids = [r["id"] for r in records]
    assert notes == []
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    assert len(api.calls) <= times * budget(len(expected)), len(api.calls)


def complete_or_clear(api: ListAPI, workers: int) -> None:
    """Complete (a warning names what is missing), or a clear DailymotionError; never a
    silently short result and never a runaway."""
    n = len(api.videos)
    try:
        records, notes = run(api, workers)
    except DailymotionError:
        assert len(api.calls) <= budget(n), len(api.calls)
        return
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) <= set(api.videos)
    assert set(ids) == set(api.videos) or notes, f"{n - len(ids)} videos missing, no warning"
    assert len(api.calls) <= budget(n), len(api.calls)


WORKERS = [1, 3, 12]


# -- paging ignored --------------------------------------------------------------------------


@pytest.mark.parametrize("workers", WORKERS)
def test_an_api_ignoring_limit_is_still_read_in_full(workers: int) -> None:
    def full_pages(p: Params) -> Params:
        return {**p, "limit": "100"}

    complete(HostileAPI(spread(2_500, 1, busy=150), pre=full_pages), workers)


@pytest.mark.parametrize("workers", WORKERS)
def test_an_api_ignoring_page_finishes_complete_or_fails_clearly(workers: int) -> None:
    def first_page(p: Params) -> Params:
        return {**p, "page": "1"}

    complete_or_clear(HostileAPI(spread(2_500, 2), pre=first_page), workers)


@pytest.mark.parametrize("workers", WORKERS)
def test_an_api_ignoring_page_with_a_busy_second_does_not_loop(workers: int) -> None:
    def first_page(p: Params) -> Params:
        return {**p, "page": "1"}

    complete_or_clear(HostileAPI(spread(1_000, 3, busy=250), pre=first_page), workers)


# -- has_more and total lying ----------------------------------------------------------------


def with_answer(**fields: Any) -> Callable[[Params, Answer], Answer]:
    return lambda p, a: {**a, **fields}


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("total", ["exact", "none"])
def test_has_more_always_false_even_on_full_pages(workers: int, total: str) -> None:
    post = with_answer(has_more=False)
    if total == "none":
        post = with_answer(has_more=False, total=None)
    api = HostileAPI(spread(2_000, 4, busy=150), post=post)
    complete_or_clear(api, workers)


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("total", ["exact", "none"])
def test_has_more_always_true(workers: int, total: str) -> None:
    post = with_answer(has_more=True)
    if total == "none":
        post = with_answer(has_more=True, total=None)
    complete_or_clear(HostileAPI(spread(2_000, 5), post=post), workers)


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize(
    "total",
    [10**12, -5, 0, "12", 1.5, True],
    ids=["huge", "negative", "zero", "string", "float", "bool"],
)
def test_a_wrong_total_neither_loses_videos_nor_multiplies_requests(
    workers: int, total: Any
) -> None:
    complete(HostileAPI(spread(2_500, 6, busy=130), post=with_answer(total=total)), workers)


@pytest.mark.parametrize("workers", WORKERS)
def test_a_total_changing_on_every_request(workers: int) -> None:
    rng = random.Random(7)

    def wobble(p: Params, a: Answer) -> Answer:
        return {**a, "total": rng.choice([None, 0, 7, a["total"], a["total"] * 50, 10**9])}

    api = HostileAPI(spread(2_500, 7, busy=180), post=wobble)
    records, notes = run(api, workers)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(api.videos)  # the busy second may warn (its count moved), not lose
    assert len(api.calls) <= budget(len(ids)), len(api.calls)


# -- broken records and order ----------------------------------------------------------------


@pytest.mark.parametrize("workers", WORKERS)
def test_duplicates_within_and_across_pages_are_returned_once(workers: int) -> None:
    def echo(p: Params, a: Answer) -> Answer:
        items = a["list"]
        if len(items) > 3:  # the first, second and last items twice (order kept)
            items = [items[0], items[0], items[1], items[1], *items[2:], items[-1]]
        return {**a, "list": items}

    api = HostileAPI(spread(1_500, 8), post=echo)
    records, notes = run(api, workers)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(api.videos) or notes
    assert len(api.calls) <= budget(len(api.videos))


@pytest.mark.parametrize(
    "value", [None, "1700000000", "soon", [], True, float("nan"), float("inf")]
)
@pytest.mark.parametrize("workers", [1, 12])
def test_a_video_without_a_usable_created_time_fails_clearly(value: Any, workers: int) -> None:
    videos = spread(800, 9)
    victim = sorted(videos)[400]

    def spoil(p: Params, a: Answer) -> Answer:
        items = [dict(v, created_time=value) if v["id"] == victim else v for v in a["list"]]
        if value is None:
            items = [
                {k: x for k, x in v.items() if k != "created_time"} if v["id"] == victim else v
                for v in items
            ]
        return {**a, "list": items}

    api = HostileAPI(videos, post=spoil)
    with pytest.raises(DailymotionError, match=rf"{victim}|created_time|creation time"):
        run(api, workers)
    assert len(api.calls) <= budget(len(videos))


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("how", ["shuffled", "reversed", "one-swap"])
def test_pages_out_of_order_raise_instead_of_looping(workers: int, how: str) -> None:
    rng = random.Random(10)

    def disorder(p: Params, a: Answer) -> Answer:
        items = list(a["list"])
        if how == "shuffled":
            rng.shuffle(items)
        elif how == "reversed":
            items.reverse()
        elif len(items) > 2 and items[0]["created_time"] != items[-1]["created_time"]:
            items[0], items[-1] = items[-1], items[0]
        return {**a, "list": items}

    api = HostileAPI(spread(1_500, 10), post=disorder)
    with pytest.raises(DailymotionError, match="sort"):
        run(api, workers)
    assert len(api.calls) <= budget(1_500)


# -- the list changing between requests ------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 4, 12])
def test_bursts_of_insertions_at_window_boundaries(workers: int) -> None:
    """Each request for a window adds videos at both of its edges and just outside them."""
    videos = spread(2_500, 11)
    before = set(videos)
    counter = [0]

    def burst(api: ListAPI) -> None:
        asked = api.asked
        for key, shift in (("created_after", (0, 1)), ("created_before", (-1, 0))):
            if key not in asked or counter[0] > 600:
                continue
            for t in (int(asked[key]) + d for d in shift):
                for _ in range(2):
                    counter[0] += 1
                    add(api, f"n{counter[0]:06d}", t)

    api = HostileAPI(videos, between=burst)
    records, notes = run(api, workers)
    ids = [r["id"] for r in records]
    assert counter[0] > 100
    assert len(ids) == len(set(ids))
    assert before <= set(ids) <= set(api.videos)
    assert len(api.calls) <= budget(len(api.videos))


@pytest.mark.parametrize("workers", [1, 4, 12])
def test_deleting_the_videos_at_page_boundaries_hides_none_that_stay(workers: int) -> None:
    """Before each numbered page, the videos at its first and last positions are deleted."""
    videos = spread(3_000, 12, busy=200)
    before = set(videos)
    deleted: set[str] = set()

    def cut_edges(api: ListAPI) -> None:
        page, limit = int(api.asked.get("page", 1)), int(api.asked.get("limit", 100))
        if page == 1 or len(deleted) > 300:
            return
        rows = sorted(
            api.videos.values(),
            key=lambda v: (v["created_time"], v["id"]),
            reverse=api.asked.get("sort", "recent") == "recent",
        )
        lo, hi = api.asked.get("created_after"), api.asked.get("created_before")
        rows = [
            v
            for v in rows
            if (lo is None or v["created_time"] >= int(lo))
            and (hi is None or v["created_time"] < int(hi))
        ]
        for at in ((page - 1) * limit - 1, (page - 1) * limit, page * limit - 1):
            if 0 <= at < len(rows):
                deleted.add(rows[at]["id"])
                api.videos.pop(rows[at]["id"], None)

    api = HostileAPI(videos, between=cut_edges)
    records, notes = run(api, workers)
    ids = [r["id"] for r in records]
    assert len(deleted) > 20
    assert len(ids) == len(set(ids))
    assert before - deleted <= set(ids) <= before
    assert len(api.calls) <= budget(len(before))


# -- what cannot be read ---------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 6, 12])
def test_one_second_past_the_ceiling_with_no_partition_is_reported(workers: int) -> None:
    rng = random.Random(13)
    videos = make_videos([77] * 1_400, rng, channels=("music",))
    for v in videos.values():
        v["private"] = False
    api = HostileAPI(videos)
    records, notes = run(api, workers)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) >= 1_000
    assert any("second 77" in n and "1400" in n for n in notes)
    assert len(api.calls) <= budget(1_400)


@pytest.mark.parametrize("workers", [1, 6, 12])
def test_an_api_ignoring_the_time_filters_finishes(workers: int) -> None:
    def no_window(p: Params) -> Params:
        return {k: v for k, v in p.items() if k not in ("created_after", "created_before")}

    complete_or_clear(HostileAPI(spread(2_500, 14, busy=120), pre=no_window), workers)


@pytest.mark.parametrize("workers", [1, 6, 12])
def test_an_api_ignoring_the_time_filters_of_a_small_list(workers: int) -> None:
    def no_window(p: Params) -> Params:
        return {k: v for k, v in p.items() if k not in ("created_after", "created_before")}

    complete_or_clear(HostileAPI(spread(150, 15), pre=no_window), workers)


@pytest.mark.parametrize("workers", WORKERS)
def test_has_more_true_on_every_page_with_items(workers: int) -> None:
    """An off-by-one API: ``has_more`` true on its last (short) page, false only when empty."""

    def post(p: Params, a: Answer) -> Answer:
        return {**a, "has_more": bool(a["list"])}

    complete(HostileAPI(spread(2_000, 16, busy=140), post=post), workers)


@pytest.mark.parametrize("workers", [1, 12])
@pytest.mark.parametrize("sort", ["old", "recent"])
def test_an_api_ignoring_the_sort_fails_clearly(workers: int, sort: str) -> None:
    api = HostileAPI(spread(1_000, 17), pre=lambda p: {**p, "sort": sort})
    with pytest.raises(DailymotionError, match="sort"):
        run(api, workers)
    assert len(api.calls) <= budget(1_000)


@pytest.mark.parametrize("workers", [1, 12])
def test_a_video_without_an_id_fails_clearly(workers: int) -> None:
    videos = spread(500, 18)
    victim = sorted(videos)[250]

    def anonymous(p: Params, a: Answer) -> Answer:
        items = [{k: x for k, x in v.items() if k != "id" or v["id"] != victim} for v in a["list"]]
        return {**a, "list": items}

    with pytest.raises(DailymotionError, match="id"):
        run(HostileAPI(videos, post=anonymous), workers)


@pytest.mark.parametrize("workers", [0, -3])
def test_no_workers_is_refused_not_an_empty_load(workers: int) -> None:
    api = HostileAPI(spread(300, 19))
    with pytest.raises(ValueError, match="workers"):
        run(api, workers)
    assert api.calls == []


@pytest.mark.parametrize("workers", [1, 12])
def test_a_busy_second_whose_empty_pages_say_more_follow_is_read_to_its_end(workers: int) -> None:
    """Pages of one second say ``has_more`` even when empty: paging stops at an empty one."""

    def more_in_a_second(p: Params, a: Answer) -> Answer:
        one = int(p.get("created_before", 0)) - int(p.get("created_after", -9)) <= 2
        return {**a, "has_more": a["has_more"] or (one and p.get("page", "1") != "1")}

    api = HostileAPI(spread(1_200, 20, span=3_000, busy=150), post=more_in_a_second)
    complete(api, workers)
    assert any(c.get("created_before") == "1501" and c["page"] == "3" for c in api.calls)
    assert not any(int(c["page"]) > 3 for c in api.calls if c.get("created_before") == "1501")


@pytest.mark.parametrize("workers", [1, 12])
@pytest.mark.parametrize("ignored", ["created_after", "created_before"])
def test_an_api_ignoring_one_time_filter_fails_clearly(workers: int, ignored: str) -> None:
    api = HostileAPI(spread(1_500, 21), pre=lambda p: {k: v for k, v in p.items() if k != ignored})
    with pytest.raises(DailymotionError, match="created_"):
        run(api, workers)
    assert len(api.calls) <= budget(1_500)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(0, 1_200),
    burst=st.integers(0, 300),
    workers=st.integers(1, 12),
    limit=st.booleans(),
    has_more=st.sampled_from(["honest", "false", "true-if-items"]),
    total=st.sampled_from(["exact", "none", "huge", "negative", "random"]),
    duplicates=st.booleans(),
    churn=st.floats(0, 0.3),
)
def test_property_misbehaviours_combined_keep_the_promise(
    seed: int,
    n: int,
    burst: int,
    workers: int,
    limit: bool,
    has_more: str,
    total: str,
    duplicates: bool,
    churn: float,
) -> None:
    rng = random.Random(seed)
    videos = spread(n, seed, span=20_000, busy=burst)
    before, between = set(videos), Churn(videos, rng, churn, 20_000)

    def pre(p: Params) -> Params:
        return {**p, "limit": "100"} if limit else p

    def post(p: Params, a: Answer) -> Answer:
        items = list(a["list"])
        if duplicates and items:
            items = [items[0], *items, items[-1]]
        more = {"honest": a["has_more"], "false": False, "true-if-items": bool(items)}[has_more]
        count = {
            "exact": a["total"],
            "none": None,
            "huge": 10**12,
            "negative": -1,
            "random": rng.randrange(0, 5_000),
        }[total]
        return {**a, "list": items, "has_more": more, "total": count}

    api = HostileAPI(videos, pre=pre, post=post, between=between)
    records, notes = run(api, workers)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) <= between.ever
    missing = before - between.deleted - set(ids)
    assert not missing or notes, f"{len(missing)} videos lost without a warning"
    # lies combined cost more, but still in proportion: a short page saying more follow is
    # believed (the safe side), so each window is read again from its last second
    assert len(api.calls) <= 4 * budget(len(between.ever)), len(api.calls)


@pytest.mark.parametrize("workers", [1, 12])
@pytest.mark.parametrize("total", [-1, 0, 50])
def test_a_full_page_whose_total_it_contradicts_is_not_the_end(workers: int, total: int) -> None:
    """``has_more`` false and a ``total`` smaller than the page itself: a busy second and the
    windows around it are read on, not taken as ending there."""
    api = HostileAPI(spread(300, 22, span=2_000, busy=201), post=with_answer(has_more=False))
    api.total = lambda n: total
    complete(api, workers)


@pytest.mark.parametrize("workers", [1, 2, 12])
def test_a_huge_total_on_short_pages_that_say_more_follow_stops_planning(workers: int) -> None:
    """A short page is the end of its query: a ``total`` beyond it is proven wrong, and stops
    cutting windows by totals (each of them would be cut again into many)."""

    def lie(p: Params, a: Answer) -> Answer:
        return {**a, "has_more": bool(a["list"]), "total": 10**12}

    api = HostileAPI(spread(900, 23), post=lie)
    complete(api, workers, times=4)  # each short page saying more is read on (the safe side)
