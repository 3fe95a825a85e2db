"""One frame for both dialects: the same columns and dtypes whichever API a load read.

The demo organisation has three profiles (one with more than 1,000 videos: the v2 loader
windows past the result ceiling). Loads through the legacy partner API and through API v2
read the same store and must give the same frame, but for what API v2 lacks (NA).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import dmtools as dm
from dmtools.client import Client
from dmtools.dialects._v2fields import MISSING_HINTS, WIRE
from dmtools.frames import to_frame
from dmtools.sandbox import Sandbox
from dmtools.schema import DEFAULT_VIDEO_FIELDS, VIDEO_FIELDS
from dmtools.testing import connect_sandbox

LACKING = [name for name in VIDEO_FIELDS if name not in WIRE]


@pytest.fixture(scope="module")
def legacy(sb: Sandbox) -> Iterator[Client]:
    with connect_sandbox(sb, grant="client_credentials", scope=["read_videos"]) as client:
        yield client


@pytest.fixture(scope="module")
def v2(sb: Sandbox) -> Iterator[Client]:
    with connect_sandbox(sb, api="v2") as client:
        yield client


@pytest.fixture(scope="module")
def both(legacy: Client, v2: Client) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every video of the organisation, every field, through each API."""
    old = dm.load_videos(legacy, fields="all", progress=False)
    new = dm.load_videos(v2, fields="all", progress=False)
    return old, new


def test_every_profile_loads_with_the_same_columns_and_dtypes(
    both: tuple[pd.DataFrame, pd.DataFrame], sb: Sandbox
) -> None:
    old, new = both
    assert list(new.columns) == list(old.columns)
    assert new.dtypes.astype(str).to_dict() == old.dtypes.astype(str).to_dict()
    assert sorted(new.index) == sorted(old.index) and len(new) > 1000
    profiles = set(sb.credentials.private_key.profiles)
    assert set(new["owner"]) == profiles
    assert new["owner"].value_counts().max() > 1000  # read past the 1,000-result ceiling


def test_the_values_agree_and_what_v2_lacks_is_missing(
    both: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    old, new = both
    new = new.loc[old.index]
    lacking = {VIDEO_FIELDS[name].column for name in LACKING}
    private = old["private"].fillna(False).astype(bool)
    for column in old.columns:
        if column in lacking:
            assert new[column].isna().all(), column
        elif column == "url":  # v2 shows a private video's private URL to its owner
            pd.testing.assert_series_equal(new.loc[~private, column], old.loc[~private, column])
        else:
            pd.testing.assert_series_equal(new[column], old[column], obj=column)
    assert {"views_total", "likes_total", "status", "mode"} <= lacking


def test_the_default_frame_of_v2_has_the_legacy_default_columns(v2: Client) -> None:
    df = dm.load_videos(v2, profile=v2.me()["id"], progress=False)
    legacy = to_frame([], fields=None)
    assert list(df.columns) == list(legacy.columns)
    assert df.dtypes.astype(str).to_dict() == legacy.dtypes.astype(str).to_dict()
    assert df["views_total"].isna().all() and df["title"].notna().all()
    assert "views_total" in DEFAULT_VIDEO_FIELDS


@pytest.mark.parametrize("name", ["views_total", "likes_total", "comments_total", "mode"])
def test_a_field_v2_lacks_asked_by_name_is_refused_before_any_request(
    v2: Client, sb: Sandbox, name: str
) -> None:
    mark = len(sb.request_log())
    for call in (
        lambda: dm.load_videos(v2, fields=["title", name], progress=False),
        lambda: dm.get_video(v2, "x1", ["title", name]),
        lambda: dm.all_videos(v2, fields=[name]),
    ):
        with pytest.raises(dm.InputError) as info:
            call()
        assert name in str(info.value) and "not available through the v2 API" in str(info.value)
        assert [p.column for p in info.value.problems] == [name]
    assert sb.request_log(mark) == []
    if name.startswith("views"):
        assert "dm.load_analytics" in str(info.value)
    assert name in MISSING_HINTS


def test_profiles_as_a_frame(v2: Client, legacy: Client, sb: Sandbox) -> None:
    profiles = dm.load_profiles(v2)
    assert list(profiles.columns) == ["profile_id", "name", "display_name"]
    assert profiles["profile_id"].tolist() == list(sb.credentials.private_key.profiles)
    assert profiles["name"].notna().all() and profiles["display_name"].notna().all()
    assert (profiles.dtypes.astype(str) == "string").all()
    channels = dm.load_profiles(legacy)  # the legacy API lists channel ids only
    assert channels["profile_id"].tolist() == profiles["profile_id"].tolist()


def test_several_profiles_load_in_one_frame_through_one_client(v2: Client, sb: Sandbox) -> None:
    news, sport, archive = sb.credentials.private_key.profiles
    mark = len(sb.request_log())
    sent = v2.stats.get("sent", 0)
    two = dm.load_videos(v2, profile=[news, sport], fields=["title"], progress=False)
    everything = dm.load_videos(v2, profile="all", fields=["title"], progress=False)
    log = sb.request_log(mark)
    assert list(two.columns) == ["title", "owner"]  # owner says each video's profile
    assert set(two["owner"]) == {news, sport}
    assert set(everything["owner"]) == {news, sport, archive}
    assert everything[everything["owner"] != archive].sort_index().equals(two.sort_index())
    # one client: one login (no token request), its own counters saw every request
    assert not any(r["path"] == "/oauth2/v2/token" for r in log)
    assert v2.stats["sent"] - sent == len(log)
    assert {r["client_id"] for r in log} == {sb.credentials.private_key.client_id}
    one = dm.load_videos(v2, profile=sport, fields=["title"], progress=False)
    assert list(one.columns) == ["title"] and len(one) == (two["owner"] == sport).sum()


def test_bad_profile_arguments_are_refused_before_any_request(v2: Client, sb: Sandbox) -> None:
    mark = len(sb.request_log())
    for bad in (
        dict(profile="x/1"),
        dict(profile=[]),
        dict(profile="me"),
        dict(owner="x1", profile="x2"),
    ):
        with pytest.raises(dm.InputError):
            dm.load_videos(v2, progress=False, **bad)  # type: ignore[arg-type]
    with pytest.raises(dm.InputError, match="no list of every video"):
        dm.load_videos(v2, owner=None, progress=False)
    assert sb.request_log(mark) == []


def test_files_are_dialect_neutral(both: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    old, new = both
    columns = ["title", "description", "tags", "channel", "private", "owner", "created_time"]
    for suffix, write, read in (
        ("csv", dm.write_csv, dm.read_csv),
        ("parquet", dm.write_parquet, dm.read_parquet),
    ):
        a, b = tmp_path / f"legacy.{suffix}", tmp_path / f"v2.{suffix}"
        write(old[columns].sort_index(), a)
        write(new.loc[old.index, columns].sort_index(), b)
        assert a.read_bytes() == b.read_bytes()
        pd.testing.assert_frame_equal(read(b), read(a))
