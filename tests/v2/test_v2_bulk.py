"""Bulk edit and delete through API v2, and plans that cross dialects, over real HTTP.

The bulk engine runs unchanged on a v2 client: compare-before-write conflicts, PATCH with
only the changed fields (after-images read back: v2 answers 204 without a body), per-row
results, undo, guarded deletes. v2's strict rules are checked before any write: a single
value v2 refuses means zero writes. A plan made from a frame loaded through one dialect
applies through the other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import dmtools as dm
from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.schema import FieldLimits
from dmtools.testing import connect_sandbox

FIELDS = ["title", "description", "tags", "channel", "private", "published", "explicit"]


@pytest.fixture()
def sb(sandbox_factory) -> Sandbox:  # type: ignore[no-untyped-def]
    return sandbox_factory(videos=120, seed=21)


@pytest.fixture()
def v2(sb: Sandbox) -> Iterator[Client]:
    with connect_sandbox(sb, api="v2") as client:
        yield client


@pytest.fixture()
def legacy(sb: Sandbox) -> Iterator[Client]:
    scope = ["read_videos", "edit_videos", "delete_videos"]
    with connect_sandbox(sb, grant="client_credentials", scope=scope) as client:
        yield client


def _profile(client: Client) -> str:
    return str(client.me()["id"])


def writes(sb: Sandbox, since: int) -> list[dict]:
    return [c for c in sb.commits(since) if c["kind"] in ("edit", "delete")]


def test_a_plan_applies_on_v2_with_conflicts_and_per_row_results(
    sb: Sandbox, v2: Client, tmp_path: Path
) -> None:
    df = dm.load_videos(v2, profile=_profile(v2), fields=FIELDS, progress=False)
    edited = df.copy()
    rows = list(df.index[:6])
    edited.loc[rows[:4], "title"] = [f"Renamed {i}" for i in range(4)]
    edited.loc[rows[4:6], "private"] = ~edited.loc[rows[4:6], "private"].astype(bool)
    edited.loc[rows[0], "tags"] = ["v2", "bulk"]
    plan = dm.plan_edits(df, edited, limits=v2.limits)
    sb.edit_video(rows[1], title="Changed meanwhile")  # a conflict for that row
    mark = len(sb.commits())
    result = plan.apply(v2, journal=tmp_path / "v2.journal", progress=False)
    status = result.to_frame()["op_status"].astype(str).to_dict()
    assert status == {
        rows[0]: "applied",
        rows[1]: "conflict",
        rows[2]: "applied",
        rows[3]: "applied",
        rows[4]: "applied",
        rows[5]: "applied",
    }
    written = {c["video_id"]: c["fields"] for c in writes(sb, mark)}
    assert written[rows[0]] == {"title": "Renamed 0", "tags": ["v2", "bulk"]}  # changes only
    assert set(written) == set(rows) - {rows[1]}
    assert all(set(f) in ({"title"}, {"visibility"}, {"title", "tags"}) for f in written.values())
    assert sb.get_video(rows[1])["title"] == "Changed meanwhile"
    assert sb.get_video(rows[4])["private"] == (not df.loc[rows[4], "private"])
    undone = result.undo_plan().apply(v2, journal=tmp_path / "undo.journal", progress=False)
    assert set(undone.to_frame()["op_status"]) == {"applied"}
    again = dm.load_videos(v2, profile=_profile(v2), fields=FIELDS, progress=False)
    keep = [r for r in df.index if r != rows[1]]
    pd.testing.assert_frame_equal(again.loc[keep], df.loc[keep])


@pytest.mark.parametrize(
    "column, value, reason",
    [
        ("published", False, "read-only on API v2"),
        ("explicit", False, "cannot unset explicit"),
        ("title", "x" * 256, "at most 255"),
    ],
)
def test_one_value_v2_refuses_means_zero_writes(
    sb: Sandbox, v2: Client, column: str, value: object, reason: str
) -> None:
    first = str(dm.first_video(v2, owner=_profile(v2), fields=["id"])["id"])
    sb.edit_video(first, explicit=True, published=True)
    df = dm.load_videos(v2, profile=_profile(v2), fields=FIELDS, progress=False)
    target = [first]
    assert df.loc[first, "explicit"] and df.loc[first, "published"]
    edited = df.copy()
    edited.loc[[v for v in df.index if v != first][:8], "title"] = "Fine"
    edited.loc[target, column] = value
    plan = dm.plan_edits(df, edited, limits=FieldLimits(title=300, description=5000))
    mark = len(sb.commits())
    with pytest.raises(dm.InputError) as info:
        plan.apply(v2, progress=False)
    assert writes(sb, mark) == []
    [problem] = info.value.problems
    assert (problem.row, problem.column) == (first, column) and reason in problem.reason


def test_deletes_through_v2(sb: Sandbox, v2: Client, legacy: Client, tmp_path: Path) -> None:
    df = dm.load_videos(v2, profile=_profile(v2), fields=["title"], progress=False)
    gone = list(df.index[:3])
    result = dm.plan_deletes(df.loc[gone]).apply(
        v2, confirm=3, export_path=tmp_path / "gone.json", progress=False
    )
    assert set(result.to_frame()["op_status"]) == {"deleted"}
    for vid in gone:
        assert sb.get_video(vid) is None
        with pytest.raises(dm.NotFound):
            dm.get_video(legacy, vid, ["id"])
    assert dm.delete_video(v2, gone[0]) == {}  # 204 again: already gone


@pytest.mark.parametrize("direction", ["legacy->v2", "v2->legacy"])
def test_a_plan_made_through_one_dialect_applies_through_the_other(
    sb: Sandbox, v2: Client, legacy: Client, tmp_path: Path, direction: str
) -> None:
    reader, writer = (legacy, v2) if direction == "legacy->v2" else (v2, legacy)
    profile = _profile(v2)
    df = dm.load_videos(reader, profile=profile, fields=FIELDS, progress=False)
    edited = df.copy()
    rows = list(df.index[:5])
    edited.loc[rows, "title"] = f"Through {writer.dialect.name}"
    edited.loc[rows[:2], "description"] = ""
    edited.loc[rows[2], "tags"] = ["crossed"]
    edited.loc[rows[3], "channel"] = "news" if df.loc[rows[3], "channel"] != "news" else "music"
    path = tmp_path / "edited.csv"
    dm.write_csv(edited, path)  # through a file: files are dialect-neutral
    plan = dm.plan_edits(df, path, limits=writer.limits)
    result = plan.apply(writer, journal=tmp_path / "cross.journal", progress=False)
    assert set(result.to_frame()["op_status"]) == {"applied"} and len(result) == 5
    seen = {
        name: dm.load_videos(c, profile=profile, fields=FIELDS, progress=False).loc[rows]
        for name, c in (("legacy", legacy), ("v2", v2))
    }
    for frame in seen.values():  # a cleared description: null in the store; "" or NA shown
        frame["description"] = frame["description"].fillna("")
    pd.testing.assert_frame_equal(seen["legacy"], seen["v2"])
    expected = edited.loc[rows].drop(columns=[])
    assert (seen["v2"]["title"] == f"Through {writer.dialect.name}").all()
    assert seen["v2"].loc[rows[2], "tags"] == ["crossed"]
    assert (seen["v2"].loc[rows[:2], "description"] == "").all()
    assert seen["v2"].loc[rows[3], "channel"] == expected.loc[rows[3], "channel"]


def test_an_interrupted_v2_job_resumes_from_its_journal_without_resending(
    sb: Sandbox, v2: Client, tmp_path: Path
) -> None:
    from dmtools.bulk import resume

    df = dm.load_videos(v2, profile=_profile(v2), fields=FIELDS, progress=False)
    rows = list(df.index[10:18])
    edited = df.copy()
    edited.loc[rows, "title"] = "Resumed through v2"
    plan = dm.plan_edits(df, edited, limits=v2.limits)
    journal = tmp_path / "resume.journal"
    # the 2nd PATCH is written, then its connection reset: an edit in doubt
    sb.set_faults(rules=[{"kind": "reset", "at": [2], "methods": ["PATCH"], "after_commit": True}])
    stop = threading.Event()

    def halfway(done: int, total: int) -> None:
        if done >= 4:
            stop.set()

    mark = len(sb.commits())
    first = plan.apply(v2, journal=journal, workers=1, progress=halfway, stop=stop)
    counts = first.counts()
    assert counts["applied"] >= 4 and counts["not_attempted"] >= 1  # stopped halfway
    assert counts["applied"] + counts["not_attempted"] == 8
    finished = resume(journal, v2, progress=False)
    assert len(sb.fault_log()) == 1  # the reset happened
    sb.clear_faults()
    assert finished.counts()["applied"] == 8
    titles = {vid: sb.get_video(vid)["title"] for vid in rows}
    assert set(titles.values()) == {"Resumed through v2"}
    edits = [c["video_id"] for c in writes(sb, mark)]
    assert sorted(edits) == sorted(rows)  # each video written once: the one in doubt read back
