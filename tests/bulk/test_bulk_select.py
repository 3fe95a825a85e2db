"""Choosing rows of a plan in code, word-level diffs, and what is already done elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest
from _support.dialects import load_channel, login

import dmtools as dm
from dmtools.bulk.check import check_server, job_state
from dmtools.bulk.textdiff import sides, to_text
from dmtools.client import Client
from dmtools.sandbox import Sandbox


def _frames(n: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [f"x{i:05d}" for i in range(n)]
    before = pd.DataFrame(
        {
            "title": [f"Video {i}" for i in range(n)],
            "private": [False] * n,
            "views_total": pd.array(range(n), dtype="Int64"),
        },
        index=pd.Index(ids, name="id"),
    )
    after = before.copy()
    after["title"] = after["title"] + " (new)"
    after.loc[ids[:3], "private"] = True
    return before, after


def test_select_and_drop_make_new_plans_whose_fingerprint_follows() -> None:
    before, after = _frames()
    plan = dm.plan_edits(before, after)
    ids = list(before.index)
    some = plan.select(ids[:2])
    assert some.videos == tuple(ids[:2]) and len(plan) == 6
    assert some.fingerprint != plan.fingerprint
    rebuilt = dm.plan_edits(before.loc[ids[:2]], after.loc[ids[:2]])
    assert some.fingerprint == rebuilt.fingerprint  # the same changes, the same fingerprint
    assert plan.drop(ids[2:]).fingerprint == some.fingerprint
    assert plan.select(after["views_total"] > 3).videos == tuple(ids[4:])  # a boolean Series
    assert plan.select(before.iloc[[1, 5]]).videos == (ids[1], ids[5])  # a frame
    titles = plan.select(fields=["title"])
    assert titles.fields == ("title",) and len(titles) == 6
    assert plan.drop(fields="title").fields == ("private",) and len(plan.drop(fields="title")) == 3
    assert plan.select(ids).fingerprint == plan.fingerprint
    assert [op.op_id for op in some] == [1, 2]
    assert some.labels == {k: v for k, v in plan.labels.items() if k in ids[:2]}
    assert list(some.context.index) == ids[:2]  # type: ignore[union-attr]
    assert any("a selection of plan" in note for note in some.notes)
    loaded = dm.EditPlan.from_dict(some.to_dict())
    assert loaded.fingerprint == some.fingerprint


def test_a_typo_in_a_selection_is_an_error_not_a_silent_noop() -> None:
    before, after = _frames()
    plan = dm.plan_edits(before, after)
    with pytest.raises(dm.InputError, match="not in the plan"):
        plan.drop(["x00001", "x99999"])
    with pytest.raises(dm.InputError, match="changes no field named 'tags'"):
        plan.select(fields=["tags"])
    with pytest.raises(dm.InputError, match="not int"):
        plan.select(3)


def test_delete_plans_select_and_drop_too() -> None:
    before, _ = _frames(20)
    plan = dm.plan_deletes(before.iloc[:4], snapshot=before)
    kept = plan.drop([before.index[0]])
    assert kept.video_ids == tuple(before.index[1:4]) and kept.cap == plan.cap
    assert kept.fingerprint == dm.plan_deletes(before.iloc[1:4], snapshot=before).fingerprint
    assert list(kept.to_frame().index) == list(before.index[1:4])
    assert plan.select(before.index[:2]).video_ids == tuple(before.index[:2])


def test_word_diffs_show_where_a_long_text_changed() -> None:
    start = "Lorem ipsum dolor sit amet. " * 100
    old, new = sides(start + "Call us on Monday.", start + "Call us on Friday.")
    assert to_text(old).endswith("Call us on [-Monday-].")
    assert to_text(new).endswith("Call us on {+Friday+}.")
    assert len(to_text(new)) < 120  # the 2,800 unchanged characters are shortened
    old, new = sides("Middle " * 30 + "X " + "middle " * 30, "Middle " * 30 + "Y " + "middle " * 30)
    assert "[-X-]" in to_text(old) and to_text(old).startswith("… ") and "{+Y+}" in to_text(new)
    old, new = sides(["a", "b"], ["b", "c"])
    assert to_text(old, tags=True) == "[-a-], b" and to_text(new, tags=True) == "b, {+c+}"
    assert sides(None, "x")[0] == [("gap", "(empty)")]
    assert sides("x", None)[1] == [("gap", "(cleared)")]
    assert to_text(sides("", "z" * 500)[1]).count("z") < 130


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=80, seed=4) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox, dialect: str) -> Iterator[Client]:
    """The tests below run on both API dialects."""
    with login(sb, dialect) as logged_in:
        yield logged_in


def test_check_server_sorts_videos_by_what_they_hold_and_writes_nothing(
    sb: Sandbox, client: Client
) -> None:
    df = load_channel(client, fields=["id", "title"], progress=False)
    ids = list(df.index[:5])
    edited = df.loc[ids].copy()
    edited["title"] = edited["title"].str.slice(0, 80) + " !"
    plan = dm.plan_edits(df, edited)
    sb.edit_video(ids[0], title=edited.loc[ids[0], "title"])  # done elsewhere
    sb.edit_video(ids[1], title="someone else")  # conflict
    sb.delete_video(ids[2])  # gone
    commits = len(sb.commits())
    found = check_server(plan, client)
    assert found.done == (ids[0],) and found.conflicts == (ids[1],) and found.missing == (ids[2],)
    assert set(found.pending) == set(ids[3:]) and found.complete
    assert "1 of 5 videos already hold the new values" in found.sentence()
    assert len(sb.commits()) == commits
    deletes = dm.plan_deletes(df.loc[ids[2:4]], snapshot=df)
    found = check_server(deletes, client)
    assert found.done == (ids[2],) and found.pending == (ids[3],)
    stop = threading.Event()
    stop.set()
    assert len(check_server(plan, client, stop=stop).unread) == 5


def test_job_state_reads_a_journal(client: Client, tmp_path: object) -> None:
    df = load_channel(client, fields=["id", "title"], progress=False)
    edited = df.iloc[10:14].copy()
    edited["title"] = edited["title"].str.slice(0, 80) + " ?"
    plan = dm.plan_edits(df, edited)
    journal = f"{tmp_path}/job.journal"
    assert job_state(journal) is None
    plan.apply(client, journal=journal, progress=False)
    state = job_state(journal)
    assert state is not None and state.finished and state.total == 4 and state.done == 4
    assert state.fingerprint == plan.fingerprint
    assert "already carried out" in state.sentence() and "applied 4" in state.sentence()
