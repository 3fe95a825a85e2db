"""``dm.load_analytics`` over real HTTP against the sandbox: the typed frame, the join onto
videos, daily views against ``views_total``, several reports stitched, several files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
from analytics_support import client, clock_sleep, graphql_requests, last_seq, load, today

import dmtools as dm
from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=240, seed=11) as sandbox:
        yield sandbox


def test_the_frame_has_the_agreed_columns_and_types(sb: Sandbox) -> None:
    with client(sb) as c:
        df = load(
            sb,
            c,
            ["views", "time_watched_seconds", "view_through_rate", "estimated_earnings_eur"],
            ["day", "video_id"],
            start=today(sb) - dt.timedelta(days=13),
            end=today(sb),
        )
    assert list(df.columns) == [
        "day",
        "video_id",
        "views",
        "time_watched_seconds",
        "view_through_rate",
        "estimated_earnings_eur",
    ]
    assert str(df["day"].dtype) == "datetime64[ns, UTC]"
    assert df["video_id"].dtype == "string"
    assert df["views"].dtype == "Int64" and df["time_watched_seconds"].dtype == "Int64"
    assert df["view_through_rate"].dtype == "float64"
    assert df["estimated_earnings_eur"].dtype == "float64"
    assert df["day"].dt.date.min() >= today(sb) - dt.timedelta(days=13)
    assert not df.duplicated(["day", "video_id"]).any() and len(df) > 50
    assert df.equals(df.sort_values(["day", "video_id"]).reset_index(drop=True))


def test_the_frame_joins_onto_load_videos_by_video_id_and_converts_time_zones(sb: Sandbox) -> None:
    with client(sb, scope=[*dm.analytics.SCOPES, "read_videos"]) as c:
        videos = dm.load_videos(c, fields=["title", "views_total"], progress=False)
        df = load(sb, c, "views", "day video_id", start=today(sb) - dt.timedelta(days=6))
        paris = load(
            sb,
            c,
            "views",
            "day video_id",
            start=today(sb) - dt.timedelta(days=6),
            tz="Europe/Paris",
        )
    joined = df.join(videos, on="video_id")
    assert joined["title"].notna().all() and len(joined) == len(df)
    assert str(paris["day"].dt.tz) == "Europe/Paris"
    assert (paris["day"] == df["day"]).all()  # the same instants, shown in another zone
    assert (paris["day"].dt.hour == 1).all()  # midnight UTC in December is 01:00 in Paris


def test_daily_views_add_up_to_views_total_for_every_video_across_stitched_reports(
    sb: Sandbox,
) -> None:
    with client(sb, scope=[*dm.analytics.SCOPES, "read_videos"]) as c:
        videos = dm.load_videos(c, fields=["created_time", "views_total"], progress=False)
        first = videos["created_time"].min().date()
        seq = last_seq(sb)
        daily = load(sb, c, "views", ["day", "video_id"], start=first, end=today(sb))
        asked = [e for e in graphql_requests(sb, seq)]
        totals = load(sb, c, "views", ["video_id"], start=first, end=today(sb))
    days = (today(sb) - first).days + 1
    assert days > 360  # several reports, stitched
    per_video = daily.groupby("video_id")["views"].sum()
    expected = videos["views_total"]
    assert (per_video.reindex(expected.index).fillna(0) == expected).all()
    assert (
        totals.set_index("video_id")["views"].reindex(expected.index).fillna(0) == expected
    ).all()
    assert len(asked) >= 2 * -(-days // 180)  # at least one ask and one poll per report


def test_a_report_of_several_files_is_read_whole(sb: Sandbox) -> None:
    with client(sb) as c:
        args = (["views", "time_watched_seconds"], ["day", "video_id", "visitor_country"])
        dates = {"start": today(sb) - dt.timedelta(days=9), "end": today(sb)}
        whole = load(sb, c, *args, **dates)
        sb.settings(report_file_rows=7)
        try:
            seq = last_seq(sb)
            split = load(sb, c, *args, **dates)
            files = [e for e in sb.request_log(seq) if e["path"].startswith("/reports/files/")]
        finally:
            sb.settings(report_file_rows=100_000)
    assert len(whole) > 5 * 7
    assert len(files) == -(-len(whole) // 7)
    pd.testing.assert_frame_equal(split, whole)


def test_totals_without_dimensions_and_an_empty_report(sb: Sandbox) -> None:
    with client(sb) as c:
        total = load(sb, c, ["views", "uploads"], [], start=today(sb) - dt.timedelta(days=29))
        daily = load(sb, c, ["views"], ["day"], start=today(sb) - dt.timedelta(days=29))
        nothing = load(sb, c, "views", "day", start="2026-01-01", product="claim")
    assert list(total.columns) == ["views", "uploads"] and len(total) == 1
    assert total["views"].iloc[0] == daily["views"].sum()
    assert nothing.empty and list(nothing.columns) == ["day", "views"]
    assert str(nothing["day"].dtype) == "datetime64[ns, UTC]" and nothing["views"].dtype == "Int64"


def test_public_keys_use_the_reporting_hosts_token_and_graphql_endpoints(sb: Sandbox) -> None:
    endpoints = dm.analytics.login_endpoints(sb.endpoints)
    assert endpoints.token_url == sb.reporting.public_token_url
    before = last_seq(sb)
    c = dm.connect(
        "password",
        client_id=sb.credentials.public_key.client_id,
        client_secret=sb.credentials.public_key.client_secret,
        username=sb.credentials.user.username,
        password=sb.credentials.user.password,
        scope=[*dm.analytics.SCOPES, "manage_videos"],
        endpoints=endpoints,
    )
    with c:
        assert dm.analytics.graphql_url(c) == sb.reporting.public_graphql_url
        seq = last_seq(sb)
        df = load(sb, c, "views", "video_id", start=today(sb) - dt.timedelta(days=29))
        videos = dm.load_videos(c, fields=["owner"], progress=False)
    assert {e["path"] for e in graphql_requests(sb, seq)} == {"/graphql-api/"}
    assert set(df["video_id"]) <= set(videos.index)  # the user's own channel
    assert sb.request_log(before)[0]["path"] == "/graphql-api/oauth/token"


def test_the_same_query_comes_from_the_cache_without_a_request_once_its_days_are_complete(
    sb: Sandbox, tmp_path: object
) -> None:
    folder = str(tmp_path)
    with client(sb) as c:
        past = {"start": "2026-10-01", "end": "2026-10-31"}
        first = load(sb, c, "views", "day video_id", cache=folder, **past)
        seq = last_seq(sb)
        again = load(sb, c, "views", "day video_id", cache=folder, **past)
        assert graphql_requests(sb, seq) == []
        pd.testing.assert_frame_equal(again, first)
        zoned = load(sb, c, "views", "day video_id", cache=folder, tz="Asia/Tokyo", **past)
        assert str(zoned["day"].dt.tz) == "Asia/Tokyo" and graphql_requests(sb, seq) == []
        recent = {"start": dt.date.today() - dt.timedelta(days=3), "end": dt.date.today()}
        load(sb, c, "views", "day", cache=folder, **recent)
        seq = last_seq(sb)
        load(sb, c, "views", "day", cache=folder, **recent)  # today is not complete: asked again
        assert graphql_requests(sb, seq) != []
    import os
    from pathlib import Path

    files = list(Path(folder).glob("*.parquet"))
    assert len(files) == 2 and all(os.stat(f).st_mode & 0o777 == 0o600 for f in files)


def test_the_channel_audience_asks_its_two_reports_together(sb: Sandbox) -> None:
    waits: list[float] = []
    end = today(sb) - dt.timedelta(days=1)
    with client(sb) as c:
        aud = dm.analytics.channel_audience(
            c, days=14, end=end, progress=False, state=False, sleep=clock_sleep(sb, waits)
        )
    assert sum(waits) == sb.settings()["report_delay"]  # one wait for both reports
    assert (aud.start, aud.end, aud.previous_start) == (
        end - dt.timedelta(days=13),
        end,
        end - dt.timedelta(days=27),
    )
    days = aud.daily["day"].dt.date
    assert days.min() >= aud.previous_start and days.max() <= end
    assert list(aud.places.columns) == ["visitor_country", "visitor_device_type", "views"]
    assert aud.places["views"].sum() == aud.daily[days >= aud.start]["views"].sum()


def test_links_past_one_page_of_download_links_are_all_followed(sb: Sandbox) -> None:
    with client(sb) as c:
        dates = {"start": today(sb) - dt.timedelta(days=29), "end": today(sb)}
        whole = load(sb, c, "views", ["day", "video_id"], **dates)
        sb.settings(report_file_rows=2)
        try:
            seq = last_seq(sb)
            split = load(sb, c, "views", ["day", "video_id"], **dates)
            log = sb.request_log(seq)
        finally:
            sb.settings(report_file_rows=100_000)
    files = [e for e in log if e["path"].startswith("/reports/files/")]
    assert len(files) == -(-len(whole) // 2) > 100  # more than one page of links (100)
    assert len(graphql_requests(sb, seq)) >= 3  # ask, then a poll per page of links
    pd.testing.assert_frame_equal(split, whole)
