"""Writing a snapshot: versions stored once, counters per snapshot, all in one transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from dmtools.errors import Problem
from dmtools.history import _columns as cols
from dmtools.history._tables import HistoryConflict, Snapshot

if TYPE_CHECKING:
    import pyarrow as pa

    from dmtools.history.store import History

__all__ = ["store_snapshot"]

log = logging.getLogger("dmtools.history.store")


def store_snapshot(
    history: History, table: pa.Table, fields: tuple[str, ...], profile: str, when: datetime
) -> Snapshot:
    """Store one snapshot (see :meth:`History.snapshot`), or find it already stored."""
    import pyarrow as pa

    versions = cols.row_digests(table, cols.METADATA)
    table = table.append_column("digest", pa.array(versions, type=pa.uint64()))
    counters = [table.column(c).to_pylist() for c in cols.COUNTERS if c in fields]
    ids = table.column("id").to_pylist()
    digest = cols.content_digest(
        fields,
        (
            (i, v, tuple(c[n] for c in counters))
            for n, (i, v) in enumerate(zip(ids, versions, strict=True))
        ),
    )
    with history._lock:
        found = history.connection.execute(
            "SELECT snapshot_id, digest, videos FROM snapshots WHERE profile = ? AND taken_at = ?",
            [profile, when],
        ).fetchall()
        if found:
            found_id, found_digest, found_videos = found[0]
            if found_digest != digest:
                raise HistoryConflict(
                    f"the history already holds a different snapshot of {profile!r} taken at "
                    f"{when.isoformat()}; history is append-only (take it at another time)",
                    [Problem(None, "taken_at", when.isoformat())],
                )
            return Snapshot(found_id, profile, when, found_videos, fields, digest, stored=False)
        return _insert(history, table, fields, profile, when, digest)


def _insert(
    history: History,
    table: pa.Table,
    fields: tuple[str, ...],
    profile: str,
    when: datetime,
    digest: str,
) -> Snapshot:
    db = history.connection
    db.execute("BEGIN TRANSACTION")
    try:
        snapshot_id = db.execute(
            "SELECT coalesce(max(snapshot_id), 0) + 1 FROM snapshots"
        ).fetchall()[0][0]
        same = db.execute(
            "SELECT rows_of FROM snapshots WHERE profile = ? AND digest = ? LIMIT 1",
            [profile, digest],
        ).fetchall()
        rows_of = same[0][0] if same else snapshot_id
        if not same:
            db.register("incoming", table)
            meta = ", ".join(f'"{c}"' for c in cols.METADATA)
            db.execute(  # new metadata of a video: its next version number
                f"INSERT INTO versions SELECT n.id, coalesce(m.top, 0) + 1, n.digest, {meta} "
                "FROM (SELECT * FROM incoming ANTI JOIN versions v "
                "ON v.video_id = incoming.id AND v.digest = incoming.digest) n "
                "LEFT JOIN (SELECT video_id, max(version) AS top FROM versions GROUP BY 1) m "
                "ON m.video_id = n.id"
            )
            counters = ", ".join(f'n."{c}"' for c in cols.COUNTERS)
            db.execute(
                f"INSERT INTO snapshot_videos SELECT ?, n.id, v.version, {counters} "
                "FROM incoming n JOIN versions v ON v.video_id = n.id AND v.digest = n.digest",
                [snapshot_id],
            )
            db.unregister("incoming")
        db.execute(
            "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [snapshot_id, profile, when, digest, rows_of, table.num_rows, list(fields)],
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    log.info(
        "stored snapshot %d of %s at %s (%d videos%s)",
        snapshot_id,
        profile,
        when.isoformat(),
        table.num_rows,
        ", unchanged: no rows written" if rows_of != snapshot_id else "",
    )
    return Snapshot(snapshot_id, profile, when, table.num_rows, fields, digest)
