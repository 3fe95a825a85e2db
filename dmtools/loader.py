"""Read every video of a list query, past the API's 1,000-results-per-query ceiling.

How a load works (one pool of ``workers`` requests in flight, all lists of the query at once):

1. **Both ends at once.** For each list, the first pages of the oldest-first and of the
   newest-first order are read together, several pages of each order at once, each page
   overlapping the one before by a few positions. They give the oldest and newest videos,
   the number of matches (``total``, used only to plan) and the creation-time span left.
2. **Windows, read from their start.** What lies between is cut into creation-time windows
   ``[lo, hi]`` (whole seconds, both inclusive). A window's first page says how many videos
   it holds; the rest of it is then read at once. Whatever a window's pages do not prove
   complete becomes new, smaller windows (:mod:`dmtools._windows` says why this is exact
   while videos are added or deleted).
3. **Busy seconds.** A second holding a whole page is read on its own (:mod:`dmtools._seconds`);
   what cannot be reached is reported with an :class:`IncompleteLoadWarning`.
4. **The last reads.** While they are in flight, the videos already in may be handed to the
   caller (:mod:`dmtools._handover`), which builds most of its frame meanwhile.

Window bounds are sent as the API reads them (:class:`dmtools._windows.Bounds`). The names
above are the legacy API's: the client's dialect words every request and reads every page
(:mod:`dmtools.dialects`), so this module is the same for every API generation. A dialect
without numbered pages (``offset_pages`` False) is read one page per window request.

Example:
    >>> query = build_query(client, owner="me", fields=None, filters={})   # doctest: +SKIP
    >>> records = load_records(client, query, progress=False)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dmtools import _windows
from dmtools._handover import Handover
from dmtools._pool import Reads
from dmtools._progress import progress_bar
from dmtools._seconds import Seconds
from dmtools._shared import SharedValues
from dmtools._windows import NEG, POS, Bounds, Task, claim, created, gaps, more, run_pages, split
from dmtools.dialects import Page
from dmtools.errors import DailymotionError, IncompleteLoadWarning, ValidationError

if TYPE_CHECKING:
    from dmtools.client import Client
    from dmtools.videos import VideoQuery

__all__ = ["DEFAULT_WORKERS", "IncompleteLoadWarning", "load_records"]

log = logging.getLogger(__name__)

#: Requests a load keeps in flight by default: with 8, reading 10,000 videos (about 100
#: pages) takes at least 13 round trips, not 8 times fewer than one page after another.
DEFAULT_WORKERS = 12
#: A page as read: where its first item sits in its query, the page, its creation times.
Seen = tuple[int, Page, list[int]]
#: What one request read: its pages, and the bounds semantics it assumed.
Read = tuple[list[Page], tuple[bool, bool]]


@dataclass(eq=False)
class Run:
    """Pages ``(number, size)`` of one window query, read at once and glued afterwards."""

    task: Task
    used: tuple[bool, bool]
    pages: list[tuple[int, int]]
    prior: list[Seen] = field(default_factory=list)  # pages of the query read before
    got: dict[int, Seen | None] = field(default_factory=dict)  # None: a page not served
    wider: bool = False  # the API answered wider than the window: read it again


#: One request: a task, and the run and page of it (None, -1 for busy seconds and checks).
Job = tuple[Task, Run | None, int]


class _Loader(Seconds):
    def __init__(
        self,
        client: Client,
        query: VideoQuery,
        workers: int,
        bar: Any,
        lo: int | None,
        hi: int | None,
        handover: Handover,
    ) -> None:
        self.client = client
        self.dialect = client.dialect
        self.page = self.dialect.max_page_size
        self.reach = self.dialect.list_ceiling  # lowered if the API serves fewer positions
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
        self.handover = handover
        self.ends: dict[str, list[Run]] = {}
        self.problems: list[str] = []
        self.reads: Reads[Job, Read] | None = None
        self.requests = 0
        self.estimate = 0
        self.busy = 0
        self.counts = True  # the API's totals are believable (for planning only)

    # -- requests (worker threads) ---------------------------------------------------------

    def fetch(self, job: Job) -> Read:
        task, run, index = job
        used = run.used if run is not None else self.bounds.snapshot()
        params = {
            **self.base,
            **dict(task.extra),
            **self.dialect.window(*self.bounds.edges(task.lo, task.hi, used)),
            **self.dialect.sort(oldest_first=task.sort == "old"),
        }
        if run is None:
            pages = self.client.pages(task.path, params, limit=self.page)
            if task.kind == "second":  # one second: every page, with the client's paging
                return _windows.to_empty(pages), used
            return [next(pages)], used  # one page: the next is never asked for
        number, size = run.pages[index]
        if number > 1:
            params["page"] = str(number)
        try:
            return [next(self.client.pages(task.path, params, limit=size))], used
        except ValidationError:
            if number == 1:
                raise
            return [], used  # a page past the positions this API serves

    # -- reading answers (main thread) -----------------------------------------------------

    def keep(self, items: list[dict[str, Any]], times: list[int]) -> None:
        before = len(self.videos)
        for video, t in zip(items, times, strict=True):
            if video.get("id") in (None, ""):
                raise DailymotionError(f"a video created at {t} came without an id")
            if (self.lo is None or t >= self.lo) and (self.hi is None or t <= self.hi):
                self.videos[str(video["id"])] = self.share(video)
        self.bar.update(len(self.videos) - before)

    def absorb(self, task: Task, page: Page, used: tuple[bool, bool]) -> tuple[list[int], bool]:
        """Keep a page's videos; its creation times, and whether it was wider than asked."""
        times = [created(v) for v in page.items]
        if times != sorted(times, reverse=task.sort == "recent"):
            raise DailymotionError(
                f"GET {task.path} did not sort by creation time "
                f"(sort={task.sort}); cannot read it window by window"
            )
        if page.number == 1 and not times and page.more:
            raise DailymotionError(f"GET {task.path} said more videos follow an empty first page")
        self.keep(page.items, times)
        wider = self.bounds.learn(task.lo, task.hi, used, times)
        if wider:
            log.debug(
                "the API counts created_after/created_before inclusively; reading %s [%s, %s] "
                "again",
                task.path,
                task.lo,
                task.hi,
            )
        return times, wider

    def take(self, job: Job, pages: list[Page], used: tuple[bool, bool]) -> None:
        task, run, index = job
        if run is None:
            for follow in self.handle(task, pages, used):
                self.push(follow)
            return
        self.requests += 1
        if not pages:  # past what the API serves: read those positions by time instead
            number, size = run.pages[index]
            self.reach = min(self.reach, size * (number - 1))
            run.got[index] = None
        else:
            times, wider = self.absorb(task, pages[0], used)
            run.wider |= wider
            number, size = run.pages[index]
            run.got[index] = (size * (number - 1), pages[0], times)
        if len(run.got) == len(run.pages):
            self.finish(run)

    def handle(self, task: Task, pages: list[Page], used: tuple[bool, bool]) -> list[Task]:
        """A busy second or a check came back."""
        self.requests += len(pages)
        wider = False
        for page in pages:
            wider |= self.absorb(task, page, used)[1]
        if wider:
            return [task]
        if task.kind == "second":
            return self.handle_second(task, pages)
        assert task.check is not None
        return self.handle_check(task.check, pages[0])

    # -- planning (main thread) ------------------------------------------------------------

    def push(
        self, task: Task, run: Run | None = None, index: int = -1, later: bool = False
    ) -> None:
        """Queue a request; first pages of windows go before the rest of runs (they make work)."""
        assert self.reads is not None
        self.reads.push((task, run, index), later)

    def start(
        self,
        task: Task,
        pages: list[tuple[int, int]] | None = None,
        prior: Seen | None = None,
        used: tuple[bool, bool] | None = None,
    ) -> Run:
        """Read ``pages`` of ``task``'s query at once (default: its first page); the rest of
        a window follows its first page ``prior``, read with the same bounds ``used``."""
        run = Run(
            task,
            used or self.bounds.snapshot(),
            pages or [(1, self.page)],
            [prior] if prior is not None else [],
        )
        for index in range(len(run.pages)):
            self.push(task, run, index, later=prior is not None)
        return run

    def start_ends(self, path: str) -> None:
        """Read both ends of a list at once, the workers shared between them."""
        most = max(1, self.workers // (2 * len(self.paths))) if self.dialect.offset_pages else 1
        pages = run_pages(0, POS, self.page, self.reach, most)
        self.ends[path] = [
            self.start(Task("edge", path, self.lo, self.hi, sort=s), pages)
            for s in ("old", "recent")
        ]

    def finish(self, run: Run) -> None:
        """All pages of a run are in."""
        task = run.task
        if task.kind == "edge":
            ends = self.ends[task.path]
            if all(len(r.got) == len(r.pages) for r in ends):
                del self.ends[task.path]
                self.plan_ends(task.path, ends)
            return
        if run.wider:
            self.start(Task("window", task.path, task.lo, task.hi))
            return
        assert task.lo is not None and task.hi is not None
        seen = [*run.prior, *(s for s in run.got.values() if s is not None)]
        if not run.prior and len(seen) == 1 and self.head(run, seen[0]):
            return
        claims = [claim(start, page, times, task.lo, task.hi, True) for start, page, times in seen]
        total = seen[-1][1].total if seen else None
        if seen and not _windows.believable(*seen[-1][:2], task.most):
            self.counts = False  # a total proven wrong: totals no longer plan windows
        read = {str(v["id"]) for _, page, _ in seen for v in page.items}
        left = None if total is None else max(0, total - len(read))
        self.windows(task.path, gaps(claims, task.lo, task.hi), left)

    def plan_ends(self, path: str, ends: list[Run]) -> None:
        """Both ends of a list are in: what lies between becomes windows."""
        if any(r.wider for r in ends):
            self.start_ends(path)
            return
        lo = NEG if self.lo is None else self.lo
        hi = POS if self.hi is None else self.hi
        claims, read, total = [], set[str](), None
        for run in ends:
            for start, page, times in (s for s in run.got.values() if s is not None):
                claims.append(claim(start, page, times, lo, hi, run.task.sort == "old"))
                read.update(str(v["id"]) for v in page.items)
                total = page.total if start == 0 and run.task.sort == "old" else total
        holes = gaps(claims, lo, hi)
        if any(a <= NEG or b >= POS for a, b in holes):
            raise DailymotionError(f"GET {path}: the first pages of both orders did not meet")
        if total is not None:
            self.estimate += total
            self.bar.total = max(self.estimate, len(self.videos))
            self.bar.refresh()
        self.windows(path, holes, None if total is None else max(0, total - len(read)))

    def head(self, run: Run, seen: Seen) -> bool:
        """The first page of a window is in: read the rest of it at once (True), or leave it
        to :meth:`windows` (False)."""
        task, (_, page, times) = run.task, seen
        assert task.lo is not None and task.hi is not None
        if not more(page, 1):
            return False
        if times[-1] <= task.lo:  # a whole page inside the window's first second
            self.push(self.busy_second(task.path, task.lo, ())[0])
            if task.hi > task.lo:
                self.start(Task("window", task.path, task.lo + 1, task.hi))
            return True
        total = page.total
        if not self.dialect.offset_pages or total is None or total > self.reach:
            return False
        pages = run_pages(len(page.items), total, self.page, self.reach, total)
        if not pages:
            return False
        self.start(task, pages, prior=seen, used=run.used)
        return True

    def windows(self, path: str, holes: list[tuple[int, int]], left: int | None) -> None:
        """Read the seconds ``holes`` as windows; the widest is cut by the ``left`` videos
        expected in it (:func:`dmtools._windows.parts`)."""
        widest = max(holes, key=lambda h: h[1] - h[0], default=None)
        left = left if self.counts else None
        for a, b in holes:
            idle = max(1, self.workers - self.busy)
            cut = _windows.parts(left, idle, self.page) if (a, b) == widest else 1
            for x, y in split(a, b, cut):
                self.start(Task("window", path, x, y, most=left))

    # -- driving ---------------------------------------------------------------------------

    def run(self) -> list[dict[str, Any]]:
        with Reads(self.workers, self.fetch, "dmtools-load") as self.reads:
            for path in self.paths:
                self.start_ends(path)
            while self.reads.waiting:
                job, (pages, used) = self.reads.next()
                self.busy = self.reads.waiting
                self.take(job, pages, used)
                self.hand_over(self.reads)
        for problem in self.problems:
            log.warning("incomplete load: %s", problem)
            warnings.warn(f"incomplete load: {problem}", IncompleteLoadWarning, stacklevel=5)
        return sorted(self.videos.values(), key=newest_first)

    def hand_over(self, reads: Reads[Job, Read]) -> None:
        """Give the videos held so far to the caller if the load is nearly done."""
        queued = reads.queued()
        running = reads.waiting - queued
        if self.handover.due(len(self.videos), self.estimate, queued, running):
            self.handover.give(self.videos, newest_first)
            self.videos = {}


def newest_first(video: dict[str, Any]) -> tuple[int, str]:
    """The order of a load's videos: newest first, then by id."""
    return -created(video), str(video["id"])


def load_records(
    client: Client,
    query: VideoQuery,
    *,
    progress: bool = True,
    workers: int = DEFAULT_WORKERS,
    early: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Every video of ``query`` (all its lists), each once, newest first.

    The query's ``window`` (``created_after``/``created_before``, unix seconds) bounds the
    load as ``created_after <= created_time < created_before``.

    Args:
        early: called once with the videos read so far (newest first) when nearly all are
            in (:mod:`dmtools._handover`); they are not returned again unless read again.

    Warns:
        IncompleteLoadWarning: naming each second whose videos could not all be reached.
    """
    lo, before = query.window
    bar = progress_bar(progress, total=None, unit=" videos", desc="Loading videos")
    handover = Handover(early)
    try:
        hi = before - 1 if before is not None else None
        loader = _Loader(client, query, workers, bar, lo, hi, handover)
        records = [] if loader.empty else loader.run()
        bar.n = bar.total = handover.count(records)
        bar.refresh()
    finally:
        bar.close()
    log.info("loaded %d videos in %d reads", bar.total, loader.requests)
    return records
