"""A channel's history, and its data handed to DuckDB, Parquet readers and Spark.

* :class:`History`: dated snapshots of a channel's videos (and Reporting API frames) in one
  DuckDB file; point-in-time queries, what changed between two dates (attributed to the bulk
  jobs that changed it), views before and after an edit.
* :func:`write_videos` / :func:`write_analytics` / :func:`read_dataset`: Hive-partitioned
  Parquet datasets (by profile and date) that DuckDB, Polars, Spark and Dask read directly.
* :mod:`dmtools.spark`: a PySpark data source for parallel reads.

Example:
    >>> from dmtools.history import History
    >>> with History("channel.duckdb") as history:                       # doctest: +SKIP
    ...     history.snapshot(dm.load_videos(client))
    ...     history.changes("2026-03-01", "2026-03-08", journals=["."])
"""

from __future__ import annotations

from dmtools.history.dataset import read_dataset, write_analytics, write_videos
from dmtools.history.journals import read_journals
from dmtools.history.store import History, HistoryConflict, Snapshot

__all__ = [
    "History",
    "HistoryConflict",
    "Snapshot",
    "read_dataset",
    "read_journals",
    "write_analytics",
    "write_videos",
]
