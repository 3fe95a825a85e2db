"""Validate an edited frame against its snapshot and collect the changed cells (pure).

Both frames go through the frame layer's id normaliser (:func:`dmtools.frames.index_by_id`)
and every cell through its parser (:func:`dmtools.frames._cells.cell_value`); columns are
named by the schema's one column map (:func:`dmtools.schema.column_field`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from types import NoneType
from typing import TYPE_CHECKING, Any

import numpy as np

from dmtools.bulk._values import Value, same_cell, wire_problem
from dmtools.errors import Problem
from dmtools.frames._cells import value_kind
from dmtools.schema import Field, FieldLimits, check_value, column_field

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Changes", "Diff", "diff_frames"]

Changes = dict[str, dict[str, tuple[Value, Value]]]


@dataclass
class Diff:
    """What two frames differ by: ``changes[video_id][field] = (old, new)``, the titles to
    show, how many edited rows changed nothing, and every problem found (when there is one,
    there are no changes)."""

    changes: Changes = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)


def _short(value: Any) -> str:
    from dmtools.bulk.render import show

    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    return show(value if isinstance(value, (list, bool, type(None))) else str(value), 40)


def _unequal_rows(spec: Field, old: pd.Series, new: pd.Series) -> list[int]:
    """Positions worth a closer look (a sound filter: every other position holds equal, valid
    cells, so comparing them cell by cell would find neither a change nor a problem)."""
    if len(new) > 50 and old.dtype == new.dtype and old.dtype != object:
        try:
            a, b = old.reset_index(drop=True), new.reset_index(drop=True)
            same = a.eq(b).fillna(False).astype(bool) | (a.isna() & b.isna())
            return [int(i) for i in (~same).to_numpy().nonzero()[0]]
        except (TypeError, ValueError):
            pass
    if value_kind(spec) == "tags" and old.dtype == object and new.dtype == object:
        return _unequal_tags(old.tolist(), new.tolist())
    return list(range(len(new)))


def _unequal_tags(old: list[Any], new: list[Any]) -> list[int]:
    """Positions where two tag columns may differ: equal lists of valid text are skipped.

    Whole columns of lists (or None) are compared at C speed; anything else is looked at
    cell by cell, and a comparison that raises keeps every position.
    """
    try:
        lists = _only(old, list, NoneType) and _only(new, list, NoneType)
        if lists and _plain_tags(new) and _only(chain.from_iterable(filter(None, old)), str):
            same = np.fromiter(map(operator.eq, old, new), dtype=bool, count=len(new))
            return (~same).nonzero()[0].tolist()
        return [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if not _same_tags(a, b)]
    except (TypeError, ValueError):
        return list(range(len(new)))


def _same_tags(old: Any, new: Any) -> bool:
    """Whether two cells are equal lists of valid text (None counts as no tags)."""
    if old is None and new is None:
        return True
    if type(old) is not list or type(new) is not list or not _only(old, str):
        return False
    return _plain_tags([new]) and old == new


def _plain_tags(cells: list[Any]) -> bool:
    """True when every tag of ``cells`` (lists or None) is valid Unicode text of type str."""
    tags = list(chain.from_iterable(filter(None, cells)))
    if not _only(tags, str):
        return False
    try:
        "".join(tags).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _only(values: Iterable[Any], *types: type) -> bool:
    return set(map(type, values)).issubset(types)


def _raw(series: pd.Series, positions: list[int]) -> list[Any]:
    """``series.iloc[p]`` for each position, without the per-cell cost of ``iloc``."""
    import pandas as pd

    values = series.array
    if series.dtype == object:
        items = series.to_numpy()
        return [items[p] for p in positions]
    if isinstance(values, pd.arrays.NumpyExtensionArray):  # numpy scalars: iloc unboxes some
        return [series.iloc[p] for p in positions]
    return [values[p] for p in positions]


def _columns(
    old: pd.DataFrame, new: pd.DataFrame, problems: list[Problem]
) -> list[tuple[str, Field]]:
    """The edited columns that can be compared, with their fields (problems for the others)."""
    columns: list[tuple[str, Field]] = []
    for col in new.columns:
        spec = column_field(str(col))
        if spec is None:
            reason = "unknown column (not a video field); drop it before planning"
            problems.append(Problem(None, str(col), reason))
        elif col not in old.columns:
            reason = "not in the snapshot; load this field first so its changes can be checked"
            problems.append(Problem(None, str(col), reason))
        else:
            columns.append((str(col), spec))
    return columns


def _aligned(
    old: pd.DataFrame, new: pd.DataFrame, problems: list[Problem]
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(snapshot rows, edited rows) that can be compared row by row, and how many edited rows
    have an id. Cells of aligned rows are checked even when other rows have problems, so one
    error lists every problem."""
    ids = new.index
    present, inside = ids.notna(), ids.isin(old.index)
    for vid in dict.fromkeys(ids[present & ~inside].tolist()):
        reason = "not in the snapshot (the frame the plan compares against)"
        problems.append(Problem(vid, "id", reason))
    usable = ~old.index.duplicated() & old.index.notna()
    if not usable.all():
        old = old[usable]
    keep = present & ~ids.duplicated(keep=False) & inside
    if not keep.all():
        new = new[keep]
    aligned = old if old.index.equals(new.index) else old.reindex(new.index)
    return aligned, new, int(np.count_nonzero(present))


def _cells(
    col: str, spec: Field, old: pd.Series, new: pd.Series, limits: FieldLimits
) -> Iterator[tuple[str, Value, Value] | Problem]:
    """The changed cells of one column: ``(video id, old, new)``, or a Problem."""
    from dmtools.frames._cells import BadCell, cell_value

    positions = _unequal_rows(spec, old, new)
    ids = new.index[positions].tolist()
    for vid, old_raw, new_raw in zip(ids, _raw(old, positions), _raw(new, positions), strict=True):
        vid = str(vid)
        if not spec.editable:
            if not same_cell(col, old_raw, new_raw):
                changed = f"changed from {_short(old_raw)} to {_short(new_raw)}"
                yield Problem(vid, col, f"{col} is read-only ({changed})")
            continue
        try:
            after = cell_value(spec.name, new_raw)
        except BadCell as exc:
            yield Problem(vid, col, exc.reason)
            continue
        try:
            before = cell_value(spec.name, old_raw)
        except BadCell:
            before = str(old_raw)
        if before == after:
            continue
        reason = check_value(spec.name, after, limits) or wire_problem(spec.name, after)
        yield Problem(vid, col, reason) if reason is not None else (vid, before, after)


def diff_frames(before: Any, after: Any, limits: FieldLimits) -> Diff:
    """The changes from ``before`` (the snapshot) to ``after`` (the edited frame), validated
    against ``limits``; a :class:`Diff` with every problem, and no changes when any."""
    import pandas as pd

    from dmtools.frames import index_by_id

    found = Diff()
    old_frame = index_by_id(before, "the snapshot", found.problems)
    new_frame = index_by_id(after, "the edited frame", found.problems)
    if old_frame is None or new_frame is None:
        return found
    columns = _columns(old_frame, new_frame, found.problems)
    aligned, new_frame, rows = _aligned(old_frame, new_frame, found.problems)
    for col, spec in columns:
        for item in _cells(col, spec, aligned[col], new_frame[col], limits):
            if isinstance(item, Problem):
                found.problems.append(item)
            else:
                vid, old, new = item
                found.changes.setdefault(vid, {})[spec.name] = (old, new)
    if found.problems:
        return Diff(problems=found.problems)
    if "title" in aligned.columns and found.changes:
        changed = list(found.changes)
        where = aligned.index.get_indexer(pd.Index(changed)).tolist()
        titles = zip(changed, _raw(aligned["title"], where), strict=True)
        found.labels = {vid: title for vid, title in titles if isinstance(title, str)}
    found.unchanged = rows - len(found.changes)
    return found
