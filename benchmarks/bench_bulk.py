"""Bulk speed: dmtools' edits and deletes against the seed guide's one-request-per-video loop.

Everything runs against one sandbox that adds ``--latency`` to every API request, in the same
run, with dmtools' default settings (``plan.apply(client)``, ``plan.apply(client,
confirm=n)``):

* **baseline**: the edit sample of Dailymotion's authentication guide, a token then one
  ``requests.post`` per video in sequence (and the same loop with ``requests.delete`` for
  deletes): ``n * latency`` at best;
* **legacy edit**: compare-before-write reads of 100 videos per request (``ids``), writes in
  multi-calls of 10, pipelined (32 requests in flight);
* **legacy delete**: the backup, then DELETEs in multi-calls of 10;
* **v2 edit**: API v2 has neither ``ids`` reads nor multi-call: one ``GET`` (compare) and one
  ``PATCH`` per video, pipelined;
* **legacy edit, multi-call refused**: the same edit on a server without multi-call (the
  client falls back to single calls by itself).

Each line prints the time, the requests the server saw, and the ratio to the baseline (the
targets: legacy edit >= 40x, v2 edit >= 10x). The machine is shared: figures vary with load.

Run:
    .venv/bin/python benchmarks/bench_bulk.py              # 1,000 videos, 50 ms
    .venv/bin/python benchmarks/bench_bulk.py --n 400
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import requests

import dmtools as dm
from dmtools.bulk import plan_deletes, plan_edits
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


def seed_token(sb: Sandbox) -> dict[str, str]:
    """The seed guide's login: a password-grant token, as an Authorization header."""
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
    return {"Authorization": f"Bearer {token}"}


def seed_edits(sb: Sandbox, ids: list[str], titles: list[str]) -> float:
    """The seed guide's way: one requests.post per video, in sequence."""
    authorization_header = seed_token(sb)
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


def seed_deletes(sb: Sandbox, ids: list[str]) -> float:
    """The same loop for deletes: one requests.delete per video, in sequence."""
    authorization_header = seed_token(sb)
    started = time.perf_counter()
    for video_id in ids:
        response = requests.delete(
            f"{sb.url}/video/{video_id}", headers=authorization_header, timeout=30
        )
        if response.status_code != 200:
            raise RuntimeError("Invalid delete video response")
    return time.perf_counter() - started


def timed(sb: Sandbox, latency: float, run: Callable[[], Any]) -> tuple[float, int, Any]:
    """(seconds, API requests the server saw, result) of ``run`` at ``latency``."""
    log = sb.request_log()
    start = log[-1]["seq"] if log else 0
    sb.set_faults(latency=latency)
    try:
        began = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - began
    finally:
        sb.clear_faults()
    return seconds, len(sb.request_log(start)), result


def retitled(df: Any, ids: list[str], suffix: str) -> Any:
    edited = df.copy()
    edited.loc[ids, "title"] = [f"{t[:80]} ({suffix})" for t in df.loc[ids, "title"]]
    return plan_edits(df, edited)


def line(name: str, seconds: float, count: int, base: float, result: Any, target: str) -> None:
    counts = {k: v for k, v in result.counts().items() if v}
    print(
        f"  {name:<34} {seconds:7.2f} s  {count:5d} requests  "
        f"{base / seconds:6.1f}x the loop ({target})  {counts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=1000, help="videos per case")
    parser.add_argument("--latency", type=float, default=0.05, help="added per request, s")
    args = parser.parse_args()
    n, latency = args.n, args.latency

    with Sandbox(videos=4 * n, seed=3, mode="process") as sb:
        legacy = connect_sandbox(sb, scope=["manage_videos"])
        v2 = connect_sandbox(sb, api="v2")
        df = dm.load_videos(legacy, progress=False)
        ids = list(df.index)
        loop_ids, edit_ids, delete_ids, refused_ids = (ids[i * n : (i + 1) * n] for i in range(4))

        sb.set_faults(latency=latency)
        loop = seed_edits(sb, loop_ids, [f"{t[:80]} (loop)" for t in df.loc[loop_ids, "title"]])
        sb.clear_faults()
        print(f"{n} videos per case, {latency * 1000:.0f} ms added per request, defaults")
        print(f"  {'seed loop, requests.post per video':<34} {loop:7.2f} s  {n:5d} requests")

        plan = retitled(df, edit_ids, "dmtools")
        secs, count, result = timed(sb, latency, lambda: plan.apply(legacy, progress=False))
        line("legacy edit (ids reads, multi-call)", secs, count, loop, result, "target >= 40x")

        delete_loop_ids = delete_ids[: max(1, n // 4)]
        deletes = plan_deletes(delete_ids[len(delete_loop_ids) :], snapshot=df)
        sb.set_faults(latency=latency)
        delete_loop = seed_deletes(sb, delete_loop_ids) * n / len(delete_loop_ids)
        sb.clear_faults()
        with tempfile.TemporaryDirectory() as folder:
            backup = os.path.join(folder, "backup.json")
            secs, count, result = timed(
                sb,
                latency,
                lambda: deletes.apply(
                    legacy, confirm=len(deletes), export_path=backup, force=True, progress=False
                ),
            )
        scaled = secs * n / len(deletes)
        print(f"  {'seed loop, requests.delete per video':<34} {delete_loop:7.2f} s  (per {n})")
        line("legacy delete (multi-call)", scaled, count, delete_loop, result, "per n videos")

        frame = dm.load_videos(v2, progress=False)
        v2_plan = retitled(frame, list(frame.index[:n]), "v2")
        secs, count, result = timed(sb, latency, lambda: v2_plan.apply(v2, progress=False))
        line("v2 edit (GET + PATCH, pipelined)", secs, count, loop, result, "target >= 10x")

        sb.settings(multicall=False)
        refused = retitled(df, refused_ids, "single calls")
        fresh = connect_sandbox(sb, scope=["manage_videos"])
        secs, count, result = timed(sb, latency, lambda: refused.apply(fresh, progress=False))
        line("legacy edit, multi-call refused", secs, count, loop, result, "fallback")
        for client in (legacy, v2, fresh):
            client.close()


if __name__ == "__main__":
    main()
