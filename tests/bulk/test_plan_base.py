"""One plan surface for edits and deletes, one operation-status type, one cap check and one
atomic writer for every file dmtools writes."""

from __future__ import annotations

import json
import os
import stat
import typing
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import dmtools as dm
from dmtools._safefiles import atomic_write
from dmtools.bulk import DeletePlan, EditPlan, OpStatus, plan_deletes, plan_edits
from dmtools.bulk._base import FINAL, IN_DOUBT, STATUSES, PlanBase, reported
from dmtools.bulk.journal import Journal
from dmtools.errors import InputError
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox


def _plans() -> tuple[EditPlan, DeletePlan]:
    df = dm.to_frame([{"id": f"x{i}", "title": f"t{i}"} for i in range(20)], fields=["title"])
    edited = df.copy()
    edited.loc["x3", "title"] = "new"
    return plan_edits(df, edited), plan_deletes(df.loc[["x4", "x5"]], snapshot=df)


def test_edit_and_delete_plans_share_one_surface(tmp_path: Path) -> None:
    for plan in _plans():
        assert isinstance(plan, PlanBase) and plan.changes_present and len(plan) >= 1
        data = plan.to_dict()
        assert (data["format"], data["version"]) == (plan.FORMAT, plan.VERSION)
        assert data["fingerprint"] == plan.fingerprint
        path = plan.save(tmp_path / f"{plan.kind}.plan.json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        again = type(plan).load(path)
        assert again.fingerprint == plan.fingerprint and list(again) == list(plan)
        assert plan.fingerprint[:12] in repr(plan) and plan.fingerprint[:12] in plan._repr_html_()


@pytest.mark.parametrize("kind", ["edit", "delete"])
def test_a_modified_plan_file_is_refused_the_same_way(tmp_path: Path, kind: str) -> None:
    plan = next(p for p in _plans() if p.kind == kind)
    data = plan.to_dict()
    data["labels"] = {vid: "tampered" for vid in plan.videos}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    nothing = "nothing was sent" if kind == "edit" else "nothing was deleted"
    with pytest.raises(InputError, match=f"does not match its fingerprint.*{nothing}"):
        type(plan).load(path)


def test_one_status_type_names_every_state_of_the_journal_and_the_results() -> None:
    states = set(typing.get_args(OpStatus))
    assert set(STATUSES) | IN_DOUBT | {"planned"} == states
    assert FINAL <= set(STATUSES) and not FINAL & IN_DOUBT
    assert {reported(s) for s in states} == set(STATUSES)
    assert dm.bulk.STATUSES == STATUSES


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=60, seed=11) as sandbox:
        yield sandbox


def test_a_run_reports_only_statuses_of_the_one_type(sb: Sandbox, tmp_path: Path) -> None:
    with connect_sandbox(sb) as client:
        df = dm.load_videos(client, fields=["title"], progress=False)
        edited = df.copy()
        edited.iloc[:3, 0] = "retitled"
        result = plan_edits(df, edited).apply(client, journal=tmp_path / "j", progress=False)
        deletes = plan_deletes(df.iloc[:2], snapshot=df)
        gone = deletes.apply(client, confirm=2, export_path=tmp_path / "b.json", progress=False)
    assert {r.status for r in result} == {"applied"} and {r.status for r in gone} == {"deleted"}
    with Journal(tmp_path / "j") as journal:
        assert {r.state for r in journal.rows()} <= set(typing.get_args(OpStatus))
    backup = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert sorted(r["id"] for r in backup) == sorted(deletes.video_ids)
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o600


def test_the_cap_is_one_check_that_the_command_line_says_too(sb: Sandbox) -> None:
    df = pd.DataFrame({"title": [f"t{i}" for i in range(100)]}, index=[f"v{i}" for i in range(100)])
    plan = plan_deletes(df.iloc[:11], snapshot=df)
    assert plan.cap == 10
    with pytest.raises(InputError, match="over the limit of 10") as caught:
        plan.check_cap()
    with connect_sandbox(sb) as client, pytest.raises(InputError) as applied:
        plan.apply(client, confirm=11)
    assert applied.value.message == caught.value.message
    from dmtools.cli.deletes import DELETE_EXAMPLES

    assert "50 videos or 10% of the snapshot" in DELETE_EXAMPLES


def test_atomic_write_leaves_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    target = tmp_path / "file.json"
    atomic_write(target, "old")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    def broken(path: Path) -> None:
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    with pytest.raises(InputError, match="refused"):
        atomic_write(target, "new", check=lambda p: (_ for _ in ()).throw(InputError("refused")))
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["file.json"]

    def race(path: Path) -> None:  # another process takes the name meanwhile
        (tmp_path / "late.txt").write_text("theirs")

    with pytest.raises(InputError, match="already exists"):
        atomic_write(tmp_path / "late.txt", "mine", overwrite=False, check=race)
    assert (tmp_path / "late.txt").read_text() == "theirs"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    atomic_write(link, b"through?")  # replaces the link itself, never the file it points to
    assert target.read_text() == "old" and not link.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["file.json", "late.txt", "link.json"]
