"""Channel load speed and memory, on the legacy API and on API v2.

Speed: ``dmtools.load_videos`` (default settings) reads every video of a 10,000-video
channel from a sandbox in its own process (so server and client do not share one GIL) that
adds ``--latency`` to every API request. The baseline, in the same run, is written like the
samples of Dailymotion's authentication guide: plain ``requests`` calls, one page after
another, and, to get past the 1,000-results ceiling of one query, a new ``created_before``
window each time a window fills up (legacy: ``/me/videos``; API v2: the profile's
``/v2/profiles/<id>/videos``, whose bounds are inclusive). dmtools runs ``workers``
requests at a time, so its bound is ``requests * latency / workers``; both ratios are printed
(and the bound again with the time one baseline request really took on this machine)
(targets: at least 8x the baseline, at most 1.2x the bound).

Memory: without added latency, a 100,000-video channel is loaded and its frame built in a
fresh process for each dialect; the growth of that process's resident memory (RSS, sampled
every 10 ms, peak minus start, after a warm-up that imports everything) is the figure, with
the tracemalloc peak of the load alone beside it (Python objects only; Arrow buffers of the
frame are outside tracemalloc).

Run:
    .venv/bin/python benchmarks/bench_load.py                 # both dialects, speed and memory
    .venv/bin/python benchmarks/bench_load.py --api v2 --big 0  # API v2 speed only
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import psutil
import requests
from _machine import describe  # the script's folder is on sys.path

import dmtools as dm
from dmtools import loader
from dmtools.dialects import get_dialect
from dmtools.frames import to_frame
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

DEFAULT_WORKERS = loader.DEFAULT_WORKERS  # load_videos default: the bound is per worker


def _legacy_baseline(sb: Sandbox) -> tuple[int, Callable[[], dict[str, Any]]]:
    """(requests it makes besides pages, the loop): the guide's password grant, then pages."""
    key, user = sb.credentials.public_key, sb.credentials.user
    fields = get_dialect("legacy").fields_param([*dm.schema.DEFAULT_VIDEO_FIELDS])["fields"]

    def run() -> dict[str, Any]:
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
        headers = {"Authorization": f"Bearer {token}"}
        found: dict[str, Any] = {}
        created_before = None
        while True:
            params: dict[str, Any] = {"fields": fields, "limit": 100, "sort": "recent"}
            if created_before is not None:
                params["created_before"] = created_before
            page, count, oldest = 1, 0, None
            while True:
                response = requests.get(
                    sb.url + "/me/videos",
                    params={**params, "page": page},
                    headers=headers,
                    timeout=30,
                )
                data = response.json()
                for video in data["list"]:
                    found[video["id"]] = video
                    oldest = video["created_time"]
                count += len(data["list"])
                if not data["has_more"]:
                    break
                page += 1
            if count < 1000 or oldest is None:  # this window was not cut by the ceiling
                return found
            created_before = oldest + 1  # exclusive bound: read the oldest second again

    return 1, run


def _v2_baseline(sb: Sandbox, profile: str) -> tuple[int, Callable[[], dict[str, Any]]]:
    """The same loop on API v2: a client_credentials token, then the profile's pages."""
    key = sb.credentials.private_key
    names = [n for n in dm.schema.DEFAULT_VIDEO_FIELDS if n != "owner.screenname"]
    fields = get_dialect("v2").fields_param([*names, "created_time"])["fields"]

    def run() -> dict[str, Any]:
        token = requests.post(
            sb.url + "/oauth2/v2/token",
            timeout=30,
            data={
                "grant_type": "client_credentials",
                "client_id": key.client_id,
                "client_secret": key.client_secret,
                "scope": "video.read",
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        found: dict[str, Any] = {}
        created_before = None
        while True:
            params: dict[str, Any] = {"fields": fields, "page_size": 100, "sort": "-created_at"}
            if created_before is not None:
                params["created_before"] = created_before  # inclusive: read it again
            url: str | None = f"{sb.url}/v2/profiles/{profile}/videos"
            count, oldest, query = 0, None, params
            while url:
                data = requests.get(url, params=query, headers=headers, timeout=30).json()
                for video in data["data"]:
                    found[video["video_id"]] = video
                    oldest = video["created_at"]
                count += len(data["data"])
                url, query = data["pagination"].get("next"), None
            if count < 1000 or oldest is None:
                return found
            created_before = oldest

    return 1, run


def _sandbox(api: str, n: int) -> Sandbox:
    if api == "legacy":
        return Sandbox(videos=n, seed=5, mode="process")
    return Sandbox(videos=50, archive_videos=n, seed=5, mode="process")


def _profile(sb: Sandbox, api: str) -> str | None:
    return None if api == "legacy" else sb.credentials.private_key.profiles[-1]


def _load(client: dm.Client, profile: str | None) -> Any:
    if profile is None:
        return dm.load_videos(client, progress=False)
    return dm.load_videos(client, profile=profile, progress=False)


def speed(api: str, n: int, latency: float, repeat: int) -> dict[str, float]:
    """Time the baseline and dmtools on one dialect; print and return the figures."""
    with _sandbox(api, n) as sb, connect_sandbox(sb, api=api) as client:
        profile = _profile(sb, api)
        extra, baseline = _legacy_baseline(sb) if api == "legacy" else _v2_baseline(sb, profile)
        _load(client, profile)  # warm: imports, token, connections
        baseline()
        sb.set_faults(latency=latency)
        mark = len(sb.request_log())
        started = time.perf_counter()
        base_videos = baseline()
        base_time = time.perf_counter() - started
        base_requests = len(sb.request_log()) - mark - extra
        best, requests_made, df = float("inf"), 0, None
        for _ in range(repeat):
            mark = len(sb.request_log())
            started = time.perf_counter()
            df = _load(client, profile)
            elapsed = time.perf_counter() - started
            if elapsed < best:
                best, requests_made = elapsed, len(sb.request_log()) - mark
    assert df is not None and set(df.index) == set(base_videos) and len(df) == n, "loads differ"
    bound = requests_made * latency / DEFAULT_WORKERS
    print(f"[{api}] {n:,} videos, {latency * 1000:.0f} ms added per request, default settings")
    print(f"  baseline, sequential requests:   {base_time:6.2f} s  ({base_requests} page requests)")
    print(f"  dmtools.load_videos (best of {repeat}): {best:6.2f} s  ({requests_made} requests)")
    print(f"  ratio to baseline: {base_time / best:5.1f}x faster (target >= 8x)")
    print(
        f"  bound requests*latency/workers = {requests_made}*{latency:g}/{DEFAULT_WORKERS} = "
        f"{bound:.2f} s -> {best / bound:.2f}x the bound (target <= 1.2x)"
    )
    per_request = base_time / base_requests  # latency plus what the machine adds to each
    measured = requests_made * per_request / DEFAULT_WORKERS
    print(
        f"  one request of the baseline took {per_request * 1000:.0f} ms here: with that, the "
        f"bound is {measured:.2f} s -> {best / measured:.2f}x it"
    )
    return {"baseline": base_time, "dmtools": best, "bound": bound, "requests": requests_made}


def memory(api: str, n: int) -> dict[str, float]:
    """RSS growth while a ``n``-video channel loads and its frame is built (this process)."""
    with _sandbox(api, n) as sb, connect_sandbox(sb, api=api) as client:
        profile = _profile(sb, api)
        dm.load_videos(client, progress=False, created_before=0, **_who(profile))  # warm
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
        df = _load(client, profile)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        peak[0] = max(peak[0], process.memory_info().rss)
        assert len(df) == n
        frame_mib = df.memory_usage(deep=True).sum() / 2**20
        del df
        query = dm.videos.build_query(
            client, owner="me", fields=None, filters={}, **_paths(profile)
        )
        tracemalloc.start()
        records = loader.load_records(client, query, progress=False)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        to_frame(records[:1], fields=list(query.fields))
        assert len(records) == n
    growth = (peak[0] - start_rss) / 1e6
    print(f"[{api}] {n:,} videos, no added latency: load + frame {elapsed:.2f} s")
    print(
        f"  peak RSS growth (load and frame): {growth:.0f} MB = {growth * 1e6 / 2**20:.0f} MiB "
        f"(target < 150 MB); frame itself {frame_mib:.0f} MiB; "
        f"tracemalloc peak of the load alone {traced / 2**20:.0f} MiB"
    )
    return {"rss_growth_mb": growth}


def _who(profile: str | None) -> dict[str, Any]:
    return {} if profile is None else {"profile": profile}


def _paths(profile: str | None) -> dict[str, Any]:
    return {} if profile is None else {"profiles": [profile]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--api", choices=["legacy", "v2", "both"], default="both")
    parser.add_argument("--n", type=int, default=10_000, help="videos in the channel")
    parser.add_argument("--latency", type=float, default=0.05, help="added per request, s")
    parser.add_argument("--repeat", type=int, default=3, help="dmtools loads, best kept")
    parser.add_argument(
        "--big", type=int, default=100_000, help="videos for the memory figures (0 to skip)"
    )
    parser.add_argument("--memory-of", choices=["legacy", "v2"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of:
        memory(args.memory_of, args.big)
        return
    print(describe())
    for api in ("legacy", "v2") if args.api == "both" else (args.api,):
        speed(api, args.n, args.latency, args.repeat)
        if args.big:  # a fresh process each, so one load's freed memory cannot hide another's
            command = [sys.executable, __file__, "--memory-of", api, "--big", str(args.big)]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
