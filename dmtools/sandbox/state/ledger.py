"""The upload ledger: every video a client creates or re-sources, with its time (no HTTP).

A row is written in the same transaction as the create (``kind`` ``"create"``) or the edit
that replaces the video's source (``"replace"``), whichever dialect made it. The ledger is
what upload quotas count (a rolling window of creates per profile, deleted videos included:
a delete does not give an upload back), what tells whether an uploaded file was already used
to create a video, and when a video's processing (encoding) started.

Upload quotas (API v2 reference, rate limiting): per rolling 24 hours a profile creates at
most ``v2_daily_uploads`` videos totalling ``v2_daily_upload_seconds``, each at most
``v2_max_video_seconds`` long and ``v2_max_video_bytes`` big; a premium profile (a verified
user) gets ``v2_premium_daily_uploads``, no duration limit and ``v2_premium_max_video_bytes``.

Example:
    >>> from dmtools.sandbox.state.db import Database
    >>> db = Database()
    >>> with db.write() as conn:
    ...     record(conn, "x1", "x2", "create", 60, None, now=100.0)
    >>> usage(db, "x1", since=0.0)
    Usage(videos=1, seconds=60)
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from typing import NamedTuple

from dmtools.sandbox.state.db import Database
from dmtools.sandbox.state.errors import QuotaExceeded
from dmtools.sandbox.state.settings import Settings

WINDOW = 24 * 3600


class Usage(NamedTuple):
    """Creates of one profile in a window: how many videos, how many seconds of video."""

    videos: int
    seconds: int


def record(
    conn: sqlite3.Connection,
    owner: str,
    video_id: str,
    kind: str,
    duration: int | None,
    source: str | None,
    *,
    now: float | None = None,
) -> None:
    """Add one row (inside the caller's write transaction)."""
    conn.execute(
        "INSERT INTO upload_ledger (owner, video_id, kind, time, duration, source)"
        " VALUES (?,?,?,?,?,?)",
        (owner, video_id, kind, time.time() if now is None else now, duration, source),
    )


def usage(db: Database, owner: str, since: float) -> Usage:
    """Videos created in ``owner``'s profile since ``since`` (epoch seconds), and their length."""
    with db.read() as conn:
        row = conn.execute(
            "SELECT count(*), coalesce(sum(duration), 0) FROM upload_ledger"
            " WHERE owner = ? AND kind = 'create' AND time >= ?",
            (owner, since),
        ).fetchone()
    return Usage(int(row[0]), int(row[1]))


def source_used(db: Database, source: str) -> bool:
    """Whether a video was already created (or re-sourced) from the file at ``source``."""
    with db.read() as conn:
        row = conn.execute(
            "SELECT 1 FROM upload_ledger WHERE source = ? LIMIT 1", (source,)
        ).fetchone()
    return row is not None


def last_upload(db: Database, video_ids: Iterable[str]) -> dict[str, float]:
    """``{video id: time of its latest create or re-source}`` for the ids that have one."""
    ids = json.dumps(list(dict.fromkeys(video_ids)))
    with db.read() as conn:
        rows = conn.execute(
            "SELECT video_id, max(time) FROM upload_ledger"
            " WHERE video_id IN (SELECT value FROM json_each(?)) GROUP BY video_id",
            (ids,),
        ).fetchall()
    return {str(r[0]): float(r[1]) for r in rows}


def check_quota(
    db: Database,
    settings: Settings,
    owner: str,
    *,
    premium: bool,
    duration: int,
    size: int | None,
    now: float | None = None,
) -> None:
    """Refuse a new video of ``duration`` seconds (and ``size`` bytes) beyond the quotas.

    Raises:
        QuotaExceeded: naming the quota (``video_duration``, ``video_size``,
            ``daily_videos``, ``daily_duration``) and its limit.
    """
    max_bytes = settings.v2_premium_max_video_bytes if premium else settings.v2_max_video_bytes
    if not premium and duration > settings.v2_max_video_seconds:
        limit = settings.v2_max_video_seconds
        raise QuotaExceeded(
            "video_duration", limit, f"The video lasts {duration} s, longer than {limit} s."
        )
    if size is not None and size > max_bytes:
        raise QuotaExceeded(
            "video_size", max_bytes, f"The file has {size} bytes, more than {max_bytes}."
        )
    used = usage(db, owner, (time.time() if now is None else now) - WINDOW)
    daily = settings.v2_premium_daily_uploads if premium else settings.v2_daily_uploads
    if used.videos >= daily:
        raise QuotaExceeded(
            "daily_videos",
            daily,
            f"This profile created {used.videos} videos in 24 hours (at most {daily}).",
        )
    seconds = settings.v2_daily_upload_seconds
    if not premium and used.seconds + duration > seconds:
        raise QuotaExceeded(
            "daily_duration",
            seconds,
            f"{used.seconds} s of video were created in 24 hours; {duration} s more would "
            f"pass {seconds} s.",
        )
