"""Channel load speed: dmtools.load_videos against a page-after-page ``requests`` loop.

Both read every video of a 10,000-video channel from a sandbox (its own process, so server
and client do not share one GIL) that adds ``--latency`` to every API request, in the same
run. The baseline is written like the samples of Dailymotion's authentication guide: plain
``requests.get`` calls, one page after another, and, to get past the 1,000-results ceiling,
a new ``created_before`` window each time a window fills up. dmtools runs ``--workers``
requests at a time, so its lower bound is ``requests * latency / workers``.

Then, without added latency, a 100,000-video channel is loaded to report the peak memory
(RSS growth of this process, sampled, and the tracemalloc peak of the records) and the
time to build the frame from the records.

Run:
    .venv/bin/python benchmarks/bench_load.py                   # 10,000 videos, 50 ms, 8 workers
    .venv/bin/python benchmarks/bench_load.py --big 0           # skip the 100,000-video part
"""

from __future__ import annotations

import argparse
import threading
import time
import tracemalloc
import warnings
from typing import Any

import psutil
import requests

import dmtools as dm
from dmtools import loader, videos
from dmtools.frames import to_frame
from dmtools.sandbox import Sandbox

FIELDS = ",".join(dm.schema.DEFAULT_VIDEO_FIELDS)


def connect(sb: Sandbox) -> dm.Client:
    key, user = sb.credentials.public_key, sb.credentials.user
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the password grant is legacy and says so
        return dm.connect(
            "password",
            client_id=key.client_id,
            client_secret=key.client_secret,
            username=user.username,
            password=user.password,
            scope=["manage_videos"],
            endpoints=sb.endpoints,
        )


def baseline(sb: Sandbox) -> tuple[float, dict[str, dict[str, Any]]]:
    """The guide's way: a token, then requests.get page after page, window after window."""
    key, user = sb.credentials.public_key, sb.credentials.user
    token = requests.post(
        sb.url + "/oauth/token",
        timeout=30,
        data={
            "grant_type": "password",
            "client_id": key.client_id,
            "client_secret": key.client_secret,
            "username": user.username,
            "password": user.password,
            "scope": "manage_videos",
        },
    ).json()["access_token"]
    authorization_header = {"Authorization": f"Bearer {token}"}
    videos_url = sb.url + "/me/videos"

    def get_videos_page(params: dict[str, Any]) -> dict[str, Any]:
        response = requests.get(videos_url, params=params, headers=authorization_header, timeout=30)
        if response.status_code != 200 or "list" not in response.json():
            raise RuntimeError("Invalid video list response")
        return dict(response.json())

    started = time.perf_counter()
    found: dict[str, dict[str, Any]] = {}
    created_before = None
    while True:
        params: dict[str, Any] = {"fields": FIELDS, "limit": 100, "sort": "recent"}
        if created_before is not None:
            params["created_before"] = created_before
        page, count, oldest = 1, 0, None
        while True:
            data = get_videos_page({**params, "page": page})
            for video in data["list"]:
                found[video["id"]] = video
                oldest = video["created_time"]
            count += len(data["list"])
            if not data["has_more"]:
                break
            page += 1
        if count < 1000 or oldest is None:  # this window was not cut by the ceiling
            break
        created_before = oldest + 1  # exclusive bound: read the oldest second again
    return time.perf_counter() - started, found


def timed_load(sb: Sandbox, client: dm.Client, workers: int) -> tuple[float, int, Any]:
    mark = len(sb.request_log())
    started = time.perf_counter()
    df = dm.load_videos(client, progress=False, workers=workers)
    elapsed = time.perf_counter() - started
    return elapsed, len(sb.request_log()) - mark, df


def round_trip(sb: Sandbox, client: dm.Client, samples: int = 20) -> float:
    """Mean time of one 100-video page request, one at a time (latency plus server work)."""
    params = {"fields": FIELDS, "limit": 100, "sort": "old"}
    started = time.perf_counter()
    for page in range(1, samples + 1):
        client.get("/me/videos", {**params, "page": (page - 1) % 10 + 1})
    return (time.perf_counter() - started) / samples


def speed(n: int, latency: float, workers: int) -> None:
    with Sandbox(videos=n, seed=5, mode="process") as sb, connect(sb) as client:
        client.me()
        dm.load_videos(client, progress=False, created_before=0)  # warm imports
        sb.set_faults(latency=latency)
        base_time, base_videos = baseline(sb)
        base_requests = len(sb.request_log())
        sb.clear_logs()
        best = None
        for _ in range(3):
            result = timed_load(sb, client, workers)
            best = result if best is None or result[0] < best[0] else best
        assert best is not None
        elapsed, requests_made, df = best
        per_request = round_trip(sb, client)
    assert set(df.index) == set(base_videos) and len(df) == n, "the two loads disagree"
    bound = requests_made * latency / workers
    ideal = -(-n // 100) * latency / workers
    print(f"{n} videos, {latency * 1000:.0f} ms added per request, {workers} workers")
    print(
        f"  baseline (requests, sequential): {base_time:6.2f} s  "
        f"({base_requests} requests incl. token)"
    )
    print(f"  dmtools.load_videos (best of 3): {elapsed:6.2f} s  ({requests_made} requests)")
    print(f"  speed-up: {base_time / elapsed:.1f}x (target >= 5x)")
    print(
        f"  lower bound requests*latency/workers = {bound:.2f} s -> "
        f"{elapsed / bound:.2f}x of it (target <= 1.5x); "
        f"with the minimum {-(-n // 100)} requests: {ideal:.2f} s -> {elapsed / ideal:.2f}x"
    )
    measured = requests_made * per_request / workers
    print(
        f"  one page request alone takes {per_request * 1000:.0f} ms here (latency + server "
        f"work); requests*that/workers = {measured:.2f} s -> {elapsed / measured:.2f}x of it"
    )


def memory(n: int, workers: int) -> None:
    with Sandbox(videos=n, seed=5, mode="process") as sb, connect(sb) as client:
        client.me()
        query = videos.build_query(client, owner="me", fields=None, filters={})
        process = psutil.Process()
        start_rss = process.memory_info().rss
        peak = [start_rss]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.01):
                peak[0] = max(peak[0], process.memory_info().rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        records = loader.load_records(client, query, progress=False, workers=workers)
        loaded = time.perf_counter()
        df = to_frame(records, fields=list(query.fields))
        built = time.perf_counter()
        done.set()
        sampler.join()
        peak[0] = max(peak[0], process.memory_info().rss)
        assert len(df) == n
        del df
        tracemalloc.start()
        again = loader.load_records(client, query, progress=False, workers=workers)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(again) == n
    print(f"{n} videos, no added latency, {workers} workers")
    print(f"  load {loaded - started:.2f} s, frame from records {built - loaded:.2f} s")
    print(f"  peak RSS growth during load + frame: {(peak[0] - start_rss) / 2**20:.0f} MiB")
    print(f"  tracemalloc peak of the records load: {traced_peak / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=10_000, help="videos in the channel")
    parser.add_argument("--latency", type=float, default=0.05, help="added per request, s")
    parser.add_argument("--workers", type=int, default=8, help="dmtools worker threads")
    parser.add_argument(
        "--big", type=int, default=100_000, help="videos for the memory figures (0 to skip)"
    )
    args = parser.parse_args()
    speed(args.n, args.latency, args.workers)
    if args.big:
        memory(args.big, args.workers)


if __name__ == "__main__":
    main()
