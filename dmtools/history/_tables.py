"""The tables of the history store and the small types around them (no queries here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dmtools.errors import HistoryConflict, InputError, Problem
from dmtools.history import _columns as cols

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["FORMAT", "VERSION", "HistoryConflict", "Snapshot", "ddl", "profile_of", "to_pandas"]

FORMAT = "dmtools.history"
VERSION = 1


@dataclass(frozen=True)
class Snapshot:
    """One stored snapshot.

    Attributes:
        snapshot_id: its number in the store.
        profile: the channel (or organisation) it is a snapshot of.
        taken_at: when it was taken (UTC).
        videos: how many videos it holds.
        fields: the frame columns it holds (``id`` aside).
        digest: digest of its whole content.
        stored: False when this exact snapshot was already in the store (nothing written).
    """

    snapshot_id: int
    profile: str
    taken_at: datetime
    videos: int
    fields: tuple[str, ...]
    digest: str
    stored: bool = True


def ddl() -> str:
    meta = ", ".join(f'"{c}" {cols.duckdb_type(c)}' for c in cols.METADATA)
    counters = ", ".join(f'"{c}" {cols.duckdb_type(c)}' for c in cols.COUNTERS)
    return f"""
    CREATE TABLE IF NOT EXISTS dmtools_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
    CREATE TABLE IF NOT EXISTS snapshots (
        snapshot_id BIGINT PRIMARY KEY, profile VARCHAR NOT NULL,
        taken_at TIMESTAMPTZ NOT NULL, digest VARCHAR NOT NULL, rows_of BIGINT NOT NULL,
        videos BIGINT NOT NULL, fields VARCHAR[] NOT NULL, stored_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE IF NOT EXISTS versions (
        video_id VARCHAR NOT NULL, version UINTEGER NOT NULL, digest UBIGINT NOT NULL, {meta});
    CREATE TABLE IF NOT EXISTS snapshot_videos (
        snapshot_id BIGINT NOT NULL, video_id VARCHAR NOT NULL, version UINTEGER NOT NULL,
        {counters});
    """


def profile_of(df: pd.DataFrame, profile: str | None) -> str:
    if profile is not None:
        if not isinstance(profile, str) or not profile.strip() or "/" in profile:
            raise InputError("bad profile", [Problem(None, "profile", f"{profile!r}")])
        return profile.strip()
    owners = df["owner"].dropna().unique().tolist() if "owner" in df.columns else []
    if len(owners) == 1:
        return str(owners[0])
    reason = (
        f"the frame holds videos of {len(owners)} owners"
        if owners
        else "the frame has no owner column"
    )
    raise InputError(
        f"cannot tell which channel this snapshot is of: {reason}; pass profile=",
        [Problem(None, "profile", reason)],
    )


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table from the store as pandas (nullable dtypes; microsecond times kept UTC)."""
    import pandas as pd
    import pyarrow as pa

    mapping = {
        pa.string(): pd.StringDtype("pyarrow"),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    frame = table.to_pandas(types_mapper=mapping.get)
    for index, field in enumerate(table.schema):
        if pa.types.is_list(field.type):  # Python lists (not numpy arrays), as frames hold tags
            frame[field.name] = [v or [] for v in table.column(index).to_pylist()]
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.tz_convert("UTC").dt.as_unit("ns")
    return frame
