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
        self.keys: list[tuple[int, str]] = []
        self.ids: set[str] = set()

    def early(self, records: list[dict[str, Any]]) -> None:
        """Build the frame of ``records`` (the load's order) now; a bad value is kept to be
        reported with those of the rest."""
        self.keys = [newest_first(v) for v in records]
        self.ids = {vid for _, vid in self.keys}
        try:
            self.first = to_frame(records, fields=self.fields, consume=True)
        except InputError as error:
            self.error = error
        for video, (_, vid) in zip(records, self.keys, strict=True):
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
        first, self.first = self.first, None
        return _joined(first, self.keys, late, keys, again & self.ids)


def _joined(
    first: pd.DataFrame,
    first_keys: list[tuple[int, str]],
    late: pd.DataFrame,
    late_keys: list[tuple[int, str]],
    again: set[str],
) -> pd.DataFrame:
    """``first`` without the videos read ``again`` (in ``late``), and ``late``, in one
    frame sorted like the keys."""
    if late.empty:
        return first
    if again:
        kept = [vid not in again for _, vid in first_keys]
        first = first[np.array(kept, dtype=bool)]
        first_keys = [key for key, keep in zip(first_keys, kept, strict=True) if keep]
    places = np.fromiter(
        (bisect_left(first_keys, key) for key in late_keys), dtype=np.intp, count=len(late_keys)
    )
    places += np.arange(len(late_keys))  # where each late row lands in the joined frame
    order = np.empty(len(first) + len(late), dtype=np.intp)
    is_late = np.zeros(len(order), dtype=bool)
    is_late[places] = True
    order[is_late] = len(first) + np.arange(len(late))
    order[~is_late] = np.arange(len(first))
    first, late = _same_categories(first, late)
    return pd.concat([first, late]).take(order)


def _same_categories(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``a`` and ``b`` with one category list per categorical column (values outside the
    known list may differ between the parts)."""
    for column in a.columns:
        x, y = a[column].dtype, b[column].dtype
        if isinstance(x, pd.CategoricalDtype) and x != y:
            spec = column_field(column)
            assert spec is not None and isinstance(y, pd.CategoricalDtype)
            dtype = category_dtype(spec, {*x.categories, *y.categories})
            a, b = (
                a.assign(**{column: a[column].astype(dtype)}),
                b.assign(**{column: b[column].astype(dtype)}),
            )
    return a, b
