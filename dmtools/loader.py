"""Read every video of a list query, past the API's 1,000-results-per-query ceiling.

How a load works (one pool of ``workers`` threads, all lists of the query at once):

1. **Edges.** For each list, the oldest and the newest page (``sort=old`` and
   ``sort=recent``, ``limit=100``) are read together. They give the first 200 videos, the
   number of matches (``total``, used only to plan) and the creation-time span still to read.
2. **Closed windows, read from their start.** The rest of the span is cut into
   creation-time windows ``[lo, hi]`` (whole seconds, both ends inclusive). A window is read
   with ``sort=old``, ``page=1``: one request, one consistent snapshot. When it says
   ``has_more``, every video created before the last returned second ``t`` is in hand, and the
   window continues as ``[t, hi]`` (the videos of second ``t`` are read again and
   de-duplicated). Large remainders are cut again, so the workers stay busy.
3. **Busy seconds.** When a whole page falls in one second, that second is read on its own,
   page after page (at most 1,000 reachable); if the API's ``total`` changes while its pages
   are read (a video added or deleted in that second), the second is read again. A second
   holding more than one query reaches is split by category (``channel``), then by
   ``private``; whatever still cannot be reached is reported with an
   :class:`IncompleteLoadWarning` naming the second and the count (never dropped silently).

Why this is exact while videos are added or deleted: a window is never paged by offset
(except inside one busy second, checked as above), so a deletion cannot shift a video past
a page boundary, and an insertion cannot push one out. Every video present for the whole
load lies in some window read after it existed, so it is returned; ids are de-duplicated, so
it is returned once. Completeness never relies on ``total`` (it sizes windows, detects changes
and may only ever ask for *more* reads): a window is done when the API says ``has_more`` is
false, unless the page is full and ``total`` says more exist (an API that stops at a ceiling).

The ``created_after``/``created_before`` filters are not documented as inclusive or
exclusive; windows are sent one second wider than needed and returned videos are filtered on
``created_time``, and if the API shows it counts the bound itself, the windows are narrowed.

Example:
    >>> query = build_query(client, owner="me", fields=None, filters={})   # doctest: +SKIP
    >>> records = load_records(client, query, progress=False)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dmtools import schema
from dmtools.errors import DailymotionError

if TYPE_CHECKING:
    from dmtools.client import Client
    from dmtools.videos import VideoQuery

__all__ = ["IncompleteLoadWarning", "load_records"]

log = logging.getLogger(__name__)

PAGE = schema.MAX_LIMIT
#: Fewest videos per window the planner aims for (a window is a chain of page-1 reads); for
#: a large list it aims for about two windows per worker, and splits again when workers idle.
WINDOW_MIN = 400
#: Times a busy second is read again when its ``total`` moved during the read.
SECOND_ATTEMPTS = 4
#: Filters that cut one busy second into disjoint parts, tried in this order.
PARTITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("channel", schema.CATEGORIES),
    ("private", ("true", "false")),
)


class IncompleteLoadWarning(UserWarning):
    """Some videos could not be reached: more in one second than one query reaches, and no
    filter splits them further (the message names the second and the count)."""


@dataclass(eq=False)
class _Partition:
    """A busy second read part by part (by ``by``); checks the parts add up."""

    t: int
    path: str
    total: int | None
    children: int
    extra: tuple[tuple[str, str], ...]
    by: str
    found: int = 0


@dataclass(frozen=True)
class _Task:
    """One read: an edge page of a list, a window read from its start, a busy second (all
    its pages), or a check of a split second's total."""

    kind: Literal["edge", "window", "second", "check"]
    path: str
    lo: int | None
    hi: int | None
    sort: str = "old"
    extra: tuple[tuple[str, str], ...] = ()  # partition filters (category of a busy second)
    attempt: int = 1  # of a busy second
    parent: _Partition | None = None  # the split second a busy second is a part of
    check: _Partition | None = None


class _Bounds:
    """How the API reads ``created_after``/``created_before`` (learnt from its answers)."""

    def __init__(self) -> None:
        self.after_inclusive = False
        self.before_inclusive = False

    def snapshot(self) -> tuple[bool, bool]:
        return self.after_inclusive, self.before_inclusive

    def params(self, lo: int | None, hi: int | None, used: tuple[bool, bool]) -> dict[str, str]:
        after_inclusive, before_inclusive = used
        out: dict[str, str] = {}
        if lo is not None:
            out["created_after"] = str(lo if after_inclusive else lo - 1)
        if hi is not None:
            out["created_before"] = str(hi if before_inclusive else hi + 1)
        return out

    def learn(
        self, lo: int | None, hi: int | None, used: tuple[bool, bool], times: Iterable[int]
    ) -> bool:
        """Update from the creation times a window returned, given the bounds the request
        used; True when the answer was wider than the window (read it again)."""
        wider = False
        for t in times:
            if lo is not None and t < lo:
                if used[0]:
                    raise DailymotionError(
                        f"the API returned a video created at {t}, before created_after={lo}"
                    )
                self.after_inclusive = wider = True
            elif hi is not None and t > hi:
                if used[1]:
                    raise DailymotionError(
                        f"the API returned a video created at {t}, after created_before={hi}"
                    )
                self.before_inclusive = wider = True
        return wider


Envelope = dict[str, Any]


def _time(video: dict[str, Any]) -> int:
    value = video.get("created_time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DailymotionError(f"video {video.get('id')!r} came without a created_time")
    return int(value)


def _more(envelope: Envelope, page: int) -> bool:
    """Whether videos exist past this page: ``has_more``, or a full page whose ``total`` says
    so (an API answers ``has_more`` false at its result ceiling)."""
    if envelope.get("has_more"):
        return True
    total = envelope.get("total")
    return len(envelope["list"]) >= PAGE and isinstance(total, int) and total > page * PAGE


def _split(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    """``[lo, hi]`` cut into at most ``parts`` contiguous windows of whole seconds."""
    parts = max(1, min(parts, hi - lo + 1))
    cuts = [lo + (hi - lo + 1) * i // parts for i in range(parts)] + [hi + 1]
    return [(a, b - 1) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


class _NoBar:
    """Stands in for a progress bar when ``progress=False`` (tqdm is not even imported)."""

    total: int | None = None

    def update(self, n: int) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar() -> Any:
    from tqdm.auto import tqdm  # a widget in Jupyter, text on a terminal

    return tqdm(total=None, unit=" videos", desc="Loading videos", leave=True)


class _Loader:
    def __init__(
        self,
        client: Client,
        query: VideoQuery,
        workers: int,
        bar: Any,
        lo: int | None,
        hi: int | None,
    ) -> None:
        self.client = client
        self.workers = workers
        self.bar = bar
        self.lo, self.hi = lo, hi
        self.empty = lo is not None and hi is not None and lo > hi
        base = {
            k: v
            for k, v in query.params.items()
            if k not in ("created_after", "created_before", "sort", "fields")
        }
        fields = query.params["fields"].split(",")
        base["fields"] = ",".join(dict.fromkeys([*fields, "id", "created_time"]))
        self.base = base
        self.paths = query.paths
        self.bounds = _Bounds()
        self.videos: dict[str, dict[str, Any]] = {}
        self.edges: dict[str, dict[str, Envelope]] = {p: {} for p in query.paths}
        self.target: dict[str, int] = dict.fromkeys(query.paths, WINDOW_MIN)
        self.problems: list[str] = []
        self.requests = 0
        self.estimate = 0
        self.running = 0

    # -- requests (worker threads) ---------------------------------------------------------

    def fetch(self, task: _Task) -> tuple[Envelope, tuple[bool, bool]]:
        used = self.bounds.snapshot()
        params = {
            **self.base,
            **dict(task.extra),
            **self.bounds.params(task.lo, task.hi, used),
            "sort": task.sort,
        }
        if task.kind == "second":  # one second: every page, with the client's paging
            pages = list(self.client.transport.pages(task.path, params, limit=PAGE))
            envelope: Envelope = {"list": [v for p in pages for v in p["list"]], "pages": pages}
        else:
            envelope = self.client.get(task.path, {**params, "page": "1", "limit": str(PAGE)})
            if not isinstance(envelope, dict) or not isinstance(envelope.get("list"), list):
                raise DailymotionError(f"GET {task.path} did not answer with a list envelope")
        return envelope, used

    # -- planning (main thread) ------------------------------------------------------------

    def keep(self, items: list[dict[str, Any]], times: list[int]) -> None:
        before = len(self.videos)
        for video, t in zip(items, times, strict=True):
            if (self.lo is None or t >= self.lo) and (self.hi is None or t <= self.hi):
                self.videos[str(video["id"])] = video
        self.bar.update(len(self.videos) - before)

    def handle(self, task: _Task, envelope: Envelope, used: tuple[bool, bool]) -> list[_Task]:
        items: list[dict[str, Any]] = envelope["list"]
        times = [_time(v) for v in items]
        if times != sorted(times, reverse=task.sort == "recent"):
            raise DailymotionError(
                f"GET {task.path} did not sort by creation time "
                f"(sort={task.sort}); cannot read it window by window"
            )
        self.keep(items, times)
        if self.bounds.learn(task.lo, task.hi, used, times):
            log.debug(
                "the API counts created_after/created_before inclusively; "
                "reading %s [%s, %s] again",
                task.path,
                task.lo,
                task.hi,
            )
            return [task]
        if task.kind == "edge":
            return self.handle_edge(task, envelope)
        if task.kind == "second":
            return self.handle_second(task, envelope)
        if task.check is not None:
            return self.handle_check(task.check, envelope)
        if not _more(envelope, 1):
            return []
        assert task.lo is not None and task.hi is not None
        last = times[-1] if times else task.lo
        if last <= task.lo:  # a whole page inside the window's first second
            rest = [_Task("window", task.path, task.lo + 1, task.hi)] if task.hi > task.lo else []
            return self.busy_second(task.path, task.lo, ()) + rest
        total = envelope.get("total")
        remaining = total - sum(1 for t in times if t < last) if isinstance(total, int) else None
        return self.plan(task.path, last, task.hi, remaining)

    def plan(self, path: str, lo: int, hi: int, count: int | None) -> list[_Task]:
        """Windows covering ``[lo, hi]``, sized from the expected ``count`` of videos in it."""
        parts = 1
        if count is not None:
            idle = max(0, self.workers - self.running)
            parts = max(math.ceil(count / self.target[path]), min(idle, math.ceil(count / PAGE)))
        return [_Task("window", path, a, b) for a, b in _split(lo, hi, parts)]

    def handle_edge(self, task: _Task, envelope: Envelope) -> list[_Task]:
        """First reads of a list: the oldest and the newest page, then windows in between."""
        edges = self.edges[task.path]
        edges[task.sort] = envelope
        if len(edges) < 2:
            return []
        old, recent = edges["old"], edges["recent"]
        if not (_more(old, 1) and _more(recent, 1)):
            return []
        old_times = [_time(v) for v in old["list"]]
        new_times = [_time(v) for v in recent["list"]]
        lo, hi = old_times[-1], new_times[-1]  # the oldest and the newest second not in hand
        if lo > hi:
            return []
        total = old.get("total")
        if not isinstance(total, int):
            return self.plan(task.path, lo, hi, None)
        self.estimate += total
        self.bar.total = max(self.estimate, len(self.videos))
        self.bar.refresh()
        inside = sum(1 for t in old_times if t < lo) + sum(1 for t in new_times if t > hi)
        self.target[task.path] = max(WINDOW_MIN, (total - inside) // (2 * self.workers))
        return self.plan(task.path, lo, hi, total - inside)

    def busy_second(
        self,
        path: str,
        t: int,
        extra: tuple[tuple[str, str], ...],
        attempt: int = 1,
        parent: _Partition | None = None,
    ) -> list[_Task]:
        return [_Task("second", path, t, t, extra=extra, attempt=attempt, parent=parent)]

    def handle_second(self, task: _Task, envelope: Envelope) -> list[_Task]:
        """A busy second was read page after page: check it did not change meanwhile (pages by
        offset shift when a video of that second is added or deleted) nor hit the ceiling."""
        assert task.lo is not None
        pages: list[Envelope] = envelope["pages"]
        totals = {p["total"] for p in pages if isinstance(p.get("total"), int)}
        total = max(totals) if totals else None
        if _more(pages[-1], len(pages)):  # more videos than one query reaches
            return self.partition_second(task, total, len(envelope["list"]))
        if len(totals) > 1 and task.attempt < SECOND_ATTEMPTS:
            log.info("videos changed in second %d while it was read; reading it again", task.lo)
            return self.busy_second(task.path, task.lo, task.extra, task.attempt + 1, task.parent)
        if len(totals) > 1:
            self.problems.append(
                f"second {task.lo} of {task.path} kept changing while it was read "
                f"(between {min(totals)} and {max(totals)} videos); some of them may be missing"
            )
        return self.settle(task.parent, total)

    def partition_second(self, state: _Task, total: int | None, read: int) -> list[_Task]:
        """Split a second holding more videos than one query reaches by another filter."""
        assert state.lo is not None
        t = state.lo
        used = {name for name, _ in state.extra} | set(self.base)
        count = f"{total} videos" if total is not None else "more videos than one query reaches"
        where = "".join(f" {k}={v}" for k, v in state.extra)
        follow = self.settle(state.parent, total)
        for name, values in PARTITIONS:
            if name not in used:
                log.info(
                    "second %d of %s%s holds %s; reading it by %s",
                    t,
                    state.path,
                    where,
                    count,
                    name,
                )
                parent = _Partition(t, state.path, total, len(values), state.extra, name)
                return follow + [
                    task
                    for value in values
                    for task in self.busy_second(
                        state.path, t, (*state.extra, (name, value)), parent=parent
                    )
                ]
        self.problems.append(
            f"second {t} of {state.path}{where} holds {count}; only {read} of them could be "
            "read (the API's result ceiling) and no filter splits it further"
        )
        return follow

    def settle(self, parent: _Partition | None, found: int | None) -> list[_Task]:
        """Count one finished part of a split second; when the parts do not add up to the
        second's total, read that total again (it may have been counted with bounds since
        learnt to be too wide, or changed) before reporting the difference."""
        if parent is None:
            return []
        parent.found += found or 0
        parent.children -= 1
        if parent.children == 0 and parent.total is not None and parent.found < parent.total:
            return [
                _Task("check", parent.path, parent.t, parent.t, extra=parent.extra, check=parent)
            ]
        return []

    def handle_check(self, parent: _Partition, envelope: Envelope) -> list[_Task]:
        total = envelope.get("total")
        if isinstance(total, int) and parent.found < total:
            where = "".join(f" {k}={v}" for k, v in parent.extra)
            self.problems.append(
                f"second {parent.t} of {parent.path}{where} holds {total} videos but its "
                f"parts by {parent.by} hold {parent.found}; {total - parent.found} of them "
                "cannot be reached"
            )
        return []

    # -- driving ---------------------------------------------------------------------------

    def run(self) -> list[dict[str, Any]]:
        running: dict[Future[tuple[Envelope, tuple[bool, bool]]], _Task] = {}
        with ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="dmtools-load"
        ) as pool:
            try:
                for task in (
                    _Task("edge", p, self.lo, self.hi, sort=s)
                    for p in self.paths
                    for s in ("old", "recent")
                ):
                    running[pool.submit(self.fetch, task)] = task
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = running.pop(future)
                        envelope, used = future.result()
                        self.requests += 1
                        self.running = len(running)
                        for follow in self.handle(task, envelope, used):
                            running[pool.submit(self.fetch, follow)] = follow
                            self.running = len(running)
            except BaseException:
                for future in running:
                    future.cancel()
                raise
        for problem in self.problems:
            log.warning("incomplete load: %s", problem)
            warnings.warn(f"incomplete load: {problem}", IncompleteLoadWarning, stacklevel=4)
        return sorted(self.videos.values(), key=lambda v: (-_time(v), str(v["id"])))


def load_records(
    client: Client, query: VideoQuery, *, progress: bool = True, workers: int = 8
) -> list[dict[str, Any]]:
    """Every video of ``query`` (all its lists), each once, newest first.

    ``created_after``/``created_before`` in the query bound the load as
    ``created_after <= created_time < created_before`` (unix seconds).

    Warns:
        IncompleteLoadWarning: naming each second whose videos could not all be reached.
    """
    lo = query.params.get("created_after")
    before = query.params.get("created_before")
    bar = _progress_bar() if progress else _NoBar()
    try:
        loader = _Loader(
            client,
            query,
            workers,
            bar,
            int(lo) if lo is not None else None,
            int(before) - 1 if before is not None else None,
        )
        records = [] if loader.empty else loader.run()
        bar.total = len(records)
        bar.refresh()
    finally:
        bar.close()
    log.info("loaded %d videos in %d reads", len(records), loader.requests)
    return records
