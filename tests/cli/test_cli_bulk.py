"""``dmtools plan``, ``apply``, ``undo`` and ``delete`` against a sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from _support.cli import Cli, first_error_line

import dmtools as dm


def _export(cli: Cli, name: str = "videos.csv") -> pd.DataFrame:
    cli.login()
    result = cli("export", name, "--no-progress")
    assert result.exit_code == 0, result.stderr
    return dm.frames.import_frame(cli.work / name)


def _edit_titles(
    cli: Cli, df: pd.DataFrame, titles: dict[str, str], name: str = "videos.csv"
) -> None:
    edited = df.copy()
    for vid, title in titles.items():
        edited.loc[vid, "title"] = title
    dm.frames.export_frame(edited, cli.work / name)


def _edit_then_plan(cli: Cli, df: pd.DataFrame) -> Path:
    _edit_titles(cli, df, {df.index[0]: "Edited"})
    assert cli("plan", "videos.csv").exit_code == 0
    return cli.work / "videos.plan.json"


def _results(path: Path) -> dict[str, str]:
    frame = pd.read_csv(path)
    return dict(zip(frame["id"], frame["op_status"], strict=True))


def _run_file(cli: Cli, pattern: str) -> Path:
    """The one run artefact matching ``pattern`` in runs/."""
    [found] = sorted((cli.work / "runs").glob(pattern))
    return found


def test_plan_apply_undo_round_trip(cli: Cli) -> None:
    df = _export(cli)
    vids = list(df.index[:3])
    originals = {vid: df.at[vid, "title"] for vid in vids}
    _edit_titles(cli, df, {vid: f"New title {i}" for i, vid in enumerate(vids)})
    planned = cli("plan", "videos.csv")
    assert planned.exit_code == 0, planned.stderr
    assert "3 video(s) to change (title 3)" in planned.stdout
    assert f"{vids[0]}" in planned.stdout and "-> New title 0" in planned.stdout
    plan = json.loads((cli.work / "videos.plan.json").read_text())
    assert sorted(op["video_id"] for op in plan["ops"]) == sorted(vids)
    assert cli.sb.commits() == []  # planning sends nothing

    applied = cli("apply", "videos.plan.json", "--no-progress")
    assert applied.exit_code == 0, applied.stderr
    assert "applied 3" in applied.stdout
    results = _run_file(cli, "videos.plan-*.result.csv")
    assert _results(results) == dict.fromkeys(vids, "applied")
    assert [(cli.sb.get_video(v) or {})["title"] for v in vids] == [
        f"New title {i}" for i in range(3)
    ]

    undone = cli("undo", _run_file(cli, "videos.plan-*[0-9a-f].journal"), "--no-progress")
    assert undone.exit_code == 0, undone.stderr
    assert {v: (cli.sb.get_video(v) or {})["title"] for v in vids} == originals
    assert len(cli.sb.commits()) == 6


def test_apply_again_resumes_and_sends_nothing_twice(cli: Cli) -> None:
    plan = _edit_then_plan(cli, _export(cli))
    assert cli("apply", plan, "--no-progress").exit_code == 0
    commits = len(cli.sb.commits())
    again = cli("apply", plan, "--no-progress")
    assert again.exit_code == 0
    assert "already applied on" in again.stdout and "nothing sent" in again.stdout
    assert len(cli.sb.commits()) == commits == 1


def test_apply_reports_a_conflict_and_exits_5(cli: Cli) -> None:
    df = _export(cli)
    vids = list(df.index[:3])
    _edit_titles(cli, df, {vid: "Planned title" for vid in vids})
    assert cli("plan", "videos.csv").exit_code == 0
    cli.sb.edit_video(vids[1], title="Changed elsewhere")  # out of band, after the plan
    result = cli("apply", "videos.plan.json", "--no-progress", "--result", "out.json")
    assert result.exit_code == 5
    assert "conflict" in result.stdout and vids[1] in result.stdout
    assert "not applied" in first_error_line(result)
    rows = {r["id"]: r for r in json.loads((cli.work / "out.json").read_text())}
    assert rows[vids[1]]["op_status"] == "conflict"
    assert "Changed elsewhere" in rows[vids[1]]["message"]
    assert [rows[v]["op_status"] for v in (vids[0], vids[2])] == ["applied", "applied"]
    assert (cli.sb.get_video(vids[1]) or {})["title"] == "Changed elsewhere"


def test_failed_operations_are_retried_by_running_apply_again(cli: Cli) -> None:
    df = _export(cli)
    vids = list(df.index[:2])
    _edit_titles(cli, df, {vid: "After the outage" for vid in vids})
    assert cli("plan", "videos.csv").exit_code == 0
    cli.sb.set_faults(
        seed=1,
        rules=[
            {
                "kind": "reset",
                "rate": 1.0,
                "methods": ["POST"],
                "path": "/video/",
                "after_commit": False,
            }
        ],
    )
    failed = cli("apply", "videos.plan.json", "--no-progress")
    assert failed.exit_code == 5
    results = _run_file(cli, "videos.plan-*.result.csv")
    assert _results(results) == dict.fromkeys(vids, "failed")
    cli.sb.clear_faults()
    journal = _run_file(cli, "videos.plan-*[0-9a-f].journal")
    resumed = cli("apply", journal, "--no-progress")  # the journal alone
    assert resumed.exit_code == 0, resumed.stderr
    assert "Resuming the edit job" in resumed.stderr
    assert _results(results) == dict.fromkeys(vids, "applied")
    assert {(cli.sb.get_video(v) or {})["title"] for v in vids} == {"After the outage"}


def test_a_bad_edited_file_exits_2_naming_row_and_column(cli: Cli) -> None:
    df = _export(cli)
    edited = df.copy()
    vid = df.index[4]
    edited["views_total"] = edited["views_total"].astype("Int64")
    edited.loc[vid, "views_total"] = 123456789
    dm.frames.export_frame(edited, cli.work / "videos.csv")
    result = cli("plan", "videos.csv")
    assert result.exit_code == 2
    first_error_line(result)
    assert vid in result.stderr and "views_total" in result.stderr
    assert not (cli.work / "videos.plan.json").exists()


def test_plan_without_a_snapshot_exits_2(cli: Cli) -> None:
    (cli.work / "hand.csv").write_text("id,title\nx1,Hello\n", encoding="utf-8")
    result = cli("plan", "hand.csv")
    assert result.exit_code == 2
    assert "--snapshot" in first_error_line(result)
    missing = cli("plan", "nothing.csv")
    assert missing.exit_code == 2 and "no such file" in first_error_line(missing)


def test_a_modified_plan_file_is_refused_with_exit_2(cli: Cli) -> None:
    df = _export(cli)
    plan = _edit_then_plan(cli, df)
    data = json.loads(plan.read_text())
    data["ops"][0]["changes"]["title"][1] = "Something else"
    plan.write_text(json.dumps(data))
    result = cli("apply", plan, "--no-progress")
    assert result.exit_code == 2
    assert "fingerprint" in first_error_line(result)
    assert cli.sb.commits() == []


def test_apply_without_login_exits_3_and_sends_nothing(cli: Cli) -> None:
    plan = _edit_then_plan(cli, _export(cli))
    assert cli("logout").exit_code == 0
    result = cli("apply", plan, "--no-progress")
    assert result.exit_code == 3
    assert "not logged in" in first_error_line(result)
    assert cli.sb.commits() == []


def test_apply_with_a_read_only_session_stops_and_exits_3(cli: Cli) -> None:
    plan = _edit_then_plan(cli, _export(cli))
    assert cli("login", "--access", "read-only", creds="public").exit_code == 0
    result = cli("apply", plan, "--no-progress")
    assert result.exit_code == 3
    assert "stopped" in first_error_line(result)
    assert cli.sb.commits() == []


def test_delete_refuses_a_wrong_typed_count(cli: Cli) -> None:
    df = _export(cli)
    vids = list(df.index[:2])
    result = cli("delete", *vids, "--no-progress", input="3\n")
    assert result.exit_code == 2
    assert "exact number" in first_error_line(result)
    assert all(cli.sb.get_video(v) is not None for v in vids)
    nothing = cli("delete", *vids, "--no-progress", input="")
    assert nothing.exit_code == 2 and "--confirm" in first_error_line(nothing)
    assert cli.sb.commits() == []


def test_delete_with_the_right_count_exports_first_then_deletes(cli: Cli) -> None:
    df = _export(cli)
    vids = list(df.index[:2])
    (cli.work / "ids.txt").write_text("\n".join(vids) + "\n", encoding="utf-8")
    result = cli(
        "delete",
        "--from",
        "ids.txt",
        "--snapshot",
        _run_file(cli, "videos.csv.*.snapshot.parquet"),
        "--confirm",
        "2",
        "--export",
        "gone.csv",
        "--no-progress",
    )
    assert result.exit_code == 0, result.stderr
    assert "deleted 2" in result.stdout
    assert all(cli.sb.get_video(v) is None for v in vids)
    assert sorted(dm.read_csv(cli.work / "gone.csv").index) == sorted(vids)
    journal = _run_file(cli, "delete-*.journal")
    undo = cli("undo", journal, "--no-progress")
    assert undo.exit_code == 0 and "Nothing to undo" in undo.stdout
    assert "cannot be restored" in undo.stdout and "gone.csv" in undo.stdout


def test_delete_dry_run_and_guards(cli: Cli) -> None:
    df = _export(cli)
    dry = cli("delete", df.index[0], "--dry-run", "--no-progress")
    assert dry.exit_code == 0 and "Dry run" in dry.stdout
    over = list(df.index[:13])  # 10 % of 120 videos is 12
    capped = cli("delete", *over, "--confirm", "13", "--no-progress")
    assert capped.exit_code == 2 and "force" in first_error_line(capped)
    stranger = cli("delete", "xnotmine", "--confirm", "1", "--no-progress")
    assert stranger.exit_code == 2 and "xnotmine" in stranger.stderr
    assert cli.sb.commits() == []


def test_undo_dry_run_sends_nothing(cli: Cli) -> None:
    plan = _edit_then_plan(cli, _export(cli))
    assert cli("apply", plan, "--no-progress").exit_code == 0
    commits = len(cli.sb.commits())
    dry = cli("undo", plan, "--dry-run")  # the plan file leads to its journal
    assert dry.exit_code == 0, dry.stderr
    assert "1 video(s) to change" in dry.stdout and "Dry run" in dry.stdout
    assert len(cli.sb.commits()) == commits


def test_plan_checks_lengths_against_the_key_kind(cli: Cli) -> None:
    df = _export(cli)
    _edit_titles(cli, df, {df.index[0]: "x" * 120})  # over 100 (public), within 150 (private)
    public = cli("plan", "videos.csv")
    assert public.exit_code == 2
    assert "title" in public.stderr and df.index[0] in public.stderr
    partner = cli("plan", "videos.csv", "--partner")
    assert partner.exit_code == 0, partner.stderr
    assert "1 video(s) to change" in partner.stdout
