"""Records -> DataFrame conversion: columns, dtypes, index, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dmtools import schema
from dmtools.errors import InputError
from dmtools.frames import (
    STRING_DTYPE,
    TIMESTAMP_DTYPE,
    conform,
    frame_dtypes,
    resolve_fields,
    to_frame,
)

RECORD = {
    "id": "x1",
    "title": "Hello",
    "description": "",
    "tags": ["a, b", 'say "hi"', " spaced "],
    "channel": "music",
    "language": "fr",
    "published": True,
    "private": False,
    "is_created_for_kids": False,
    "status": "published",
    "owner": "u1",
    "owner.screenname": "Bob",
    "created_time": 1_700_000_000,
    "updated_time": 1_700_000_100,
    "duration": 61,
    "views_total": 12_345,
    "likes_total": 0,
}


def test_default_frame_has_schema_columns_in_schema_order_and_id_index():
    df = to_frame([RECORD])
    expected = [schema.VIDEO_FIELDS[n].column for n in schema.DEFAULT_VIDEO_FIELDS if n != "id"]
    assert df.columns.tolist() == expected
    assert df.index.name == "id"
    assert df.index.dtype == STRING_DTYPE
    assert df.index.tolist() == ["x1"]


def test_dtypes_follow_the_schema():
    df = to_frame([RECORD], fields="all")
    for name, spec in schema.VIDEO_FIELDS.items():
        if name == "id":
            continue
        dtype = df[spec.column].dtype
        if spec.kind == "array":
            assert dtype == np.dtype(object)
        elif spec.dtype == "category":
            assert isinstance(dtype, pd.CategoricalDtype)
        elif spec.dtype == "string":
            assert dtype == STRING_DTYPE and dtype.na_value is pd.NA
        else:
            assert str(dtype) == spec.dtype, name
    assert df["created_time"].dtype == TIMESTAMP_DTYPE
    assert df.loc["x1", "created_time"] == pd.Timestamp("2023-11-14 22:13:20", tz="UTC")
    assert df.loc["x1", "views_total"] == 12_345
    assert df.loc["x1", "tags"] == ["a, b", 'say "hi"', " spaced "]
    assert df.loc["x1", "owner_screenname"] == "Bob"


def test_categories_are_the_full_schema_list_whatever_values_appear():
    a = to_frame([{**RECORD, "channel": "music"}])
    b = to_frame([{**RECORD, "id": "x2", "channel": "news"}])
    assert a["channel"].dtype == b["channel"].dtype
    assert list(a["channel"].cat.categories) == list(schema.CATEGORIES)
    assert list(a["status"].cat.categories) == list(schema.STATUSES)


def test_unknown_category_value_is_kept_not_turned_into_missing():
    df = to_frame([{**RECORD, "channel": "podcasts"}])
    assert df.loc["x1", "channel"] == "podcasts"
    assert list(df["channel"].cat.categories) == [*schema.CATEGORIES, "podcasts"]


def test_missing_values_are_na_and_missing_tags_are_an_empty_list():
    df = to_frame(
        [
            {
                "id": "x1",
                "title": None,
                "description": None,
                "tags": None,
                "published": None,
                "created_time": None,
                "views_total": None,
                "channel": None,
            }
        ]
    )
    row = df.loc["x1"]
    assert row["title"] is pd.NA and row["published"] is pd.NA
    assert row["views_total"] is pd.NA and row["created_time"] is pd.NaT
    assert pd.isna(row["channel"])
    assert row["tags"] == []


def test_empty_string_and_missing_text_stay_distinct():
    df = to_frame(
        [{"id": "a", "description": ""}, {"id": "b", "description": None}], fields=["description"]
    )
    assert df.loc["a", "description"] == ""
    assert df.loc["b", "description"] is pd.NA


def test_empty_record_list_gives_typed_empty_frame():
    df = to_frame([], fields="all")
    assert len(df) == 0
    assert df.index.name == "id" and df.index.dtype == STRING_DTYPE
    assert {c: df[c].dtype for c in df.columns} == frame_dtypes("all")


def test_explicit_fields_project_and_ignore_other_keys():
    df = to_frame([{**RECORD, "aspect_ratio": 1.7}], fields=["views_total", "title"])
    assert df.columns.tolist() == ["title", "views_total"]


def test_default_fields_add_other_known_fields_present():
    df = to_frame([{**RECORD, "explicit": True}])
    assert "explicit" in df.columns
    assert df.columns.get_loc("explicit") > df.columns.get_loc("is_created_for_kids")


def test_unknown_keys_are_rejected_by_name_when_fields_are_not_given():
    with pytest.raises(InputError) as info:
        to_frame([{**RECORD, "aspect_ratio": 1.7, "zzz": 1}])
    assert [p.column for p in info.value.problems] == ["aspect_ratio", "zzz"]


def test_resolve_fields_accepts_names_columns_all_and_comma_text():
    assert resolve_fields(None) == list(schema.DEFAULT_VIDEO_FIELDS)
    assert resolve_fields("all") == list(schema.VIDEO_FIELDS)
    assert resolve_fields("title, owner_screenname") == ["id", "title", "owner.screenname"]
    assert resolve_fields(["owner.screenname", "title", "title"]) == [
        "id",
        "title",
        "owner.screenname",
    ]


def test_resolve_fields_names_every_unknown_field():
    with pytest.raises(InputError) as info:
        resolve_fields(["title", "nope", "category"])
    assert "nope" in str(info.value) and "category" in str(info.value)
    assert [p.column for p in info.value.problems] == ["nope", "category"]


def test_bad_values_are_all_listed_with_row_and_column():
    records = [
        {"id": "x1", "views_total": "many", "published": "maybe"},
        {"id": "x2", "created_time": "yesterday", "tags": [1, 2]},
        {"title": "no id"},
    ]
    with pytest.raises(InputError) as info:
        to_frame(records, fields=["views_total", "published", "created_time", "tags", "title"])
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {
        ("x1", "views_total"),
        ("x1", "published"),
        ("x2", "created_time"),
        ("x2", "tags"),
        ("#2", "id"),
    }


def test_records_that_are_not_dicts_are_an_input_error():
    with pytest.raises(InputError):
        to_frame([RECORD, ["not", "a", "dict"]])  # type: ignore[list-item]


def test_lenient_wire_values_are_parsed():
    df = to_frame(
        [
            {
                "id": "x1",
                "published": "yes",
                "views_total": "12",
                "created_time": 1.6e9,
                "tags": "a, b",
                "title": 7,
            }
        ],
        fields=["published", "views_total", "created_time", "tags", "title"],
    )
    row = df.loc["x1"]
    assert row["published"] is np.True_ or row["published"] is True
    assert row["views_total"] == 12 and row["tags"] == ["a", "b"] and row["title"] == "7"
    assert row["created_time"] == pd.Timestamp(1_600_000_000, unit="s", tz="UTC")


def test_tag_tuples_and_arrays_become_lists():
    df = to_frame(
        [{"id": "x1", "tags": ("a", "b")}, {"id": "x2", "tags": np.array(["c"])}], fields=["tags"]
    )
    assert df["tags"].tolist() == [["a", "b"], ["c"]]
    assert all(type(v) is list for v in df["tags"])


def test_conform_restores_dtypes_and_order_of_a_plain_frame():
    df = to_frame([RECORD])
    plain = df.reset_index().astype(object)[
        ["views_total", "id", "title", "tags", "channel", "created_time", "published"]
    ]
    back = conform(plain)
    pd.testing.assert_frame_equal(back, df[back.columns])
    assert back.columns.tolist() == [
        "title",
        "tags",
        "channel",
        "published",
        "created_time",
        "views_total",
    ]


def test_conform_rejects_unknown_duplicate_and_idless_frames():
    with pytest.raises(InputError, match="nope"):
        conform(pd.DataFrame({"id": ["x1"], "nope": [1]}))
    with pytest.raises(InputError, match="duplicate"):
        conform(
            pd.DataFrame([["x1", "a", "b"]], columns=["id", "owner.screenname", "owner_screenname"])
        )
    with pytest.raises(InputError, match="no video id"):
        conform(pd.DataFrame({"title": ["a"]}))


def test_hundred_thousand_records_build_column_wise():
    records = [{**RECORD, "id": f"x{i}", "views_total": i} for i in range(100_000)]
    df = to_frame(records)
    assert len(df) == 100_000
    assert df["views_total"].sum() == sum(range(100_000))
    assert df.index.is_unique


def test_text_that_is_not_valid_unicode_is_reported_not_crashing():
    with pytest.raises(InputError) as info:
        to_frame(
            [
                {"id": "x1", "title": "ok"},
                {"id": "x2", "title": "bad \ud800"},
                {"id": "x3", "title": ""},
            ],
            fields=["title"],
        )
    assert [(p.row, p.column) for p in info.value.problems] == [("x2", "title")]
