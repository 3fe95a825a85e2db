"""Speed of ``dm.load_analytics`` against the hand-written client publishers script.

The baseline is what public Reporting API scripts do: ask with ``requests``, poll, download
every link, ``pd.read_csv`` each file and ``pd.concat`` them (no checks, no types beyond what
``read_csv`` guesses, no resume). dmtools does more per report (names and limits checked,
variables checked against the schema, persisted tokens, typed columns, sorting), so the
figure to watch is the ratio on large reports: the cost of that work per row.

Both read the same report of the demo user's channel on the same sandbox (report delay 0, so
no waiting is measured): ``DAY x VIDEO_ID`` views and seconds watched over 180 days of a
``--videos`` channel (files of 100,000 rows), and the same over 360 days (two reports,
stitched). The row counts
are checked equal. Each figure is the best of ``--repeat`` runs (the machine is shared).

Run: ``.venv/bin/python benchmarks/bench_analytics.py [--videos 3000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import time
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
import requests

import dmtools as dm
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

ASK = (
    "mutation ($input: AskPartnerReportFileInput!) "
    "{ askPartnerReportFile(input: $input) { reportFile { reportToken } } }"
)
POLL = (
    "query ($t: String!) { partner { reportFile(reportToken: $t) "
    "{ status downloadLinks { edges { node { link } } } } } }"
)


def best(repeat: int, *works: Callable[[], Any]) -> list[tuple[float, Any]]:
    """The best time (and last result) of each of ``works``, run in turn ``repeat`` times
    (interleaved, so a busy moment of the machine hits both alike)."""
    times: list[list[float]] = [[] for _ in works]
    results: list[Any] = [None] * len(works)
    for _ in range(repeat):
        for i, work in enumerate(works):
            started = time.perf_counter()
            results[i] = work()
            times[i].append(time.perf_counter() - started)
    return [(min(t), r) for t, r in zip(times, results, strict=True)]


def baseline(sb: Sandbox, start: dt.date, end: dt.date) -> pd.DataFrame:
    """A publisher's script: one report per 180 days, files concatenated."""
    key, user = sb.credentials.public_key, sb.credentials.user
    form = {"grant_type": "password", "client_id": key.client_id,
            "client_secret": key.client_secret, "username": user.username,
            "password": user.password, "scope": " ".join(dm.analytics.SCOPES)}  # fmt: skip
    url = sb.reporting.public_graphql_url
    token = requests.post(sb.reporting.public_token_url, data=form, timeout=30).json()[
        "access_token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    frames, first = [], start
    while first <= end:
        last = min(first + dt.timedelta(days=179), end)
        variables = {"input": {"metrics": ["VIEWS", "TIME_WATCHED_SECONDS"],
                               "dimensions": ["DAY", "VIDEO_ID"],
                               "startDate": first.isoformat(), "endDate": last.isoformat()}}  # fmt: skip
        asked = requests.post(url, headers=headers, timeout=60,
                              json={"query": ASK, "variables": variables}).json()  # fmt: skip
        report = asked["data"]["askPartnerReportFile"]["reportFile"]["reportToken"]
        found = requests.post(url, headers=headers, timeout=60,
                              json={"query": POLL, "variables": {"t": report}}).json()  # fmt: skip
        for edge in found["data"]["partner"]["reportFile"]["downloadLinks"]["edges"]:
            data = requests.get(edge["node"]["link"], timeout=60).content
            frames.append(pd.read_csv(io.BytesIO(data)))
        first = last + dt.timedelta(days=1)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with Sandbox(videos=args.videos) as sb:
        sb.settings(report_delay=0)
        client = connect_sandbox(sb, grant="password", scope=dm.analytics.SCOPES)
        end = dt.datetime.fromtimestamp(sb.clock(), dt.UTC).date()
        print(f"DAY x VIDEO_ID, views and seconds watched, {args.videos:,}-video sandbox:")
        for days in (180, 360):
            start = end - dt.timedelta(days=days - 1)
            (mine, frame), (theirs, plain) = best(
                args.repeat,
                lambda s=start: dm.load_analytics(
                    client, ["views", "time_watched_seconds"], ["day", "video_id"], start=s,
                    end=end, progress=False, state=False),
                lambda s=start: baseline(sb, s, end),
            )  # fmt: skip
            assert len(frame) == len(plain), (len(frame), len(plain))
            print(
                f"  {days} days ({len(frame):,} rows, {-(-days // 180)} report(s)): "
                f"dmtools {mine:.2f} s, baseline {theirs:.2f} s: {mine / theirs:.2f}x the "
                f"baseline's time ({len(frame) / mine:,.0f} rows/s)"
            )


if __name__ == "__main__":
    main()
