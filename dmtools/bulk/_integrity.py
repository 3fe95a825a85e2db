"""Integrity digests of a journal: every operation row and the header bound to the plan.

A row's digest is the sha256 of the canonical JSON of the format, the plan's fingerprint and
every column of the row but its timestamp (:data:`ROW_COLUMNS`: id, video, kind, planned
values, state, before-image, sent values, attempts, HTTP status, error type and message, the
JSON columns as their stored text), so changing any of them, or copying a row from another
job's journal, breaks it. The header's digest covers
every other header value. :func:`verify_rows` also compares the rows with the operations of
the plan the job runs: the rows must be exactly those, in the same order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dmtools.errors import Problem

__all__ = ["ROW_COLUMNS", "header_digest", "plan_ops", "row_digest", "verify_rows"]

_FORMAT = "dmtools.journal/2"
#: Problems listed at most (a journal edited wholesale would otherwise list every row).
_MOST = 50


def _sha(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: The columns of an operation row a digest covers, in this order (all but ``updated``).
ROW_COLUMNS = (
    "op_id, video_id, kind, planned, state, before, sent, attempts, http_status, "
    "error_type, message"
)


def row_digest(fingerprint: str, row: Sequence[Any]) -> str:
    """The digest of one operation row: its :data:`ROW_COLUMNS` values as stored (JSON
    columns as their text)."""
    return _sha([_FORMAT, fingerprint, *row])


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
    """Every way ``rows`` (the :data:`ROW_COLUMNS` then the digest, as stored) and
    ``header`` differ from what dmtools wrote for the plan's ``ops``."""
    problems: list[Problem] = []
    if header.get("digest") != header_digest(header):
        problems.append(Problem(None, "header", "the header does not match its digest"))
    fingerprint = str(header.get("fingerprint", ""))
    expected = {op_id: (vid, kind, dict(planned)) for op_id, vid, kind, planned in ops}
    seen = set()
    for row in rows:
        op_id, vid, kind, planned, digest = row[0], row[1], row[2], row[3], row[-1]
        seen.add(op_id)
        where = f"operation {op_id}"
        wanted = expected.get(op_id)
        if wanted is None:
            problems.append(Problem(where, None, "is not an operation of the plan"))
        elif (vid, kind, json.loads(planned) if planned else None) != wanted:
            problems.append(
                Problem(where, None, f"video or planned values differ from the plan ({vid})")
            )
        if digest != row_digest(fingerprint, row[:-1]):
            problems.append(
                Problem(where, None, f"the row of {vid} does not match its digest (edited?)")
            )
        if len(problems) >= _MOST:
            return problems
    missing = sorted(set(expected) - seen)
    if missing:
        problems.append(Problem(None, None, f"{len(missing)} operation(s) of the plan are missing"))
    return problems
