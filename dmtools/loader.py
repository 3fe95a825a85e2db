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

The legacy ``created_after``/``created_before`` filters are not documented as inclusive or
exclusive; windows are sent one second wider than needed and returned videos are filtered on
``created_time``, and if the API shows it counts the bound itself, the windows are narrowed
(:class:`dmtools._windows.Bounds`; a dialect that documents its bounds starts from them).

The names above are the legacy API's: the client's dialect words every request (filter
names, sort orders, page size, time format, the filters that split a busy second) and reads
every page (:mod:`dmtools.dialects`), so this module is the same for every API generation.

Example:
    >>> query = build_query(client, owner="me", fields=None, filters={})   # doctest: +SKIP
    >>> records = load_records(client, query, progress=False)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from dmtools._shared import SharedValues
from dmtools._windows import Bounds, Partition, Task, created, more, split
from dmtools.dialects import Page
from dmtools.errors import DailymotionError, IncompleteLoadWarning

if TYPE_CHECKING:
    from dmtools.client import Client
    from dmtools.videos import VideoQuery

__all__ = ["DEFAULT_WORKERS", "IncompleteLoadWarning", "load_records"]

log = logging.getLogger(__name__)

#: Fewest videos per window the planner aims for (a window is a chain of page-1 reads); for
#: a large list it aims for about two windows per worker, and splits again when workers idle.
WINDOW_MIN = 400
#: Requests a load keeps in flight by default: with 8, reading 10,000 videos (100 pages after
#: the two ends) takes at least 14 round trips, not 8 times fewer than one page after another.
DEFAULT_WORKERS = 12
#: Times a busy second is read again when its ``total`` moved during the read.
SECOND_ATTEMPTS = 4
#: What one task read: its pages, and the bounds semantics its request assumed.
Read = tuple[list[Page], tuple[bool, bool]]


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
        self.dialect = client.dialect
        self.page = self.dialect.max_page_size
        self.workers = workers
        self.bar = bar
        self.lo, self.hi = lo, hi
        self.empty = lo is not None and hi is not None and lo > hi
        names = list(dict.fromkeys([*query.fields, "id", "created_time"]))
        self.base = {**query.filters, **self.dialect.fields_param(names)}
        self.paths = query.paths
        self.bounds = Bounds(self.dialect.window_inclusive)
        self.videos: dict[str, dict[str, Any]] = {}
        self.share = SharedValues()  # repeated values held once (memory of large loads)
        self.edges: dict[str, dict[str, Page]] = {p: {} for p in query.paths}
        self.target: dict[str, int] = dict.fromkeys(query.paths, WINDOW_MIN)
        self.problems: list[str] = []
        self.requests = 0
        self.estimate = 0
        self.running = 0

    # -- requests (worker threads) ---------------------------------------------------------

    def fetch(self, task: Task) -> Read:
        used = self.bounds.snapshot()
        params = {
            **self.base,
            **dict(task.extra),
            **self.dialect.window(*self.bounds.edges(task.lo, task.hi, used)),
            **self.dialect.sort(oldest_first=task.sort == "old"),
        }
        pages = self.client.pages(task.path, params, limit=self.page)
        if task.kind == "second":  # one second: every page, with the client's paging
            return list(pages), used
        return [next(pages)], used  # one page: the next is never asked for

    # -- planning (main thread) ------------------------------------------------------------

    def keep(self, items: list[dict[str, Any]], times: list[int]) -> None:
        before = len(self.videos)
        for video, t in zip(items, times, strict=True):
            if (self.lo is None or t >= self.lo) and (self.hi is None or t <= self.hi):
                self.videos[str(video["id"])] = self.share(video)
        self.bar.update(len(self.videos) - before)

    def handle(self, task: Task, pages: list[Page], used: tuple[bool, bool]) -> list[Task]:
        items = [video for page in pages for video in page.items]
        times = [created(v) for v in items]
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
            return self.handle_edge(task, pages[0])
        if task.kind == "second":
            return self.handle_second(task, pages)
        if task.check is not None:
            return self.handle_check(task.check, pages[0])
        if not more(pages[0], 1):
            return []
        assert task.lo is not None and task.hi is not None
        last = times[-1] if times else task.lo
        if last <= task.lo:  # a whole page inside the window's first second
            rest = [Task("window", task.path, task.lo + 1, task.hi)] if task.hi > task.lo else []
            return self.busy_second(task.path, task.lo, ()) + rest
        total = pages[0].total
        remaining = total - sum(1 for t in times if t < last) if total is not None else None
        return self.plan(task.path, last, task.hi, remaining)

    def plan(self, path: str, lo: int, hi: int, count: int | None) -> list[Task]:
        """Windows covering ``[lo, hi]``, sized from the expected ``count`` of videos in it."""
        parts = 1
        if count is not None:
            idle = max(0, self.workers - self.running)
            parts = max(
                math.ceil(count / self.target[path]), min(idle, math.ceil(count / self.page))
            )
        return [Task("window", path, a, b) for a, b in split(lo, hi, parts)]

    def handle_edge(self, task: Task, page: Page) -> list[Task]:
        """First reads of a list: the oldest and the newest page, then windows in between."""
        edges = self.edges[task.path]
        edges[task.sort] = page
        if len(edges) < 2:
            return []
        old, recent = edges["old"], edges["recent"]
        if not (more(old, 1) and more(recent, 1)):
            return []
        old_times = [created(v) for v in old.items]
        new_times = [created(v) for v in recent.items]
        lo, hi = old_times[-1], new_times[-1]  # the oldest and the newest second not in hand
        if lo > hi:
            return []
        total = old.total
        if total is None:
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
        parent: Partition | None = None,
    ) -> list[Task]:
        return [Task("second", path, t, t, extra=extra, attempt=attempt, parent=parent)]

    def handle_second(self, task: Task, pages: list[Page]) -> list[Task]:
        """A busy second was read page after page: check it did not change meanwhile (pages by
        offset shift when a video of that second is added or deleted) nor hit the ceiling."""
        assert task.lo is not None
        totals = {p.total for p in pages if p.total is not None}
        total = max(totals) if totals else None
        if more(pages[-1], len(pages)):  # more videos than one query reaches
            return self.partition_second(task, total, sum(len(p.items) for p in pages))
        if len(totals) > 1 and task.attempt < SECOND_ATTEMPTS:
            log.info("videos changed in second %d while it was read; reading it again", task.lo)
            return self.busy_second(task.path, task.lo, task.extra, task.attempt + 1, task.parent)
        if len(totals) > 1:
            self.problems.append(
                f"second {task.lo} of {task.path} kept changing while it was read "
                f"(between {min(totals)} and {max(totals)} videos); some of them may be missing"
            )
        return self.settle(task.parent, total)

    def partition_second(self, state: Task, total: int | None, read: int) -> list[Task]:
        """Split a second holding more videos than one query reaches by another filter."""
        assert state.lo is not None
        t = state.lo
        used = {name for name, _ in state.extra} | set(self.base)
        count = f"{total} videos" if total is not None else "more videos than one query reaches"
        where = "".join(f" {k}={v}" for k, v in state.extra)
        follow = self.settle(state.parent, total)
        for name, values in self.dialect.partitions:
            if name not in used:
                log.info(
                    "second %d of %s%s holds %s; reading it by %s",
                    t,
                    state.path,
                    where,
                    count,
                    name,
                )
                parent = Partition(t, state.path, total, len(values), state.extra, name)
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

    def settle(self, parent: Partition | None, found: int | None) -> list[Task]:
        """Count one finished part of a split second; when the parts do not add up to the
        second's total, read that total again (it may have been counted with bounds since
        learnt to be too wide, or changed) before reporting the difference."""
        if parent is None:
            return []
        parent.found += found or 0
        parent.children -= 1
        if parent.children == 0 and parent.total is not None and parent.found < parent.total:
            return [
                Task("check", parent.path, parent.t, parent.t, extra=parent.extra, check=parent)
            ]
        return []

    def handle_check(self, parent: Partition, page: Page) -> list[Task]:
        total = page.total
        if total is not None and parent.found < total:
            where = "".join(f" {k}={v}" for k, v in parent.extra)
            self.problems.append(
                f"second {parent.t} of {parent.path}{where} holds {total} videos but its "
                f"parts by {parent.by} hold {parent.found}; {total - parent.found} of them "
                "cannot be reached"
            )
        return []

    # -- driving ---------------------------------------------------------------------------

    def run(self) -> list[dict[str, Any]]:
        running: dict[Future[Read], Task] = {}
        with ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="dmtools-load"
        ) as pool:
            try:
                for task in (
                    Task("edge", p, self.lo, self.hi, sort=s)
                    for p in self.paths
                    for s in ("old", "recent")
                ):
                    running[pool.submit(self.fetch, task)] = task
                _start_threads(pool, self.workers - len(running))
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = running.pop(future)
                        pages, used = future.result()
                        self.requests += len(pages)
                        self.running = len(running)
                        for follow in self.handle(task, pages, used):
                            running[pool.submit(self.fetch, follow)] = follow
                            self.running = len(running)
            except BaseException:
                for future in running:
                    future.cancel()
                raise
        for problem in self.problems:
            log.warning("incomplete load: %s", problem)
            warnings.warn(f"incomplete load: {problem}", IncompleteLoadWarning, stacklevel=4)
        return sorted(self.videos.values(), key=lambda v: (-created(v), str(v["id"])))


def _start_threads(pool: ThreadPoolExecutor, count: int) -> None:
    """Start ``count`` more threads of ``pool`` now, while the first reads are in flight: a
    pool starts a thread per submit, and each start waits for the GIL (milliseconds each in a
    busy process), which would delay the first windows."""
    started = threading.Event()
    try:
        for _ in range(count):
            pool.submit(started.wait, 5.0)  # busy until every thread is started
    finally:
        started.set()


def load_records(
    client: Client, query: VideoQuery, *, progress: bool = True, workers: int = DEFAULT_WORKERS
) -> list[dict[str, Any]]:
    """Every video of ``query`` (all its lists), each once, newest first.

    The query's ``window`` (``created_after``/``created_before``, unix seconds) bounds the
    load as ``created_after <= created_time < created_before``.

    Warns:
        IncompleteLoadWarning: naming each second whose videos could not all be reached.
    """
    lo, before = query.window
    bar = _progress_bar() if progress else _NoBar()
    try:
        loader = _Loader(
            client,
            query,
            workers,
            bar,
            lo,
            before - 1 if before is not None else None,
        )
        records = [] if loader.empty else loader.run()
        bar.total = len(records)
        bar.refresh()
    finally:
        bar.close()
    log.info("loaded %d videos in %d reads", len(records), loader.requests)
    return records
