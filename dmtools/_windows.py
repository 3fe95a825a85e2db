"""The work items of :mod:`dmtools.loader`: windows, busy seconds, and how the API reads bounds.

Nothing here sends a request: :class:`Task` says what to read, :class:`Bounds` turns a window
``[lo, hi]`` (whole seconds, both inclusive) into the bounds a request sends, given what has
been learnt about how the API reads them, and :func:`split` cuts a span of seconds.

**Pages** of a query: page ``n`` of size ``s`` holds positions ``s*(n-1)`` to ``s*n - 1``;
:func:`run_pages` picks sizes so that each page overlaps the one before by a few positions.

**Glued pages** (why this is exact while videos are added or deleted). A page is a snapshot of
a contiguous slice of its query's order when it was read: it proves complete the seconds
strictly between its first and last items, all seconds before its last item if it is the
query's first page, and all seconds after its first item if nothing follows it
(:func:`dmtools._windows.claim`). Two pages read at different moments may be shifted against
each other by videos added or deleted meanwhile; their claims still hold, and they join up
when the later page starts in an earlier second than the earlier page ends in, which their
overlap gives unless more videos than it holds were added meanwhile. Any second no claim
covers is read again as a window (:func:`dmtools._windows.gaps`), so every video present for
the whole load is returned, and ids are de-duplicated, so it is returned once. Completeness
never relies on ``total``: it sizes windows and may only ever ask for *more* reads.

The legacy ``created_after``/``created_before`` filters are not documented as inclusive or
exclusive; windows are sent one second wider than needed and returned videos are filtered on
``created_time``, and if the API shows it counts the bound itself, the windows are narrowed
(:class:`dmtools._windows.Bounds`; a dialect that documents its bounds starts from them).

Example:
    >>> split(0, 9, 3)
    [(0, 2), (3, 5), (6, 9)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from dmtools.dialects import Page
from dmtools.errors import DailymotionError

__all__ = [
    "Bounds",
    "believable",
    "Partition",
    "Task",
    "created",
    "more",
    "parts",
    "split",
    "to_empty",
]

#: Videos a window aims at: its first page, then about five pages read at once.
WINDOW = 500
#: Most windows one span is cut into by a ``total`` at once (a ``total`` may be wildly wrong;
#: a window that holds more is cut again when its first page is in).
MOST_PARTS = 32


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
    most: int | None = None  # videos the span it was cut from was said to hold (of a window)


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
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DailymotionError(f"video {video.get('id')!r} came without a created_time")
    return int(value)


def more(page: Page, number: int) -> bool:
    """Whether videos may exist past page ``number``: the API says so, or a full page whose
    ``total`` does not end exactly with it (an API may say there is no more at its result
    ceiling; a missing total, or one the page contradicts, rules nothing out)."""
    if not page.items:  # an empty slice: the query ends before it, whatever ``has_more`` says
        return False
    return page.more or (len(page.items) >= page.size and page.total != number * page.size)


def believable(start: int, page: Page, most: int | None) -> bool:
    """Whether the ``total`` of a window's last page read (at position ``start``) may plan
    windows: no more than the span it was cut from was said to hold (``most``), nor than a
    short page, the end of its query, shows."""
    total = page.total
    if total is None:
        return True
    if most is not None and total > most + WINDOW:
        return False
    return len(page.items) >= page.size or total <= start + len(page.items)


def to_empty(pages: Iterable[Page]) -> list[Page]:
    """Pages of a listing up to the first empty one (an API may say more follow it)."""
    out: list[Page] = []
    for page in pages:
        out.append(page)
        if not page.items:
            break
    return out


def parts(left: int | None, idle: int, size: int) -> int:
    """How many windows the widest span left to read is cut into: by the ``left`` videos
    expected in it (:data:`WINDOW` each, one per ``idle`` worker), at most :data:`MOST_PARTS`;
    one per idle worker when the count is unknown.

    Example:
        >>> parts(None, 4, 100), parts(2_000, 1, 100), parts(10**12, 1, 100)
        (4, 4, 32)
    """
    if left is None:
        return idle
    return min(MOST_PARTS, max(math.ceil(left / WINDOW), min(idle, math.ceil(left / size))))


def split(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    """``[lo, hi]`` cut into at most ``parts`` contiguous windows of whole seconds."""
    parts = max(1, min(parts, hi - lo + 1))
    cuts = [lo + (hi - lo + 1) * i // parts for i in range(parts)] + [hi + 1]
    return [(a, b - 1) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


# -- runs: pages of one query read at once, glued by their overlap -----------------------------

#: Positions two consecutive pages of a run share. Two pages are glued when the later one
#: starts in an earlier second than the one the earlier page ends in; with 3 shared positions
#: that survives two videos added before them between the two reads.
OVERLAP = 3
#: Stands for an open end of a window (no ``created_after``/``created_before``).
NEG, POS = -(1 << 62), 1 << 62


def run_pages(held: int, until: int, size: int, reach: int, most: int) -> list[tuple[int, int]]:
    """The pages ``(number, size)`` that read positions ``[held, until)`` of a query whose
    positions ``[0, held)`` are in hand, each overlapping the one before by :data:`OVERLAP`.

    A page of size ``s`` and number ``n`` holds positions ``[s*(n-1), s*n)``; pages end at
    ``reach`` (the result ceiling) and there are at most ``most`` of them.

    Example:
        >>> run_pages(0, 400, 100, 1000, 4)
        [(1, 100), (2, 97), (3, 95), (4, 94)]
    """
    out: list[tuple[int, int]] = []
    end = held
    while end < min(until, reach) and len(out) < most:
        if end == 0:
            best = (size, 1, size)
        else:
            options = [
                (first + width, number, width)
                for width in range(size, 0, -1)
                for number in [(end - OVERLAP) // width + 1]
                for first in [width * (number - 1)]
                if end - OVERLAP >= 0 and first + width <= reach
            ]
            best = max(options, default=(end, 0, 0))
        if best[0] <= end:
            break
        end, number, width = best
        out.append((number, width))
    return out


def claim(
    start: int, page: Page, times: list[int], lo: int, hi: int, oldest_first: bool
) -> tuple[int, int] | None:
    """The seconds ``[a, b]`` one page proves complete, if any.

    A page is a contiguous slice of its query's order at the moment it was read: every video
    strictly between the seconds of its first and last items is in it, every video before its
    last second too when it starts the query (``start == 0``), and every video after its first
    second too when nothing follows it. Videos of its first and last seconds may also sit on
    the neighbouring pages, which is why two pages are glued only across a second boundary.
    """
    keys = times if oldest_first else [-t for t in times]
    low, high = (lo, hi) if oldest_first else (-hi, -lo)
    end = not more(page, page.number)
    if not keys:
        return (lo, hi) if start == 0 and end else None
    a = low if start == 0 else keys[0] + 1
    b = high if end else keys[-1] - 1
    if a > b:
        return None
    return (a, b) if oldest_first else (-b, -a)


def gaps(claims: Iterable[tuple[int, int] | None], lo: int, hi: int) -> list[tuple[int, int]]:
    """The seconds of ``[lo, hi]`` no claim covers, as closed intervals in time order.

    Example:
        >>> gaps([(0, 4), (9, 20), None], 0, 30)
        [(5, 8), (21, 30)]
    """
    out: list[tuple[int, int]] = []
    at = lo
    for a, b in sorted(c for c in claims if c is not None):
        if a > at:
            out.append((at, min(a - 1, hi)))
        at = max(at, b + 1)
        if at > hi:
            break
    if at <= hi:
        out.append((at, hi))
    return [(a, b) for a, b in out if a <= b]
