"""``dmtools demo`` end to end: every step shown, report files written, channel restored."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import dmtools as dm
from dmtools.cli import app
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


def _channel(sb: Sandbox) -> pd.DataFrame:
    """Every field of every video of the demo channel, as the demo user sees it."""
    with connect_sandbox(sb) as client:
        df = dm.load_videos(client, fields="all", progress=False)
    return df.drop(columns=["updated_time"]).sort_index()


def _observed(
    monkeypatch: pytest.MonkeyPatch, read: Callable[[Sandbox], dict[str, object]]
) -> dict[str, object]:
    """What ``read`` finds in the demo's sandbox just before it stops (filled then)."""
    final: dict[str, object] = {}

    class Observed(Sandbox):
        def stop(self) -> None:
            if self.url:
                final.update(read(self))
            super().stop()

    monkeypatch.setattr(dm, "Sandbox", Observed)
    return final


def test_demo_runs_every_step_and_restores_the_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = _observed(monkeypatch, lambda sb: {"channel": _channel(sb), "commits": sb.commits()})
    out = tmp_path / "demo"
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    seconds = time.perf_counter() - started
    print(f"dmtools demo took {seconds:.1f} s")
    assert result.exit_code == 0, result.stdout + result.stderr

    text = result.stdout
    for number, words in enumerate(
        [
            "Starting a sandbox",
            "Logging in",
            "Loading the channel",
            "What the channel looks like",
            "Audience from the Reporting API",
            "Channel report",
            "Planning a metadata clean-up",
            "Applying the plan",
            "Undoing it",
        ],
        start=1,
    ):
        assert f"[{number}/9] {words}" in text
    assert "Logged in as Demo Channel (local sandbox)" in text
    assert "1,500 rows x 16 columns" in text
    assert "Top videos by views:" in text and "Categories (17)" in text
    assert "2 reports (" in text and "views by country: " in text and "views by device: " in text
    assert "every video is back as loaded in step 3" in text
    assert "Traceback" not in result.stderr and "error" not in result.stderr.lower()

    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Demo Channel" in html
    pngs = list((out / "report_png").glob("*.png"))
    assert len(pngs) >= 10 and (out / "report_png" / "overview.png").exists()

    applied = pd.read_csv(out / "cleanup.plan.result.csv")
    undone = pd.read_csv(out / "cleanup.plan.undo.result.csv")
    assert len(applied) > 100 and set(applied.op_status) == {"applied"}
    assert set(undone.op_status) == {"applied"} and set(undone.id) == set(applied.id)
    assert f"{len(applied):,} video(s) to change" in text

    commits = final["commits"]
    assert isinstance(commits, list) and len(commits) == 2 * len(applied)
    with Sandbox(videos=1500, seed=7) as fresh:  # the same seed: the channel as it started
        assert isinstance(final["channel"], pd.DataFrame)
        pd.testing.assert_frame_equal(final["channel"], _channel(fresh))


def test_demo_refuses_a_bad_option_with_exit_2() -> None:
    result = CliRunner().invoke(app, ["demo", "--videos", "many"])
    assert result.exit_code == 2


def _profiles(sb: Sandbox) -> pd.DataFrame:
    """Every field of every video of every profile of the private key, through API v2."""
    with connect_sandbox(sb, api="v2") as client:
        df = dm.load_videos(client, profile="all", fields="all", progress=False)
    return df.drop(columns=["updated_time"]).sort_index()


def test_demo_on_api_v2_logs_in_with_the_private_key_and_restores_every_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = _observed(
        monkeypatch, lambda sb: {"profiles": _profiles(sb), "requests": sb.request_log()}
    )
    out = tmp_path / "demo"
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["demo", "--api", "v2", "--out", str(out), "--no-progress"])
    print(f"dmtools demo --api v2 took {time.perf_counter() - started:.1f} s")
    assert result.exit_code == 0, result.stdout + result.stderr
    text = result.stdout
    assert "[2/9] Logging in to API v2: client credentials with the private key" in text
    assert "1,300 rows x 16 columns" in text  # 1,200 + 60 + 40 videos of three profiles
    assert "profiles: Demo Archive 1,200, Demo News 60, Demo Sport 40" in text
    assert "no view counts through API v2" in text and "views by country: " in text
    assert "every video is back as loaded in step 3" in text
    assert "dmtools login --sandbox-url URL --api v2" in text
    applied = pd.read_csv(out / "cleanup.plan.result.csv")
    assert len(applied) > 100 and set(applied.op_status) == {"applied"}
    requests = final["requests"]
    assert isinstance(requests, list)
    patches = [r for r in requests if r["method"] == "PATCH"]
    assert len(patches) == 2 * len(applied)  # applied, then undone, through API v2
    assert all(r["path"].startswith("/v2/videos/") for r in patches)
    assert not [r for r in requests if r["method"] == "POST" and r["path"].startswith("/video")]
    with Sandbox(videos=1500, seed=7) as fresh:
        assert isinstance(final["profiles"], pd.DataFrame)
        pd.testing.assert_frame_equal(final["profiles"], _profiles(fresh))


def test_demo_refuses_an_unknown_api_with_exit_2() -> None:
    result = CliRunner().invoke(app, ["demo", "--api", "v9"])
    assert result.exit_code == 2 and "unknown API dialect 'v9'" in result.stderr
