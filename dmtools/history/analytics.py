"""Reporting API frames in the history store.

An analytics frame (what the Reporting API client returns) has dimension columns named as the
API's lower-cased enum names (``day`` and ``hour`` as tz-aware UTC datetimes, ``video_id``,
``visitor_country``...) and metric columns (``views``, ``time_watched_seconds`` as nullable
integers, rates and money as floats). Frames with the same set of dimensions (a *grain*) go
to one table, ``analytics__<dimension>__<dimension>...``, with a ``profile`` and a
``loaded_at`` column.

Storing is idempotent and append-only: a row identical to what the store already reads for
its key (profile + dimensions) is not stored again; a row whose numbers differ (the Reporting
API revises recent days) is added with a later ``loaded_at``, and reads take, per metric, the
latest value loaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError, Problem
from dmtools.history import _columns as cols

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from dmtools.history.store import History

__all__ = ["DIMENSIONS", "TIME_DIMENSIONS", "AnalyticsLoad", "add_analytics", "read_analytics"]

#: Dimensions of the Reporting API (lower-cased enum names).
DIMENSIONS = frozenset(
    """month day hour minute channel_slug video_owner_channel_slug video_id video_title media_type
    content_tag content_tag_list playlist_id playlist_title video_position player_id player_title
    publisher_id publisher_channel visitor_domain_group visitor_page_url visitor_subdomain
    visitor_country visitor_device_type action visibility inventory_position
    inventory_position_index""".split()
)
#: Metrics of the Reporting API (lower-cased enum names) that dmtools knows; any other
#: numeric column is a metric too.
METRICS = frozenset(
    """views time_watched_seconds view_through_rate average_watch_time_sec uploads live_viewers
    live_time_watched_seconds estimated_earnings_usd estimated_earnings_eur total_inventory
    sellable_inventory nb_impression nb_missed_impression fill_rate no_ads no_ad_rate no_fills
    ad_errors timeouts ecpm_eur ecpm_usd viewability_score gdpr_full_consent_score
    vtr_score""".split()
)
#: Dimensions holding a time (tz-aware UTC datetimes in a frame).
TIME_DIMENSIONS = ("month", "day", "hour", "minute")
_COLUMNS_SQL = (
    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
    "ORDER BY ordinal_position"
)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CATALOG = (
    "CREATE TABLE IF NOT EXISTS analytics_tables (name VARCHAR PRIMARY KEY, "
    "dimensions VARCHAR[] NOT NULL)"
)


@dataclass(frozen=True)
class AnalyticsLoad:
    """What :func:`add_analytics` did: the table, rows given, rows stored (new or revised)."""

    table: str
    rows: int
    stored: int


def _split(frame: pd.DataFrame, dimensions: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """(dimensions, metrics) of a frame: known dimension names are dimensions, known metric
    names are metrics, other columns are metrics when numeric (unless ``dimensions`` says)."""
    import pandas as pd

    columns = [str(c) for c in frame.columns]
    if dimensions is not None:
        dims = list(dimensions)
    else:
        dims = [
            c
            for c in columns
            if c in DIMENSIONS
            or c not in METRICS
            and not (
                pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
            )
        ]
    return dims, [c for c in columns if c not in dims]


def _check(frame: pd.DataFrame, dims: list[str], metrics: list[str]) -> None:
    """Every problem of an analytics frame, in one InputError (before any write)."""
    import pandas as pd

    problems = [
        Problem(None, c, "not a lower-case name (letters, digits, _)")
        for c in [*dims, *metrics]
        if not _NAME.match(c)
    ]
    problems += [Problem(None, c, "no such column") for c in dims if c not in frame.columns]
    if not dims:
        problems.append(Problem(None, None, "no dimension column (day, video_id...)"))
    for c in dims:
        if c in TIME_DIMENSIONS and c in frame.columns:
            dtype = frame[c].dtype
            if not isinstance(dtype, pd.DatetimeTZDtype):
                problems.append(
                    Problem(None, c, f"a time dimension must be tz-aware UTC, not {dtype}")
                )
    for c in metrics:
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            problems.append(Problem(None, c, f"a metric must be numeric, not {frame[c].dtype}"))
    if not problems and frame.duplicated(subset=dims).any():
        repeated = frame[frame.duplicated(subset=dims, keep=False)].head(20)
        problems += [
            Problem(str(i), None, "repeats the dimensions of another row") for i in repeated.index
        ]
    if problems:
        raise InputError("the analytics frame cannot be stored", problems)


def _arrow(frame: pd.DataFrame, dims: list[str], metrics: list[str]) -> pa.Table:
    import pandas as pd
    import pyarrow as pa

    arrays, names = [], []
    for c in [*dims, *metrics]:
        series = frame[c]
        if c in dims and isinstance(series.dtype, pd.DatetimeTZDtype):
            values = series.dt.tz_convert("UTC").dt.as_unit("us")
            arrays.append(pa.array(values, pa.timestamp("us", tz="UTC"), from_pandas=True))
        elif c in dims:
            arrays.append(pa.array(series.astype("string"), pa.string(), from_pandas=True))
        elif pd.api.types.is_integer_dtype(series):
            arrays.append(pa.array(series, pa.int64(), from_pandas=True))
        else:
            arrays.append(pa.array(series.astype("float64"), pa.float64(), from_pandas=True))
        names.append(c)
    return pa.Table.from_arrays(arrays, names=names)


def _sql_type(field: pa.Field) -> str:
    import pyarrow as pa

    if pa.types.is_timestamp(field.type):
        return "TIMESTAMPTZ"
    if pa.types.is_integer(field.type):
        return "BIGINT"
    if pa.types.is_floating(field.type):
        return "DOUBLE"
    return "VARCHAR"


def _table_name(dims: Sequence[str]) -> str:
    return "analytics__" + "__".join(sorted(dims))


def _ensure_table(history: History, name: str, dims: list[str], table: pa.Table) -> None:
    db = history.connection
    db.execute(_CATALOG)
    have = {r[0] for r in db.execute(_COLUMNS_SQL, [name]).fetchall()}
    if not have:
        columns = ", ".join(f'"{f.name}" {_sql_type(f)}' for f in table.schema)
        db.execute(
            f'CREATE TABLE "{name}" (profile VARCHAR NOT NULL, {columns}, '
            "loaded_at TIMESTAMPTZ NOT NULL)"
        )
        db.execute("INSERT INTO analytics_tables VALUES (?, ?)", [name, sorted(dims)])
        return
    for field in table.schema:
        if field.name not in have:  # a metric this grain did not have yet
            db.execute(f'ALTER TABLE "{name}" ADD COLUMN "{field.name}" {_sql_type(field)}')


def _current(name: str, dims: Sequence[str], metrics: Sequence[str]) -> str:
    """SQL: per key of a grain table, the latest loaded value of each metric."""
    keys = ", ".join(f'"{d}"' for d in dims)
    latest = ", ".join(
        f'arg_max("{m}", loaded_at) FILTER (WHERE "{m}" IS NOT NULL) AS "{m}"' for m in metrics
    )
    return f'SELECT {keys}, {latest} FROM "{name}" WHERE profile = $profile GROUP BY ALL'


def add_analytics(
    history: History,
    frame: pd.DataFrame,
    *,
    profile: str,
    dimensions: Sequence[str] | None = None,
    loaded_at: Any = None,
) -> AnalyticsLoad:
    """Store an analytics frame (see the module docstring for its shape).

    Raises:
        InputError: bad column names or types, no dimension, or two rows with the same
            dimensions (every problem listed; nothing written).
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"analytics come as a DataFrame, not {type(frame).__name__}")
    history._write()
    dims, metrics = _split(frame, dimensions)
    _check(frame, dims, metrics)
    if not isinstance(profile, str) or not profile.strip():
        raise InputError("bad profile", [Problem(None, "profile", repr(profile))])
    table = _arrow(frame, dims, metrics)
    name = _table_name(dims)
    when = datetime.now(UTC) if loaded_at is None else cols.to_timestamp(loaded_at)
    match = " AND ".join(f'c."{c}" IS NOT DISTINCT FROM n."{c}"' for c in [*dims, *metrics])
    names = ", ".join(f'"{c}"' for c in [*dims, *metrics])
    with history._lock:
        db = history.connection
        db.execute("BEGIN TRANSACTION")
        try:
            _ensure_table(history, name, dims, table)
            db.register("incoming_analytics", table)
            before = db.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
            db.execute(
                f'INSERT INTO "{name}" (profile, {names}, loaded_at) '
                f"SELECT $profile, {names}, $when FROM incoming_analytics n "
                f"WHERE NOT EXISTS (SELECT 1 FROM ({_current(name, dims, metrics)}) c WHERE {match})",
                {"profile": profile, "when": when},
            )
            after = db.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
            db.unregister("incoming_analytics")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return AnalyticsLoad(name, len(frame), int(after - before))


def grains(history: History) -> dict[str, tuple[str, ...]]:
    """Stored grains: table name -> its dimensions."""
    try:
        found = history.rows("SELECT name, dimensions FROM analytics_tables ORDER BY name")
    except Exception:  # no analytics stored yet (the catalog does not exist)
        return {}
    return {name: tuple(dims) for name, dims in found}


def _metrics_of(history: History, name: str, dims: Sequence[str]) -> list[str]:
    found = history.rows(_COLUMNS_SQL, [name])
    return [r[0] for r in found if r[0] not in (*dims, "profile", "loaded_at")]


def read_analytics(
    history: History,
    dimensions: Sequence[str],
    *,
    profile: str,
    metrics: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """The stored rows of one grain (exactly these dimensions), latest values, as a frame
    of the agreed shape; ``start``/``end`` bound its time dimension (``start <= t < end``).

    Raises:
        InputError: no grain with these dimensions, or unknown metrics.
    """
    import pandas as pd

    name = _table_name(dimensions)
    known = grains(history)
    if name not in known:
        shown = "; ".join(", ".join(d) for d in known.values()) or "none"
        raise InputError(
            f"no analytics stored by {', '.join(sorted(dimensions))} (stored: {shown})"
        )
    dims = list(known[name])
    have = _metrics_of(history, name, dims)
    wanted = list(metrics) if metrics is not None else have
    unknown = [m for m in wanted if m not in have]
    if unknown:
        raise InputError("unknown metrics", [Problem(None, m, "not stored") for m in unknown])
    time = next((d for d in TIME_DIMENSIONS if d in dims), None)
    where, params = "", dict[str, Any](profile=profile)
    if time is not None and start is not None:
        where += f' AND "{time}" >= $start'
        params["start"] = cols.to_timestamp(start, name="start")
    if time is not None and end is not None:
        where += f' AND "{time}" < $end'
        params["end"] = cols.to_timestamp(end, name="end")
    query = f"SELECT * FROM ({_current(name, dims, wanted)}) WHERE true {where} ORDER BY ALL"
    from dmtools.history._tables import to_pandas

    frame = to_pandas(history.arrow(query, params))  # type: ignore[arg-type]
    for m in wanted:
        if not isinstance(frame[m].dtype, pd.Int64Dtype):
            frame[m] = frame[m].astype("float64")
    return frame[[*[d for d in dimensions], *wanted]]
