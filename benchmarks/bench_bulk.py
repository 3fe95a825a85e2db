"""Bulk edit speed: dmtools' plan.apply against a sequential ``requests.post`` loop.

Both edit the titles of the same videos of a sandbox that adds ``--latency`` to every API
request, in the same run. The baseline is the edit sample of Dailymotion's authentication
guide, one ``requests.post`` per video. dmtools does a GET (conflict check) and a POST per
video on ``--workers`` threads, so its ideal time is ``2 * n * latency / workers``.

Run:
    .venv/bin/python benchmarks/bench_bulk.py              # 1,000 edits, 50 ms, 16 workers
    .venv/bin/python benchmarks/bench_bulk.py --n 200 --workers 8
"""

from __future__ import annotations

import argparse
import time

import requests

import dmtools as dm
from dmtools.bulk import plan_edits
from dmtools.sandbox import Sandbox


def baseline(sb: Sandbox, ids: list[str], titles: list[str]) -> float:
    """The seed guide's way: fetch a token, then one requests.post per video, in sequence."""
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
    started = time.perf_counter()
    for video_id, title in zip(ids, titles, strict=True):
        response = requests.post(
            f"{sb.url}/video/{video_id}",
            data={"title": title},
            headers=authorization_header,
            timeout=30,
        )
        if response.status_code != 200 or "id" not in response.json():
            raise RuntimeError("Invalid edit video response")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=1000, help="videos to edit")
    parser.add_argument("--latency", type=float, default=0.05, help="added per request, s")
    parser.add_argument("--workers", type=int, default=16, help="dmtools worker threads")
    args = parser.parse_args()

    with Sandbox(videos=args.n, seed=3, mode="process") as sb:
        key, user = sb.credentials.public_key, sb.credentials.user
        client = dm.connect(
            "password",
            client_id=key.client_id,
            client_secret=key.client_secret,
            username=user.username,
            password=user.password,
            scope=["manage_videos"],
            endpoints=sb.endpoints,
        )
        df = dm.load_videos(client, progress=False)
        ids = list(df.index[: args.n])
        sb.set_faults(latency=args.latency)

        seq_time = baseline(sb, ids, [f"{t[:80]} (loop)" for t in df.loc[ids, "title"]])

        sb.clear_faults()
        df = dm.load_videos(client, progress=False)
        edited = df.copy()
        edited.loc[ids, "title"] = [f"{t[:80]} (dmtools)" for t in df.loc[ids, "title"]]
        plan = plan_edits(df, edited)
        sb.set_faults(latency=args.latency)
        started = time.perf_counter()
        result = plan.apply(client, workers=args.workers, progress=False)
        dm_time = time.perf_counter() - started
        sb.clear_faults()
        client.close()

    counts = {k: v for k, v in result.counts().items() if v}
    ideal = 2 * len(plan) * args.latency / args.workers
    print(f"{len(plan)} edits, {args.latency * 1000:.0f} ms latency per request")
    print(f"  requests.post loop (1 request/edit, sequential): {seq_time:7.2f} s")
    print(
        f"  dmtools apply (GET + POST per edit, {args.workers} workers): {dm_time:7.2f} s  {counts}"
    )
    print(f"  speed-up: {seq_time / dm_time:.1f}x (target >= 5x)")
    print(
        f"  ideal 2 x n x latency / workers = {ideal:.2f} s; dmtools is "
        f"{dm_time / ideal:.2f}x of it (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
