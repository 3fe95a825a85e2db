"""Busy seconds of a load: one creation second holding more videos than a page.

A second is read on its own, page after page (at most the API's result ceiling); if the API's
``total`` changes while its pages are read (a video added or deleted in that second), the
second is read again. A second holding more than one query reaches is split by the dialect's
``partitions`` (legacy: category, then ``private``); whatever still cannot be reached is
reported (never dropped silently). :class:`dmtools.loader._Loader` mixes this in.

Example:
    >>> SECOND_ATTEMPTS
    4
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dmtools._windows import Partition, Task, more
from dmtools.dialects import Page

if TYPE_CHECKING:
    from dmtools.dialects import Dialect

__all__ = ["SECOND_ATTEMPTS", "Seconds"]

log = logging.getLogger("dmtools.loader")

#: Times a busy second is read again when its ``total`` moved during the read.
SECOND_ATTEMPTS = 4


class Seconds:
    """The busy-second part of the loader (needs ``dialect``, ``base`` and ``problems``)."""

    dialect: Dialect
    base: dict[str, str]
    problems: list[str]

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
        totals = {p.total for p in pages if p.total is not None and p.total >= 0}
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
