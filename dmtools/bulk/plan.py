"""Edit plans: the reviewed list of field changes computed from two frames.

:func:`plan_edits` is a pure function of the loaded frame (the snapshot) and the edited frame:
no client, no clock, no I/O except reading the edited file when given a path. It validates
everything first and raises one :class:`~dmtools.errors.InputError` listing every bad cell.

What a cell means (see :mod:`dmtools.frames` for the canonical forms):

=========================  ====================================================
edited cell                 effect
=========================  ====================================================
same value as snapshot      nothing (unchanged rows cost no request)
new valid value             ``set`` the field
missing, clearable field    ``clear`` the field (shown as such in the plan)
missing, required field     error (title, channel and the booleans are required)
read-only column changed    error (views, created_time, owner...)
=========================  ====================================================

Rows of the snapshot that are absent from the edited frame are left alone (edit a filtered
frame freely); deleting videos is :func:`~dmtools.bulk.plan_deletes`' job.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dmtools.bulk._base import PlanBase, fingerprint_of
from dmtools.bulk._values import Value, is_cleared, wire_problem
from dmtools.errors import InputError, Problem
from dmtools.schema import LIMITS_PUBLIC, VIDEO_FIELDS, FieldLimits, check_value

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.bulk.result import ApplyResult
    from dmtools.client import Client

__all__ = ["EditOp", "EditPlan", "fingerprint_of", "plan_edits"]


@dataclass(frozen=True, eq=True)
class EditOp:
    """One video's changes: ``changes[field] = (old, new)``; ``new`` None (``[]`` for tags)
    clears the field.

    Example:
        >>> plan.ops[0].changes                    # doctest: +SKIP
        {'title': ('Old title', 'New title'), 'private': (False, True)}
    """

    op_id: int
    video_id: str
    changes: Mapping[str, tuple[Value, Value]]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.changes)

    @property
    def target(self) -> dict[str, Value]:
        """The values this operation writes."""
        return {name: new for name, (_, new) in self.changes.items()}

    @property
    def expected(self) -> dict[str, Value]:
        """The values the server must still hold for the write to go ahead."""
        return {name: old for name, (old, _) in self.changes.items()}


def _field_order(name: str) -> int:
    return list(VIDEO_FIELDS).index(name)


class EditPlan(PlanBase):
    """An ordered, fingerprinted list of edit operations, ready to review and apply.

    Operations are sorted by video id and fields follow the schema's order, so the plan and
    its :attr:`fingerprint` do not depend on the row order of the frames.

    Example:
        >>> plan = dm.plan_edits(df, edited)          # doctest: +SKIP
        >>> plan.summary()                            # doctest: +SKIP
        {'operations': 3, 'videos': 3, 'fields': {'title': 3}, 'clears': 0, 'unchanged_rows': 97}
        >>> result = plan.apply(client, journal="edits.journal")   # doctest: +SKIP
    """

    kind = "edit"
    FORMAT = "dmtools.edit-plan"
    #: Version 2: the fingerprint covers the titles shown in review too.
    VERSION = 2
    #: For a plan made by :func:`~dmtools.bulk.undo_plan`: the job it undoes (``journal``,
    #: ``fingerprint``), recorded in the undo job's journal (see ``dm.bulk.job_status``).
    undo_of: dict[str, str] | None = None

    def __init__(
        self,
        ops: Sequence[EditOp] | Mapping[str, Mapping[str, tuple[Value, Value]]],
        *,
        labels: Mapping[str, str] | None = None,
        unchanged_rows: int = 0,
        notes: Sequence[str] = (),
        context: pd.DataFrame | None = None,
    ) -> None:
        if isinstance(ops, Mapping):
            changes = {vid: dict(ch) for vid, ch in ops.items() if ch}
        else:
            changes = {op.video_id: dict(op.changes) for op in ops}
        self.ops: tuple[EditOp, ...] = tuple(
            EditOp(i, vid, {k: changes[vid][k] for k in sorted(changes[vid], key=_field_order)})
            for i, vid in enumerate(sorted(changes), start=1)
        )
        planned = {op.video_id for op in self.ops}
        self.labels: dict[str, str] = {
            str(k): str(v) for k, v in (labels or {}).items() if str(k) in planned
        }
        self.unchanged_rows = int(unchanged_rows)
        self.notes: tuple[str, ...] = tuple(notes)
        #: Read-only columns of the snapshot for review (title, views, created), indexed by
        #: video id; shown by the review panel, never saved nor part of the fingerprint.
        self.context = context
        self.fingerprint = self._fingerprint()
        self._review: Any = None  # the review panel holding the plan (see bulk.gate)

    def content(self) -> list[Any]:
        """What the plan applies, and the title review shows beside each operation (the
        same changes with the same titles have the same fingerprint, however the plan was
        made)."""
        return [
            [
                op.video_id,
                self.labels.get(op.video_id),
                [[name, old, new] for name, (old, new) in op.changes.items()],
            ]
            for op in self.ops
        ]

    def __iter__(self) -> Iterator[EditOp]:
        return iter(self.ops)

    def select(self, ids: Any = None, *, fields: Any = None) -> EditPlan:
        """A new plan with only the chosen videos (ids, a frame, a boolean Series indexed by
        id: see :mod:`dmtools.bulk.selection`) and/or ``fields``; its fingerprint is that of
        the selection, so a journal, a saved file or a review panel follow it.

        Raises:
            InputError: ids or fields named explicitly that the plan does not have.

        Example:
            >>> plan.select(df[df.views_total > 1000], fields=["title"])   # doctest: +SKIP
        """
        from dmtools.bulk.selection import subset_edits

        return subset_edits(self, ids, fields, keep=True)

    def drop(self, ids: Any = None, *, fields: Any = None) -> EditPlan:
        """A new plan without the given videos (and/or without ``fields`` everywhere).

        Example:
            >>> plan.drop(["x8abc", "x9def"]).drop(fields="tags")    # doctest: +SKIP
        """
        from dmtools.bulk.selection import subset_edits

        return subset_edits(self, ids, fields, keep=False)

    @property
    def videos(self) -> tuple[str, ...]:
        """The video ids of the plan, in order."""
        return tuple(op.video_id for op in self.ops)

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the plan changes, in schema order."""
        return tuple(sorted({n for op in self.ops for n in op.changes}, key=_field_order))

    def summary(self) -> dict[str, Any]:
        """Counts: operations, videos, changes per field, clears, unchanged rows."""
        fields: dict[str, int] = {}
        clears = 0
        for op in self.ops:
            for name, (_, new) in op.changes.items():
                fields[name] = fields.get(name, 0) + 1
                clears += is_cleared(new)
        return {
            "operations": len(self.ops),
            "videos": len({op.video_id for op in self.ops}),
            "fields": dict(sorted(fields.items(), key=lambda kv: _field_order(kv[0]))),
            "clears": clears,
            "unchanged_rows": self.unchanged_rows,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per changed field: op_id, id, title, field, action, old, new."""
        import pandas as pd

        rows = [
            {
                "op_id": op.op_id,
                "id": op.video_id,
                "title": self.labels.get(op.video_id),
                "field": name,
                "action": "clear" if is_cleared(new) else "set",
                "old": old,
                "new": new,
            }
            for op in self.ops
            for name, (old, new) in op.changes.items()
        ]
        columns = ["op_id", "id", "title", "field", "action", "old", "new"]
        return pd.DataFrame(rows, columns=columns)

    # ------------------------------------------------------------------ persistence
    def _payload(self) -> dict[str, Any]:
        """Layout: ``"ops": [{"op_id", "video_id", "changes": {field: [old, new]}}],
        "labels": {video_id: title}, "unchanged_rows", "notes"``."""
        return {
            "ops": [
                {
                    "op_id": op.op_id,
                    "video_id": op.video_id,
                    "changes": {k: [old, new] for k, (old, new) in op.changes.items()},
                }
                for op in self.ops
            ],
            "labels": {
                op.video_id: self.labels[op.video_id]
                for op in self.ops
                if op.video_id in self.labels
            },
            "unchanged_rows": self.unchanged_rows,
            "notes": list(self.notes),
        }

    @classmethod
    def _from_file(cls, data: Any) -> EditPlan:
        from dmtools.bulk._planfile import check_edit_plan

        changes, labels, unchanged, notes = check_edit_plan(data, cls.FORMAT, cls.VERSION)
        return cls(changes, labels=labels, unchanged_rows=unchanged, notes=notes)

    # ------------------------------------------------------------------ apply
    def apply(
        self,
        client: Client,
        *,
        journal: str | os.PathLike[str] | None = None,
        workers: int | None = None,
        progress: Any = True,
        override_conflicts: bool = False,
        stop: threading.Event | None = None,
        batch: bool = True,
    ) -> ApplyResult:
        """Apply the plan through ``client``; see :func:`dmtools.bulk.apply.apply_edits`.

        Raises:
            InputError: the plan is held by a review panel (only the panel applies it; see
                :mod:`dmtools.bulk.gate`), or see ``apply_edits``.
        """
        from dmtools.bulk.apply import apply_edits
        from dmtools.bulk.gate import check_apply

        check_apply(self)
        return apply_edits(
            self,
            client,
            journal=journal,
            workers=workers,
            progress=progress,
            override_conflicts=override_conflicts,
            stop=stop,
            batch=batch,
        )


def check_plan_values(
    plan: EditPlan,
    limits: FieldLimits,
    api_check: Callable[[Mapping[str, Any]], list[Problem]] | None = None,
) -> None:
    """Raise InputError if a target value breaks ``limits`` or, with ``api_check`` (a
    dialect's ``check_edit``), the API's own rules (zero writes)."""
    problems = [
        Problem(op.video_id, name, reason)
        for op in plan.ops
        for name, new in op.target.items()
        if (reason := check_value(name, new, limits) or wire_problem(name, new)) is not None
    ]
    if api_check is not None and not problems:
        for op in plan.ops:
            problems += [Problem(op.video_id, p.column, p.reason) for p in api_check(op.target)]
    if problems:
        raise InputError(
            f"{len(problems)} value(s) in the plan are not accepted with this API key; "
            "nothing was sent",
            problems,
        )


def plan_edits(
    before: pd.DataFrame,
    after: pd.DataFrame | str | os.PathLike[str],
    *,
    limits: FieldLimits = LIMITS_PUBLIC,
) -> EditPlan:
    """Compare the loaded frame with the edited one and list the changes to send.

    Args:
        before: the frame as loaded (the snapshot), indexed by video id.
        after: the edited frame, or the path of an edited CSV/Excel file.
        limits: length limits to validate against (``client.limits`` for your key).

    Raises:
        InputError: listing every bad row and column; nothing is planned.

    Example:
        >>> edited = df.copy()                                     # doctest: +SKIP
        >>> edited.loc[edited.views_total == 0, "private"] = True  # doctest: +SKIP
        >>> plan = dm.plan_edits(df, edited)                       # doctest: +SKIP
    """
    from dmtools.bulk.diff import diff_frames
    from dmtools.bulk.selection import review_context

    if isinstance(after, (str, os.PathLike)):
        from dmtools.bulk._files import read_edited_file

        after = read_edited_file(after)
    found = diff_frames(before, after, limits)
    if found.problems:
        raise InputError(
            f"the edited frame has {len(found.problems)} problem(s); nothing was planned or sent",
            found.problems,
        )
    return EditPlan(
        found.changes,
        labels=found.labels,
        unchanged_rows=found.unchanged,
        context=review_context(before, found.changes),
    )
