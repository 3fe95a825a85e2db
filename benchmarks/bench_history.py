"""History store and Spark read: a year of daily snapshots in DuckDB against one Parquet
file per day read with pandas, and a Spark read of a large channel against the RTT bound.

Part 1 builds a year of daily snapshots of a 10,000-video channel (every day: views grow,
0.5 % of the videos get a new title or tags, 10 videos are uploaded and 2 deleted). The same
frames go into a dmtools history (one DuckDB file) and into the plain baseline: one Parquet
file per day (``dm.write_parquet``), queried with pandas. It prints the size on disk and the
time of each query (median of 3 runs) for both, and the ratios.

Part 2 reads a 100,000-video channel from a sandbox (its own process) that adds ``--latency``
to every request, with the ``dailymotion.videos`` Spark source on ``local[2]``
(``--partitions`` windows, ``--workers`` requests at a time per partition), and compares the
time with the RTT bound ``requests * latency / concurrency`` (concurrency = 2 task slots x
workers), the requests being those the sandbox served during the read, planning included.

Run:
    .venv/bin/python benchmarks/bench_history.py                    # both parts
    .venv/bin/python benchmarks/bench_history.py --spark-videos 0   # part 1 only
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import dmtools as dm
from dmtools.history import History

WORDS = "news match recipe lecture trailer vlog review interview highlights tutorial live".split()
START = datetime(2025, 1, 1, tzinfo=UTC)


def channel(n: int, rng: np.random.Generator, first_id: int = 0) -> pd.DataFrame:
    """``n`` synthetic videos with the default fields (as ``dm.load_videos`` gives them)."""
    ids = [f"x{first_id + i:07d}" for i in range(n)]
    words = rng.choice(WORDS, size=(n, 4))
    created = 1_600_000_000 + np.sort(rng.integers(0, 100_000_000, n))
    records = [
        {
            "id": vid,
            "title": " ".join(words[i]).capitalize(),
            "description": f"{' '.join(words[i])} " * 6,
            "tags": list(dict.fromkeys(words[i][:3])),
            "channel": "news" if i % 3 else "sport",
            "language": "en",
            "published": True,
            "private": bool(i % 17 == 0),
            "is_created_for_kids": False,
            "status": "published",
            "owner": "xchannel",
            "owner.screenname": "Channel",
            "created_time": int(created[i]),
            "updated_time": int(created[i]),
            "duration": int(60 + i % 600),
            "views_total": int(rng.integers(0, 5000)),
            "likes_total": int(rng.integers(0, 50)),
        }
        for i, vid in enumerate(ids)
    ]
    return dm.to_frame(records)


def next_day(df: pd.DataFrame, day: int, rng: np.random.Generator) -> pd.DataFrame:
    """The channel a day later: views, a few edits, uploads and deletions."""
    df = df.copy()
    df["views_total"] = df["views_total"] + rng.poisson(5, len(df))
    edited = rng.choice(len(df), size=max(1, len(df) // 200), replace=False)
    df.iloc[edited[: len(edited) // 2], df.columns.get_loc("title")] = f"Updated on day {day}"
    df.iloc[edited[len(edited) // 2 :], df.columns.get_loc("tags")] = pd.Series(
        [["edited", f"day{day}"]] * (len(edited) - len(edited) // 2)
    ).values
    df = df.drop(df.index[rng.choice(len(df), size=2, replace=False)])
    return pd.concat([df, channel(10, rng, first_id=1_000_000 + day * 10)])


def median_time(run: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def size(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


def build(work: Path, videos: int, days: int) -> tuple[History, Path, list[datetime], pd.DataFrame]:
    rng = np.random.default_rng(7)
    df = channel(videos, rng)
    history = History(work / "history.duckdb")
    daily = work / "daily"
    daily.mkdir()
    stamps, store_time, base_time = [], 0.0, 0.0
    for day in range(days):
        when = START + timedelta(days=day)
        started = time.perf_counter()
        history.snapshot(df, taken_at=when)
        store_time += time.perf_counter() - started
        started = time.perf_counter()
        dm.write_parquet(df, daily / f"{when:%Y-%m-%d}.parquet")
        base_time += time.perf_counter() - started
        stamps.append(when)
        df = next_day(df, day, rng)
    history.connection.execute("CHECKPOINT")
    print(f"{days} daily snapshots of a {videos:,}-video channel")
    print(
        f"  store: history {store_time:6.1f} s ({store_time / days * 1000:.0f} ms a day); "
        f"one Parquet file a day {base_time:6.1f} s"
    )
    print(
        f"  size on disk: history {size(work / 'history.duckdb') / 2**20:7.1f} MiB; "
        f"Parquet files {size(daily) / 2**20:7.1f} MiB "
        f"(ratio {size(daily) / size(work / 'history.duckdb'):.1f}x)"
    )
    return history, daily, stamps, df


def queries(history: History, daily: Path, stamps: list[datetime], last: pd.DataFrame) -> None:
    files = sorted(daily.glob("*.parquet"))
    mid = stamps[len(stamps) // 3]
    month = stamps[min(len(stamps) - 1, len(stamps) // 3 + 30)]
    video = last.index[0]

    def base_timeline() -> pd.DataFrame:
        rows = []
        for f in files:
            part = pd.read_parquet(f, filters=[("id", "==", video)])
            rows.append(part.assign(day=f.stem))
        return pd.concat(rows)

    def base_changes() -> int:
        a = dm.read_parquet(daily / f"{mid:%Y-%m-%d}.parquet")
        b = dm.read_parquet(daily / f"{month:%Y-%m-%d}.parquet")
        common = a.index.intersection(b.index)
        count = 0
        for column in ("title", "description", "tags", "channel", "private"):
            left, right = a.loc[common, column], b.loc[common, column]
            count += int((left.astype(str) != right.astype(str)).sum())
        return count + len(a.index.symmetric_difference(b.index))

    def base_daily_views() -> pd.Series:
        return pd.Series(
            {f.stem: pd.read_parquet(f, columns=["views_total"]).views_total.sum() for f in files}
        )

    cases = {
        "the channel as of a date": (
            lambda: history.as_of(mid),
            lambda: dm.read_parquet(daily / f"{mid:%Y-%m-%d}.parquet"),
        ),
        "one video over the year": (lambda: history.timeline(video), base_timeline),
        "what changed in 30 days": (lambda: history.changes(mid, month), base_changes),
        "channel views per day, a year": (
            lambda: history.sql(
                "SELECT s.taken_at, sum(v.views_total) FROM snapshots s JOIN snapshot_videos v "
                "ON v.snapshot_id = s.rows_of GROUP BY 1 ORDER BY 1"
            ),
            base_daily_views,
        ),
    }
    assert len(history.changes(mid, month)) >= base_changes() * 0.9  # same question
    print("  query (median of 3)               history    Parquet+pandas   ratio")
    for name, (ours, theirs) in cases.items():
        a, b = median_time(ours), median_time(theirs)
        print(f"  {name:32s} {a * 1000:8.0f} ms {b * 1000:11.0f} ms {b / a:8.1f}x")


def _one_process(sb: Any, workers: int) -> tuple[float, int, float, pd.DataFrame]:
    """``dm.load_videos`` with ``2 * workers`` threads: time, requests; one request's time."""
    from dmtools.history.demo import demo_client

    client = demo_client(sb)
    sb.clear_logs()
    started = time.perf_counter()
    df = dm.load_videos(client, progress=False, workers=2 * workers)
    single = time.perf_counter() - started
    single_requests = sum(1 for r in sb.request_log() if r["path"].endswith("/videos"))
    params = {"fields": ",".join(dm.schema.DEFAULT_VIDEO_FIELDS), "limit": 100, "sort": "old"}
    started = time.perf_counter()
    for page in range(1, 21):  # one page request at a time: latency + server work
        client.get("/me/videos", {**params, "page": page % 10 + 1})
    per_request = (time.perf_counter() - started) / 20
    return single, single_requests, per_request, df


def spark_read(n: int, latency: float, partitions: int, workers: int) -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from dmtools.sandbox import Sandbox
    from dmtools.spark import register

    with Sandbox(videos=n, seed=5, mode="process") as sb:
        c = sb.credentials
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        register(spark)
        options = {
            "grant": "password",
            "client_id": c.public_key.client_id,
            "client_secret": c.public_key.client_secret,
            "username": c.user.username,
            "password": c.user.password,
            "scope": "manage_videos",
            "sandbox_url": sb.url,
            "partitions": str(partitions),
            "workers": str(workers),
            "rate_limit": "0",
        }
        warm = {**options, "created_before": "1"}  # no video: JVM, workers and logins warm up
        spark.read.format("dailymotion.videos").options(**warm).load().count()
        reader = spark.read.format("dailymotion.videos").options(**options)
        sb.set_faults(latency=latency)
        sb.clear_logs()
        started = time.perf_counter()
        found = reader.load().agg(F.count("*"), F.countDistinct("id")).collect()[0]
        elapsed = time.perf_counter() - started
        requests = sum(1 for r in sb.request_log() if r["path"].endswith("/videos"))
        spark.stop()
        single, single_requests, per_request, df = _one_process(sb, workers)
    assert found[0] == found[1] == n == len(df), (found, len(df))
    concurrency = 2 * workers
    bound = requests * latency / concurrency
    print(
        f"\nSpark read of {n:,} videos, {latency * 1000:.0f} ms added per request, local[2], "
        f"{partitions} partitions x {workers} workers"
    )
    print(
        f"  spark.read.format('dailymotion.videos'): {elapsed:6.1f} s, {requests} requests "
        "(planning included)"
    )
    print(
        f"  RTT bound requests*latency/concurrency = {requests}*{latency}/{concurrency} = "
        f"{bound:.1f} s -> {elapsed / bound:.2f}x of it"
    )
    measured = requests * per_request / concurrency
    print(
        f"  one page request alone takes {per_request * 1000:.0f} ms here (latency + server "
        f"work): requests*that/concurrency = {measured:.1f} s -> {elapsed / measured:.2f}x"
    )
    print(
        f"  dm.load_videos in one process ({2 * workers} workers): {single:6.1f} s, "
        f"{single_requests} requests"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--spark-videos", type=int, default=100_000, help="0 to skip part 2")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    if args.days:
        with tempfile.TemporaryDirectory() as tmp:
            history, daily, stamps, last = build(Path(tmp), args.videos, args.days)
            queries(history, daily, stamps, last)
            history.close()
    if args.spark_videos:
        spark_read(args.spark_videos, args.latency, args.partitions, args.workers)


if __name__ == "__main__":
    main()
