"""Speed of the sandbox's Reporting API: the audience generator, whole reports, tokens.

1. **Generator**: the daily views of a 10,000-video channel (six years of history) over 180
   days, with the closed-form running weight (only the window is evaluated), against the
   baseline that evaluates every day of every video's history and slices the window (what a
   generator must do without a closed form). Both give the same numbers (checked).
2. **Reports** on that channel through HTTP (ask, finish, download every file): ``DAY``,
   ``DAY × VISITOR_COUNTRY`` and ``DAY × VIDEO_ID`` (about a million rows, several files).
3. **Token churn**: partner tokens per second from ``/oauth/v1/token`` (clients that fetch a
   token for every GraphQL call), against authenticated ``GET /video/<id>`` of the same run.

Each figure is the best of ``--repeat`` runs (the machine is shared).

Run: ``.venv/bin/python benchmarks/bench_reporting.py [--videos 10000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import requests

from dmtools.sandbox import Sandbox
from dmtools.sandbox.state import seed as seedmod
from dmtools.sandbox.state.reporting.audience import DAY, daily_views, video_keys


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def generator(videos: int, repeat: int) -> None:
    data = seedmod.build(7, videos)
    channel = [v for v in data.videos if v["owner"] == data.demo.id]
    keys = video_keys(7, [v["id"] for v in channel])
    created = np.array([v["created_time"] // DAY for v in channel])
    totals = np.array([v["views_total"] for v in channel])
    now = time.time()
    today = int(now // DAY)
    window, matrix = best(
        repeat,
        lambda: daily_views(keys, created, totals, now=now, first=today - 179, last=today),
    )
    oldest = int(created.min())

    def whole_history() -> Any:
        full = daily_views(keys, created, totals, now=now, first=oldest, last=today)
        return full[:, -180:]

    baseline, sliced = best(repeat, whole_history)
    assert (sliced == matrix).all()
    cells = matrix.size
    print(f"generator: {len(channel):,} videos x 180 days = {cells:,} cells")
    print(f"  closed form (window only): {window:.3f} s ({cells / window / 1e6:.1f} M cells/s)")
    print(f"  baseline (whole history, {today - oldest + 1:,} days): {baseline:.3f} s")
    print(f"  ratio: {baseline / window:.1f}x faster")


def _token(sb: Sandbox, session: requests.Session) -> str:
    key = sb.credentials.private_key
    response = session.post(
        sb.reporting.token_url,
        data={"grant_type": "client_credentials", "client_id": key.client_id,
              "client_secret": key.client_secret, "scope": "create_reports access_revenue"},
        timeout=30,
    )  # fmt: skip
    return str(response.json()["access_token"])


def _report(sb: Sandbox, session: requests.Session, token: str, dims: list[str]) -> int:
    last = dt.datetime.fromtimestamp(sb.clock(), dt.UTC).date()
    report = {"metrics": ["VIEWS", "ESTIMATED_EARNINGS_EUR"], "dimensions": dims,
              "startDate": str(last - dt.timedelta(days=179)), "endDate": str(last)}  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    asked = session.post(
        sb.reporting.public_graphql_url,
        json={"query": "mutation ($i: AskPartnerReportFileInput!) { askPartnerReportFile"
              "(input: $i) { reportFile { reportToken } } }", "variables": {"i": report}},
        headers=headers, timeout=600,
    ).json()  # fmt: skip
    report_token = asked["data"]["askPartnerReportFile"]["reportFile"]["reportToken"]
    found = session.post(
        sb.reporting.public_graphql_url,
        json={"query": "query ($t: String!) { partner { reportFile(reportToken: $t) { status"
              " downloadLinks { edges { node { link } } } } } }", "variables": {"t": report_token}},
        headers=headers, timeout=600,
    ).json()["data"]["partner"]["reportFile"]  # fmt: skip
    assert found["status"] == "FINISHED", found
    rows = 0
    for edge in found["downloadLinks"]["edges"]:
        rows += session.get(edge["node"]["link"], timeout=600).text.count("\n") - 1
    return rows


def reports(videos: int, repeat: int) -> None:
    with Sandbox(videos=videos, seed=7) as sb:
        sb.settings(report_delay=0, report_max_in_progress=1000)
        session = requests.Session()
        key, user = sb.credentials.public_key, sb.credentials.user
        token = session.post(
            sb.reporting.public_token_url,
            data={"grant_type": "password", "client_id": key.client_id,
                  "client_secret": key.client_secret, "username": user.username,
                  "password": user.password, "scope": "create_reports access_revenue"},
            timeout=30,
        ).json()["access_token"]  # fmt: skip
        print(f"reports over HTTP on the {videos:,}-video channel, 180 days (ask + files):")
        for dims in (["DAY"], ["DAY", "VISITOR_COUNTRY"], ["DAY", "VIDEO_ID"]):
            seconds, rows = best(repeat, lambda d=dims: _report(sb, session, token, d))
            print(f"  {' x '.join(dims):<22} {rows:>9,} rows in {seconds:.2f} s")
        n = 300
        tokens, _ = best(repeat, lambda: [_token(sb, session) for _ in range(n)])
        xid = requests.get(sb.url + "/videos?limit=1&fields=id", timeout=10).json()["list"][0]["id"]
        gets, _ = best(
            repeat, lambda: [session.get(sb.url + f"/video/{xid}", timeout=10) for _ in range(n)]
        )
        print(
            f"token churn: {n / tokens:,.0f} partner tokens/s vs {n / gets:,.0f} GET /video/<id>/s"
            f" (ratio {gets / tokens:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    generator(args.videos, args.repeat)
    reports(args.videos, args.repeat)


if __name__ == "__main__":
    main()
