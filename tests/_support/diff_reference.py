"""The planner's cell-by-cell diff as it was before it was vectorised: the reference that
``tests/bulk/test_diff_vectorised.py`` checks :func:`dmtools.bulk.diff.diff_frames` against.

Kept verbatim (with the id normaliser it used), so any difference in changes, labels,
unchanged counts or problems (their order and wording included) shows up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from dmtools.bulk._values import Value, same_cell, wire_problem
from dmtools.bulk.diff import Diff
from dmtools.errors import Problem
from dmtools.frames._build import split_ids
from dmtools.frames._cells import BadCell, cell_value, is_missing
from dmtools.schema import Field, FieldLimits, check_value, column_field


def _short(value: Any) -> str:
    from dmtools.bulk.render import show

    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    return show(value if isinstance(value, (list, bool, type(None))) else str(value), 40)


def index_by_id(frame: Any, what: str, problems: list[Problem]) -> pd.DataFrame | None:
    if not isinstance(frame, pd.DataFrame):
        kind = type(frame).__name__
        problems.append(Problem(None, None, f"{what} must be a pandas DataFrame, not {kind}"))
        return None
    found = split_ids(frame)
    if found is None:
        problems.append(Problem(None, "id", f"{what} has no video id column or index"))
        return None
    rest, raw = found
    ids: list[str | None] = []
    seen: dict[str, list[int]] = {}
    for position, vid in enumerate(raw):
        if is_missing(vid) or not str(vid).strip():
            problems.append(Problem(f"#{position}", "id", f"missing video id in {what}"))
            ids.append(None)
        else:
            ids.append(str(vid))
            seen.setdefault(str(vid), []).append(position)
    for vid, positions in seen.items():
        if len(positions) > 1:
            where = ", ".join(f"#{p}" for p in positions)
            problems.append(Problem(vid, "id", f"duplicate id in {what} (rows {where})"))
    rest = rest.copy(deep=False)
    rest.index = pd.Index(ids, dtype=object, name="id")
    return rest


def _unequal_rows(old: pd.Series, new: pd.Series) -> list[int]:
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
