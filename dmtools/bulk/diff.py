"""Validate an edited frame against its snapshot and collect the changed cells (pure).

Both frames go through the frame layer's id normaliser (:func:`dmtools.frames.index_by_id`)
and every cell through its parser (:func:`dmtools.frames._cells.cell_value`); columns are
named by the schema's one column map (:func:`dmtools.schema.column_field`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dmtools.bulk._values import Value, same_cell, wire_problem
from dmtools.errors import Problem
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


def _unequal_rows(old: pd.Series, new: pd.Series) -> list[int]:
    """Positions worth a closer look: a fast vectorised filter, exact for same dtypes."""
    if len(new) > 50 and old.dtype == new.dtype and old.dtype != object:
        try:
            a, b = old.reset_index(drop=True), new.reset_index(drop=True)
            same = a.eq(b).fillna(False).astype(bool) | (a.isna() & b.isna())
            return [int(i) for i in (~same).to_numpy().nonzero()[0]]
        except (TypeError, ValueError):
            pass
    return list(range(len(new)))


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
    known = set(old.index)
    rows = [vid for vid in new.index if vid is not None]
    for vid in dict.fromkeys(rows):
        if vid not in known:
            reason = "not in the snapshot (the frame the plan compares against)"
            problems.append(Problem(vid, "id", reason))
    old = old[~old.index.duplicated() & old.index.notna()]
    keep = new.index.notna() & ~new.index.duplicated(keep=False)
    new = new[keep & new.index.isin(list(known))]
    return old.reindex(new.index), new, len(rows)


def _cells(
    col: str, spec: Field, old: pd.Series, new: pd.Series, limits: FieldLimits
) -> Iterator[tuple[str, Value, Value] | Problem]:
    """The changed cells of one column: ``(video id, old, new)``, or a Problem."""
    from dmtools.frames._cells import BadCell, cell_value

    for pos in _unequal_rows(old, new):
        vid = str(new.index[pos])
        old_raw, new_raw = old.iloc[pos], new.iloc[pos]
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
    if "title" in aligned.columns:
        titles = ((vid, aligned.at[vid, "title"]) for vid in found.changes)
        found.labels = {vid: title for vid, title in titles if isinstance(title, str)}
    found.unchanged = rows - len(found.changes)
    return found
