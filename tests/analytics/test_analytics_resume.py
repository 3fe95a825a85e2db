"""Report tokens survive the process: a load killed while its reports are made is picked up
by a new process (a new client, the same state file) without asking again."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from analytics_support import client, load, today

import dmtools as dm
from dmtools.analytics.state import LIFETIME
from dmtools.sandbox import Sandbox

#: A first run that dies (no clean-up at all) at its first wait, once its reports are asked.
FIRST_RUN = """
import os, sys, warnings
import dmtools as dm
url, key, secret, state, start, end = sys.argv[1:]
warnings.simplefilter("ignore")
client = dm.connect("client_credentials", client_id=key, client_secret=secret,
                    scope=dm.analytics.SCOPES, endpoints=dm.Endpoints.sandbox(url))
dm.load_analytics(client, "views", ["day", "video_id"], start=start, end=end, state=state,
                  progress=False, sleep=lambda seconds: os._exit(7))
"""


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=80, seed=3) as sandbox:
        yield sandbox


def _kept(state: Path) -> list[tuple[str, float, int]]:
    with sqlite3.connect(state) as db:
        return list(db.execute("SELECT token, asked_at, attempts FROM reports ORDER BY token"))


def test_a_new_process_picks_up_the_reports_of_a_killed_one(sb: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "data" / "reports.sqlite"
    start, end = today(sb) - dt.timedelta(days=400), today(sb)  # three reports
    key = sb.credentials.private_key
    since = sb.clock()
    killed = subprocess.run(
        [sys.executable, "-c", FIRST_RUN, sb.url, key.client_id, key.client_secret, str(state),
         start.isoformat(), end.isoformat()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == 7, killed.stderr
    kept = _kept(state)
    assert len(kept) == 2 and all(attempts == 1 for _, _, attempts in kept)  # two in flight
    assert os.stat(state).st_mode & 0o777 == 0o600
    assert os.stat(state.parent).st_mode & 0o777 == 0o700
    made = {r["token"] for r in sb.reports() if r["created_at"] >= since}
    assert made == {token for token, _, _ in kept}

    with client(sb) as c:  # a restarted kernel: a new login, the same state file
        df = load(sb, c, "views", ["day", "video_id"], start=start, end=end, state=state)
        again = {r["token"] for r in sb.reports() if r["created_at"] >= since}
        fresh = load(sb, c, "views", ["day", "video_id"], start=start, end=end)
    assert len(again - made) == 1  # only the third report, never asked before, was asked
    assert _kept(state) == []  # a finished load forgets its reports
    pd.testing.assert_frame_equal(df, fresh)
    assert df["day"].dt.date.min() >= start and df["day"].dt.date.max() <= end


def test_reports_older_than_48_hours_are_not_polled(sb: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "reports.sqlite"
    start, end = today(sb) - dt.timedelta(days=9), today(sb)
    with client(sb) as c:
        with pytest.raises(KeyboardInterrupt):  # interrupted at its first wait
            load(sb, c, "views", "day", start=start, end=end, state=state,
                 sleep=lambda seconds: (_ for _ in ()).throw(KeyboardInterrupt))  # fmt: skip
        [(token, _, _)] = _kept(state)
        with sqlite3.connect(state) as db:
            db.execute("UPDATE reports SET asked_at = ?", (time.time() - LIFETIME - 60,))
        since = sb.clock()
        assert len(load(sb, c, "views", "day", start=start, end=end, state=state)) > 0
    assert [r["token"] for r in sb.reports() if r["created_at"] >= since] != [token]
    assert len([r for r in sb.reports() if r["created_at"] >= since]) == 1


def test_another_account_never_picks_up_a_report(sb: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "reports.sqlite"
    start = today(sb) - dt.timedelta(days=9)
    with client(sb) as c, pytest.raises(KeyboardInterrupt):
        load(sb, c, "views", "day", start=start, end=today(sb), state=state,
             sleep=lambda seconds: (_ for _ in ()).throw(KeyboardInterrupt))  # fmt: skip
    since = sb.clock()
    with client(sb, grant="password") as user:  # the demo user: another account, another key
        load(sb, user, "views", "day", start=start, end=today(sb), state=state)
    assert len([r for r in sb.reports() if r["created_at"] >= since]) == 1
    assert len(_kept(state)) == 1  # the first account's report is still kept for it


def test_the_state_file_is_never_written_through_a_symbolic_link(
    sb: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere.sqlite"
    target.write_bytes(b"")
    link = tmp_path / "reports.sqlite"
    link.symlink_to(target)
    with client(sb) as c, pytest.raises(dm.InputError, match="symbolic link"):
        load(sb, c, "views", "day", start="2026-01-01", end="2026-01-02", state=link)
    assert target.read_bytes() == b""
