"""What changed between two snapshots, attributed to the bulk jobs (plans) that changed it.

A change is one field of one video whose value differs between the snapshot at ``start`` and
the snapshot at ``end`` (or a video that appeared or disappeared). Each change is matched
with the journals of bulk jobs: the last operation of a job that wrote that field of that
video (or deleted that video) between the two snapshots is its cause, and ``matches`` says
whether the value it wrote is the value the later snapshot saw (False: something else
changed the field again afterwards). A change no journal explains was made outside dmtools
(in the web interface, by another tool) or by a job whose journal was not given.

Counters (views, likes...) are not changes (they move every day; see
:mod:`dmtools.history.views`), nor is ``updated_time`` (it moves with every change).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError
from dmtools.history import _columns as cols

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.history.store import History, Snapshot

__all__ = ["COLUMNS", "changes"]

#: Columns of :func:`changes`, in order.
COLUMNS = (
    "since",
    "until",
    "video_id",
    "title",
    "change",
    "field",
    "before",
    "after",
    "plan",
    "journal",
    "applied_at",
    "matches",
)
#: Metadata columns never reported as changes.
IGNORED = frozenset({"updated_time"})


def _versions(
    history: History, pairs: list[tuple[str, int]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """The stored metadata of ``(video_id, version)`` pairs."""
    import pyarrow as pa

    if not pairs:
        return {}
    wanted = pa.table(
        {
            "video_id": pa.array([p[0] for p in pairs], pa.string()),
            "version": pa.array([p[1] for p in pairs], pa.uint32()),
        }
    )
    with history._lock:
        db = history.connection
        db.register("wanted_versions", wanted)
        try:
            table: Any = db.sql(
                "SELECT v.* FROM versions v SEMI JOIN wanted_versions w "
                "ON v.video_id = w.video_id AND v.version = w.version"
            ).to_arrow_table()
        finally:
            db.unregister("wanted_versions")
    return {(r["video_id"], r["version"]): r for r in table.to_pylist()}


def _pair_changes(history: History, a: Snapshot, b: Snapshot) -> list[dict[str, Any]]:
    """The field changes between two snapshots of one profile."""
    from dmtools.frames import from_cell

    differing = history.rows(
        "WITH a AS (SELECT video_id, version FROM snapshot_videos WHERE snapshot_id = "
        "(SELECT rows_of FROM snapshots WHERE snapshot_id = ?)), "
        "b AS (SELECT video_id, version FROM snapshot_videos WHERE snapshot_id = "
        "(SELECT rows_of FROM snapshots WHERE snapshot_id = ?)) "
        "SELECT coalesce(a.video_id, b.video_id), a.version, b.version "
        "FROM a FULL JOIN b ON a.video_id = b.video_id "
        "WHERE a.version IS DISTINCT FROM b.version ORDER BY 1",
        [a.snapshot_id, b.snapshot_id],
    )
    pairs = [(vid, v) for vid, va, vb in differing for v in (va, vb) if v is not None]
    stored = _versions(history, pairs)
    fields = [c for c in cols.METADATA if c in a.fields and c in b.fields and c not in IGNORED]
    out: list[dict[str, Any]] = []
    for video_id, va, vb in differing:
        old = stored.get((video_id, va)) if va is not None else None
        new = stored.get((video_id, vb)) if vb is not None else None
        title = (new or old or {}).get("title")
        base = {"since": a.taken_at, "until": b.taken_at, "video_id": video_id, "title": title}
        if old is None or new is None:
            kind = "added" if old is None else "deleted"
            out.append({**base, "change": kind, "field": None, "before": None, "after": None})
            continue
        for field in fields:
            if from_cell(field, old[field]) != from_cell(field, new[field]):
                out.append(
                    {
                        **base,
                        "change": "edited",
                        "field": field,
                        "before": old[field],
                        "after": new[field],
                    }
                )
    return out


def _attribute(rows: list[dict[str, Any]], ops: pd.DataFrame) -> None:
    """Fill ``plan``, ``journal``, ``applied_at`` and ``matches`` from the journal operations."""
    import pandas as pd

    from dmtools.frames import from_cell

    done = ops[ops.state.isin(["applied", "deleted"])].sort_values("applied_at")
    by_key: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    op: dict[str, Any]
    for op in done.to_dict("records"):  # type: ignore[assignment]
        field = op["field"] if isinstance(op["field"], str) else None
        by_key.setdefault((op["video_id"], field), []).append(op)
    for row in rows:
        row.update(plan=None, journal=None, applied_at=None, matches=None)
        if row["change"] == "added":
            continue
        key = (row["video_id"], row["field"])
        inside = [
            op
            for op in by_key.get(key, [])
            if pd.Timestamp(row["since"]) < op["applied_at"] <= pd.Timestamp(row["until"])
        ]
        if not inside:
            continue
        op = inside[-1]
        row.update(plan=op["plan"], journal=op["journal"], applied_at=op["applied_at"])
        if row["change"] == "deleted":
            row["matches"] = True  # the operation found is a delete of this video
        else:
            row["matches"] = from_cell(row["field"], op["new"]) == from_cell(
                row["field"], row["after"]
            )


def _steps(history: History, profile: str, a: Snapshot, b: Snapshot) -> list[Snapshot]:
    """Every snapshot from ``a`` to ``b``, in time order."""
    found = history.rows(
        "SELECT taken_at FROM snapshots WHERE profile = ? AND taken_at BETWEEN ? AND ? "
        "ORDER BY taken_at",
        [profile, a.taken_at, b.taken_at],
    )
    return [s for t in found if (s := history.snapshot_at(t[0], profile=profile)) is not None]


def changes(
    history: History,
    start: Any,
    end: Any,
    *,
    profile: str | None = None,
    journals: Iterable[str | os.PathLike[str]] = (),
    every_snapshot: bool = False,
) -> pd.DataFrame:
    """What changed between the snapshots at ``start`` and ``end``, and which plan did it.

    Args:
        history: the store.
        start, end: times (a date means the end of that day, UTC); each picks the latest
            snapshot at or before it.
        journals: journal files of bulk jobs, or folders holding ``*.journal`` files.
        every_snapshot: compare each pair of consecutive snapshots in between instead of only
            the two ends (shows a change that was made and then undone).

    Returns:
        One row per change, with the columns of :data:`COLUMNS`: ``since``/``until`` (the two
        snapshots compared), the video and its title, ``change`` (``edited``, ``added`` or
        ``deleted``), the field with its value ``before`` and ``after``, and the cause: the
        ``plan`` fingerprint and ``journal`` of the job, when it ``applied_at``, and whether
        the value it wrote ``matches`` what the later snapshot saw (null: no job explains it).

    Raises:
        InputError: no snapshot at or before ``start``, or ``end`` earlier than ``start``.

    Example:
        >>> history.changes("2026-03-01", "2026-03-08", journals=["jobs/"])   # doctest: +SKIP
    """
    import pandas as pd

    from dmtools.history.journals import read_journals

    name = history.profile(profile)
    lo = cols.to_timestamp(start, name="start", end_of_day=True)
    if cols.to_timestamp(end, name="end", end_of_day=True) < lo:
        raise InputError(f"end ({end}) is earlier than start ({start})")
    a, b = history.snapshot_at(start, profile=name), history.snapshot_at(end, profile=name)
    if a is None or b is None:
        first = history.rows("SELECT min(taken_at) FROM snapshots WHERE profile = ?", [name])
        raise InputError(
            f"no snapshot of {name!r} at or before {start if a is None else end} "
            f"(the first one was taken at {first[0][0]:%Y-%m-%d %H:%M:%S} UTC)"
        )
    steps = _steps(history, name, a, b) if every_snapshot else [a, b]
    rows = [r for x, y in zip(steps, steps[1:], strict=False) for r in _pair_changes(history, x, y)]
    paths = list(journals)
    ops = read_journals(paths) if paths else None
    if ops is not None:
        _attribute(rows, ops)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("video_id", "title", "change", "field", "plan", "journal"):
        frame[column] = frame[column].astype(pd.StringDtype("pyarrow"))
    for column in ("since", "until", "applied_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["matches"] = frame["matches"].astype(pd.BooleanDtype())
    return frame
