"""The v2 dialect's readers and writers on answers the sandbox does not send (top-level
``next``, a missing ``total``, broken bodies) and on every field of the mapping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmtools import schema
from dmtools.dialects import Call, get_dialect
from dmtools.dialects._v2fields import WIRE, WRITABLE, iso, to_body, to_record, unix
from dmtools.dialects.v2 import V2
from dmtools.errors import DailymotionError

LIST = Call("GET", "/profiles/x1/videos", {"page": "1", "page_size": "2"})


def test_registered_by_name() -> None:
    assert get_dialect("v2") is V2 and V2.grants == {"client_credentials"}


def test_a_top_level_next_is_followed_when_there_is_no_pagination_object() -> None:
    answer = {"data": [{"video_id": "a"}, {"video_id": "b"}], "next": "https://h/v2/p?page=2"}
    page = V2.read_page(answer, LIST)
    assert [v["id"] for v in page.items] == ["a", "b"] and page.more
    assert page.next == Call("GET", "https://h/v2/p?page=2") and page.total is None


def test_a_page_at_the_ceiling_without_total_says_more_may_exist() -> None:
    call = Call("GET", "/p", {"page": "10", "page_size": "100"})
    answer = {"data": [{"video_id": str(i)} for i in range(100)], "pagination": {"next": None}}
    page = V2.read_page(answer, call)
    assert page.more and page.next is None and page.number == 10
    last = V2.read_page({**answer, "data": answer["data"][:5]}, call)
    assert not last.more  # a short page is the end


@pytest.mark.parametrize("answer", [None, [], {"data": None}, {"list": []}, "text"])
def test_an_answer_that_is_not_a_v2_list_is_an_error(answer: Any) -> None:
    with pytest.raises(DailymotionError, match="v2 list envelope"):
        V2.read_page(answer, LIST)


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"error": "invalid_client"}, {"error": {"details": "x"}}, {"error": {"code": 5}}],
)
def test_odd_error_bodies_are_read_without_failing(payload: Any) -> None:
    body = V2.read_error(400, payload)
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        assert body is not None and body.param is None and not body.invalid_input
    else:
        assert body is None  # the OAuth form is read by the shared code


def test_every_mapped_field_reads_back_what_a_body_writes() -> None:
    values = {
        "title": "T",
        "description": "D",
        "tags": ["a", "b"],
        "channel": "news",
        "language": "fr",
        "country": "FR",
        "private": True,
        "is_created_for_kids": False,
        "explicit": True,
        "allow_embed": False,
    }
    assert set(values) == WRITABLE
    body = to_body(values)
    assert body["visibility"] == "private" and body["embedding"] == {"enable_embed": False}
    assert set(body) == {WIRE[n].partition(".")[0] for n in values}
    record = to_record(body)
    assert {k: record[k] for k in values} == values
    assert to_body({"description": "  "}) == {"description": None}  # v2 clears with null


@given(st.integers(min_value=0, max_value=253_402_300_799))
def test_dates_round_trip(seconds: int) -> None:
    assert unix(iso(seconds)) == seconds


def test_dates_with_offsets_and_garbage() -> None:
    assert unix("2026-06-01T14:00:00+02:00") == unix("2026-06-01T12:00:00Z")
    assert unix("yesterday") is None and unix(None) is None and unix(5) is None


def test_nested_objects_missing_or_null_are_left_out() -> None:
    record = to_record({"video_id": "x", "profile": None, "source": {}, "visibility": None})
    assert record == {"id": "x", "private": None, "password_protected": None}


def test_every_canonical_field_is_mapped_or_has_a_reason() -> None:
    from dmtools.dialects._v2fields import MISSING_HINTS

    for name in schema.VIDEO_FIELDS:
        assert (name in WIRE) != (name in MISSING_HINTS), name
    assert set(V2.missing_fields(list(schema.VIDEO_FIELDS))) == set(MISSING_HINTS)
