"""Client.pages, first_video, the pandas-free dict layer and dmtools.testing, on a sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dmtools as dm
from dmtools import cells
from dmtools._query import parse_seconds
from dmtools.auth import TokenEndpoint
from dmtools.dialects import Call, get_dialect
from dmtools.dialects.legacy import LEGACY
from dmtools.sandbox import Sandbox
from dmtools.secrets import Secret
from dmtools.testing import GRANTS, connect_sandbox

SIZE = 1100  # past the 1,000-result ceiling of one list query


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=SIZE, seed=13) as sandbox:
        yield sandbox


def spy(client: dm.Client) -> list[Call]:
    """Record the calls the client's transport sends (they are sent as usual)."""
    sent: list[Call] = []
    real = client.transport.send

    def send(call: Call, **options: Any) -> Any:
        sent.append(call)
        return real(call, **options)

    client.transport.send = send  # type: ignore[method-assign]
    return sent


@pytest.mark.parametrize("grant", GRANTS)
def test_connect_sandbox_logs_in_with_each_grant(sb: Sandbox, grant: str) -> None:
    with connect_sandbox(sb, grant=grant, scope="manage_videos", retries=0) as client:
        assert client.scopes == ("manage_videos",) and client.transport.backoff.attempts == 1
        assert client.is_partner == (grant == "client_credentials")
        assert dm.first_video(client, fields=["id"]) is not None
    with pytest.raises(dm.InputError, match="refresh_token"):
        connect_sandbox(sb, grant="refresh_token")


def test_pages_walk_a_listing_and_stop_at_the_ceiling(client: dm.Client) -> None:
    pages = list(client.pages("/me/videos", {"fields": "id"}))
    assert [p.number for p in pages] == list(range(1, 11))
    assert [len(p.items) for p in pages] == [100] * 10
    assert all(p.total == SIZE and p.size == 100 for p in pages)
    assert all(p.more for p in pages[:-1]) and pages[-1].next is None  # the ceiling:
    assert pages[-1].total == SIZE > sum(len(p.items) for p in pages)  # more, out of reach
    ids = [v["id"] for p in pages for v in p.items]
    assert ids == [v["id"] for v in client.iterate("/me/videos", {"fields": "id"})]
    small = list(client.pages("/me/videos", {"fields": "id", "channel": "music"}, limit=30))
    assert [p.more for p in small][-1] is False and small[-1].next is None
    assert sum(len(p.items) for p in small) == small[0].total
    with pytest.raises(ValueError, match="limit"):
        next(client.pages("/me/videos", limit=101))


def test_first_video_asks_for_one_video_in_one_request(client: dm.Client) -> None:
    sent = spy(client)
    try:
        first = dm.first_video(client, sort="old", fields=["id", "created_time"])
    finally:
        del client.transport.send  # back to the class's method
    assert [(c.method, c.path, c.params["limit"], c.params["page"]) for c in sent] == [
        ("GET", "/me/videos", "1", "1")
    ]
    oldest = next(dm.iterate_videos(client, sort="old", fields=["id", "created_time"]))
    assert first == oldest


def test_the_dict_layer_does_not_import_pandas(sb: Sandbox) -> None:
    key, user = sb.credentials.public_key, sb.credentials.user
    code = """
import json, os, sys
import dmtools as dm
c = json.loads(os.environ["SB"])
client = dm.connect("password", client_id=c["id"], client_secret=c["secret"],
                    username=c["user"], password=c["password"], scope=["manage_videos"],
                    endpoints=dm.Endpoints.sandbox(c["url"]))
first = dm.first_video(client, fields="title,owner_screenname", created_after="2020-01-01")
dm.get_video(client, first["id"], ["title", "tags"])
dm.update_video(client, first["id"], title=first["title"], return_fields=["title"])
n = sum(1 for _ in dm.iterate_videos(client, fields=["id"], channel="music", private=False))
print(json.dumps({"n": n, "heavy": sorted({"pandas", "numpy"} & set(sys.modules))}))
"""
    secrets = {"id": key.client_id, "secret": key.client_secret, "url": sb.url}
    secrets |= {"user": user.username, "password": user.password}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "SB": json.dumps(secrets)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(out.stdout)
    assert result["heavy"] == [] and result["n"] > 0


def test_a_bad_filter_is_one_input_error_raised_once(client: dm.Client) -> None:
    with pytest.raises(dm.InputError) as info:
        dm.all_videos(client, created_after="soon", longer_than=-1, channel="cooking")
    error = info.value
    assert {(p.column, p.row) for p in error.problems} == {
        ("created_after", None),
        ("longer_than", None),
        ("channel", None),
    }
    assert "'soon' is not a date" in str(error)
    assert error.__context__ is None and error.__cause__ is None  # not converted from another


DATES: list[Any] = [
    0,
    1_700_000_000,
    1_700_000_000.5,
    -86_400.4,
    "1700000000",
    " 1700000000 ",
    "2024-01-02",
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05.600+02:00",
    "2024-01-02 03:04:05",
    "2024-02-30",
    "2024-01-02T25:00:00",
    "next week",
    "",
    True,
    None,
    float("nan"),
    float("inf"),
    datetime(2024, 1, 2, 3, 4, 5, 499_999),
    datetime(2024, 1, 2, 3, 4, 5, 500_000, tzinfo=timezone(timedelta(hours=-5))),
    date(1969, 12, 31),
    datetime(9999, 12, 31, tzinfo=UTC),
    pd.Timestamp("2024-01-02T03:04:05.7Z"),
    pd.NaT,
    np.datetime64("NaT"),
    np.datetime64("9999-01-01"),
    np.datetime64("2024-01-02T03:04:05.499999"),
    np.datetime64("2024-01-02T03:04:05.123456789"),
    np.int64(1_700_000_000),
    [1_700_000_000],
]


@pytest.mark.parametrize("value", DATES, ids=repr)
def test_a_date_means_the_same_in_a_filter_and_in_a_cell(value: Any) -> None:
    """The dict layer parses dates without pandas; the frame layer with it: they agree."""
    try:
        expected: Any = cells.PARSERS["date"](value)
    except (ValueError, TypeError, OverflowError):  # cells crashes past year 2262: a refusal too
        expected = ValueError
    try:
        got: Any = parse_seconds(value)
    except (ValueError, TypeError):
        got = ValueError
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1700, 1, 1),
        max_value=datetime(2260, 1, 1),
        timezones=st.none()
        | st.just(UTC)
        | st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-14 * 60, 14 * 60)),
    ),
    st.sampled_from(["object", "iso", "iso-space"]),
)
def test_any_datetime_or_its_iso_text_means_the_same_second_in_both_layers(
    moment: datetime, form: str
) -> None:
    value: Any = moment
    if form != "object":
        value = moment.isoformat(sep="T" if form == "iso" else " ")
    assert parse_seconds(value) == cells.PARSERS["date"](value)


def test_the_legacy_dialect_names_the_endpoints_auth_uses(sb: Sandbox) -> None:
    endpoints, legacy = sb.endpoints, get_dialect("legacy")
    assert legacy is LEGACY and get_dialect(LEGACY) is LEGACY
    for grant in sorted(legacy.grants):
        endpoint = TokenEndpoint(
            client_id="k",
            client_secret=Secret("s"),
            endpoints=endpoints,
            partner=grant == "client_credentials",
        )
        assert legacy.token_url(endpoints, grant=grant) == endpoint.url
        endpoint.close()
    assert legacy.base_url(endpoints, partner=True) == endpoints.partner_url
    with connect_sandbox(sb) as client:  # connect's default leeway is the dialect's
        assert client._manager.leeway == legacy.renew_ahead == 60.0  # type: ignore[attr-defined]
    with connect_sandbox(sb, leeway=5.0) as client:
        assert client._manager.leeway == 5.0  # type: ignore[attr-defined]
    with pytest.raises(dm.InputError, match="unknown API dialect 'v3'"):
        get_dialect("v3")
