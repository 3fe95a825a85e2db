"""The ``dailymotion.analytics`` Spark data source: Reporting API results, one partition per
report chunk.

A Reporting API read is planned on the driver and read on the executors by a *chunk
provider*: an object with two methods,

* ``plan(options) -> list[dict]``: ask for the report(s) (a date range over 180 days is
  several reports) and wait until they are ready; one JSON-able dict per chunk (a download
  link of a finished report);
* ``read(options, chunk) -> pandas.DataFrame``: one chunk as an analytics frame (dimension
  columns named as the lower-cased enum names, ``day``/``hour`` as UTC datetimes, metrics as
  numbers; see :mod:`dmtools.history.analytics`).

The provider is named by the ``provider`` option (``"module:attribute"``, importable on the
driver and the executors), by default :data:`DEFAULT_PROVIDER`, the Reporting API client's.
The schema comes from the ``dimensions`` and ``metrics`` options alone, so Spark knows it
before any request.

Example:
    >>> (spark.read.format("dailymotion.analytics")
    ...  .option("dimensions", "day,video_id").option("metrics", "views,time_watched_seconds")
    ...  .option("start", "2026-01-01").option("end", "2026-06-30")
    ...  .options(**login).load())                                        # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from dmtools import reporting_schema
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DEFAULT_PROVIDER", "AnalyticsDataSource", "ReportChunk", "analytics_schema"]

#: The Reporting API client's chunk provider (:data:`dmtools.analytics.spark_chunks`).
DEFAULT_PROVIDER = "dmtools.analytics:spark_chunks"
#: Metrics whose values are counts (``bigint``); other metrics are ``double``.
COUNT_METRICS = frozenset(
    m.lower() for m in reporting_schema.METRICS if reporting_schema.is_count(m)
)


@dataclass(frozen=True)
class ReportChunk(InputPartition):
    """One partition: chunk ``index`` as the provider described it (JSON text)."""

    index: int
    chunk: str


def _names(options: Mapping[str, str], name: str) -> list[str]:
    return [n.strip().lower() for n in options.get(name, "").split(",") if n.strip()]


def analytics_schema(dimensions: list[str], metrics: list[str]) -> str:
    """The Spark schema (DDL) of an analytics read."""
    from dmtools.history.analytics import TIME_DIMENSIONS

    parts = [f"{d} {'TIMESTAMP' if d in TIME_DIMENSIONS else 'STRING'}" for d in dimensions]
    parts += [f"{m} {'BIGINT' if m in COUNT_METRICS else 'DOUBLE'}" for m in metrics]
    return ", ".join(parts)


def _provider(options: Mapping[str, str]) -> Any:
    target = options.get("provider", DEFAULT_PROVIDER)
    module, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        raise InputError(
            f"no analytics chunk provider {target!r}: pass option provider='module:attribute'"
        ) from None


class AnalyticsReader(DataSourceReader):
    def __init__(self, options: dict[str, str], dimensions: list[str], metrics: list[str]) -> None:
        self.options, self.dimensions, self.metrics = options, dimensions, metrics

    def partitions(self) -> list[InputPartition]:
        chunks = _provider(self.options).plan(self.options)
        return [ReportChunk(i, json.dumps(c, sort_keys=True)) for i, c in enumerate(chunks)]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, ReportChunk)
        from dmtools.history.analytics import _arrow, _check

        frame = _provider(self.options).read(self.options, json.loads(partition.chunk))
        missing = [c for c in [*self.dimensions, *self.metrics] if c not in frame.columns]
        if missing:
            raise InputError(
                f"report chunk {partition.index} lacks columns",
                [Problem(None, c, "missing") for c in missing],
            )
        frame = frame[[*self.dimensions, *self.metrics]]
        _check(frame, self.dimensions, self.metrics)
        table = _arrow(frame, self.dimensions, self.metrics)
        for m in self.metrics:  # counts as bigint, the rest as double, whatever the chunk held
            kind = "int64" if m in COUNT_METRICS else "float64"
            table = table.set_column(table.schema.get_field_index(m), m, table.column(m).cast(kind))
        yield from table.to_batches(max_chunksize=50_000)


class AnalyticsDataSource(DataSource):
    """``spark.read.format("dailymotion.analytics")``: see the module docstring."""

    @classmethod
    def name(cls) -> str:
        return "dailymotion.analytics"

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.dimensions = _names(options, "dimensions")
        self.metrics = _names(options, "metrics")
        problems = []
        if not self.dimensions:
            problems.append(Problem(None, "dimensions", "missing (e.g. day,video_id)"))
        if not self.metrics:
            problems.append(Problem(None, "metrics", "missing (e.g. views)"))
        if problems:
            raise InputError("bad options for the dailymotion analytics source", problems)

    def schema(self) -> str:
        return analytics_schema(self.dimensions, self.metrics)

    def reader(self, schema: Any) -> AnalyticsReader:
        return AnalyticsReader(dict(self.options), self.dimensions, self.metrics)
