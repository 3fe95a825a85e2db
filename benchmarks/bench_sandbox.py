"""Sequential request rate of the sandbox on loopback.

Measures authenticated ``GET /video/<id>`` calls sent one after another with one
``requests.Session`` (keep-alive, the server disables Nagle), against the baseline of the same
requests each on a new connection, in thread mode and in process mode, and prints the figures
and the ratio. With ``--lists`` it also measures list pages of 100 videos (the owner's
channel, then with a search, a tag and an ``ids`` filter) against the single-video GET of the
same run. With ``--v2`` it measures API v2 reads (a JWT-authenticated ``GET
/v2/videos/<id>`` and a list page of 100 of a profile) against the same legacy reads of the
same videos by the same private key (``GET /rest/video/<id>``, ``/rest/user/<id>/videos``),
in thread mode and in process mode. The target is at least 1,000 sequential single-video
requests per second on each dialect; process mode (the sandbox in its own process, as
``dmtools sandbox`` runs it) is the figure, thread mode shares this process's GIL with the
client.

Each figure is the fastest of ``--repeat`` runs (other processes on the machine add noise).

Run: ``.venv/bin/python benchmarks/bench_sandbox.py [--requests N] [--lists] [--v2] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import requests
from _machine import describe  # the script's folder is on sys.path

from dmtools.sandbox import Sandbox


def _token(sb: Sandbox) -> str:
    creds = sb.credentials
    response = requests.post(
        sb.url + "/oauth/token",
        timeout=10,
        data={
            "grant_type": "password",
            "client_id": creds.public_key.client_id,
            "client_secret": creds.public_key.client_secret,
            "username": creds.user.username,
            "password": creds.user.password,
            "scope": "manage_videos",
        },
    )
    return str(response.json()["access_token"])


REPEAT = [3]  # runs of each measurement; the fastest is kept (other processes add noise)


def _measure(n: int, call: Callable[[int], requests.Response]) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of the fastest of ``REPEAT`` runs of ``n`` calls."""
    return max((_run(n, call) for _ in range(REPEAT[0])), key=lambda run: run[0])


def _run(n: int, call: Callable[[int], requests.Response]) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of ``n`` sequential calls."""
    latencies = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        response = call(i)
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.text
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return n / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def run(mode: str, n: int) -> tuple[float, float]:
    with Sandbox(videos=1500, mode=mode) as sb:
        headers = {"Authorization": "Bearer " + _token(sb)}
        ids = [
            v["id"]
            for v in requests.get(
                sb.url + "/me/videos", headers=headers, timeout=10, params={"limit": 100}
            ).json()["list"]
        ]
        session = requests.Session()
        session.trust_env = False

        def keep_alive(i: int) -> requests.Response:
            return session.get(f"{sb.url}/video/{ids[i % 100]}", headers=headers, timeout=10)

        def new_connection(i: int) -> requests.Response:
            with requests.Session() as fresh:
                fresh.trust_env = False
                return fresh.get(f"{sb.url}/video/{ids[i % 100]}", headers=headers, timeout=10)

        _measure(50, keep_alive)  # warm-up
        fast = _measure(n, keep_alive)
        slow = _measure(n, new_connection)
        session.close()
    print(
        f"{mode:>7} mode: one Session {fast[0]:7.0f} req/s (p50 {fast[1]:.2f} ms, "
        f"p99 {fast[2]:.2f} ms) | new connection each {slow[0]:7.0f} req/s "
        f"(p50 {slow[1]:.2f} ms, p99 {slow[2]:.2f} ms) | ratio {fast[0] / slow[0]:.2f}x | "
        f"{_verdict(fast[0])}"
    )
    return fast[0], slow[0]


LIST_QUERIES = {
    "channel page": {},
    "search": {"search": "review"},
    "tag": {"tags": "music"},
    "ids": {},  # filled with the 100 ids of the first page
}


def run_lists(n: int) -> None:
    """Sequential list pages of 100 videos, against single-video GETs (thread mode)."""
    with Sandbox(videos=1500) as sb:
        headers = {"Authorization": "Bearer " + _token(sb)}
        session = requests.Session()
        session.trust_env = False
        url = sb.url + "/me/videos"
        first = session.get(url, headers=headers, timeout=10, params={"limit": 100}).json()
        ids = [v["id"] for v in first["list"]]
        queries = {**LIST_QUERIES, "ids": {"ids": ",".join(ids)}}

        def one(i: int) -> requests.Response:
            return session.get(f"{sb.url}/video/{ids[i % 100]}", headers=headers, timeout=10)

        _measure(50, one)  # warm-up
        single = _measure(n, one)
        for name, query in queries.items():
            params = {"limit": 100, "fields": "id,title,views_total", **query}

            def page(i: int, params: dict[str, object] = params) -> requests.Response:
                return session.get(url, headers=headers, timeout=10, params=params)

            rate, p50, p99 = _measure(n // 4, page)
            print(
                f"  list {name:>12}: {rate:6.0f} pages/s (p50 {p50:.2f} ms, p99 {p99:.2f} ms)"
                f" | single GET {single[0]:6.0f} req/s | ratio {rate / single[0]:.2f}x"
            )
        session.close()


def _private_tokens(sb: Sandbox) -> tuple[str, str]:
    """(legacy partner token, API v2 token) of the private key."""
    key = sb.credentials.private_key
    form = {
        "grant_type": "client_credentials",
        "client_id": key.client_id,
        "client_secret": key.client_secret,
    }
    legacy = requests.post(
        sb.url + "/oauth/v1/token", data={**form, "scope": "read_videos"}, timeout=10
    )
    v2 = requests.post(
        sb.url + "/oauth2/v2/token", data={**form, "scope": "video.read"}, timeout=10
    )
    return str(legacy.json()["access_token"]), str(v2.json()["access_token"])


TARGET = 1000  # sequential requests per second, keep-alive, on each dialect


def _verdict(rate: float) -> str:
    return f"target >= {TARGET} req/s {'met' if rate >= TARGET else 'MISSED'}"


def run_v2(n: int, mode: str) -> None:
    """API v2 reads against the same legacy reads (the private key, one keep-alive session)."""
    with Sandbox(videos=1500, mode=mode) as sb:
        legacy, v2 = ({"Authorization": "Bearer " + token} for token in _private_tokens(sb))
        profile = sb.credentials.private_key.profiles[-1]
        session = requests.Session()
        session.trust_env = False
        page = session.get(
            f"{sb.url}/v2/profiles/{profile}/videos",
            headers=v2,
            params={"page_size": 100, "fields": "video_id"},
            timeout=10,
        ).json()
        ids = [v["video_id"] for v in page["data"]]
        pairs = {
            "GET one video": (
                lambda i: session.get(f"{sb.url}/rest/video/{ids[i % 100]}", headers=legacy),
                lambda i: session.get(f"{sb.url}/v2/videos/{ids[i % 100]}", headers=v2),
            ),
            "list page of 100": (
                lambda i: session.get(
                    f"{sb.url}/rest/user/{profile}/videos",
                    headers=legacy,
                    params={"limit": 100, "fields": "id,title,created_time"},
                ),
                lambda i: session.get(
                    f"{sb.url}/v2/profiles/{profile}/videos",
                    headers=v2,
                    params={"page_size": 100, "fields": "video_id,title,created_at"},
                ),
            ),
        }
        for name, (old, new) in pairs.items():
            count = n if name == "GET one video" else n // 4
            _measure(50, old)  # warm-up
            _measure(50, new)
            base, mine = _measure(count, old), _measure(count, new)
            verdict = f" | {_verdict(min(mine[0], base[0]))}" if count == n else ""
            print(
                f"{mode:>7} v2 {name:>16}: {mine[0]:6.0f} req/s (p50 {mine[1]:.2f} ms, p99 "
                f"{mine[2]:.2f} ms) | legacy {base[0]:6.0f} req/s | ratio {mine[0] / base[0]:.2f}x"
                f"{verdict}"
            )
        session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--lists", action="store_true", help="also measure list pages")
    parser.add_argument("--v2", action="store_true", help="also measure API v2 reads")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best kept")
    args = parser.parse_args()
    REPEAT[0] = args.repeat
    print(describe())
    for mode in ("thread", "process"):
        run(mode, args.requests)
    if args.lists:
        run_lists(args.requests)
    if args.v2:
        for mode in ("thread", "process"):
            run_v2(args.requests, mode)


if __name__ == "__main__":
    main()
