"""``to_frame(records, consume=True)``: the same frame, the records' values handed over."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from dmtools.errors import InputError
from dmtools.frames import to_frame

RECORDS = [
    {"id": "x2", "title": "Two", "tags": ["a", "b"], "created_time": 1_700_000_000},
    {"id": "x1", "title": None, "tags": [], "created_time": 1_700_000_001, "extra": 1},
]


def test_a_consumed_load_gives_the_same_frame_and_empties_the_records() -> None:
    fields = ["id", "title", "tags", "created_time"]
    kept = to_frame(copy.deepcopy(RECORDS), fields=fields)
    records = copy.deepcopy(RECORDS)
    consumed = to_frame(records, fields=fields, consume=True)
    pd.testing.assert_frame_equal(consumed, kept)
    assert records == [{}, {"extra": 1}]  # the frame's fields were taken, others left


def test_a_consumed_load_with_a_bad_value_still_names_it() -> None:
    records = [{"id": "x1", "created_time": "not a date"}]
    with pytest.raises(InputError) as info:
        to_frame(records, fields=["id", "created_time"], consume=True)
    assert [(p.row, p.column) for p in info.value.problems] == [("x1", "created_time")]
