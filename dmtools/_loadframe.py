"""The frame of a load, built in two parts (for :func:`dmtools.load.load_videos`).

The loader hands most of a channel's videos over while its last reads are in flight
(:mod:`dmtools._handover`): their frame is built then, and only the videos read after that
are left to build when the load ends. The two parts are joined in the load's order (newest
first, then by id); a video handed over and read again keeps its later read.

Example:
    >>> parts = FrameParts(["id", "title", "created_time"])
    >>> parts.early([{"id": "x2", "title": "b", "created_time": 20}])
    >>> frame = parts.frame([{"id": "x1", "title": "a", "created_time": 30}])
    >>> frame.index.tolist()
    ['x1', 'x2']
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dmtools.errors import InputError
from dmtools.frames import to_frame
from dmtools.frames._dtypes import category_dtype
from dmtools.loader import newest_first
from dmtools.schema import column_field

__all__ = ["FrameParts", "ReadAgain"]


class ReadAgain(Exception):
    """The early part held bad values of videos read again later, which may have fixed them:
    the load must be read again as one part (rare: a value mended during the load)."""


class FrameParts:
    """Builds a load's frame from an early part (:meth:`early`) and the rest (:meth:`frame`)."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = list(fields)
        self.first: pd.DataFrame | None = None
        self.error: InputError | None = None
        self.order: Any = np.empty(0, dtype=np.int64)  # -created_time of each early row
        self.ids: list[str] = []

    def early(self, records: list[dict[str, Any]]) -> None:
        """Build the frame of ``records`` (the load's order) now; a bad value is kept to be
        reported with those of the rest."""
        self.order = np.fromiter(
            (newest_first(v)[0] for v in records), dtype=np.int64, count=len(records)
        )
        self.ids = [str(v["id"]) for v in records]
        try:
            self.first = to_frame(records, fields=self.fields, consume=True)
        except InputError as error:
            self.error = error
        for video, vid in zip(records, self.ids, strict=True):
            video["id"] = vid  # the loader still counts the ids of pages it plans with

    def frame(self, records: list[dict[str, Any]]) -> pd.DataFrame:
        """The whole frame, given the videos read after the early part (the load's order).

        Raises:
            InputError: bad values of both parts (one error listing all of them).
            ReadAgain: see :class:`ReadAgain`.
        """
        if self.first is None and self.error is None:
            return to_frame(records, fields=self.fields, consume=True)
        keys = [newest_first(v) for v in records]
        again = {key[1] for key in keys}
        problems = [] if self.error is None else self.error.problems
        problems = [p for p in problems if p.row not in again]
        try:
            late = to_frame(records, fields=self.fields, consume=True)
        except InputError as error:
            raise InputError(error.args[0], [*problems, *error.problems]) from None
        if problems:
            raise InputError(f"{len(problems)} bad value(s)", problems)
        if self.first is None:
            raise ReadAgain()
        if not len(late):
            return self.first
        order = self._rows(keys, again)
        first, self.first = self.first, None
        return _joined(first, late, order)

    def _rows(self, late: list[tuple[int, str]], again: set[str]) -> Any:
        """Where the joined frame takes each row from: early rows ``0..n-1``, late rows from
        ``n`` on; early rows read again are left out."""
        n = len(self.ids)
        kept = np.arange(n)
        if again:
            kept = kept[np.fromiter((v not in again for v in self.ids), dtype=bool, count=n)]
        times, ids = self.order[kept], [self.ids[i] for i in kept] if again else self.ids
        starts = np.searchsorted(times, [t for t, _ in late], side="left")
        ends = np.searchsorted(times, [t for t, _ in late], side="right")
        places = np.fromiter(
            (
                bisect_left(ids, vid, a, b)
                for (_, vid), a, b in zip(late, starts, ends, strict=True)
            ),
            dtype=np.intp,
            count=len(late),
        )
        places += np.arange(len(late))  # where each late row lands in the joined frame
        rows = np.empty(len(kept) + len(late), dtype=np.intp)
        is_late = np.zeros(len(rows), dtype=bool)
        is_late[places] = True
        rows[is_late] = n + np.arange(len(late))
        rows[~is_late] = kept
        return rows


def _joined(first: pd.DataFrame, late: pd.DataFrame, rows: Any) -> pd.DataFrame:
    """The rows ``rows`` of ``first`` followed by ``late``, column by column (each column of
    ``first`` is let go once joined, so the two frames are never held twice)."""
    index = first.index.append(late.index).take(rows)
    columns = {}
    for name in list(first.columns):
        a, b = first[name], late[name]
        if isinstance(a.dtype, pd.CategoricalDtype) and a.dtype != b.dtype:
            a, b = _same_categories(name, a, b)
        columns[name] = pd.concat([a, b], ignore_index=True).array.take(rows)
        del first[name], a
    return pd.DataFrame(columns, index=index)


def _same_categories(name: str, a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``a`` and ``b`` with one category list (values outside the known list may differ
    between the parts)."""
    spec = column_field(name)
    assert spec is not None
    dtype = category_dtype(spec, {*a.cat.categories, *b.cat.categories})
    return a.astype(dtype), b.astype(dtype)
