"""Edit plans are a pure, validated diff of two frames (no client, no network)."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmtools import frames
from dmtools.bulk import EditPlan, plan_edits
from dmtools.errors import InputError
from dmtools.schema import LIMITS_PARTNER

FIELDS = [
    "id",
    "title",
    "description",
    "tags",
    "channel",
    "language",
    "published",
    "private",
    "is_created_for_kids",
    "views_total",
    "created_time",
]


def record(i: int, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"x{i:05d}",
        "title": f"Video {i}",
        "description": f"About {i}",
        "tags": ["a", f"t{i}"],
        "channel": "music",
        "language": "en",
        "published": True,
        "private": False,
        "is_created_for_kids": False,
        "views_total": i * 10,
        "created_time": 1_600_000_000 + i,
    }
    base.update(over)
    return base


def snapshot(n: int = 5) -> pd.DataFrame:
    return frames.to_frame([record(i) for i in range(n)], FIELDS)


def problems_of(exc: pytest.ExceptionInfo[InputError]) -> set[tuple[str | None, str | None]]:
    return {(p.row, p.column) for p in exc.value.problems}


def test_plan_sends_only_changed_fields_in_schema_order() -> None:
    before = snapshot()
    after = before.copy()
    after.loc["x00001", "private"] = True
    after.loc["x00001", "title"] = "New title"
    after.at["x00003", "tags"] = ["b", "a"]
    plan = plan_edits(before, after)
    assert [op.video_id for op in plan.ops] == ["x00001", "x00003"]
    assert plan.ops[0].changes == {"title": ("Video 1", "New title"), "private": (False, True)}
    assert plan.ops[1].changes == {"tags": (["a", "t3"], ["b", "a"])}
    assert plan.summary() == {
        "operations": 2,
        "videos": 2,
        "fields": {"title": 1, "tags": 1, "private": 1},
        "clears": 0,
        "unchanged_rows": 3,
    }
    assert plan.changes_present


def test_a_frame_planned_against_itself_has_no_operation() -> None:
    before = snapshot()
    plan = plan_edits(before, before.copy())
    assert len(plan) == 0 and not plan.changes_present
    assert plan.summary()["unchanged_rows"] == 5


def test_a_filtered_frame_only_touches_its_rows() -> None:
    before = snapshot()
    after = before.iloc[[1, 2]].copy()
    after["title"] = "Same for both"
    plan = plan_edits(before, after)
    assert [op.video_id for op in plan.ops] == ["x00001", "x00002"]


def test_missing_value_in_a_clearable_field_is_an_explicit_clear() -> None:
    before = snapshot()
    after = before.copy()
    after.loc["x00000", "description"] = None
    after.loc["x00001", "language"] = pd.NA
    after.at["x00002", "tags"] = []
    plan = plan_edits(before, after)
    assert plan.ops[0].changes == {"description": ("About 0", None)}
    assert plan.ops[1].changes == {"language": ("en", None)}
    assert plan.ops[2].changes == {"tags": (["a", "t2"], [])}
    assert plan.summary()["clears"] == 3
    assert set(plan.to_frame()["action"]) == {"clear"}
    assert "clear" in plan._repr_html_()


def test_fingerprint_does_not_depend_on_row_order() -> None:
    before = snapshot(30)
    after = before.copy()
    after["title"] = after["title"] + "!"
    reference = plan_edits(before, after).fingerprint
    rng = random.Random(3)
    for _ in range(20):
        order_a = list(before.index)
        order_b = list(after.index)
        rng.shuffle(order_a)
        rng.shuffle(order_b)
        assert plan_edits(before.loc[order_a], after.loc[order_b]).fingerprint == reference
    other = after.copy()
    other.loc["x00004", "title"] = "different"
    assert plan_edits(before, other).fingerprint != reference


def test_every_problem_is_reported_at_once_with_row_and_column() -> None:
    before = snapshot(8)
    after = before.copy()
    after["notes"] = "mine"  # unknown column
    after.loc["x00000", "views_total"] = 999  # read-only
    after.loc["x00001", "created_time"] = pd.Timestamp("2001-01-01", tz="UTC")  # read-only
    after["published"] = after["published"].astype(object)
    after.loc["x00002", "published"] = "maybe"  # bad boolean
    after["channel"] = after["channel"].astype(object)
    after.loc["x00003", "channel"] = "cooking"  # not a category
    after.loc["x00004", "language"] = "english"  # not ISO 639-1
    after.loc["x00005", "title"] = "x" * 101  # too long
    after.at["x00006", "tags"] = ["y" * 51]  # tag too long
    after.loc["x00007", "title"] = None  # required
    with pytest.raises(InputError) as exc:
        plan_edits(before, after)
    assert problems_of(exc) == {
        (None, "notes"),
        ("x00000", "views_total"),
        ("x00001", "created_time"),
        ("x00002", "published"),
        ("x00003", "channel"),
        ("x00004", "language"),
        ("x00005", "title"),
        ("x00006", "tags"),
        ("x00007", "title"),
    }
    text = str(exc.value)
    assert "read-only" in text and "101 characters" in text and "required" in text


def test_ids_must_be_present_unique_and_from_the_snapshot() -> None:
    before = snapshot(3)
    after = before.reset_index()
    after.loc[0, "id"] = None
    after.loc[1, "id"] = "x00002"
    after = pd.concat([after, pd.DataFrame([{**record(9), "created_time": None}])])
    after["created_time"] = pd.to_datetime(after["created_time"], utc=True)
    after.iloc[-1, after.columns.get_loc("created_time")] = before["created_time"].iloc[0]
    with pytest.raises(InputError) as exc:
        plan_edits(before, after)
    found = problems_of(exc)
    assert ("#0", "id") in found
    assert ("x00002", "id") in found  # duplicate
    assert ("x00009", "id") in found  # not in the snapshot


def test_a_frame_without_ids_or_with_an_unloaded_field_is_refused() -> None:
    before = snapshot(2)
    with pytest.raises(InputError) as exc:
        plan_edits(before, before.reset_index(drop=True))
    assert problems_of(exc) == {(None, "id")}
    narrow = before.drop(columns=["private"])
    with pytest.raises(InputError) as exc:
        plan_edits(narrow, before)
    assert problems_of(exc) == {(None, "private")}


def test_tags_with_a_comma_cannot_be_sent() -> None:
    before = snapshot(1)
    after = before.copy()
    after.at["x00000", "tags"] = ["rock, pop"]
    with pytest.raises(InputError) as exc:
        plan_edits(before, after)
    assert "comma" in str(exc.value)


def test_limits_follow_the_api_key() -> None:
    before = snapshot(1)
    after = before.copy()
    after.loc["x00000", "title"] = "t" * 140
    with pytest.raises(InputError):
        plan_edits(before, after)
    assert len(plan_edits(before, after, limits=LIMITS_PARTNER)) == 1


def test_saved_plan_loads_with_exactly_the_same_actions(tmp_path) -> None:
    before = snapshot()
    after = before.copy()
    after.loc["x00001", "description"] = None
    after.at["x00002", "tags"] = ["é", "🙂"]
    after.loc["x00003", "published"] = False
    plan = plan_edits(before, after)
    path = plan.save(tmp_path / "plan.json")
    again = EditPlan.load(path)
    assert again.fingerprint == plan.fingerprint
    assert [(op.op_id, op.video_id, dict(op.changes)) for op in again.ops] == [
        (op.op_id, op.video_id, dict(op.changes)) for op in plan.ops
    ]
    data = json.loads(path.read_text())
    data["ops"][0]["changes"]["description"][1] = "sneaky"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="fingerprint"):
        EditPlan.load(path)


def test_html_view_escapes_and_truncates_values() -> None:
    before = snapshot(1)
    after = before.copy()
    after.loc["x00000", "description"] = "<script>alert(1)</script>" + "z" * 300
    html = plan_edits(before, after)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "z" * 130 not in html and "…" in html
    assert "Video 0" in html


def test_plan_frame_has_one_row_per_changed_field() -> None:
    before = snapshot(2)
    after = before.copy()
    after["private"] = True
    after.loc["x00001", "title"] = "T"
    table = plan_edits(before, after).to_frame()
    assert list(table.columns) == ["op_id", "id", "title", "field", "action", "old", "new"]
    assert list(zip(table["id"], table["field"], strict=True)) == [
        ("x00000", "private"),
        ("x00001", "title"),
        ("x00001", "private"),
    ]
    assert table["op_id"].tolist() == [1, 2, 2]


def test_an_unedited_csv_round_trip_plans_nothing_and_an_edit_is_seen(tmp_path) -> None:
    trap = ["NA", "null", "", " ", "00123", "=1+1", "-", "@x", "\tlead", "TRUE"]
    before = frames.to_frame(
        [record(i, description=t, title=t.strip() or "t") for i, t in enumerate(trap)], FIELDS
    )
    path = tmp_path / "videos.csv"
    frames.write_csv(before, path)
    assert len(plan_edits(before, path)) == 0
    edited = frames.read_csv(path)
    edited.loc["x00002", "title"] = "Edited in a spreadsheet"
    frames.write_csv(edited, path)
    plan = plan_edits(before, path)
    assert [(op.video_id, op.fields) for op in plan.ops] == [("x00002", ("title",))]


def test_unreadable_file_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError):
        plan_edits(snapshot(1), tmp_path / "missing.csv")
    with pytest.raises(InputError):
        plan_edits(snapshot(1), tmp_path / "notes.txt")


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(
    max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(
        st.tuples(
            texts, texts, st.lists(texts.filter(lambda t: "," not in t), max_size=3), st.booleans()
        ),
        min_size=1,
        max_size=8,
    ),
    st.randoms(),
)
def test_property_self_plan_is_empty_and_fingerprint_is_order_free(rows, rng) -> None:
    records = [
        record(i, title=t or "t", description=d, tags=tags, private=p)
        for i, (t, d, tags, p) in enumerate(rows)
    ]
    before = frames.to_frame(records, FIELDS)
    assert len(plan_edits(before, before.copy())) == 0
    after = before.copy()
    after["private"] = ~after["private"]
    shuffled = list(after.index)
    rng.shuffle(shuffled)
    assert (
        plan_edits(before, after.loc[shuffled]).fingerprint == plan_edits(before, after).fingerprint
    )
    assert len(plan_edits(before, after)) == len(rows)
