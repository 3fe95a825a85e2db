"""Choosing rows of a plan: which video ids ``plan.select(...)`` / ``plan.drop(...)`` mean.

A selection can be written the way the rest of the analysis is written:

=====================================  ===================================================
``ids``                                 means
=====================================  ===================================================
``"x8abc"`` or ``["x8abc", "x9def"]``   these videos; each must be in the plan (a typo is an
                                        error, nothing is silently kept or dropped)
a DataFrame                             the videos of its index (or its ``id`` column);
                                        rows that are not in the plan are ignored
a boolean Series indexed by id          the videos where it is True (``df.views_total > 100``)
a pandas Index or another Series        the ids it holds (ignored when not in the plan)
=====================================  ===================================================

Example:
    >>> plan.select(df[df.views_total > 1000])      # doctest: +SKIP
    >>> plan.drop(["x8abc"])                         # doctest: +SKIP
    >>> plan.select(fields=["title"])                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.bulk.delete_plan import DeletePlan
    from dmtools.bulk.plan import EditPlan

__all__ = [
    "CONTEXT_COLUMNS",
    "chosen_fields",
    "chosen_ids",
    "review_context",
    "subset_deletes",
    "subset_edits",
]

#: Snapshot columns the review panel shows beside each change.
CONTEXT_COLUMNS = ("title", "views_total", "created_time")
#: Start of the note a selection adds to its plan.
SELECTION_NOTE = "a selection of plan "


def _from_pandas(ids: Any) -> list[str] | None:
    """The ids a pandas object stands for, or None for anything else."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        return None
    if isinstance(ids, pd.DataFrame):
        values = ids["id"] if "id" in ids.columns else ids.index
        return [str(v) for v in values]
    if isinstance(ids, pd.Series) and pd.api.types.is_bool_dtype(ids.dtype):
        return [str(k) for k, keep in ids.items() if keep is True or keep == True]  # noqa: E712
    if isinstance(ids, pd.Series | pd.Index):
        return [str(v) for v in ids]
    return None


def chosen_ids(ids: Any, present: Collection[str], what: str) -> set[str]:
    """The video ids of ``present`` (a plan's) that ``ids`` names (see the module table).

    Raises:
        InputError: ``ids`` of an unusable type, or ids given by name that the plan does not
            have (nothing is chosen).
    """
    found = _from_pandas(ids)
    if found is not None:
        return set(found) & set(present)
    if isinstance(ids, str):
        names: Iterable[Any] = [ids]
    elif isinstance(ids, Iterable):
        names = list(ids)
    else:
        raise InputError(
            f"{what}: give video ids, a frame, or a boolean Series indexed by id, "
            f"not {type(ids).__name__}"
        )
    wanted = [str(v) for v in names]
    unknown = [v for v in dict.fromkeys(wanted) if v not in present]
    if unknown:
        raise InputError(
            f"{what}: {len(unknown)} id(s) are not in the plan; nothing was changed",
            [Problem(v, "id", "not in the plan") for v in unknown],
        )
    return set(wanted)


def chosen_fields(fields: Any, present: Collection[str], what: str) -> set[str]:
    """The field names of ``present`` that ``fields`` names (each must be in the plan)."""
    names = [fields] if isinstance(fields, str) else list(fields)
    unknown = [str(f) for f in names if str(f) not in present]
    if unknown:
        raise InputError(
            f"{what}: the plan changes no field named {', '.join(map(repr, unknown))} "
            f"(it changes: {', '.join(sorted(present)) or 'nothing'})",
            [Problem(None, f, "not a field of the plan") for f in unknown],
        )
    return {str(f) for f in names}


def subset_edits(plan: EditPlan, ids: Any, fields: Any, *, keep: bool) -> EditPlan:
    """``plan.select`` (``keep``) or ``plan.drop``: a new plan, numbered and fingerprinted
    afresh, with the labels and review context of the videos it keeps."""
    from dmtools.bulk.plan import EditPlan

    what = "select" if keep else "drop"
    named = set(plan.videos) if ids is None else chosen_ids(ids, plan.videos, what)
    videos = named if keep or ids is None else set(plan.videos) - named
    names = set(plan.fields) if fields is None else chosen_fields(fields, plan.fields, what)
    if not keep and fields is not None:
        names = set(plan.fields) - names
    changes = {
        op.video_id: {k: v for k, v in op.changes.items() if k in names}
        for op in plan.ops
        if op.video_id in videos
    }
    kept = {vid for vid, ch in changes.items() if ch}
    context = plan.context
    if context is not None:
        context = context[context.index.isin(list(kept))]
    notes = [n for n in plan.notes if not n.startswith(SELECTION_NOTE)]
    if len(kept) != len(plan) or names != set(plan.fields):
        notes.append(f"{SELECTION_NOTE}{plan.fingerprint[:12]}: {len(kept)} of {len(plan)} videos")
    return EditPlan(
        changes,
        labels={k: v for k, v in plan.labels.items() if k in kept},
        unchanged_rows=plan.unchanged_rows,
        notes=notes,
        context=context,
    )


def subset_deletes(plan: DeletePlan, ids: Any, *, keep: bool) -> DeletePlan:
    """``DeletePlan.select`` (``keep``) or ``drop``: the records and labels of the videos
    kept, the snapshot size (so the cap) unchanged."""
    from dmtools.bulk.delete_plan import DeletePlan

    named = chosen_ids(ids, plan.video_ids, "select" if keep else "drop")
    kept = [v for v in plan.video_ids if (v in named) == keep]
    records = plan.records
    if records is not None:
        records = records[records.index.isin(kept)]
    return DeletePlan(
        kept,
        records=records,
        snapshot_rows=plan.snapshot_rows,
        labels={k: v for k, v in plan.labels.items() if k in set(kept)},
    )


def review_context(before: Any, ids: Iterable[str]) -> pd.DataFrame | None:
    """The :data:`CONTEXT_COLUMNS` of ``before`` for the videos ``ids`` (None if it has none)."""
    import pandas as pd

    if not isinstance(before, pd.DataFrame):
        return None
    frame = before.set_index("id") if "id" in before.columns else before
    columns = [c for c in CONTEXT_COLUMNS if c in frame.columns]
    if not columns:
        return None
    frame = frame.loc[~frame.index.duplicated(), columns]
    frame.index = frame.index.astype(str)
    return frame[frame.index.isin(list(ids))]
