"""The history store: dated snapshots of a channel's videos in one DuckDB file.

Layout (format ``dmtools.history``, version 1)::

    dmtools_meta(key, value)                        format, version
    snapshots(snapshot_id, profile, taken_at, digest, rows_of, videos, fields, stored_at)
    versions(video_id, version, digest, <metadata columns>)   each distinct metadata of a video
    snapshot_videos(snapshot_id, video_id, version, <counter columns>)

A snapshot stores each video's counters (views, likes...) and the number of the version of
its metadata (1, 2, 3... per video; ``digest`` identifies a version's content); a version is
stored once, however many snapshots see it, so a year of daily
snapshots costs about one narrow row per video per day. A snapshot whose whole content equals
an earlier one of the same profile (nothing changed, not even a view) stores no rows at all:
``rows_of`` points at the earlier one.

Snapshots are append-only: the same frame stored again at the same time is the same snapshot
(nothing is written); a *different* frame at a time already taken is refused.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError, Problem
from dmtools.history import _columns as cols
from dmtools.history._tables import (
    FORMAT,
    VERSION,
    HistoryConflict,
    Snapshot,
    ddl,
    profile_of,
    to_pandas,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from dmtools.client import Client

__all__ = ["History", "HistoryConflict", "Snapshot"]


def _is_duckdb(path: Path) -> bool:
    """Whether ``path`` starts like a DuckDB database file (``DUCK`` at byte 8)."""
    with path.open("rb") as handle:
        return handle.read(12)[8:12] == b"DUCK"


class History:
    """A channel history in a DuckDB file (created on first use).

    Args:
        path: the DuckDB file (``":memory:"`` for a store that lives only in this process).
        read_only: open for queries only (several processes may then read at once; DuckDB
            allows one writing process per file).

    Example:
        >>> from dmtools.history import History
        >>> with History("channel.duckdb") as history:                    # doctest: +SKIP
        ...     history.snapshot(dm.load_videos(client), taken_at="2026-03-01")
        ...     history.as_of("2026-03-01").title.head()
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        import duckdb

        self.path = os.fspath(path)
        if self.path != ":memory:":
            file = Path(self.path)
            if read_only and not file.is_file():
                raise InputError(f"no history at {self.path!r}")
            if file.is_file() and file.stat().st_size and not _is_duckdb(file):
                raise InputError(f"{self.path!r} is not a DuckDB file (nothing was changed)")
            file.parent.mkdir(parents=True, exist_ok=True)
        self.read_only = read_only
        self._lock = threading.RLock()
        try:
            self._db: duckdb.DuckDBPyConnection = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            raise InputError(f"cannot open the history {self.path!r}: {exc}") from None
        self._db.execute("SET TimeZone = 'UTC'")
        self._check_format()

    def _check_format(self) -> None:
        tables = {
            r[0] for r in self._db.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if "dmtools_meta" not in tables:
            if tables:
                raise InputError(f"{self.path!r} is a DuckDB file but not a dmtools history")
            if self.read_only:
                raise InputError(f"{self.path!r} holds no history yet")
            self._db.execute(ddl())
            self._db.executemany(
                "INSERT INTO dmtools_meta VALUES (?, ?)",
                [("format", FORMAT), ("version", str(VERSION))],
            )
            return
        meta = dict(self._db.execute("SELECT key, value FROM dmtools_meta").fetchall())
        if meta.get("format") != FORMAT or meta.get("version") != str(VERSION):
            raise InputError(
                f"{self.path!r} is a {meta.get('format')} file of version "
                f"{meta.get('version')}; this dmtools reads {FORMAT} version {VERSION}"
            )

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"History({self.path!r}{', read_only=True' if self.read_only else ''})"

    # -- low level (shared with the other history modules) ------------------------------------
    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a read query on the store and return a DataFrame (for your own questions).

        Example:
            >>> history.sql("SELECT profile, count(*) FROM snapshots GROUP BY 1")  # doctest: +SKIP
        """
        with self._lock:
            return self._db.execute(query, params or []).df()

    def arrow(self, query: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Like :meth:`sql`, as an Arrow table."""
        with self._lock:
            return self._db.sql(query, params=params or None).to_arrow_table()

    def rows(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(query, params or []).fetchall()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (use it from one thread at a time)."""
        return self._db

    def _write(self) -> None:
        if self.read_only:
            raise InputError(f"the history {self.path!r} is open read-only")

    # -- snapshots ---------------------------------------------------------------------------
    def snapshot(
        self, df: pd.DataFrame, *, taken_at: Any = None, profile: str | None = None
    ) -> Snapshot:
        """Store ``df`` (a frame of :func:`dmtools.load_videos`) as the snapshot at ``taken_at``.

        Args:
            df: the videos (index or column ``id``; any set of known fields).
            taken_at: when it was taken: a datetime (naive means UTC), a date (midnight UTC),
                ISO 8601 text or unix seconds. Default: now. Build a history after the fact
                with explicit times.
            profile: the channel it is a snapshot of. Default: the frame's only ``owner``.

        Returns:
            The stored snapshot (``stored`` False when this very snapshot was already there).

        Raises:
            InputError: not a video frame, duplicate ids, or no way to tell the profile
                (nothing written).
            HistoryConflict: a different snapshot of this profile was taken at that time.
        """
        import pandas as pd

        from dmtools.frames import conform
        from dmtools.history._write import store_snapshot

        if not isinstance(df, pd.DataFrame):
            raise InputError(f"a snapshot is a DataFrame of videos, not {type(df).__name__}")
        self._write()
        when = (
            datetime.now(UTC) if taken_at is None else cols.to_timestamp(taken_at, name="taken_at")
        )
        frame = conform(df)
        if frame.index.has_duplicates:
            dupes = frame.index[frame.index.duplicated()].unique().tolist()[:20]
            raise InputError(
                "the frame repeats video ids",
                [Problem(str(d), "id", "duplicate id") for d in dupes],
            )
        name = profile_of(frame, profile)
        fields = cols.frame_fields(frame)
        table = cols.frame_to_arrow(frame)
        return store_snapshot(self, table, fields, name, when)

    def snapshots(self, profile: str | None = None) -> pd.DataFrame:
        """Every stored snapshot, oldest first: ``snapshot_id, profile, taken_at, videos,
        fields, stored_at, shares_rows_of`` (the earlier identical snapshot, else null)."""
        where, params = ("WHERE profile = ?", [profile]) if profile is not None else ("", [])
        return self.sql(
            "SELECT snapshot_id, profile, taken_at, videos, fields, stored_at, "
            "CASE WHEN rows_of = snapshot_id THEN NULL ELSE rows_of END AS shares_rows_of "
            f"FROM snapshots {where} ORDER BY profile, taken_at",
            params,
        )

    def profiles(self) -> list[str]:
        """The profiles (channels) the store has snapshots of."""
        return [r[0] for r in self.rows("SELECT DISTINCT profile FROM snapshots ORDER BY 1")]

    def profile(self, profile: str | None) -> str:
        """``profile``, or the store's only profile when None.

        Raises:
            InputError: None and the store holds no profile or several.
        """
        known = self.profiles()
        if profile is not None:
            if profile not in known:
                raise InputError(
                    f"no snapshot of profile {profile!r} (profiles: {', '.join(known) or 'none'})"
                )
            return profile
        if len(known) == 1:
            return known[0]
        raise InputError(
            "the history holds no snapshot yet"
            if not known
            else f"the history holds several profiles ({', '.join(known)}); pass profile="
        )

    def snapshot_at(self, when: Any, *, profile: str | None = None) -> Snapshot | None:
        """The latest snapshot taken at or before ``when`` (a date means the end of that day
        UTC), or None."""
        name = self.profile(profile)
        at = cols.to_timestamp(when, name="when", end_of_day=True)
        found = self.rows(
            "SELECT snapshot_id, taken_at, videos, fields, digest FROM snapshots "
            "WHERE profile = ? AND taken_at <= ? ORDER BY taken_at DESC LIMIT 1",
            [name, at],
        )
        if not found:
            return None
        sid, taken, videos, fields, digest = found[0]
        return Snapshot(sid, name, taken.astimezone(UTC), videos, tuple(fields), digest, False)

    def frame(self, snapshot: Snapshot, ids: Iterable[str] | None = None) -> pd.DataFrame:
        """The videos of a stored snapshot as a frame like :func:`dmtools.load_videos` gives."""
        from dmtools.frames import conform

        wanted = list(snapshot.fields)
        select = ", ".join(f'{"sv" if c in cols.COUNTERS else "v"}."{c}"' for c in wanted)
        filter_ids, params = "", [snapshot.snapshot_id]
        if ids is not None:
            filter_ids = "AND sv.video_id IN (SELECT unnest(?))"
            params.append(list(ids))  # type: ignore[arg-type]
        table = self.arrow(
            f"SELECT sv.video_id AS id{', ' if select else ''}{select} FROM snapshot_videos sv "
            "JOIN versions v ON v.video_id = sv.video_id AND v.version = sv.version "
            "WHERE sv.snapshot_id = (SELECT rows_of FROM snapshots WHERE snapshot_id = ?) "
            f"{filter_ids} ORDER BY v.created_time DESC NULLS LAST, sv.video_id",
            params,
        )
        return conform(to_pandas(table))

    def as_of(
        self, when: Any, *, profile: str | None = None, ids: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """The channel's videos as the latest snapshot at or before ``when`` saw them.

        Args:
            when: a datetime, a date (the end of that day, UTC), ISO text or unix seconds.
            ids: only these videos.

        Raises:
            InputError: no snapshot at or before ``when``.

        Example:
            >>> history.as_of("2026-03-01").loc["x8abc", "title"]           # doctest: +SKIP
        """
        snap = self.snapshot_at(when, profile=profile)
        if snap is None:
            raise InputError(f"no snapshot of {self.profile(profile)!r} at or before {when}")
        return self.frame(snap, ids)

    def timeline(
        self, video_id: str, *, profile: str | None = None, fields: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One video through time: one row per snapshot that holds it (``taken_at`` index),
        with its metadata and counters as each snapshot saw them."""
        from dmtools.frames import frame_dtypes

        name = self.profile(profile)
        wanted = list(fields or cols.VIDEO_COLUMNS)
        unknown = [c for c in wanted if c not in cols.VIDEO_COLUMNS]
        if unknown:
            raise InputError(
                "unknown columns", [Problem(None, c, "not a video column") for c in unknown]
            )
        select = ", ".join(f'{"sv" if c in cols.COUNTERS else "v"}."{c}"' for c in wanted)
        frame = to_pandas(
            self.arrow(
                f"SELECT s.taken_at, {select} FROM snapshots s "
                "JOIN snapshot_videos sv ON sv.snapshot_id = s.rows_of "
                "JOIN versions v ON v.video_id = sv.video_id AND v.version = sv.version "
                "WHERE s.profile = ? AND sv.video_id = ? ORDER BY s.taken_at",
                [name, video_id],
            )
        )
        dtypes = frame_dtypes("all")
        for column in wanted:
            if column in dtypes and column != "tags":
                frame[column] = frame[column].astype(dtypes[column])
        return frame.set_index("taken_at")

    # -- questions over time (see dmtools.history.changes, .views, .analytics) ----------------
    def changes(self, start: Any, end: Any, **options: Any) -> pd.DataFrame:
        """What changed between two dates, attributed to plans: see
        :func:`dmtools.history.changes.changes` (``journals=``, ``every_snapshot=``)."""
        from dmtools.history.changes import changes

        return changes(self, start, end, **options)

    def views(self, **options: Any) -> pd.DataFrame:
        """Views per video per interval: see :func:`dmtools.history.views.views`."""
        from dmtools.history.views import views

        return views(self, **options)

    def edit_effect(
        self, journals: Iterable[str | os.PathLike[str]], **options: Any
    ) -> pd.DataFrame:
        """Views per day before and after each edit of the jobs in ``journals``: see
        :func:`dmtools.history.views.edit_effect` (``days=``)."""
        from dmtools.history.views import edit_effect

        return edit_effect(self, journals, **options)

    def fetch_views(self, client: Client, **options: Any) -> Any:
        """Load the Reporting API's daily views of the profile's videos into the store: see
        :func:`dmtools.history.views.fetch_views` (``start=``, ``end=``, ``days=``); where the
        views of an API v2 history come from."""
        from dmtools.history.views import fetch_views

        return fetch_views(self, client, **options)

    def export(self, root: str | os.PathLike[str], *, profile: str | None = None) -> list[Path]:
        """Write every snapshot into the Parquet dataset at ``root`` (new ones only): see
        :func:`dmtools.history.dataset.export_history`."""
        from dmtools.history.dataset import export_history

        return export_history(self, root, profile=profile)

    def add_analytics(
        self, frame: pd.DataFrame, *, profile: str | None = None, **options: Any
    ) -> Any:
        """Store a Reporting API frame: see :func:`dmtools.history.analytics.add_analytics`
        (``profile`` defaults to the store's only profile)."""
        from dmtools.history.analytics import add_analytics

        return add_analytics(self, frame, profile=self.profile(profile), **options)

    def analytics(
        self, dimensions: Sequence[str], *, profile: str | None = None, **options: Any
    ) -> pd.DataFrame:
        """Stored Reporting API rows of one grain: see
        :func:`dmtools.history.analytics.read_analytics` (``metrics=``, ``start=``, ``end=``)."""
        from dmtools.history.analytics import read_analytics

        return read_analytics(self, dimensions, profile=self.profile(profile), **options)
