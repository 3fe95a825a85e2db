"""Videos handed to the caller before a load ends (no pandas: the loader imports it).

A load's frame takes a while to build (about 20 ms for 10,000 videos). When nearly every
expected video is in and only the last reads are in flight, the loader's thread has nothing
to do but wait: :class:`Handover` gives the videos held so far to a callback then (the frame
of most of the channel is built meanwhile), once per load. Nothing is lost or returned twice:
videos read after the handover are returned at the end as usual, and a video handed over and
read again is returned again, since the later read is the newer one (the caller keeps that
one, see :func:`dmtools.load.load_videos`).

Example:
    >>> given = []
    >>> handover = Handover(given.extend)
    >>> handover.due(held=95, expected=100, queued=0, running=2)
    True
    >>> handover.give({"x1": {"id": "x1", "created_time": 5}}, order=lambda v: 0)
    >>> given, handover.due(held=99, expected=100, queued=0, running=1)
    ([{'id': 'x1', 'created_time': 5}], False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["EARLY_MOST", "EARLY_SHARE", "Handover"]

#: The share of the expected videos that must be in before a handover.
EARLY_SHARE = 0.9
#: Loads expecting more videos than this build their frame once, at the end: two parts and
#: their join hold more memory at once (a 100,000-video load stays under 150 MB this way),
#: and the time a handover saves is a smaller share of a large load.
EARLY_MOST = 50_000


class Handover:
    """Gives the videos held so far to ``early`` once, when :meth:`due` says so."""

    def __init__(self, early: Callable[[list[dict[str, Any]]], None] | None) -> None:
        self.early = early
        self.ids: set[str] = set()  # the ids handed over

    def due(self, held: int, expected: int, queued: int, running: int) -> bool:
        """True when nothing waits to be sent, reads are still in flight and at least
        :data:`EARLY_SHARE` of the ``expected`` videos (the API's totals, at most
        :data:`EARLY_MOST`) are held."""
        return (
            self.early is not None
            and not queued
            and running > 0
            and 0 < expected <= EARLY_MOST
            and held >= EARLY_SHARE * expected
        )

    def give(self, videos: dict[str, dict[str, Any]], order: Callable[[Any], Any]) -> None:
        """Hand ``videos`` (id -> video) over, sorted by ``order``; the caller then empties
        its own dict, so later reads are all that is returned at the end. The callback may
        take every field but ``id`` out of the videos (the loader still counts the ids of
        the pages it plans with)."""
        early, self.early = self.early, None
        assert early is not None
        self.ids = set(videos)
        early(sorted(videos.values(), key=order))

    def count(self, late: list[dict[str, Any]]) -> int:
        """Distinct videos of the whole load, given those returned at the end."""
        again = sum(1 for video in late if str(video["id"]) in self.ids)
        return len(self.ids) + len(late) - again
