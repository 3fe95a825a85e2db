"""The vectorised diff finds exactly what the cell-by-cell reference finds.

:func:`dmtools.bulk.diff.diff_frames` skips the cells it can prove equal and valid, a whole
column at a time; ``tests/_support/diff_reference.py`` is the planner as it was before, cell
by cell. On generated frames (every column type, missing values, empty tag lists, tags
reordered or repeated, Unicode, ids out of order, rows added, removed and repeated, columns
turned into plain objects, hostile cells) both must give the same changes, labels, unchanged
count and problems, in the same order and words.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
from _support import diff_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmtools import schema
from dmtools.bulk import plan_edits
from dmtools.bulk.diff import Diff, diff_frames
from dmtools.frames import to_frame
from dmtools.frames._build import index_by_id
from dmtools.schema import LIMITS_PARTNER, LIMITS_PUBLIC

WORDS = ["music", "live", "Music", "é", "e\u0301", "🙂", "שלום", "a b", "NA", "", " x"]
FIELDS = [
    "id",
    "title",
    "description",
    "tags",
    "channel",
    "language",
    "published",
    "private",
    "status",
    "created_time",
    "views_total",
    "likes_total",
]


def _record(rng: random.Random, vid: str) -> dict[str, Any]:
    maybe = rng.random() < 0.15
    return {
        "id": vid,
        "title": " ".join(rng.choices(WORDS, k=rng.randint(1, 4))) or "t",
        "description": None if maybe else rng.choice(WORDS),
        "tags": rng.choices(WORDS[:7], k=rng.randint(0, 4)),
        "channel": None if maybe else rng.choice(schema.CATEGORIES[:5]),
        "language": None if maybe else rng.choice(("en", "fr")),
        "published": None if maybe else rng.random() < 0.5,
        "private": rng.random() < 0.5,
        "status": rng.choice(("published", "ready")),
        "created_time": None if maybe else 1_600_000_000 + rng.randint(0, 10**6),
        "views_total": None if maybe else rng.randint(0, 50),
        "likes_total": rng.randint(0, 5),
    }


def snapshot(seed: int, rows: int) -> pd.DataFrame:
    rng = random.Random(seed)
    ids = [f"x{i:05d}" for i in rng.sample(range(10 * rows + 10), rows)]  # out of order
    return to_frame([_record(rng, vid) for vid in ids], fields=FIELDS)


# Values a user may put in a cell of each column (good, odd and bad ones).
CELLS: dict[str, list[Any]] = {
    "title": ["New", "", None, "T" * 101, "T" * 151, "🙂 é", 12, "NA"],
    "description": ["", None, "D" * 3001, "e\u0301", "text"],
    "tags": [
        [],
        None,
        ["music"],
        ["live", "music"],
        ["music", "music"],
        ["Music"],
        ["a,b"],
        [" a"],
        [""],
        ["🙂", "é"],
        [1],
        "music, live",
        '["x", "y"]',
        "[bad",
        np.nan,
        ("music",),
        np.array(["music"]),
        ["\ud800"],
    ],
    "channel": ["music", "news", "Video games", "nope", None, ""],
    "language": ["en", "de", None, "", "zz"],
    "published": [True, False, None, "yes", "maybe"],
    "private": [True, False, None, 1, "no"],
    "status": ["ready", "published", None],
    "created_time": [pd.Timestamp("2021-01-01", tz="UTC"), None],
    "views_total": [0, 7, None, 10**6],
    "likes_total": [0, 9, None],
}


def _set(frame: pd.DataFrame, row: int, column: str, value: Any) -> None:
    """frame[column][row] = value, turning the column into objects when its dtype refuses."""
    if row >= len(frame):
        return
    position = frame.columns.get_loc(column)
    try:
        if column == "tags" or isinstance(value, (list, tuple, np.ndarray)):
            raise TypeError
        frame.iloc[row, position] = value
    except (TypeError, ValueError):
        values = frame[column].astype(object).tolist()
        values[row] = value
        frame[column] = pd.Series(values, index=frame.index, dtype=object)


def _edit(frame: pd.DataFrame, op: tuple[Any, ...]) -> pd.DataFrame:
    kind = op[0]
    if kind == "set":
        _set(frame, op[1], op[2], CELLS[op[2]][op[3] % len(CELLS[op[2]])])
    elif kind == "tags":  # reorder or repeat the tags of a row, in place of a new list
        row = op[1] % max(len(frame), 1)
        if len(frame):
            tags = (
                list(frame["tags"].iloc[row]) if isinstance(frame["tags"].iloc[row], list) else []
            )
            _set(frame, row, "tags", tags[::-1] if op[2] else tags + tags[:1])
    elif kind == "object":
        frame[op[1]] = frame[op[1]].astype(object)
    elif kind == "drop" and len(frame):
        return frame.drop(frame.index[op[1] % len(frame)])
    elif kind == "add":
        extra = to_frame([_record(random.Random(op[1]), f"new{op[1]}")], fields=FIELDS)
        extra = extra.reset_index() if "id" in frame.columns else extra
        return pd.concat([frame, extra.reindex(columns=frame.columns)])
    elif kind == "repeat" and len(frame):
        return pd.concat([frame, frame.iloc[[op[1] % len(frame)]]])
    elif kind == "shuffle":
        return frame.sample(frac=1.0, random_state=op[1])
    elif kind == "unknown":
        frame["colour"] = "red"
    elif kind == "id_column" and "id" not in frame.columns:
        return frame.reset_index()
    return frame


ops = st.one_of(
    st.tuples(
        st.just("set"), st.integers(0, 130), st.sampled_from(sorted(CELLS)), st.integers(0, 20)
    ),
    st.tuples(st.just("tags"), st.integers(0, 130), st.booleans()),
    st.tuples(st.just("object"), st.sampled_from(sorted(CELLS))),
    st.tuples(st.sampled_from(["drop", "add", "repeat", "shuffle"]), st.integers(0, 10**6)),
    st.tuples(st.sampled_from(["unknown", "id_column"])),
)


def same(before: Any, after: Any, limits: schema.FieldLimits = LIMITS_PUBLIC) -> Diff:
    """Run both diffs on the same frames and check they agree in every detail."""
    want = diff_reference.diff_frames(before.copy(), after.copy(), limits)
    got = diff_frames(before, after, limits)
    assert got.problems == want.problems
    assert got.changes == want.changes
    assert list(got.changes) == list(want.changes)  # same order too
    for vid, fields in want.changes.items():
        assert list(got.changes[vid]) == list(fields)
    assert got.labels == want.labels
    assert got.unchanged == want.unchanged
    return got


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(0, 10**6),
    rows=st.sampled_from([0, 1, 7, 49, 51, 120]),
    edits=st.lists(ops, max_size=12),
    partner=st.booleans(),
)
def test_vectorised_diff_equals_the_cell_by_cell_reference(seed, rows, edits, partner) -> None:
    before = snapshot(seed, rows)
    after = before.copy()
    for op in edits:
        after = _edit(after, op)
    same(before, after, LIMITS_PARTNER if partner else LIMITS_PUBLIC)


def test_large_frames_with_one_change_in_ten_agree_and_find_every_change() -> None:
    before = snapshot(3, 3000)
    after = before.sample(frac=1.0, random_state=4)  # ids out of order
    rows = after.index[::10]
    after.loc[rows[::2], "title"] = after.loc[rows[::2], "title"] + " (2)"
    tags = [list(reversed(t)) + ["new"] for t in after.loc[rows[1::2], "tags"]]
    after.loc[rows[1::2], "tags"] = pd.Series(tags, index=rows[1::2], dtype=object)
    found = same(before, after)
    assert set(found.changes) == set(rows)
    assert found.unchanged == 3000 - len(rows)
    assert all(found.changes[vid]["tags"][1][-1] == "new" for vid in rows[1::2])


def test_unchanged_frames_give_no_changes_and_problems_stay_whole() -> None:
    before = snapshot(5, 500)
    assert same(before, before.copy()).unchanged == 500
    after = before.copy()
    after["views_total"] = after["views_total"].fillna(0) + 1  # read-only: every row a problem
    found = same(before, after)
    assert len(found.problems) == 500 and not found.changes


def test_a_bad_tag_in_an_unchanged_looking_column_is_still_found() -> None:
    """Equal cells are skipped only when the edited one is valid: hostile tags are reported."""
    before = snapshot(6, 200)
    hostile = before.copy()
    vid = hostile.index[17]
    for bad in (["\ud800"], [b"bytes"], [np.array(["music"])], np.nan, "a, b"):
        hostile.at[vid, "tags"] = bad
        reference = diff_reference.diff_frames(before.copy(), hostile.copy(), LIMITS_PUBLIC)
        assert reference.problems or reference.changes  # each one is something to report
        same(before, hostile)
    before.at[vid, "tags"] = ["\ud800"]  # the same bad tag in both frames
    hostile.at[vid, "tags"] = ["\ud800"]
    assert same(before, hostile).problems


def test_index_by_id_reports_missing_and_repeated_ids_as_before() -> None:
    frame = snapshot(8, 60).reset_index()
    frame.loc[3, "id"] = None
    frame.loc[4, "id"] = "  "
    frame.loc[5, "id"] = frame.loc[6, "id"]
    got: list[Any] = []
    want: list[Any] = []
    new, old = index_by_id(frame, "f", got), diff_reference.index_by_id(frame, "f", want)
    assert got == want and len(got) == 3
    assert new is not None and old is not None and new.index.tolist() == old.index.tolist()


def test_plan_edits_on_a_large_frame_lists_the_vectorised_changes() -> None:
    before = snapshot(9, 2000)
    after = before.copy()
    after.loc[after.index[::7], "private"] = ~after.loc[after.index[::7], "private"]
    plan = plan_edits(before, after)
    assert len(plan) == len(after.index[::7])
    assert {op.video_id for op in plan.ops} == set(after.index[::7])
