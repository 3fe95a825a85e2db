"""The command's file safety, honest re-runs, plan files from outside, one run per job.

* ``export`` and every output option refuse an existing file unless ``--force``, and never
  write through a symlink; a delete's backup must be a new file.
* Run artefacts (journals, locks, results, backups, snapshots) go to ``runs/``, ignored by git.
* A re-run says what the journal knows ("already applied on …; undone on …; nothing sent")
  and sends nothing; ``--again`` applies once more.
* An edited file saved under another name still finds its snapshot.
* Many problems are grouped by column and reason, with a file listing all of them.
* Malformed plan files exit 2 naming the problem, with no request; two applies of one job
  at once give the loser one clear error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest
from _support import ROOT
from _support.cli import Cli, first_error_line

import dmtools as dm


def _export(cli: Cli, name: str = "videos.csv") -> pd.DataFrame:
    cli.login()
    result = cli("export", name, "--no-progress")
    assert result.exit_code == 0, result.stderr
    return dm.frames.import_frame(cli.work / name)


def _retitle(cli: Cli, df: pd.DataFrame, ids: list[str], name: str) -> None:
    edited = df.copy()
    for vid in ids:
        edited.loc[vid, "title"] = f"Edited {vid}"
    dm.frames.export_frame(edited, cli.work / name)


def _requests(cli: Cli) -> int:
    log = cli.sb.request_log()
    return log[-1]["seq"] if log else 0


# -- outputs -----------------------------------------------------------------------------------


def test_export_never_replaces_a_file_unless_forced(cli: Cli) -> None:
    _export(cli)
    (cli.work / "mine.csv").write_text("my own work\n", encoding="utf-8")
    refused = cli("export", "mine.csv", "--no-progress")
    assert refused.exit_code == 2 and "already exists" in first_error_line(refused)
    assert "--force" in first_error_line(refused)
    assert (cli.work / "mine.csv").read_text(encoding="utf-8") == "my own work\n"
    forced = cli("export", "mine.csv", "--no-progress", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert len(dm.read_csv(cli.work / "mine.csv")) == 120


@pytest.mark.parametrize("force", [False, True])
def test_no_output_is_written_through_a_symlink(cli: Cli, force: bool) -> None:
    df = _export(cli)
    precious = cli.work / "precious.txt"
    precious.write_text("keep me\n", encoding="utf-8")
    flag = ["--force"] if force else []
    (cli.work / "link.csv").symlink_to(precious)
    export = cli("export", "link.csv", "--no-progress", *flag)
    assert export.exit_code == 2 and "symbolic link" in first_error_line(export)
    _retitle(cli, df, [df.index[0]], "videos.csv")
    (cli.work / "videos.plan.json").symlink_to(precious)
    plan = cli("plan", "videos.csv", *flag)
    assert plan.exit_code == 2 and "symbolic link" in first_error_line(plan)
    assert cli("plan", "videos.csv", "--out", "p.plan.json").exit_code == 0
    (cli.work / "out.csv").symlink_to(precious)
    apply = cli("apply", "p.plan.json", "--result", "out.csv", "--no-progress", *flag)
    assert apply.exit_code == 2 and "symbolic link" in first_error_line(apply)
    (cli.work / "j.journal").symlink_to(precious)
    journaled = cli("apply", "p.plan.json", "--journal", "j.journal", "--no-progress")
    assert journaled.exit_code == 2 and "symbolic link" in first_error_line(journaled)
    (cli.work / "rep").mkdir()
    (cli.work / "rep" / "report.html").symlink_to(precious)
    report = cli("report", "--from", "videos.csv", "--out", "rep", *flag)
    assert report.exit_code == 2 and "symbolic link" in first_error_line(report)
    assert precious.read_text(encoding="utf-8") == "keep me\n"
    assert cli.sb.commits() == []


def test_every_output_option_refuses_an_existing_file(cli: Cli) -> None:
    df = _export(cli)
    _retitle(cli, df, [df.index[0]], "videos.csv")
    assert cli("plan", "videos.csv").exit_code == 0
    again = cli("plan", "videos.csv")
    assert again.exit_code == 2 and "videos.plan.json already exists" in first_error_line(again)
    assert cli("plan", "videos.csv", "--force").exit_code == 0
    (cli.work / "taken.csv").write_text("taken\n", encoding="utf-8")
    apply = cli("apply", "videos.plan.json", "--result", "taken.csv", "--no-progress")
    assert apply.exit_code == 2 and "already exists" in first_error_line(apply)
    assert cli.sb.commits() == []
    dm.write_csv(df.head(8), cli.work / "few.csv")  # a small report is quick to make
    assert cli("report", "--from", "few.csv", "--out", "rep").exit_code == 0
    report = cli("report", "--from", "few.csv", "--out", "rep")
    assert report.exit_code == 2 and "already exists" in first_error_line(report)
    assert cli("report", "--from", "few.csv", "--out", "rep", "--force").exit_code == 0
    delete = cli("delete", df.index[5], "--export", "taken.csv", "--no-progress", input="1\n")
    assert delete.exit_code == 2 and "already exists" in first_error_line(delete)
    assert "Type the number" not in delete.stderr  # refused before asking
    assert (cli.work / "taken.csv").read_text(encoding="utf-8") == "taken\n"
    assert cli.sb.get_video(df.index[5]) is not None


# -- runs/ ------------------------------------------------------------------------------------


def test_run_artefacts_live_in_runs_which_git_ignores(cli: Cli) -> None:
    df = _export(cli)
    _retitle(cli, df, list(df.index[:2]), "videos.csv")
    assert cli("plan", "videos.csv").exit_code == 0
    assert cli("apply", "videos.plan.json", "--no-progress").exit_code == 0
    assert cli("undo", "videos.plan.json", "--no-progress").exit_code == 0
    deleted = cli("delete", df.index[9], "--confirm", "1", "--no-progress")
    assert deleted.exit_code == 0, deleted.stderr
    mine = {"videos.csv", "videos.plan.json", "runs"}
    assert {p.name for p in cli.work.iterdir()} == mine
    names = [p.name for p in (cli.work / "runs").iterdir()]
    for suffix in (".snapshot.parquet", ".journal", ".journal.lock", ".result.csv", ".json"):
        assert any(n.endswith(suffix) for n in names), (suffix, names)
    subprocess.run(["git", "init", "-q", str(cli.work)], check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=cli.work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sorted(line[3:] for line in status.splitlines()) == ["videos.csv", "videos.plan.json"]


# -- honest re-runs ---------------------------------------------------------------------------


def test_a_rerun_says_what_the_journal_knows_and_sends_nothing(cli: Cli) -> None:
    df = _export(cli)
    vids = list(df.index[:3])
    _retitle(cli, df, vids, "videos.csv")
    assert cli("plan", "videos.csv").exit_code == 0
    assert cli("apply", "videos.plan.json", "--no-progress").exit_code == 0
    undone = cli("undo", "videos.plan.json", "--no-progress")
    assert undone.exit_code == 0, undone.stderr
    before = _requests(cli)
    rerun = cli("apply", "videos.plan.json", "--no-progress")
    assert rerun.exit_code == 0, rerun.stderr
    assert "already applied on" in rerun.stdout and "undone on" in rerun.stdout
    assert "nothing sent" in rerun.stdout and "--again" in rerun.stdout
    assert "Done" not in rerun.stdout
    again_undo = cli("undo", "videos.plan.json", "--no-progress")
    assert again_undo.exit_code == 0 and "nothing sent" in again_undo.stdout
    assert _requests(cli) == before  # not even a login
    assert [(cli.sb.get_video(v) or {})["title"] for v in vids] == [df.at[v, "title"] for v in vids]
    again = cli("apply", "videos.plan.json", "--again", "--no-progress")
    assert again.exit_code == 0, again.stderr
    assert "applied 3" in again.stdout
    assert [(cli.sb.get_video(v) or {})["title"] for v in vids] == [f"Edited {v}" for v in vids]
    third = cli("apply", "videos.plan.json", "--no-progress")
    assert "already applied on" in third.stdout and "undone" not in third.stdout


def test_job_status_is_a_library_call_for_panels(cli: Cli) -> None:
    df = _export(cli)
    _retitle(cli, df, [df.index[0]], "videos.csv")
    assert cli("plan", "videos.csv").exit_code == 0
    assert cli("apply", "videos.plan.json", "--no-progress").exit_code == 0
    [journal] = (cli.work / "runs").glob("videos.plan-*.journal")
    status = dm.bulk.job_status(journal)
    assert status.finished and not status.undone and status.counts == {"applied": 1}
    assert cli("undo", journal, "--no-progress").exit_code == 0
    status = dm.bulk.job_status(journal)
    assert status.undone and status.undo is not None and status.undo.counts == {"applied": 1}
    assert status.describe().startswith("already applied on")


# -- plans from files --------------------------------------------------------------------------


@pytest.mark.parametrize("new_name", ["videos-fixed.csv", "edited/mine.xlsx"])
def test_an_edited_file_saved_under_a_new_name_finds_its_snapshot(cli: Cli, new_name: str):
    df = _export(cli)
    (cli.work / "edited").mkdir()
    _retitle(cli, df, [df.index[1]], new_name)
    (cli.work / "videos.csv").unlink()  # only the renamed copy is left
    planned = cli("plan", new_name)
    assert planned.exit_code == 0, planned.stderr
    assert "1 video(s) to change (title 1)" in planned.stdout
    assert "Snapshot: " in planned.stderr and "videos.csv." in planned.stderr


def test_an_edited_file_matches_its_own_snapshot_not_a_newer_one(cli: Cli) -> None:
    old = _export(cli, "monday.csv")
    cli.sb.edit_video(old.index[0], title="Changed on Tuesday")  # also bumps updated_time
    assert cli("export", "tuesday.csv", "--no-progress").exit_code == 0
    _retitle(cli, old, [old.index[1]], "monday-edited.csv")
    planned = cli("plan", "monday-edited.csv")
    assert planned.exit_code == 0, planned.stderr
    assert "monday.csv." in planned.stderr
    assert "1 video(s) to change (title 1)" in planned.stdout  # Tuesday's edit is not undone


def test_many_problems_are_grouped_with_counts_and_listed_in_a_file(cli: Cli) -> None:
    df = _export(cli)
    edited = df.copy()
    edited["title"] = "x" * 120  # 120 titles over the limit
    edited["channel"] = edited["channel"].astype(object)
    edited.loc[df.index[0], "channel"] = "not-a-category"
    edited.loc[df.index[1], "language"] = "klingon"
    dm.frames.export_frame(edited, cli.work / "videos.csv")
    result = cli("plan", "videos.csv")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any("column 'title': 120 ×" in line for line in lines), result.stderr
    assert any("column 'channel': 1 ×" in line for line in lines)
    assert any("column 'language': 1 ×" in line for line in lines)
    [listed] = [line for line in lines if "every problem:" in line]
    table = pd.read_csv(listed.split("every problem:")[1].strip())
    assert len(table) == 122 and set(table["column"]) == {"title", "channel", "language"}


MALFORMED: dict[str, Any] = {
    "ops is an object": lambda d: {**d, "ops": {"x": d["ops"][0]}},
    "ops is text": lambda d: {**d, "ops": "everything"},
    "an op is a list": lambda d: {**d, "ops": [list(d["ops"][0].values())]},
    "changes is a list": lambda d: {
        **d,
        "ops": [{**d["ops"][0], "changes": [["title", "a", "b"]]}],
    },
    "labels is a list": lambda d: {**d, "labels": ["a title"]},
    "notes is text": lambda d: {**d, "notes": "a note"},
    "video id is a number": lambda d: {**d, "ops": [{**d["ops"][0], "video_id": 12}]},
    "video id is a path": lambda d: {**d, "ops": [{**d["ops"][0], "video_id": "../me"}]},
    "a value is an object": lambda d: {
        **d,
        "ops": [{**d["ops"][0], "changes": {"title": [{"a": 1}, "b"]}}],
    },
    "unchanged_rows is a boolean": lambda d: {**d, "unchanged_rows": True},
    "unchanged_rows is negative": lambda d: {**d, "unchanged_rows": -1},
    "the plan is a list": lambda d: [d],
}
RAW: dict[str, str] = {
    "NaN count": '"unchanged_rows": NaN',
    "Infinity count": '"unchanged_rows": Infinity',
    "huge count": '"unchanged_rows": 1' + "0" * 5000,
    "float count": '"unchanged_rows": 1e999',
}


@pytest.mark.parametrize("case", [*MALFORMED, *RAW, "deep nesting", "not UTF-8"])
def test_a_malformed_plan_file_exits_2_naming_the_problem(cli: Cli, case: str) -> None:
    df = _export(cli)
    _retitle(cli, df, [df.index[0]], "videos.csv")
    assert cli("plan", "videos.csv").exit_code == 0
    path = cli.work / "videos.plan.json"
    data = json.loads(path.read_text())
    if case in MALFORMED:
        path.write_text(json.dumps(MALFORMED[case](data)))
    elif case in RAW:
        text = json.dumps({**data, "unchanged_rows": 0})
        path.write_text(text.replace('"unchanged_rows": 0', RAW[case]))
    elif case == "deep nesting":
        path.write_text(json.dumps({**data, "notes": "@"}).replace('"@"', "[" * 100_000))
    else:
        path.write_bytes(b'{"format": "\xff\xfe"}')
    before = _requests(cli)
    result = cli("apply", "videos.plan.json", "--no-progress")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    line = first_error_line(result)
    assert "unexpected" not in line
    assert any(word in result.stderr for word in ("plan", "JSON", "UTF-8")), result.stderr
    assert _requests(cli) == before
    assert not list((cli.work / "runs").glob("*.journal"))


# -- two applies at once -----------------------------------------------------------------------


def test_two_applies_of_one_job_at_once_give_the_loser_one_clear_error(cli: Cli) -> None:
    df = _export(cli)
    vids = list(df.index[:20])
    _retitle(cli, df, vids, "videos.csv")
    assert cli("plan", "videos.csv").exit_code == 0
    # both runs wait 1.5 s for the account id: the window where both see a new journal
    cli.sb.set_faults(
        latency=0.05,
        rules=[{"kind": "hold", "seconds": 1.5, "rate": 1.0, "methods": ["GET"], "path": "^/me$"}],
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMTOOLS_")}
    env.update({k: v for k, v in cli.env().items() if v is not None})
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "dmtools", "apply", "videos.plan.json", "--no-progress"]
    runs = [
        subprocess.Popen(
            command,
            cwd=cli.work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [
        (p.wait(120), p.stdout.read(), p.stderr.read()) for p in runs if p.stdout and p.stderr
    ]
    cli.sb.clear_faults()
    codes = sorted(code for code, _, _ in outcomes)
    assert codes in ([0, 0], [0, 2]), outcomes
    for code, out, err in outcomes:
        assert "Traceback" not in err and "sqlite" not in err.lower() and "unexpected" not in err
        if code == 2:
            assert "another process is running this job" in err
        else:
            assert "applied 20" in out or "already applied" in out
    commits = [c["video_id"] for c in cli.sb.commits()]
    assert sorted(commits) == sorted(vids)  # each video written once
