"""The ``dailymotion.videos`` Spark data source: a channel's videos, read in parallel.

Planning (on the driver, a few small requests): the creation-time span of the query is cut
into windows holding about the same number of videos, by halving windows and asking the API
how many videos each half holds (``limit=1`` requests; counts only size the windows). The
first window is open at the start and the last at the end, so the windows cover every
creation time exactly once, whatever the counts said.

Reading (on the executors): each partition is one window, read with
:func:`dmtools.load_videos` (``created_after <= created_time < created_before``), which reads
past the 1,000-results ceiling, de-duplicates, and warns about anything it cannot reach. Each
Python worker logs in once; all workers of a machine share one request-rate budget
(``rate_limit`` requests/s, see :mod:`dmtools.spark._budget`), and each runs ``workers``
requests at a time within it.

The rows are exactly those :func:`dmtools.load_videos` returns for the same query: the same
columns (``id`` first), with Spark types (text and categories ``string``, booleans,
``bigint``, UTC ``timestamp``, tags ``array<string>``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from dmtools.history import _columns as cols
from dmtools.spark._options import ReadOptions, client_for

if TYPE_CHECKING:
    import pyarrow as pa

    from dmtools.client import Client
    from dmtools.videos import VideoQuery

__all__ = ["VideoWindow", "VideosDataSource", "plan_windows", "spark_schema"]

log = logging.getLogger(__name__)

#: Rounds of halving when planning (each round is one request per window still too big).
ROUNDS = 12


@dataclass(frozen=True)
class VideoWindow(InputPartition):
    """One partition: the videos created in ``[created_after, created_before)`` (unix seconds;
    None is open), and the count the plan expected (0 when the API gives no counts)."""

    index: int
    created_after: int | None
    created_before: int | None
    expected: int


def _ddl_type(column: str) -> str:
    return {
        "VARCHAR[]": "ARRAY<STRING>",
        "BOOLEAN": "BOOLEAN",
        "BIGINT": "BIGINT",
        "TIMESTAMPTZ": "TIMESTAMP",
        "VARCHAR": "STRING",
    }[cols.duckdb_type(column)]


def spark_schema(fields: tuple[str, ...]) -> str:
    """The Spark schema (DDL) of a read of ``fields`` (field names, ``id`` first)."""
    from dmtools.schema import VIDEO_FIELDS

    columns = [VIDEO_FIELDS[f].column for f in fields if f != "id"]
    return ", ".join(["id STRING NOT NULL"] + [f"{c} {_ddl_type(c)}" for c in columns])


def _count(
    client: Client, query: VideoQuery, lo: int | None, hi: int | None, *, edges: bool = False
) -> tuple[int | None, list[int]]:
    """Videos of the query created in ``[lo, hi)`` (from the page's ``total``; None when the
    API gives no count) and, with ``edges``, the creation times of the oldest and the newest
    of them. One one-video page per list (and sort), worded by the client's dialect."""
    dialect = client.dialect
    # one second too wide whichever way the API reads its bounds: counts only size windows
    params = {
        **query.filters,
        **dialect.fields_param(["id", "created_time"]),
        **dialect.window(lo - 1 if lo is not None else None, hi),
    }
    total: int | None = 0
    times: list[int] = []
    for path in query.paths:
        for oldest in (True, False) if edges else (True,):
            page = next(
                client.pages(path, {**params, **dialect.sort(oldest_first=oldest)}, limit=1)
            )
            if oldest:
                total = None if total is None or page.total is None else total + page.total
            times += [int(v["created_time"]) for v in page.items]
    return total, times


def _halve(
    client: Client, query: VideoQuery, windows: list[tuple[int, int, int]], target: int
) -> list[tuple[int, int, int]]:
    """Windows ``(lo, hi, count)`` with every one over the target cut in two (counted)."""
    big = [w for w in windows if w[2] > target * 1.25 and w[1] - w[0] > 1]
    if not big:
        return windows
    middle = {w: (w[0] + w[1]) // 2 for w in big}
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="dmtools-plan") as pool:
        counted = pool.map(lambda w: _count(client, query, w[0], middle[w])[0] or 0, big)
        counts = dict(zip(big, counted, strict=True))
    out: list[tuple[int, int, int]] = []
    for w in windows:
        if w in middle:
            left = min(counts[w], w[2])
            out += [(w[0], middle[w], left), (middle[w], w[1], w[2] - left)]
        else:
            out.append(w)
    return out


def plan_windows(
    client: Client,
    query: VideoQuery,
    partitions: int,
    *,
    lo: int | None = None,
    hi: int | None = None,
) -> list[VideoWindow]:
    """Creation-time windows of about ``total / partitions`` videos each, covering
    ``[lo, hi)`` (None: open) exactly once."""
    total, times = _count(client, query, lo, hi, edges=True)
    if total == 0 or not times or partitions <= 1:
        return [VideoWindow(0, lo, hi, total or 0)]
    first, last = min(times), max(times) + 1
    if total is None:  # no counts: windows of equal time
        cuts = [first + (last - first) * i // partitions for i in range(partitions + 1)]
        return _open_ends(
            [(a, b, 0) for a, b in zip(cuts, cuts[1:], strict=False) if b > a], lo, hi
        )
    target = max(1, math.ceil(total / partitions))
    windows = [(first, last, total)]
    for _ in range(ROUNDS):
        cut = _halve(client, query, windows, target)
        if cut is windows:
            break
        windows = cut
    merged: list[list[int]] = []
    for a, b, n in windows:  # join neighbours while they stay within the target
        if merged and merged[-1][2] + n <= target:
            merged[-1][1], merged[-1][2] = b, merged[-1][2] + n
        else:
            merged.append([a, b, n])
    return _open_ends([(a, b, n) for a, b, n in merged], lo, hi)


def _open_ends(
    windows: list[tuple[int, int, int]], lo: int | None, hi: int | None
) -> list[VideoWindow]:
    """Partitions from adjacent windows ``(start, end, expected)``, the first one starting at
    ``lo`` and the last one ending at ``hi`` (None: open), so they cover every time once."""
    starts: list[int | None] = [lo, *(a for a, _, _ in windows[1:])]
    ends: list[int | None] = [*(b for _, b, _ in windows[:-1]), hi]
    return [
        VideoWindow(i, a, b, w[2])
        for i, (a, b, w) in enumerate(zip(starts, ends, windows, strict=True))
    ]


def _bounds(options: ReadOptions) -> tuple[int | None, int | None]:
    """The query's own creation-time bounds, in unix seconds."""
    from dmtools.frames import canonical

    found = dict(options.filters)
    lo = found.get("created_after")
    hi = found.get("created_before")
    return (
        int(canonical("created_time", lo)) if lo is not None else None,
        int(canonical("created_time", hi)) if hi is not None else None,
    )


class VideosReader(DataSourceReader):
    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def partitions(self) -> list[InputPartition]:
        from dmtools.videos import build_query

        client = client_for(self.options)
        filters = {
            k: v for k, v in self.options.filters if k not in ("created_after", "created_before")
        }
        query = build_query(
            client, owner=self.options.owner, fields=self.options.fields, filters=filters
        )
        lo, hi = _bounds(self.options)
        windows = plan_windows(client, query, self.options.partitions, lo=lo, hi=hi)
        log.info("reading %d creation-time windows", len(windows))
        return list(windows)

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        from dmtools.load import load_videos

        assert isinstance(partition, VideoWindow)

        client = client_for(self.options)
        filters: dict[str, Any] = {
            k: v for k, v in self.options.filters if k not in ("created_after", "created_before")
        }
        df = load_videos(
            client,
            owner=self.options.owner,
            fields=list(self.options.fields),
            progress=False,
            workers=self.options.workers,
            created_after=partition.created_after,
            created_before=partition.created_before,
            **filters,
        )
        columns = [c for c in cols.VIDEO_COLUMNS if c in df.columns]
        yield from cols.frame_to_arrow(df, columns).to_batches(max_chunksize=10_000)


class VideosDataSource(DataSource):
    """``spark.read.format("dailymotion.videos")``: see the module docstring and the README."""

    @classmethod
    def name(cls) -> str:
        return "dailymotion.videos"

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.checked = ReadOptions.parse(options)

    def schema(self) -> str:
        return spark_schema(self.checked.fields)

    def reader(self, schema: Any) -> VideosReader:
        return VideosReader(self.checked)
