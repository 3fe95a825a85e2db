"""Getting a request's reports: ask, wait, poll, download; resumable, at most 2 at a time.

The reports of one request (one per date range, see :meth:`ReportQuery.chunks`) go through
one loop:

1. **Resume.** A report this account asked for earlier for the same range (kept in the
   :class:`~dmtools.analytics.state.ReportState`) is polled, not asked again.
2. **Ask** while fewer than ``max_in_flight`` (2, the API's limit per key) of this load's
   reports are in progress; the rest wait in a queue. When the API still says too many are
   in progress (another program of the same key), the report goes back to the queue.
3. **Wait, then poll** every report in progress. Waits grow by half from ``poll_interval``
   to ``poll_max`` seconds while nothing changes and start again after a change.
4. **Finished:** every download link is fetched and parsed (:mod:`dmtools.analytics.frame`).
   ``FAILED`` or ``EXPIRED`` (or a report the API no longer knows): asked once more; a
   second failure raises :class:`~dmtools.errors.ReportError` naming the dates.
5. Past ``timeout`` seconds of waiting, :class:`~dmtools.errors.ReportError` says the
   reports are still in progress; their tokens stay kept, so the same call later resumes.

Network faults, 429/503 answers and token renewals are the transport's (its retry policy);
what reaches this loop is an error it could not cure. Progress shows as a tqdm bar (a widget
in Jupyter) of the reports done, with how many are in progress and queued.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dmtools import reporting_schema as rs
from dmtools._progress import progress_bar
from dmtools.analytics.frame import parse_csv, stitch
from dmtools.errors import InputError, NotFound, RateLimited, ReportError

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.analytics._wire import ReportingApi
    from dmtools.analytics.query import ReportQuery
    from dmtools.analytics.state import ReportState

__all__ = ["Finished", "Poll", "ReportRunner"]

log = logging.getLogger("dmtools.analytics")


@dataclass(frozen=True)
class Poll:
    """How to wait for reports.

    Attributes:
        interval: seconds before the first poll and after every change.
        max: longest wait between polls (waits grow by half each time nothing changes).
        timeout: seconds of waiting after which the load gives up (the reports go on and
            a later call picks them up); the API takes up to 2 hours for a report.
        max_in_flight: reports of this load in progress at once (the API allows 2 per key).
    """

    interval: float = 2.0
    max: float = 60.0
    timeout: float = 3 * 3600.0
    max_in_flight: int = rs.MAX_IN_PROGRESS

    def __post_init__(self) -> None:
        numbers = (self.interval, self.max, self.timeout)
        if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
            raise InputError("Poll takes numbers of seconds")
        if not 0 < self.interval <= self.max or self.timeout < 0:
            raise InputError("Poll needs 0 < interval <= max and a timeout of 0 or more")
        if self.max_in_flight not in range(1, rs.MAX_IN_PROGRESS + 1):
            raise InputError(
                f"max_in_flight is 1 to {rs.MAX_IN_PROGRESS} (the API's limit per key)"
            )


@dataclass
class _Report:
    """One date range of the request, as the loop tracks it."""

    index: int
    query: ReportQuery
    token: str | None = None
    attempts: int = 0
    links: tuple[str, ...] | None = None  #: once finished
    frame: pd.DataFrame | None = None  #: once downloaded
    fresh: bool = False  #: asked since the last wait: not polled yet
    ready: bool = False  #: finished when asked: polled without waiting


@dataclass(frozen=True)
class Finished:
    """A finished report: its date range, its download links, its frame (when fetched)."""

    query: ReportQuery
    links: tuple[str, ...]
    frame: pd.DataFrame | None


class ReportRunner:
    """The loop of the module notes for one request of one account."""

    def __init__(
        self,
        api: ReportingApi,
        state: ReportState,
        account: str,
        *,
        poll: Poll | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        progress: bool = True,
        fetch: bool = True,
    ) -> None:
        self.api, self.state, self.account = api, state, account
        self.poll, self.sleep, self.progress = poll or Poll(), sleep, progress
        self.fetch = fetch
        self.waited = 0.0
        self.asked = 0
        self.resumed = 0

    def run(self, chunks: Sequence[ReportQuery]) -> list[Finished]:
        """Every chunk's finished report, in order (see the module notes); its files are
        downloaded and parsed unless the runner was made with ``fetch=False``."""
        reports = [_Report(i, q) for i, q in enumerate(chunks)]
        queue: deque[_Report] = deque()
        flying: list[_Report] = []
        for report in reports:
            saved = self.state.get(self.account, report.query.key())
            if saved is None:
                queue.append(report)
            else:
                report.token, report.attempts = saved.token, saved.attempts
                flying.append(report)
                self.resumed += 1
        bar = self._bar(len(reports))
        try:
            self._loop(queue, flying, bar)
        finally:
            bar.close()
        return [Finished(r.query, r.links or (), r.frame) for r in reports]

    def _bar(self, total: int) -> Any:
        return progress_bar(self.progress, total=total, unit=" report", desc="Reporting API")

    def _loop(self, queue: deque[_Report], flying: list[_Report], bar: Any) -> None:
        wait = self.poll.interval
        while queue or flying:
            changed = self._check(flying, queue, bar)
            changed |= self._ask(queue, flying)
            bar.set_postfix_str(f"{len(flying)} in progress, {len(queue)} queued")
            if not (queue or flying):
                break
            if any(r.ready for r in flying):
                continue
            wait = self.poll.interval if changed else min(wait * 1.5, self.poll.max)
            if self.waited + wait > self.poll.timeout:
                self._give_up(flying or list(queue))
            self.sleep(wait)
            self.waited += wait
            for report in flying:
                report.fresh = False

    def _ask(self, queue: deque[_Report], flying: list[_Report]) -> bool:
        any_asked = False
        while queue and len(flying) < self.poll.max_in_flight:
            report = queue[0]
            try:
                asked = self.api.ask(report.query)
            except RateLimited as exc:  # too many in progress for this key elsewhere
                log.info("the API has too many reports in progress (%s); waiting", exc.message)
                break
            queue.popleft()
            token = asked.token
            report.token, report.attempts = token, report.attempts + 1
            report.fresh = asked.status == "IN_PROGRESS"
            report.ready = not report.fresh  # finished at once: polled without a wait
            self.state.put(self.account, report.query.key(), token, attempts=report.attempts)
            flying.append(report)
            self.asked += 1
            any_asked = True
        return any_asked

    def _check(self, flying: list[_Report], queue: deque[_Report], bar: Any) -> bool:
        """Poll the reports in progress: download the finished ones, queue failed ones
        again (once). True when anything changed."""
        changed = False
        for report in list(flying):
            assert report.token is not None
            if report.fresh:
                continue  # just asked: wait once before the first poll
            report.ready = False
            try:
                found = self.api.status(report.token)
                status, links = found.status, found.links
            except NotFound:  # the API no longer knows it (deleted, or another key's)
                status, links = "EXPIRED", ()
            if status == "IN_PROGRESS":
                continue
            flying.remove(report)
            changed = True
            if status == "FINISHED":
                report.links = links
                if self.fetch:
                    self._download(report, links)
                bar.update(1)
            else:
                self._again(report, status, queue)
        return changed

    def _download(self, report: _Report, links: Sequence[str]) -> None:
        parts = [
            parse_csv(self.api.download(link), report.query, name=f"file {i + 1} of {len(links)}")
            for i, link in enumerate(links)
        ]
        report.frame = stitch(parts, report.query)
        log.info(
            "report of %s to %s: %d rows in %d files",
            report.query.start,
            report.query.end,
            len(report.frame),
            len(links),
        )

    def _again(self, report: _Report, status: str, queue: deque[_Report]) -> None:
        q = report.query
        if report.attempts >= 2:
            self.state.forget(self.account, [q.key()])
            raise ReportError(
                f"the report of {q.start} to {q.end} ended {status} twice (asked again once "
                "already); ask again later, or for a shorter range",
                report_status=status,
                start=q.start.isoformat(),
                end=q.end.isoformat(),
                status=200,
                type=f"report_{status.lower()}",
            )
        log.warning("the report of %s to %s ended %s; asking once more", q.start, q.end, status)
        report.token = None
        queue.appendleft(report)

    def _give_up(self, waiting: Sequence[_Report]) -> None:
        first = waiting[0].query
        raise ReportError(
            f"{len(waiting)} report(s) not finished after {self.waited:,.0f} s of waiting "
            f"(from {first.start}); they go on: the same call within 48 hours picks them up",
            report_status="IN_PROGRESS",
            start=first.start.isoformat(),
            end=waiting[-1].query.end.isoformat(),
            status=200,
            type="report_timeout",
        )
