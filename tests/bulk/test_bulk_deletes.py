"""Bulk delete guards: dry run, exact confirmation, cap, snapshot ids, export first, 404s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from _support.dialects import load_channel, login

import dmtools as dm
from dmtools.bulk import DeletePlan, plan_deletes, resume, undo_plan
from dmtools.errors import InputError
from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=300, seed=5) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox, dialect: str) -> Iterator[dm.Client]:
    """The tests below run on both API dialects."""
    with login(sb, dialect) as logged_in:
        yield logged_in


@pytest.fixture()
def df(client: dm.Client) -> pd.DataFrame:
    return load_channel(client, progress=False)


def seq(sb: Sandbox) -> int:
    log = sb.request_log()
    return log[-1]["seq"] if log else 0


def deletes(sb: Sandbox, since: int) -> list[dict[str, Any]]:
    return [r for r in sb.request_log(since) if r["method"] == "DELETE"]


def test_without_confirm_it_is_a_dry_run_that_sends_nothing(sb, client, df) -> None:
    plan = plan_deletes(df.iloc[:3], snapshot=df)
    start = seq(sb)
    result = plan.apply(client, progress=False)
    assert result.dry_run and result.counts()["not_attempted"] == 3
    assert sb.request_log(start) == []
    assert "Dry run" in repr(result) and "3 video(s) to delete" in repr(plan)


@pytest.mark.parametrize("confirm", [2, 4, 0, True])
def test_confirm_must_be_the_exact_count(sb, client, df, confirm: int, tmp_path) -> None:
    plan = plan_deletes(df.iloc[:3], snapshot=df)
    start = seq(sb)
    with pytest.raises(InputError, match="exact number"):
        plan.apply(client, confirm=confirm, export_path=tmp_path / "x.json", progress=False)
    assert sb.request_log(start) == [] and not (tmp_path / "x.json").exists()


def test_more_than_the_cap_needs_force(sb, client, df, tmp_path) -> None:
    cap = len(df) // 10  # 10 % of the snapshot (300 rows on legacy, 240 on v2), at most 50
    plan = plan_deletes(df.iloc[: cap + 1], snapshot=df)
    assert plan.cap == cap
    start = seq(sb)
    with pytest.raises(InputError, match="force=True"):
        plan.apply(client, confirm=cap + 1, progress=False)
    assert sb.request_log(start) == []
    assert plan_deletes(df.iloc[:60]).cap == 50  # no snapshot: 50 at most
    small = df.iloc[:40]
    assert plan_deletes(small.iloc[:5], snapshot=small).cap == 4


def test_ids_must_come_from_the_snapshot_and_duplicates_collapse(df) -> None:
    with pytest.raises(InputError) as exc:
        plan_deletes([df.index[0], "xnotloaded"], snapshot=df)
    assert [(p.row, p.column) for p in exc.value.problems] == [("xnotloaded", "id")]
    with pytest.raises(InputError, match="snapshot"):
        plan_deletes([df.index[0]])
    plan = plan_deletes([df.index[1], df.index[0], df.index[1]], snapshot=df)
    assert plan.video_ids == tuple(sorted(df.index[:2]))
    twice = pd.concat([df.iloc[:2], df.iloc[:2]])
    assert len(plan_deletes(twice)) == 2


def test_delete_exports_first_then_deletes_and_reports(sb, client, df, dialect, tmp_path) -> None:
    chosen = df.iloc[10:14]
    sb.delete_video(chosen.index[3])  # already gone
    plan = plan_deletes(chosen, snapshot=df)
    export = tmp_path / "deleted.csv"
    start = seq(sb)
    result = plan.apply(
        client,
        confirm=4,
        export_path=export,
        journal=tmp_path / "d.journal",
        progress=False,
        batch=False,  # one DELETE per video (batched deletes: test_bulk_batching_deletes.py)
    )
    table = result.to_frame()
    assert table.loc[chosen.index[:3], "op_status"].tolist() == ["deleted"] * 3
    gone = (table.loc[chosen.index[3], "op_status"], table.loc[chosen.index[3], "http_status"])
    if dialect == "legacy":
        assert gone == ("already_absent", 404)
    else:  # API v2 answers 204 to the DELETE of a video already gone: gone either way
        assert gone[0] in ("deleted", "already_absent")
    assert all(sb.get_video(v) is None for v in chosen.index)
    first_delete = min(r["time"] for r in deletes(sb, start))
    assert export.stat().st_mtime <= first_delete
    saved = dm.read_csv(export)
    assert list(saved.index) == list(chosen.index)
    assert saved.loc[chosen.index[0], "title"] == chosen.iloc[0]["title"]
    assert result.export_path == export.resolve()
    # a finished delete, run again from its journal, sends nothing
    again_from = seq(sb)
    rerun = plan.apply(
        client, confirm=4, export_path=export, journal=tmp_path / "d.journal", progress=False
    )
    done = result.counts()["deleted"]
    assert rerun.counts()["deleted"] == done and sb.request_log(again_from) == []
    assert resume(tmp_path / "d.journal", client, progress=False).counts()["deleted"] == done
    assert sb.request_log(again_from) == []
    undo = undo_plan(tmp_path / "d.journal")
    assert len(undo) == 0 and str(export.resolve()) in undo.notes[0]
    assert "cannot be restored" in repr(undo)


def test_an_interrupted_delete_is_resolved_by_reading_back(sb, client, df, tmp_path) -> None:
    after_commit, before_commit = df.index[20], df.index[21]
    sb.set_faults(
        seed=1,
        rules=[
            {
                "kind": "reset",
                "after_commit": True,
                "methods": ["DELETE"],
                "path": f"/videos?/{after_commit}$",
            },
            {
                "kind": "reset",
                "after_commit": False,
                "methods": ["DELETE"],
                "at": [1],
                "path": f"/videos?/{before_commit}$",
            },
        ],
    )
    try:
        start = seq(sb)
        plan = plan_deletes([after_commit, before_commit], snapshot=df)
        result = plan.apply(
            client, confirm=2, export_path=tmp_path / "e.json", progress=False, batch=False
        )
    finally:
        sb.clear_faults()
    table = result.to_frame()
    assert table["op_status"].tolist() == ["deleted", "deleted"]
    sent = [r["path"].rsplit("/", 1)[-1] for r in deletes(sb, start)]
    assert sent.count(after_commit) == 1  # 404 on read-back: no second DELETE
    assert sent.count(before_commit) == 2  # still there: sent once more
    assert table.loc[after_commit, "attempts"] == 1 and table.loc[before_commit, "attempts"] == 2
    exported = json.loads((tmp_path / "e.json").read_text())
    assert sorted(r["id"] for r in exported) == sorted([after_commit, before_commit])


def test_a_saved_delete_plan_round_trips(df, tmp_path) -> None:
    plan = plan_deletes(df.iloc[:5], snapshot=df)
    again = DeletePlan.load(plan.save(tmp_path / "delete.json"))
    assert again.video_ids == plan.video_ids and again.fingerprint == plan.fingerprint
    assert again.cap == plan.cap
    assert "<table" in plan._repr_html_()
