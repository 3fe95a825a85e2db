"""The Spark source ``dailymotion.analytics`` with its default provider,
``dmtools.analytics:spark_chunks``, on a local Spark session (``local[2]``) against a
sandbox: one partition per report file, the rows of ``dm.load_analytics``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
from analytics_support import client, load, today

from dmtools.sandbox import Sandbox

pyspark = pytest.importorskip("pyspark", reason="pip install 'dmtools[spark]'")
from _support.spark import local_spark  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from dmtools.analytics.spark import spark_chunks  # noqa: E402


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    with local_spark("dmtools-analytics-tests") as session:
        yield session


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    saved = os.environ.get("DMTOOLS_DATA_DIR")
    os.environ["DMTOOLS_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))  # the driver's state
    with Sandbox(videos=120, seed=9) as sandbox:
        sandbox.settings(report_delay=0, report_file_rows=40)  # no wait; several files
        yield sandbox
    if saved is None:
        os.environ.pop("DMTOOLS_DATA_DIR", None)
    else:
        os.environ["DMTOOLS_DATA_DIR"] = saved


def _options(sb: Sandbox, **extra: Any) -> dict[str, str]:
    key = sb.credentials.private_key
    return {
        "client_id": key.client_id,
        "client_secret": key.client_secret,
        "sandbox_url": sb.url,
        **{k: str(v) for k, v in extra.items()},
    }


def test_one_partition_per_report_file_with_the_rows_of_load_analytics(
    spark: SparkSession, sb: Sandbox
) -> None:
    start, end = today(sb) - dt.timedelta(days=299), today(sb)  # two reports
    reader = spark.read.format("dailymotion.analytics").options(
        **_options(sb, metrics="views,time_watched_seconds", dimensions="day,video_id",
                   start=start, end=end)
    )  # fmt: skip
    df = reader.load()
    with client(sb) as c:
        expected = load(
            sb, c, ["views", "time_watched_seconds"], "day video_id", start=start, end=end
        )
    assert dict(df.dtypes) == {
        "day": "timestamp",
        "video_id": "string",
        "views": "bigint",
        "time_watched_seconds": "bigint",
    }
    assert df.rdd.getNumPartitions() >= 2 + len(expected) // 40 - 1
    totals = df.agg(F.count("*").alias("n"), F.sum("views").alias("v")).collect()[0]
    assert totals.n == len(expected) and totals.v == expected["views"].sum()
    by_day = {r.day.date(): r.v for r in df.groupBy("day").agg(F.sum("views").alias("v")).collect()}
    assert by_day == expected.groupby(expected["day"].dt.date)["views"].sum().to_dict()
    plan = df._jdf.queryExecution().toString()
    assert sb.credentials.private_key.client_secret not in plan


def test_totals_over_several_reports_are_one_partition_added_up(sb: Sandbox) -> None:
    start, end = today(sb) - dt.timedelta(days=399), today(sb)
    options = _options(sb, metrics="views", dimensions="video_id", start=start, end=end)
    [chunk] = spark_chunks.plan(options)
    assert len(chunk["links"]) >= 3  # every file of the three reports
    frame = spark_chunks.read(options, chunk)
    with client(sb) as c:
        expected = load(sb, c, "views", "video_id", start=start, end=end)
    assert frame.equals(expected)


def test_bad_options_are_refused_before_any_request(sb: Sandbox) -> None:
    from dmtools.errors import InputError

    with pytest.raises(InputError, match="start"):
        spark_chunks.plan(_options(sb, metrics="views", dimensions="day"))
    with pytest.raises(InputError, match="cannot be broken down by hour"):
        spark_chunks.plan(
            _options(sb, metrics="estimated_earnings_eur", dimensions="hour", start="2026-01-01")
        )
    with pytest.raises(InputError, match="client_id"):
        spark_chunks.plan({"metrics": "views", "dimensions": "day", "start": "2026-01-01"})
