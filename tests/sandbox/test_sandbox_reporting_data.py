"""The synthetic audience: consistent with ``views_total``, seasonal, skewed, deterministic.

The generator is checked directly (every video of a 1,500-video channel, its whole history)
and through the API: 180-day reports chained from the oldest video to today add up, for
every video of a channel, to the ``views_total`` the legacy API returns, also after an edit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections import defaultdict
from collections.abc import Iterator

import numpy as np
import pytest
import requests
from _support.reporting import ask_ok, download, finish, report_input, report_token, today

from dmtools.sandbox import Sandbox
from dmtools.sandbox.state import seed as seedmod
from dmtools.sandbox.state.reporting.audience import DAY, daily_views, hourly_split, video_keys


@pytest.fixture(scope="module")
def channel() -> dict[str, np.ndarray]:
    data = seedmod.build(7, 1500)
    videos = [v for v in data.videos if v["owner"] == data.demo.id]
    return {
        "keys": video_keys(7, [v["id"] for v in videos]),
        "created": np.array([v["created_time"] // DAY for v in videos]),
        "totals": np.array([v["views_total"] for v in videos]),
    }


NOW = 1_796_000_000.0  # 2026-11-30 01:33 UTC


def _history(channel: dict[str, np.ndarray], totals: np.ndarray | None = None) -> np.ndarray:
    return daily_views(
        channel["keys"],
        channel["created"],
        channel["totals"] if totals is None else totals,
        now=NOW,
        first=int(channel["created"].min()) - 3,
        last=int(NOW // DAY) + 3,
    )


@pytest.fixture(scope="module")
def history(channel: dict[str, np.ndarray]) -> np.ndarray:
    return _history(channel)


def test_every_video_sums_to_its_views_total_from_creation_to_now(
    channel: dict, history: np.ndarray
) -> None:
    assert (history >= 0).all()
    assert (history.sum(axis=1) == channel["totals"]).all()
    first = int(channel["created"].min()) - 3
    columns = np.arange(history.shape[1]) + first
    before = columns[None, :] < channel["created"][:, None]
    assert history[before].sum() == 0  # nothing before creation
    assert history[:, columns > NOW // DAY].sum() == 0  # nothing after now


def test_an_edited_views_total_rescales_the_history_and_still_adds_up(
    channel: dict, history: np.ndarray
) -> None:
    edited = channel["totals"] * 3 + 7
    scaled = _history(channel, edited)
    assert (scaled.sum(axis=1) == edited).all()
    busiest = int(np.argmax(channel["totals"]))
    assert np.argmax(scaled[busiest]) == np.argmax(history[busiest])  # same shape


def test_any_window_is_the_slice_of_the_whole_history(channel: dict, history: np.ndarray) -> None:
    first = int(channel["created"].min()) - 3
    for start in (int(NOW // DAY) - 179, first + 500):
        window = daily_views(
            channel["keys"], channel["created"], channel["totals"],
            now=NOW, first=start, last=start + 179,
        )  # fmt: skip
        assert (window == history[:, start - first : start - first + 180]).all()


def test_stable_within_a_sandbox_day_and_nearly_so_across_days(channel: dict) -> None:
    def window(now: float) -> np.ndarray:
        return daily_views(
            channel["keys"], channel["created"], channel["totals"],
            now=now, first=int(NOW // DAY) - 60, last=int(NOW // DAY) - 1,
        )  # fmt: skip

    morning = NOW - NOW % DAY + 60
    assert (window(morning) == window(morning + 20 * 3600)).all()
    today_, tomorrow = window(morning), window(morning + DAY)
    assert (today_ != tomorrow).any()  # one more day to spread the fixed totals over
    sums, later = today_.sum(axis=1), tomorrow.sum(axis=1)
    assert (np.abs(later - sums) <= 2 + 0.01 * sums).all()  # a view or so per video
    assert (np.abs(tomorrow - today_) <= 2 + 0.01 * today_).all()


def test_deterministic_for_the_same_inputs_and_different_for_another_seed(
    channel: dict, history: np.ndarray
) -> None:
    assert (_history(channel) == history).all()
    other = dict(channel, keys=video_keys(8, [str(i) for i in range(len(channel["keys"]))]))
    assert not (_history(other) == history).all()


def test_a_weekly_cycle_weekends_above_midweek(channel: dict, history: np.ndarray) -> None:
    first = int(channel["created"].min()) - 3
    weekday = (np.arange(history.shape[1]) + first + 3) % 7  # Monday = 0
    by_day = np.array([history[:, weekday == d].sum() for d in range(7)], dtype=float)
    by_day /= by_day.mean()
    assert by_day[5] > 1.05 and by_day[6] > 1.05  # Saturday, Sunday
    assert by_day[:4].max() < 0.98  # Monday to Thursday


def test_long_tailed_across_videos_and_decaying_after_publication(
    channel: dict, history: np.ndarray
) -> None:
    recent = history[:, -190:].sum(axis=1)
    ranked = np.sort(recent)[::-1]
    assert ranked[: len(ranked) // 10].sum() > 0.5 * ranked.sum()  # top 10 % > half
    first = int(channel["created"].min()) - 3
    start = channel["created"] - first
    rows = np.arange(len(start))
    busy = channel["totals"] > 2000
    launch = np.array([history[i, start[i] : start[i] + 7].sum() for i in rows[busy]])
    later = np.array([history[i, start[i] + 60 : start[i] + 67].sum() for i in rows[busy]])
    assert (launch > later).mean() > 0.9


def test_a_few_videos_spike(history: np.ndarray) -> None:
    recent = history[:, -400:]  # no launch in these days: seeded videos are older
    seen = recent.sum(axis=1) >= 30
    top_share = recent[seen].max(axis=1) / recent[seen].sum(axis=1)
    spiking = int((top_share >= 0.25).sum())
    assert 1 <= spiking <= 0.1 * seen.sum()
    assert np.median(top_share) < 0.1  # the others spread over many days


def test_hours_add_up_to_their_day_and_nothing_after_now(channel: dict) -> None:
    today_ = int(NOW // DAY)
    window = daily_views(
        channel["keys"], channel["created"], channel["totals"],
        now=NOW, first=today_ - 2, last=today_,
    )  # fmt: skip
    video, offset = np.nonzero(window)
    views = window[video, offset]
    hours = hourly_split(channel["keys"], video, today_ - 2 + offset, views, now=NOW)
    assert (hours.sum(axis=1) == views).all() and (hours >= 0).all()
    now_hour = int(NOW % DAY // 3600)
    assert hours[offset == 2][:, now_hour + 1 :].sum() == 0
    assert hours[:, 18:22].sum() > hours[:, 2:6].sum() * 2  # an evening peak


def test_ten_thousand_videos_over_180_days(channel: dict) -> None:
    keys = video_keys(1, [f"x{i:06d}" for i in range(10_000)])
    created = np.random.default_rng(1).integers(17_000, 20_700, 10_000)
    totals = np.random.default_rng(2).integers(0, 100_000, 10_000)
    today_ = int(NOW // DAY)
    window = daily_views(keys, created, totals, now=NOW, first=today_ - 179, last=today_)
    assert window.shape == (10_000, 180) and window.dtype == np.int64 and window.min() >= 0
    young = created >= today_ - 179
    assert (window[young].sum(axis=1) == totals[young]).all()  # whole lives in the window


# -- through the API ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=150, seed=9) as sandbox:
        sandbox.settings(report_delay=0)
        yield sandbox


def _legacy_totals(sb: Sandbox, channel: str, token: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    page = 1
    while True:
        answer = requests.get(
            sb.url + f"/rest/user/{channel}/videos",
            params={"fields": "id,views_total,created_time", "limit": 100, "page": page},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        totals.update({v["id"]: v["views_total"] for v in answer["list"]})
        if not answer["has_more"]:
            return totals
        page += 1


def _views_by_video(sb: Sandbox, token: str, slug: str) -> dict[str, int]:
    """Sum of daily views per video from 2018-12-01 to today, in 180-day reports."""
    sums: dict[str, int] = defaultdict(int)
    end, start = today(sb), dt.date(2018, 12, 1)
    while end >= start:
        report = report_input(
            sb, ["VIEWS"], ["VIDEO_ID", "DAY"], days=180, end=end,
            filters={"videoOwnerChannelSlug": slug},
        )  # fmt: skip
        for text in download(finish(sb, token, ask_ok(sb, token, report))):
            for row in csv.DictReader(io.StringIO(text)):
                sums[row["video_id"]] += int(row["views"])
        end -= dt.timedelta(days=180)
    return dict(sums)


def test_daily_views_add_up_to_views_total_for_every_video_of_a_channel(sb: Sandbox) -> None:
    token = report_token(sb, scope="create_reports read_videos")
    channel = sb.credentials.private_key.channels[0]
    slug = requests.get(sb.url + f"/user/{channel}", params={"fields": "username"}, timeout=10)
    slug_name = slug.json()["username"]
    legacy = _legacy_totals(sb, channel, token)
    assert len(legacy) == 60 and sum(legacy.values()) > 0
    reported = _views_by_video(sb, token, slug_name)
    assert {v: reported.get(v, 0) for v in legacy} == legacy
    assert set(reported) <= set(legacy)  # the filter kept the other channel out
    busiest = max(legacy, key=lambda v: legacy[v])
    sb.edit_video(busiest, views_total=legacy[busiest] + 12_345)
    again = _views_by_video(sb, token, slug_name)
    assert again[busiest] == legacy[busiest] + 12_345
    assert {v: again.get(v, 0) for v in legacy if v != busiest} == {
        v: n for v, n in legacy.items() if v != busiest
    }


def test_splits_keep_the_totals_and_reports_are_reproducible(sb: Sandbox) -> None:
    token = report_token(sb)

    def table(metrics: list[str], dims: list[str]) -> list[dict[str, str]]:
        report = report_input(sb, metrics, dims, days=14, end=today(sb) - dt.timedelta(days=1))
        texts = download(finish(sb, token, ask_ok(sb, token, report)))
        return [row for text in texts for row in csv.DictReader(io.StringIO(text))]

    daily = {r["day"]: int(r["views"]) for r in table(["VIEWS"], ["DAY"])}
    assert sum(daily.values()) > 0
    for dims in (["DAY", "VISITOR_COUNTRY"], ["DAY", "HOUR"], ["DAY", "VISITOR_DEVICE_TYPE",
                 "PLAYER_TITLE", "PLAYLIST_ID", "ACTION"]):  # fmt: skip
        split: dict[str, int] = defaultdict(int)
        for row in table(["VIEWS"], dims):
            split[row["day"]] += int(row["views"])
        assert split == daily, dims
    money = table(["VIEWS", "ESTIMATED_EARNINGS_EUR"], ["DAY"])
    by_country = table(["ESTIMATED_EARNINGS_EUR"], ["DAY", "VISITOR_COUNTRY"])
    assert sum(float(r["estimated_earnings_eur"]) for r in money) == pytest.approx(
        sum(float(r["estimated_earnings_eur"]) for r in by_country), abs=1e-3
    )
    assert table(["VIEWS"], ["VIDEO_ID", "VISITOR_COUNTRY"]) == table(
        ["VIEWS"], ["VIDEO_ID", "VISITOR_COUNTRY"]
    )


def test_the_csv_format(sb: Sandbox) -> None:
    token = report_token(sb)
    dims = ["HOUR", "MONTH", "VIDEO_ID", "PLAYLIST_ID"]
    metrics = ["TIME_WATCHED_SECONDS", "VIEWS", "VIEW_THROUGH_RATE", "AVERAGE_WATCH_TIME_SEC"]
    report = report_input(sb, metrics, dims, days=3)
    [text] = download(finish(sb, token, ask_ok(sb, token, report)))
    lines = text.split("\n")
    assert lines[0] == "hour,month,video_id,playlist_id," + ",".join(m.lower() for m in metrics)
    assert lines[-1] == "" and "\r" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and any(r["playlist_id"] == "" for r in rows)  # null is empty
    for row in rows:
        time.strptime(row["hour"], "%Y-%m-%d %H:00:00")
        assert row["hour"].startswith(row["month"]) and len(row["month"]) == 7
        assert int(row["views"]) > 0 and int(row["time_watched_seconds"]) >= 0
        assert 0 <= float(row["view_through_rate"]) <= 100
    ordered = [(r["hour"], r["month"], r["video_id"], r["playlist_id"]) for r in rows]
    assert ordered == sorted(ordered)
