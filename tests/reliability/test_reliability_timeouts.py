"""R-07: a stalled API never hangs a call, a load or a bulk job.

The sandbox (in a child process, so its server threads are not counted here) stalls with a
``hold`` fault: it runs the request, then keeps the answer for 60 s. The client uses a 1 s read
timeout and the default time budget per call (``Timeouts.total`` = twice the read timeout).
What each request was sent with is recorded where requests hands it to the socket, so the
budgets are checked exactly; on the wall clock a call must take at least its timeout and end
long before the stall would (a quarter of it), however busy the machine:

* a write (edit, delete) is sent exactly once, with the read timeout (a timeout after sending
  is ambiguous: never resent), and fails when it runs out;
* a read is tried at most ``total / read`` times, the attempts' read timeouts adding up to no
  more than its time budget (each cut to what is left), not ``attempts x read``; with
  ``total=read`` it is tried once;
* ``load_videos`` ends with a clear ``TransportError`` and ``plan.apply`` with failed rows (or,
  when only the writes stall, with rows confirmed by reading back), every request within the
  read timeout, and ``threading.active_count()`` is back to its baseline afterwards (no
  thread the job started is left);
* statically, ``ruff check --select S113 dmtools`` (requests call without a timeout) is clean,
  and at run time every request dmtools sends carries a finite timeout.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from _support import ROOT
from _support.dialects import EDIT_METHOD, archive_profile, load_channel

import dmtools as dm
from dmtools._retry import Timeouts
from dmtools.bulk import plan_edits
from dmtools.client import Client
from dmtools.errors import TransportError
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

TIMEOUTS = Timeouts(connect=1.0, read=1.0)  # total: 2 s
STALL = 60.0
FAR_BELOW_STALL = STALL / 4  # a call that ends before this did not wait for the stall


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=30, seed=17, mode="process") as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _clean(sb: Sandbox) -> Iterator[None]:
    sb.clear_faults()
    yield
    sb.clear_faults()  # sends every held answer now


def login(
    sb: Sandbox, timeout: Timeouts = TIMEOUTS, dialect: str = "legacy", **options: Any
) -> Client:
    client = connect_sandbox(sb, timeout=timeout, api=dialect, **options)
    client.account_id  # noqa: B018  (read now, so no job needs to ask the stalled API)
    if dialect != "legacy":
        archive_profile(client)  # the profile the jobs load, read before the API stalls
    return client


#: A video's path on the wire, by dialect; the method of an edit.
VIDEO = {"legacy": "/video/{}", "v2": "/v2/videos/{}"}


def load(client: Client) -> Any:
    return load_channel(client, progress=False)


Sent = list[tuple[str, str, Any]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """(method, path, timeout) of every request requests sends, as handed to its adapter."""
    seen: Sent = []
    real_send = requests.adapters.HTTPAdapter.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        seen.append((request.method, request.path_url.split("?")[0], kwargs.get("timeout")))
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return seen


def read_timeouts(sent: Sent, method: str, path: str) -> list[float]:
    """The read timeouts ``method path`` was sent with, in order."""
    return [timeout[1] for m, p, timeout in sent if (m, p) == (method, path)]


def stall(sb: Sandbox, methods: list[str] | None = None) -> int:
    """Hold every API answer (not the token endpoint) for a minute; the fault log's length."""
    rule: dict[str, Any] = {"kind": "hold", "seconds": STALL, "path": "^/(?!oauth)"}
    if methods:
        rule["methods"] = methods
    mark = len(sb.fault_log())
    sb.set_faults(rules=[rule])
    return mark


def holds(sb: Sandbox, mark: int, method: str | None = None) -> int:
    """Requests held since ``mark`` (a hold is logged before the answer is held)."""
    return sum(
        1
        for f in sb.fault_log()[mark:]
        if f["kind"] == "hold" and (method is None or f["method"] == method)
    )


class Threads:
    """The threads alive now; :meth:`check` that the count is back and none of ours is left.

    Threads of other tests (module fixtures shutting down) may end meanwhile, so the count may
    fall below the baseline, never rise above it.
    """

    def __init__(self) -> None:
        self.count = threading.active_count()
        self.alive = set(threading.enumerate())

    def check(self) -> None:
        assert set(threading.enumerate()) - self.alive == set()
        assert threading.active_count() <= self.count


def first_videos(client: Client, n: int) -> list[str]:
    listing = client.get("/me/videos", {"fields": "id", "limit": n})
    return [str(v["id"]) for v in listing["list"]]


# -- single calls ------------------------------------------------------------------------------


def test_the_default_time_budget_is_twice_the_read_timeout() -> None:
    assert Timeouts() == Timeouts(connect=3.05, read=30.0, total=60.0)
    assert Timeouts.coerce((2.0, 5.0)).total == 10.0 and TIMEOUTS.total == 2.0
    for bad in (0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            Timeouts(total=bad)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_stalled_write_fails_within_the_read_timeout_and_is_sent_once(
    sb: Sandbox, sent: Sent, method: str
) -> None:
    with login(sb) as client:
        video = first_videos(client, 30)[-1 if method == "DELETE" else 0]
        mark = stall(sb, [method])
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            if method == "POST":
                client.post(f"/video/{video}", {"title": "held"})
            else:
                client.delete(f"/video/{video}")
        elapsed = time.monotonic() - started
    assert info.value.sent is True and "did not answer in time" in str(info.value)
    assert read_timeouts(sent, method, f"/video/{video}") == [TIMEOUTS.read]
    assert TIMEOUTS.read <= elapsed < FAR_BELOW_STALL
    assert holds(sb, mark, method) == 1


def test_a_stalled_read_fails_within_its_time_budget_not_after_every_attempt(
    sb: Sandbox, sent: Sent
) -> None:
    with login(sb) as client:
        video = first_videos(client, 1)[0]
        backoff = client.transport.backoff
        assert backoff.attempts == 5  # the default: a read may be tried five times
        mark = stall(sb, ["GET"])
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            client.get(f"/video/{video}", {"fields": "id,title"})
        elapsed = time.monotonic() - started
        assert client.stats["deadline"] == 1
    assert "gave up after waiting 2 s" in str(info.value)
    assert TIMEOUTS.total is not None and TIMEOUTS.total <= elapsed < FAR_BELOW_STALL
    tried = read_timeouts(sent, "GET", f"/video/{video}")
    # one retry at most (two on an idle machine), its read timeout cut to what was left
    assert 1 <= len(tried) <= math.ceil(TIMEOUTS.total / TIMEOUTS.read) < backoff.attempts
    assert tried[0] == TIMEOUTS.read and sum(tried) <= TIMEOUTS.total
    assert holds(sb, mark) == len(tried)


def test_with_a_budget_of_one_read_timeout_a_stalled_read_is_not_retried(
    sb: Sandbox, sent: Sent
) -> None:
    tight = Timeouts(connect=1.0, read=1.0, total=1.0)
    with login(sb, timeout=tight) as client:
        video = first_videos(client, 1)[0]
        mark = stall(sb, ["GET"])
        started = time.monotonic()
        with pytest.raises(TransportError):
            client.get(f"/video/{video}")
        elapsed = time.monotonic() - started
    assert read_timeouts(sent, "GET", f"/video/{video}") == [tight.read]
    assert tight.read <= elapsed < FAR_BELOW_STALL
    assert holds(sb, mark) == 1


# -- whole jobs --------------------------------------------------------------------------------


def test_load_videos_on_a_stalled_api_ends_with_a_transport_error_and_no_thread_left(
    sb: Sandbox, sent: Sent, dialect: str
) -> None:
    with login(sb, dialect=dialect) as client:
        listing = (
            "/me/videos" if dialect == "legacy" else f"/profiles/{archive_profile(client)}/videos"
        )
        wire = listing if dialect == "legacy" else "/v2" + listing
        baseline = Threads()
        mark = stall(sb, ["GET"])
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            load_channel(client, progress=False, workers=8)
        elapsed = time.monotonic() - started
    assert info.value.path == wire and "did not answer in time" in str(info.value)
    assert 0 < max(read_timeouts(sent, "GET", wire)) <= TIMEOUTS.read
    assert elapsed < FAR_BELOW_STALL
    assert holds(sb, mark) >= 1
    baseline.check()


def test_apply_on_a_stalled_api_fails_every_row_in_bounded_time_and_writes_nothing(
    sb: Sandbox, sent: Sent, dialect: str
) -> None:
    with login(sb, dialect=dialect) as client:
        df = load(client)
        edited = df.copy()
        videos = list(df.index[:4])
        edited.loc[videos, "title"] = "Never sent"
        plan = plan_edits(df, edited)
        commits = len(sb.commits())
        baseline = Threads()
        stall(sb)
        started = time.monotonic()
        result = plan.apply(client, workers=4, progress=False, batch=False)
        elapsed = time.monotonic() - started
    rows = result.to_frame()
    assert rows["op_status"].tolist() == ["failed"] * 4
    assert rows["error_type"].tolist() == ["TransportError"] * 4
    assert rows["message"].str.contains("did not answer in time").all()
    assert result.stopped is None  # each row failed on its own; the budget was not spent
    for video in videos:  # each row's reads within its own budget
        tried = read_timeouts(sent, "GET", VIDEO[dialect].format(video))
        assert tried and max(tried) <= TIMEOUTS.read and sum(tried) <= TIMEOUTS.total
    assert elapsed < FAR_BELOW_STALL  # four rows side by side, none waiting for the stall
    assert len(sb.commits()) == commits  # the compare-before-write reads never came back
    baseline.check()


def test_apply_with_stalled_writes_confirms_each_row_by_reading_back_once(
    sb: Sandbox, sent: Sent, dialect: str
) -> None:
    write = EDIT_METHOD[dialect]
    with login(sb, dialect=dialect) as client:
        df = load(client)
        edited = df.copy()
        videos = list(df.index[4:8])
        edited.loc[videos, "title"] = [f"Held write {i}" for i in range(4)]
        plan = plan_edits(df, edited)
        commits = len(sb.commits())
        baseline = Threads()
        mark = stall(sb, [write])  # the write is committed, then its answer never comes
        started = time.monotonic()
        result = plan.apply(client, workers=4, progress=False, batch=False)
        elapsed = time.monotonic() - started
    rows = result.to_frame()
    assert rows["op_status"].tolist() == ["applied"] * 4
    assert rows["attempts"].tolist() == [1] * 4  # read back, never resent
    assert holds(sb, mark, write) == 4
    assert sorted(c["video_id"] for c in sb.commits()[commits:]) == sorted(videos)
    for video in videos:  # one held write each, sent once with the read timeout
        assert read_timeouts(sent, write, VIDEO[dialect].format(video)) == [TIMEOUTS.read]
    assert elapsed < FAR_BELOW_STALL
    baseline.check()


# -- every request has a timeout ---------------------------------------------------------------


def _ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "S113", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_static_check_finds_no_request_without_a_timeout(tmp_path: Path) -> None:
    clean = _ruff("dmtools")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # The check is live: the same command flags a call without a timeout.
    (tmp_path / "bad.py").write_text(
        textwrap.dedent("""\
        import requests
        requests.get("https://api.dailymotion.com/videos")
    """)
    )
    flagged = _ruff("bad.py", cwd=tmp_path)
    assert flagged.returncode == 1 and "S113" in flagged.stdout


def test_every_request_dmtools_sends_carries_a_finite_timeout(sb: Sandbox, sent: Sent) -> None:
    with login(sb) as client:
        video = first_videos(client, 1)[0]
        client.get(f"/video/{video}", {"fields": "title"})
        client.post(
            f"/video/{video}",
            {"title": client.get(f"/video/{video}", {"fields": "title"})["title"]},
        )
        dm.load_videos(client, progress=False, fields=["id", "title"])
        client.logout()
    paths = {path for _, path, _ in sent}
    assert {"/oauth/token", "/me/videos", f"/video/{video}", "/logout"} <= paths
    for method, path, timeout in sent:
        parts = timeout if isinstance(timeout, tuple) else (timeout,)
        assert all(isinstance(t, int | float) and 0 < t < math.inf for t in parts), (
            method,
            path,
            timeout,
        )
