"""Integrity digests of a journal: every operation row and the header bound to the plan.

A row's digest is the sha256 of the canonical JSON of ``[format, fingerprint, op_id,
video_id, kind, planned, state, before, sent]`` (the JSON texts as stored), so changing any of
them, or copying a row from another job's journal, breaks it. The header's digest covers
every other header value. :func:`verify_rows` also compares the rows with the operations of
the plan the job runs: the rows must be exactly those, in the same order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dmtools.errors import Problem

__all__ = ["header_digest", "plan_ops", "row_digest", "verify_rows"]

_FORMAT = "dmtools.journal/2"
#: Problems listed at most (a journal edited wholesale would otherwise list every row).
_MOST = 50


def _sha(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_digest(
    fingerprint: str,
    op_id: int,
    video_id: str,
    kind: str,
    planned: str | None,
    state: str,
    before: str | None,
    sent: str | None,
) -> str:
    """The digest of one operation row (JSON columns as their stored text)."""
    return _sha([_FORMAT, fingerprint, op_id, video_id, kind, planned, state, before, sent])


def header_digest(values: Mapping[str, Any]) -> str:
    """The digest of a journal header (every value but ``digest`` itself)."""
    return _sha([_FORMAT, {k: v for k, v in values.items() if k != "digest"}])


def plan_ops(plan: Any) -> list[tuple[int, str, str, dict[str, Any]]]:
    """The journal rows (op_id, video_id, kind, planned) of an edit or delete plan."""
    if plan.kind == "delete":
        return [(i, vid, "delete", {}) for i, vid in enumerate(plan.video_ids, start=1)]
    return [
        (op.op_id, op.video_id, "edit", {k: [o, n] for k, (o, n) in op.changes.items()})
        for op in plan.ops
    ]


def verify_rows(
    header: Mapping[str, Any],
    rows: Sequence[Sequence[Any]],
    ops: Iterable[tuple[int, str, str, Mapping[str, Any]]],
) -> list[Problem]:
    """Every way ``rows`` (op_id, video_id, kind, planned, state, before, sent, digest as
    stored) and ``header`` differ from what dmtools wrote for the plan's ``ops``."""
    problems: list[Problem] = []
    if header.get("digest") != header_digest(header):
        problems.append(Problem(None, "header", "the header does not match its digest"))
    fingerprint = str(header.get("fingerprint", ""))
    expected = {op_id: (vid, kind, dict(planned)) for op_id, vid, kind, planned in ops}
    seen = set()
    for op_id, vid, kind, planned, state, before, sent, digest in rows:
        seen.add(op_id)
        where = f"operation {op_id}"
        wanted = expected.get(op_id)
        if wanted is None:
            problems.append(Problem(where, None, "is not an operation of the plan"))
        elif (vid, kind, json.loads(planned) if planned else None) != wanted:
            problems.append(
                Problem(where, None, f"video or planned values differ from the plan ({vid})")
            )
        if digest != row_digest(fingerprint, op_id, vid, kind, planned, state, before, sent):
            problems.append(
                Problem(where, None, f"the row of {vid} does not match its digest (edited?)")
            )
        if len(problems) >= _MOST:
            return problems
    missing = sorted(set(expected) - seen)
    if missing:
        problems.append(Problem(None, None, f"{len(missing)} operation(s) of the plan are missing"))
    return problems
