"""load_videos against the sandbox over HTTP: every video exactly once past the 1,000-result
ceiling, typed columns, busy seconds, changes during the load, private keys, progress."""

from __future__ import annotations

import random
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from _support.sandbox import seeded

import dmtools as dm
from dmtools import schema
from dmtools.client import Client
from dmtools.loader import IncompleteLoadWarning
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

BIG_SEED, BIG = 7, 5_000


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    with Sandbox(videos=BIG, seed=BIG_SEED) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(big: Sandbox) -> Iterator[Client]:
    with connect_sandbox(big) as c:
        c.me()
        yield c


def load(client: Client, **options: Any) -> pd.DataFrame:
    """load_videos where an IncompleteLoadWarning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteLoadWarning)
        return dm.load_videos(client, progress=False, **options)


def test_a_5000_video_channel_loads_every_video_exactly_once(big: Sandbox, client: Client) -> None:
    expected = seeded(BIG_SEED, BIG, big.credentials.user.id)
    assert len(expected) == BIG
    mark = len(big.request_log())
    df = load(client)
    log = big.request_log()[mark:]
    assert df.index.name == "id" and df.index.is_unique
    assert set(df.index) == set(expected) and len(df) == BIG
    # reads past the ceiling with about one request per 100 videos
    assert all(r["path"] == "/me/videos" and r["status"] == 200 for r in log)
    assert BIG // schema.MAX_LIMIT <= len(log) <= BIG // schema.MAX_LIMIT * 1.25 + 4
    sample = sorted(expected)[::500]
    for vid in sample:
        assert df.loc[vid, "title"] == expected[vid]["title"]
        assert df.loc[vid, "created_time"] == pd.Timestamp(
            expected[vid]["created_time"], unit="s", tz="UTC"
        )


def test_columns_have_the_schema_dtypes(client: Client) -> None:
    df = load(client, created_before=schema_time(0.2))
    assert list(df.columns) == [
        schema.VIDEO_FIELDS[n].column for n in schema.DEFAULT_VIDEO_FIELDS if n != "id"
    ]
    for name in schema.DEFAULT_VIDEO_FIELDS[1:]:
        spec = schema.VIDEO_FIELDS[name]
        assert str(df[spec.column].dtype) == spec.dtype, name


def schema_time(fraction: float) -> int:
    from dmtools.sandbox.state.seed import EPOCH_END, EPOCH_START

    return int(EPOCH_START + (EPOCH_END - EPOCH_START) * fraction)


def test_only_the_requested_fields_become_columns(client: Client) -> None:
    df = load(client, fields=["title", "views_total"], created_before=schema_time(0.1))
    assert list(df.columns) == ["title", "views_total"]


def test_filters_and_a_half_open_time_range_select_the_same_videos_as_the_api(
    big: Sandbox, client: Client
) -> None:
    expected = seeded(BIG_SEED, BIG, big.credentials.user.id)
    lo, hi = schema_time(0.25), schema_time(0.75)
    df = load(client, channel="music", created_after=lo, created_before=hi, private=False)
    assert set(df.index) == {
        i
        for i, v in expected.items()
        if v["channel"] == "music" and not v["private"] and lo <= v["created_time"] < hi
    }


def test_progress_bar_on_a_terminal_and_silence_without_it(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    dm.load_videos(client, progress=False, created_before=schema_time(0.05))
    assert capsys.readouterr().err == ""
    df = dm.load_videos(client, progress=True, created_before=schema_time(0.05))
    err = capsys.readouterr().err
    assert "Loading videos" in err and f"{len(df)}/{len(df)}" in err


@pytest.fixture()
def small() -> Iterator[Sandbox]:
    with Sandbox(videos=1_200, seed=9) as sandbox:
        yield sandbox


def crowd_one_second(sb: Sandbox, ids: list[str], t: int, **fields: Any) -> None:
    for vid in ids:
        sb.edit_video(vid, created_time=t, **fields)


def test_more_than_a_page_of_videos_in_one_second(small: Sandbox) -> None:
    expected = sorted(seeded(9, 1_200, small.credentials.user.id))
    rng = random.Random(1)
    picked = rng.sample(expected, 190)
    crowd_one_second(small, picked[:150], schema_time(0.5))  # a busy second of 150
    crowd_one_second(small, picked[150:], schema_time(0.5) + 1)  # and 40 right after it
    with connect_sandbox(small) as client:
        df = load(client)
    assert df.index.is_unique and set(df.index) == set(expected)
    stamp = pd.Timestamp(schema_time(0.5), unit="s", tz="UTC")
    assert (df.created_time == stamp).sum() == 150


def test_a_second_past_the_ceiling_is_read_category_by_category(small: Sandbox) -> None:
    small.settings(list_ceiling=200)
    expected = sorted(seeded(9, 1_200, small.credentials.user.id))
    crowd_one_second(small, random.Random(2).sample(expected, 260), schema_time(0.3))
    with connect_sandbox(small) as client:
        df = load(client)
    assert df.index.is_unique and set(df.index) == set(expected)


def test_an_unreachable_second_is_reported_with_its_time_and_count(small: Sandbox) -> None:
    small.settings(list_ceiling=200)
    expected = sorted(seeded(9, 1_200, small.credentials.user.id))
    t = schema_time(0.6)
    crowd = random.Random(3).sample(expected, 230)
    crowd_one_second(small, crowd, t, channel="music", private=False)
    with (
        connect_sandbox(small) as client,
        pytest.warns(IncompleteLoadWarning, match=rf"second {t} .*holds 230 videos"),
    ):
        df = dm.load_videos(client, progress=False)
    assert df.index.is_unique
    assert set(expected) - set(crowd) <= set(df.index)
    assert len(set(crowd) & set(df.index)) == 200


def test_a_private_key_loads_every_channel_of_its_organisation(small: Sandbox) -> None:
    channels = list(small.credentials.private_key.channels)
    with connect_sandbox(small, grant="client_credentials", scope="read_videos") as partner:
        df = load(partner, fields=["owner", "title"])
        first = load(partner, owner=channels[0], fields=["owner"])
    assert set(df.index) == set(seeded(9, 1_200, set(channels)))
    assert set(df.owner) == set(channels)
    assert set(first.index) == set(seeded(9, 1_200, channels[0]))


def test_videos_added_and_deleted_during_the_load_never_go_missing_or_twice() -> None:
    with Sandbox(videos=BIG, seed=8) as sb, connect_sandbox(sb) as client:
        client.me()
        before = set(seeded(8, BIG, sb.credentials.user.id))
        victims = sorted(before)
        random.Random(4).shuffle(victims)
        deleted: set[str] = set()
        added: set[str] = set()
        stop, churning = threading.Event(), threading.Event()

        def churn() -> None:  # 1 insert + 1 delete at a time, out of band, until stopped
            while not stop.is_set() and victims:
                added.update(sb.add_videos(1))
                victim = victims.pop()
                sb.delete_video(victim)
                deleted.add(victim)
                churning.set()

        sb.set_faults(latency=0.02)  # lets the changes interleave with the load's requests
        worker = threading.Thread(target=churn, daemon=True)
        worker.start()
        try:
            assert churning.wait(10)
            at_start = len(deleted)
            df = load(client)
            during = len(deleted) - at_start
        finally:
            stop.set()
            worker.join(10)
    assert during >= 5, "the changes did not overlap the load"
    assert df.index.is_unique
    assert before - deleted <= set(df.index) <= before | added
