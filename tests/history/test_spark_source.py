"""The Spark data sources on a local Spark session (``local[2]``) against a sandbox: the
videos source reads exactly the rows of ``load_videos``; the analytics source reads report
chunks as partitions; Spark reads the Parquet datasets; executors share one rate budget."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _support.history import videos

import dmtools as dm
from dmtools.dialects import Page
from dmtools.dialects.legacy import LEGACY
from dmtools.history import write_videos
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

pyspark = pytest.importorskip("pyspark", reason="pip install 'dmtools[spark]'")
from _support.spark import local_spark  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from dmtools.spark._budget import budget_path  # noqa: E402
from dmtools.spark.videos import plan_windows  # noqa: E402


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    with local_spark("dmtools-tests") as session:
        yield session


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=2500, seed=21) as sandbox:
        yield sandbox


def _reader(spark: SparkSession, sb: Sandbox, **options: Any) -> Any:
    c = sb.credentials
    reader = (
        spark.read.format("dailymotion.videos")
        .option("grant", "password")
        .option("client_id", c.public_key.client_id)
        .option("client_secret", c.public_key.client_secret)
        .option("username", c.user.username)
        .option("password", c.user.password)
        .option("scope", "manage_videos")
        .option("sandbox_url", sb.url)
    )
    options.setdefault("rate_limit", 0)
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader


def _checksum(ids: Any) -> int:
    return sum(zlib.crc32(str(i).encode()) for i in ids)


def test_the_videos_source_reads_the_same_rows_as_load_videos(
    spark: SparkSession, sb: Sandbox
) -> None:
    df = _reader(spark, sb, partitions=6).load()
    assert df.rdd.getNumPartitions() >= 4
    summary = df.agg(F.count("*").alias("n"), F.sum(F.crc32("id")).alias("crc")).collect()[0]
    with connect_sandbox(sb) as client:
        expected = dm.load_videos(client, progress=False)
    assert summary.n == len(expected) == 2500
    assert summary.crc == _checksum(expected.index)
    first = expected.index[:50].tolist()
    rows = {r.id: r for r in df.where(F.col("id").isin(first)).collect()}
    assert [rows[i].title for i in first] == expected.title[:50].tolist()
    assert [list(rows[i].tags) for i in first] == expected.tags[:50].tolist()
    created = [pd.Timestamp(rows[i].created_time, tz="UTC") for i in first]  # session: UTC
    assert created == expected.created_time[:50].tolist()
    assert dict(df.dtypes)["tags"] == "array<string>" and dict(df.dtypes)["views_total"] == "bigint"
    plan = df._jdf.queryExecution().toString()  # what explain() and the UI show
    secrets = (sb.credentials.public_key.client_secret, sb.credentials.user.password)
    assert "dailymotion.videos" in plan and not any(secret in plan for secret in secrets)


def test_fields_and_filters_give_the_rows_and_columns_of_load_videos(
    spark: SparkSession, sb: Sandbox
) -> None:
    budget = f"test-{os.getpid()}-{time.time_ns()}"
    df = _reader(  # with the machine-wide rate budget on
        spark,
        sb,
        fields="title,views_total",
        channel="music",
        partitions=3,
        rate_limit=500,
        budget=budget,
    ).load()
    assert df.columns == ["id", "title", "views_total"]
    with connect_sandbox(sb) as client:
        expected = dm.load_videos(
            client, fields=["title", "views_total"], channel="music", progress=False
        )
    ids = [r.id for r in df.select("id").collect()]
    assert len(ids) == len(expected) and set(ids) == set(expected.index)
    assert budget_path(budget).is_file()  # the executors took their requests from it
    budget_path(budget).unlink()


def test_windows_cover_the_creation_times_once_with_balanced_counts(sb: Sandbox) -> None:
    with connect_sandbox(sb) as client:
        query = dm.videos.build_query(client, owner="me", fields=None, filters={})
        windows = plan_windows(client, query, 8)
    assert windows[0].created_after is None and windows[-1].created_before is None
    for left, right in zip(windows, windows[1:], strict=False):
        assert left.created_before == right.created_after  # adjacent, no gap, no overlap
    assert sum(w.expected for w in windows) == 2500
    assert 6 <= len(windows) <= 12 and max(w.expected for w in windows) <= 2 * 2500 / 8


def test_bad_options_are_refused_naming_each_of_them(spark: SparkSession, sb: Sandbox) -> None:
    with pytest.raises(Exception) as caught:
        _ = _reader(spark, sb, partitions="many", colour="red", fields="title,nope").load().schema
    text = str(caught.value)
    assert "partitions" in text and "colour" in text and "nope" in text


def test_the_analytics_source_reads_one_partition_per_report_chunk(spark: SparkSession) -> None:
    df = (
        spark.read.format("dailymotion.analytics")
        .option("provider", "_support.spark_chunks:chunks")
        .option("dimensions", "day,video_id")
        .option("metrics", "views,view_through_rate")
        .option("videos", 5)
        .load()
    )
    assert df.rdd.getNumPartitions() == 3
    assert dict(df.dtypes) == {
        "day": "timestamp",
        "video_id": "string",
        "views": "bigint",
        "view_through_rate": "double",
    }
    by_day = {
        str(r.day.date()): r.views
        for r in df.groupBy("day").agg(F.sum("views").alias("views")).collect()
    }
    assert by_day == {"2026-03-01": 10, "2026-03-02": 10, "2026-03-03": 10}


def test_the_analytics_source_says_what_is_missing_before_any_request(
    spark: SparkSession,
) -> None:
    with pytest.raises(Exception, match="start.*missing"):
        spark.read.format("dailymotion.analytics").option("dimensions", "day").option(
            "metrics", "views"
        ).load().collect()
    with pytest.raises(Exception, match="no analytics chunk provider 'nowhere:chunks'"):
        spark.read.format("dailymotion.analytics").option("provider", "nowhere:chunks").option(
            "dimensions", "day"
        ).option("metrics", "views").load().collect()


def test_spark_reads_the_parquet_dataset_and_prunes_by_date(
    spark: SparkSession, tmp_path: Path
) -> None:
    for day in range(1, 5):
        write_videos(videos(5, views=day), tmp_path, taken_at=f"2026-03-0{day}")
    df = spark.read.parquet(str(tmp_path / "videos"))
    assert {"profile", "date", "taken_at", "id", "created_time"} <= set(df.columns)
    assert dict(df.dtypes)["created_time"] == "timestamp"
    late = df.where(F.col("date") >= "2026-03-03")
    assert late.count() == 10
    assert (
        "PartitionFilters: [isnotnull(date" in late._jdf.queryExecution().executedPlan().toString()
    )


WORKER = """
import sys, time
from dmtools.spark._budget import HostRateLimiter
name, rate, slots, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
limiter = HostRateLimiter(rate, name=name)
print("ready", flush=True)
assert sys.stdin.readline() == "go\\n"
stamps = []
for _ in range(slots):
    limiter.acquire()
    stamps.append(time.time())
open(out, "w").write("\\n".join(map(repr, stamps)))
"""


def test_processes_of_one_machine_share_one_rate_budget(tmp_path: Path) -> None:
    name, rate, slots = f"test-{os.getpid()}-{time.time_ns()}", 40.0, 8
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, name, str(rate), str(slots), str(tmp_path / f"{i}.txt")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    # both processes begin together, once both are started
    assert [p.stdout.readline() for p in procs if p.stdout] == ["ready\n"] * 2
    start = time.time()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.close()
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    for p in procs:
        assert p.stdout is not None
        p.stdout.close()
    budget_path(name).unlink()
    stamps = sorted(float(x) for i in range(2) for x in (tmp_path / f"{i}.txt").read_text().split())
    assert len(stamps) == 2 * slots and stamps[0] >= start
    # one budget for both: 16 slots take 15 intervals; two budgets would take about 7
    assert stamps[-1] - start >= (2 * slots - 1) / rate * 0.95


class _NoTotals:
    """An API answering lists without ``total`` (the sandbox always counts): only what the
    planner reads, the oldest and the newest video, worded by the legacy dialect."""

    dialect = LEGACY

    def pages(self, path: str, params: dict[str, str], *, limit: int = 100) -> Iterator[Page]:
        call = LEGACY.first_page(path, params, size=limit)
        yield LEGACY.read_page(self.get(path, dict(call.params)), call)

    def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        created = 1_700_000_000 if params["sort"] == "old" else 1_700_000_000 + 4 * 86400
        return {"list": [{"id": "x1", "created_time": created}], "has_more": True}


def test_without_counts_the_windows_split_the_time_span_evenly() -> None:
    query = dm.videos.VideoQuery(paths=("/me/videos",), fields=("id",), params={"fields": "id"})
    windows = plan_windows(_NoTotals(), query, 4)  # type: ignore[arg-type]
    assert [w.created_after for w in windows] == [None] + [
        1_700_000_000 + d * 86400 for d in (1, 2, 3)
    ]
    assert [w.created_before for w in windows] == [1_700_000_000 + d * 86400 for d in (1, 2, 3)] + [
        None
    ]
