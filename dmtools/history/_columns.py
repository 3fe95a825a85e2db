"""The stored shape of a video frame: which columns are metadata and which are counters, their
Arrow and DuckDB types, and the digests that make snapshots idempotent.

Every stored or exported table uses the frame's column names (``owner_screenname``, not
``owner.screenname``) and one fixed type per field, whatever the frame held, so datasets
written by different dmtools versions read as one:

==========  ======================  ====================
field kind  Arrow                   DuckDB
==========  ======================  ====================
text        ``string``              ``VARCHAR``
category    ``string``              ``VARCHAR``
boolean     ``bool``                ``BOOLEAN``
integer     ``int64``               ``BIGINT``
date        ``timestamp[us, UTC]``  ``TIMESTAMPTZ``
tags        ``list<string>``        ``VARCHAR[]``
==========  ======================  ====================

Timestamps are kept in microseconds (the API sends whole seconds) because Spark reads no
nanosecond Parquet timestamps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError, Problem
from dmtools.schema import VIDEO_FIELDS, Field

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "COUNTERS",
    "METADATA",
    "VIDEO_COLUMNS",
    "arrow_schema",
    "duckdb_type",
    "frame_to_arrow",
    "frame_fields",
    "row_digests",
    "to_timestamp",
]

#: Counters: read-only numbers that move without any edit (views, likes...). They are stored
#: per snapshot; everything else is metadata, stored once per version of a video.
COUNTERS: tuple[str, ...] = tuple(
    f.column
    for f in VIDEO_FIELDS.values()
    if f.kind == "integer" and (f.name.endswith("_total") or f.name.startswith("views_"))
)
#: Metadata columns (every other field but the id), in schema order.
METADATA: tuple[str, ...] = tuple(
    f.column for f in VIDEO_FIELDS.values() if f.name != "id" and f.column not in COUNTERS
)
#: Every column of a video table but the id, in schema order.
VIDEO_COLUMNS: tuple[str, ...] = tuple(f.column for f in VIDEO_FIELDS.values() if f.name != "id")
_BY_COLUMN: dict[str, Field] = {f.column: f for f in VIDEO_FIELDS.values()}


def _kind(column: str) -> str:
    spec = _BY_COLUMN[column]
    if spec.kind == "array":
        return "tags"
    if spec.kind in ("boolean", "integer", "date"):
        return spec.kind
    return "text"


def duckdb_type(column: str) -> str:
    """The DuckDB type of a video column."""
    return {
        "tags": "VARCHAR[]",
        "boolean": "BOOLEAN",
        "integer": "BIGINT",
        "date": "TIMESTAMPTZ",
        "text": "VARCHAR",
    }[_kind(column)]


def _arrow_type(column: str) -> pa.DataType:
    import pyarrow as pa

    return {
        "tags": pa.list_(pa.string()),
        "boolean": pa.bool_(),
        "integer": pa.int64(),
        "date": pa.timestamp("us", tz="UTC"),
        "text": pa.string(),
    }[_kind(column)]


def arrow_schema(columns: Iterable[str] = VIDEO_COLUMNS) -> pa.Schema:
    """The Arrow schema of a video table: ``id`` then ``columns`` (frame column names)."""
    import pyarrow as pa

    return pa.schema(
        [pa.field("id", pa.string(), nullable=False)]
        + [pa.field(c, _arrow_type(c)) for c in columns]
    )


def frame_fields(df: pd.DataFrame) -> tuple[str, ...]:
    """The frame columns of a video frame (after :func:`dmtools.frames.conform`), schema order."""
    present = set(df.columns)
    return tuple(c for c in VIDEO_COLUMNS if c in present)


def frame_to_arrow(frame: pd.DataFrame, columns: Sequence[str] = VIDEO_COLUMNS) -> pa.Table:
    """A video frame (as :func:`dmtools.frames.conform` or :func:`dmtools.load_videos` gives
    it) as an Arrow table of :func:`arrow_schema` (absent columns null)."""
    import pyarrow as pa

    arrays: list[Any] = [pa.array(frame.index.astype(str).tolist(), type=pa.string())]
    for column in columns:
        kind, target = _kind(column), _arrow_type(column)
        if column not in frame.columns:
            arrays.append(pa.nulls(len(frame), type=target))
        elif kind == "tags":
            arrays.append(pa.array([list(t) for t in frame[column]], type=target))
        elif kind == "date":
            values = frame[column].dt.tz_convert("UTC").dt.as_unit("us")
            arrays.append(pa.array(values, type=target, from_pandas=True))
        elif kind == "text":
            arrays.append(pa.array(frame[column].astype("string"), type=target, from_pandas=True))
        else:
            arrays.append(pa.array(frame[column], type=target, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(columns))


_NULL = "\x00"


def _as_text(table: pa.Table, column: str) -> pa.Array:
    """Column ``column`` as text with one spelling per value (nulls kept as nulls)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = table.column(column)
    if pa.types.is_list(values.type):
        joined = pc.binary_join(values, "\x1f")
        return pc.binary_join_element_wise("[", joined, "]", "")
    if pa.types.is_timestamp(values.type):
        return pc.cast(pc.cast(values, pa.int64()), pa.string())
    return pc.cast(values, pa.string())


def row_digests(table: pa.Table, columns: Sequence[str]) -> list[int]:
    """A stable 63-bit digest per row of ``table`` over the id and ``columns``.

    Stable across processes and versions (BLAKE2b over one text spelling per value), so a
    stored digest still identifies the same content later. A null and an empty text differ.
    """
    import pyarrow.compute as pc

    parts = [_as_text(table, "id")] + [_as_text(table, c) for c in columns]
    joined = pc.binary_join_element_wise(
        *parts, "\x1e", null_handling="replace", null_replacement=_NULL
    )
    names = "\x1e".join(columns).encode()
    return [
        int.from_bytes(hashlib.blake2b(row.encode(), digest_size=8, key=names[:64]).digest(), "big")
        >> 1
        for row in joined.to_pylist()
    ]


def content_digest(fields: Sequence[str], rows: Iterable[tuple[str, int, tuple[Any, ...]]]) -> str:
    """One digest of a whole snapshot: its fields and its sorted ``(id, version, counters)``."""
    h = hashlib.blake2b(digest_size=16)
    h.update(("\x1e".join(fields) + "\n").encode())
    for video_id, version, counters in sorted(rows):
        h.update(f"{video_id}\x1e{version}\x1e{counters!r}\n".encode())
    return h.hexdigest()


def to_timestamp(value: Any, *, name: str = "taken_at", end_of_day: bool = False) -> datetime:
    """A tz-aware UTC datetime from a datetime, a date, ISO 8601 text or unix seconds.

    A date (or date-only text) means midnight UTC of that day, or with ``end_of_day`` the last
    microsecond of it (so "as of 2026-03-05" includes snapshots taken during that day). A naive
    datetime is taken as UTC.

    Raises:
        InputError: anything else (naming ``name``).
    """
    import pandas as pd

    day_only = isinstance(value, date) and not isinstance(value, datetime)
    if isinstance(value, str):
        day_only = len(value.strip()) == 10
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            stamp = pd.Timestamp(float(value), unit="s", tz="UTC")
        elif day_only and not isinstance(value, str):
            stamp = pd.Timestamp(datetime.combine(value, time(), tzinfo=UTC))
        else:
            stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"bad {name}", [Problem(None, name, f"{value!r}: {exc}")]) from None
    if stamp is pd.NaT or isinstance(value, bool):
        raise InputError(f"bad {name}", [Problem(None, name, f"{value!r} is not a time")])
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if day_only and end_of_day:
        stamp = stamp + timedelta(days=1) - timedelta(microseconds=1)
    return stamp.floor("us").to_pydatetime()
