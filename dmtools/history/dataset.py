"""Hive-partitioned Parquet datasets of videos and analytics, for any engine to read.

Layout under a root folder::

    videos/profile=<channel>/date=<YYYY-MM-DD>/taken-<YYYYMMDDTHHMMSSffffffZ>.parquet
    analytics/<grain>/profile=<channel>/date=<YYYY-MM-DD>/part-<digest>.parquet

DuckDB (``read_parquet('root/videos/**/*.parquet', hive_partitioning=true)``), Polars
(``pl.scan_parquet(..., hive_partitioning=True)``), Spark (``spark.read.parquet('root/videos')``)
and Dask read it as it is, and skip the partitions a filter on ``profile`` or ``date`` rules
out. A video file holds one snapshot with the fixed schema of
:func:`dmtools.history._columns.arrow_schema` plus ``taken_at`` (every known field, null where
the frame did not have it; microsecond UTC timestamps), so files of any date or dmtools
version read as one table. The frame's own columns are in the file's metadata.

Appends write new files only: the same snapshot (or the same analytics rows) written again is
found by its digest and not written; a *different* content for a file that exists is refused
unless ``replace=True``. Files are written to a temporary name and renamed, so a reader never
sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools._safefiles import atomic_write
from dmtools.errors import InputError, Problem
from dmtools.history import _columns as cols
from dmtools.history._tables import HistoryConflict

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from dmtools.history.store import History

__all__ = ["read_dataset", "write_analytics", "write_videos"]

FORMAT = b"dmtools.dataset/1"
_PROFILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _check_profile(profile: str) -> str:
    if not isinstance(profile, str) or not _PROFILE.match(profile):
        raise InputError(
            "bad profile for a dataset partition",
            [Problem(None, "profile", f"{profile!r}: letters, digits, _ . - only")],
        )
    return profile


def _write_file(
    path: Path, table: pa.Table, digest: str, replace: bool, old: Sequence[Path]
) -> bool:
    """Write ``table`` at ``path`` unless a file of the partition has the same digest; refuse a
    different content there unless ``replace``. True when written."""
    import pyarrow.parquet as pq

    for existing in old:
        meta = pq.read_schema(existing).metadata or {}
        if meta.get(b"dmtools.digest", b"").decode() == digest:
            return False
    if old and not replace:
        raise HistoryConflict(
            f"{os.fspath(old[0])} already holds different data; pass replace=True to replace it",
            [Problem(None, "path", os.fspath(old[0]))],
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = dict(table.schema.metadata or {})
    metadata.update({b"dmtools.format": FORMAT, b"dmtools.digest": digest.encode()})
    stamped = table.replace_schema_metadata(metadata)
    atomic_write(
        path,
        lambda target: pq.write_table(stamped, target, compression="zstd"),
        mode=0o666,
        fsync=False,
    )
    for existing in old:
        if existing != path:
            existing.unlink(missing_ok=True)
    return True


def write_videos(
    df: pd.DataFrame,
    root: str | os.PathLike[str],
    *,
    profile: str | None = None,
    taken_at: Any = None,
    replace: bool = False,
) -> Path:
    """Write a video frame as the snapshot of ``profile`` at ``taken_at`` into the dataset.

    Args:
        df: a frame of :func:`dmtools.load_videos` (any known fields).
        root: the dataset's root folder.
        profile: the channel (default: the frame's only ``owner``).
        taken_at: when the frame was loaded (default now); its UTC date is the partition.
        replace: replace a different file already written for that time.

    Returns:
        The file (written now, or already there with the same content).

    Raises:
        InputError: not a video frame, or a bad profile.
        HistoryConflict: a different snapshot was written for that time (and not ``replace``).

    Example:
        >>> write_videos(df, "lake", taken_at="2026-03-01")                 # doctest: +SKIP
        PosixPath('lake/videos/profile=x1ab/date=2026-03-01/taken-20260301T000000000000Z.parquet')
    """
    import pandas as pd
    import pyarrow as pa

    from dmtools.frames import conform
    from dmtools.history._tables import profile_of

    if not isinstance(df, pd.DataFrame):
        raise InputError(f"write_videos takes a DataFrame of videos, not {type(df).__name__}")
    frame = conform(df)
    name = _check_profile(profile_of(frame, profile))
    when = datetime.now(UTC) if taken_at is None else cols.to_timestamp(taken_at)
    table = cols.frame_to_arrow(frame)
    stamp = pa.array([when] * table.num_rows, pa.timestamp("us", tz="UTC"))
    table = table.add_column(0, "taken_at", stamp)
    fields = cols.frame_fields(frame)
    table = table.replace_schema_metadata({b"dmtools.fields": ",".join(fields).encode()})
    versions = cols.row_digests(table, cols.VIDEO_COLUMNS)
    digest = cols.content_digest(
        fields, ((i, v, ()) for i, v in zip(table.column("id").to_pylist(), versions, strict=True))
    )
    folder = Path(root) / "videos" / f"profile={name}" / f"date={when.date().isoformat()}"
    path = folder / f"taken-{when.strftime('%Y%m%dT%H%M%S%fZ')}.parquet"
    _write_file(path, table, digest, replace, [path] if path.exists() else [])
    return path


def _date_of(frame: pd.DataFrame, dims: Sequence[str]) -> pd.Series:
    from dmtools.history.analytics import TIME_DIMENSIONS

    time = next((d for d in TIME_DIMENSIONS if d in dims), None)
    if time is None:
        raise InputError(
            "an analytics frame needs a time dimension (day, hour, month) to be partitioned by date"
        )
    return frame[time].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d")


def write_analytics(
    frame: pd.DataFrame,
    root: str | os.PathLike[str],
    *,
    profile: str,
    dimensions: Sequence[str] | None = None,
    replace: bool = False,
) -> list[Path]:
    """Write an analytics frame (the Reporting API's shape) into the dataset, one file per
    date of its time dimension, under ``analytics/<grain>/`` (the grain names its dimensions).

    Raises:
        InputError: the frame does not have the analytics shape (every problem listed).
        HistoryConflict: a date already holds different rows (pass ``replace=True`` for the
            API's revised numbers).
    """
    from dmtools.history.analytics import _arrow, _check, _split, _table_name

    dims, metrics = _split(frame, dimensions)
    _check(frame, dims, metrics)
    name = _check_profile(profile)
    dates = _date_of(frame, dims)
    grain = _table_name(dims).removeprefix("analytics__")
    written: list[Path] = []
    for day, part in frame.groupby(dates, sort=True):
        table = _arrow(part.sort_values(dims), dims, metrics)
        digest = hashlib.blake2b(
            repr((table.schema.names, table.to_pylist())).encode(), digest_size=8
        ).hexdigest()
        folder = Path(root) / "analytics" / grain / f"profile={name}" / f"date={day}"
        old = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
        path = folder / f"part-{digest}.parquet"
        _write_file(path, table, digest, replace, old)
        written.append(path)
    return written


def _filter(profile: str | None, start: Any, end: Any) -> Any:
    import pyarrow.dataset as ds

    expression = None
    parts = []
    if profile is not None:
        parts.append(ds.field("profile") == profile)
    if start is not None:
        parts.append(ds.field("date") >= cols.to_timestamp(start, name="start").date())
    if end is not None:
        parts.append(ds.field("date") <= cols.to_timestamp(end, name="end").date())
    for part in parts:
        expression = part if expression is None else expression & part
    return expression


def read_dataset(
    root: str | os.PathLike[str],
    kind: str = "videos",
    *,
    profile: str | None = None,
    start: Any = None,
    end: Any = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a dataset written by :func:`write_videos` or :func:`write_analytics`, reading
    only the partitions of ``profile`` and of the dates from ``start`` to ``end`` (inclusive).

    Args:
        kind: ``"videos"``, or a grain of analytics (``"day__video_id"``, the dimensions
            joined by ``__``, as the folder under ``analytics/`` is named).
        columns: only these columns (``profile`` and ``date`` always come along).

    Returns:
        A long frame: ``profile``, ``date`` and the stored columns (for videos ``taken_at``,
        ``id`` and the video columns, with the dtypes of :func:`dmtools.load_videos`).

    Example:
        >>> read_dataset("lake", profile="x1ab", start="2026-03-01", end="2026-03-07")  # doctest: +SKIP
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    from dmtools.history._tables import to_pandas

    if not re.match(r"^[a-z0-9_]+$", kind):
        raise InputError(f"bad dataset kind {kind!r}: 'videos' or a grain such as 'day__video_id'")
    base = Path(root) / ("videos" if kind == "videos" else f"analytics/{kind}")
    if not base.is_dir():
        raise InputError(f"no {kind} dataset under {os.fspath(root)!r}")
    partitioning = ds.partitioning(
        pa.schema([("profile", pa.string()), ("date", pa.date32())]), flavor="hive"
    )
    dataset = ds.dataset(
        base, format="parquet", partitioning=partitioning, exclude_invalid_files=False
    )
    wanted = (
        None
        if columns is None
        else ["profile", "date", *[c for c in columns if c not in ("profile", "date")]]
    )
    try:
        table = dataset.to_table(columns=wanted, filter=_filter(profile, start, end))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read the dataset {os.fspath(base)!r}: {exc}") from None
    frame = to_pandas(table)
    if kind == "videos":
        from dmtools.frames import frame_dtypes

        for column, dtype in frame_dtypes("all").items():
            if column in frame.columns and column != "tags":
                frame[column] = frame[column].astype(dtype)
    return frame


def export_history(
    history: History, root: str | os.PathLike[str], *, profile: str | None = None
) -> list[Path]:
    """Write every snapshot of ``profile`` into the dataset at ``root`` (those already there
    are skipped), then its stored analytics (latest values; a date whose rows changed since
    the last export is replaced); the files of the snapshots, oldest first."""
    from dmtools.history.analytics import TIME_DIMENSIONS, grains, read_analytics

    name = history.profile(profile)
    paths = []
    for snapshot_id, taken_at in history.rows(
        "SELECT snapshot_id, taken_at FROM snapshots WHERE profile = ? ORDER BY taken_at", [name]
    ):
        snap = history.snapshot_at(taken_at, profile=name)
        assert snap is not None and snap.snapshot_id == snapshot_id
        paths.append(write_videos(history.frame(snap), root, profile=name, taken_at=taken_at))
    for dims in grains(history).values():
        frame = read_analytics(history, dims, profile=name)
        if len(frame) and any(d in TIME_DIMENSIONS for d in dims):
            write_analytics(
                frame, root, profile=_check_profile(name), dimensions=dims, replace=True
            )
    return paths
