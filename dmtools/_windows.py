"""The work items of :mod:`dmtools.loader`: windows, busy seconds, and how the API reads bounds.

Nothing here sends a request: :class:`Task` says what to read, :class:`Bounds` turns a window
``[lo, hi]`` (whole seconds, both inclusive) into the bounds a request sends, given what has
been learnt about how the API reads them, and :func:`split` cuts a span of seconds.

Example:
    >>> split(0, 9, 3)
    [(0, 2), (3, 5), (6, 9)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from dmtools.dialects import Page
from dmtools.errors import DailymotionError

__all__ = ["Bounds", "Partition", "Task", "created", "more", "split"]


@dataclass(eq=False)
class Partition:
    """A busy second read part by part (by ``by``); checks the parts add up."""

    t: int
    path: str
    total: int | None
    children: int
    extra: tuple[tuple[str, str], ...]
    by: str
    found: int = 0


@dataclass(frozen=True)
class Task:
    """One read: an edge page of a list, a window read from its start, a busy second (all
    its pages), or a check of a split second's total."""

    kind: Literal["edge", "window", "second", "check"]
    path: str
    lo: int | None
    hi: int | None
    sort: str = "old"
    extra: tuple[tuple[str, str], ...] = ()  # partition filters (category of a busy second)
    attempt: int = 1  # of a busy second
    parent: Partition | None = None  # the split second a busy second is a part of
    check: Partition | None = None


class Bounds:
    """How the API reads its creation-time bounds (learnt from its answers).

    Args:
        inclusive: the first assumption, ``(after, before)`` (the dialect's
            ``window_inclusive``). Assuming exclusive bounds is safe (one second wider).
    """

    def __init__(self, inclusive: tuple[bool, bool] = (False, False)) -> None:
        self.after_inclusive, self.before_inclusive = inclusive

    def snapshot(self) -> tuple[bool, bool]:
        return self.after_inclusive, self.before_inclusive

    def edges(
        self, lo: int | None, hi: int | None, used: tuple[bool, bool]
    ) -> tuple[int | None, int | None]:
        """The (after, before) values to send for the window ``[lo, hi]``."""
        after_inclusive, before_inclusive = used
        after = None if lo is None else (lo if after_inclusive else lo - 1)
        before = None if hi is None else (hi if before_inclusive else hi + 1)
        return after, before

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


def created(video: dict[str, Any]) -> int:
    """A record's creation time (unix seconds)."""
    value = video.get("created_time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DailymotionError(f"video {video.get('id')!r} came without a created_time")
    return int(value)


def more(page: Page, number: int) -> bool:
    """Whether videos exist past page ``number``: the API says so, or a full page whose
    ``total`` says so (an API may say there is no more at its result ceiling)."""
    if page.more:
        return True
    total = page.total
    return len(page.items) >= page.size and total is not None and total > number * page.size


def split(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    """``[lo, hi]`` cut into at most ``parts`` contiguous windows of whole seconds."""
    parts = max(1, min(parts, hi - lo + 1))
    cuts = [lo + (hi - lo + 1) * i // parts for i in range(parts)] + [hi + 1]
    return [(a, b - 1) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
