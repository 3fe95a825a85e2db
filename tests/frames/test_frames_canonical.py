"""The canonical form of cell values shared by the planner and the importers."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from dmtools import schema
from dmtools.errors import InputError
from dmtools.frames import canonical, from_cell, to_frame, to_wire


@pytest.mark.parametrize("missing", [None, pd.NA, pd.NaT, math.nan, np.float64("nan")])
def test_every_missing_marker_is_none_and_empty_tags(missing):
    assert canonical("title", missing) is None
    assert canonical("published", missing) is None
    assert canonical("views_total", missing) is None
    assert canonical("tags", missing) == []


@pytest.mark.parametrize(
    "text",
    [
        "NA",
        "null",
        "None",
        "nan",
        "#N/A",
        " ",
        "0",
        "00123",
        "=1+1",
        "'x",
        "e\u0301",
        "\u00e9",
        "a\r\nb",
    ],
)
def test_text_is_kept_exactly(text):
    assert canonical("title", text) == text
    assert canonical("description", text) == text


def test_nfc_and_nfd_forms_stay_different():
    assert canonical("title", "\u00e9") != canonical("title", "e\u0301")


def test_empty_text_is_none_when_the_field_can_be_cleared_but_not_when_required():
    assert canonical("description", "") is None
    assert canonical("country", "") is None
    assert canonical("title", "") == ""
    assert canonical("channel", "") == ""


def test_booleans_accept_the_api_spellings_and_reject_others():
    for text, value in [
        ("TRUE", True),
        ("false", False),
        ("yes", True),
        ("0", False),
        (1, True),
        (np.bool_(False), False),
        (1.0, True),
    ]:
        assert canonical("private", text) is value
    with pytest.raises(InputError, match="not a boolean"):
        canonical("private", "maybe")


def test_tags_from_lists_json_and_comma_text():
    assert canonical("tags", ("a", "b")) == ["a", "b"]
    assert canonical("tags", np.array(["a", "b"], dtype=object)) == ["a", "b"]
    assert canonical("tags", '["a, b", "c \\"d\\""]') == ["a, b", 'c "d"']
    assert canonical("tags", " music , live,, ") == ["music", "live"]
    assert canonical("tags", "") == []
    with pytest.raises(InputError, match="JSON"):
        canonical("tags", "[not json")
    with pytest.raises(InputError, match="text"):
        canonical("tags", [1, 2])


def test_integers_and_dates():
    assert canonical("views_total", "00123") == 123
    assert canonical("views_total", 5.0) == 5
    with pytest.raises(InputError, match="whole number"):
        canonical("views_total", 5.5)
    with pytest.raises(InputError, match="whole number"):
        canonical("views_total", True)
    stamp = 1_700_000_000
    assert canonical("created_time", stamp) == stamp
    assert canonical("created_time", pd.Timestamp(stamp, unit="s", tz="UTC")) == stamp
    assert canonical("created_time", datetime.fromtimestamp(stamp, UTC)) == stamp
    assert canonical("created_time", "2023-11-14T22:13:20Z") == stamp
    assert canonical("created_time", "2023-11-14 23:13:20+01:00") == stamp
    assert canonical("created_time", "2023-11-14 22:13:20") == stamp  # naive = UTC
    with pytest.raises(InputError, match="not a date"):
        canonical("created_time", "14/11/2023")


def test_field_may_be_named_by_column():
    assert canonical("owner_screenname", "Bob") == "Bob"
    with pytest.raises(InputError, match="unknown"):
        canonical("nope", "x")


def test_from_cell_round_trips_every_cell_of_a_frame():
    record = {
        "id": "x1",
        "title": "t",
        "description": None,
        "tags": ["a"],
        "channel": "news",
        "published": True,
        "views_total": 3,
        "created_time": 1_700_000_000,
    }
    df = to_frame([record], fields=list(record))
    for column in df.columns:
        assert from_cell(column, df.loc["x1", column]) == record.get(column) or (
            column == "description" and from_cell(column, df.loc["x1", column]) is None
        )


def test_to_wire_validates_with_the_schema_limits():
    assert to_wire("published", "yes") is True
    assert to_wire("tags", "a, b") == ["a", "b"]
    assert to_wire("description", pd.NA) is None  # clear
    with pytest.raises(InputError, match="read-only"):
        to_wire("views_total", 3)
    with pytest.raises(InputError, match="required"):
        to_wire("title", None)
    with pytest.raises(InputError, match="not a category"):
        to_wire("channel", "musci")
    too_long = "x" * (schema.LIMITS_PUBLIC.title + 1)
    with pytest.raises(InputError, match="at most"):
        to_wire("title", too_long)
    assert to_wire("title", too_long, schema.LIMITS_PARTNER) == too_long
