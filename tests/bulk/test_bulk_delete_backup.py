"""A delete never runs unless the metadata of exactly the videos it deletes is on disk first.

Whatever the backup path is (new file, an earlier delete's backup, a directory, a symlink, a
place that cannot be written, a full disk), either a NEW file holding exactly those videos is
written, fsynced and read back before the first DELETE, or nothing is deleted and the error
names the path and the reason. The path reported is the file that really holds them. On both
API dialects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _support import ROOT
from _support.dialects import archive_profile, connect_options, load_channel, login

import dmtools as dm
from dmtools.bulk import DeletePlan, plan_deletes, resume
from dmtools.errors import InputError
from dmtools.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=200, seed=23) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox, dialect: str) -> Iterator[dm.Client]:
    """The tests below run on both API dialects."""
    with login(sb, dialect) as logged_in:
        yield logged_in


@pytest.fixture(scope="module")
def df(client: dm.Client) -> pd.DataFrame:
    return load_channel(client, progress=False)


@pytest.fixture(scope="module")
def pick(df: pd.DataFrame) -> Any:
    """Fresh videos for each test (the module's sandbox loses the ones deleted)."""
    remaining = iter(list(df.index))

    def take(n: int) -> pd.DataFrame:
        return df.loc[[next(remaining) for _ in range(n)]]

    return take


@pytest.fixture(autouse=True)
def runs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("DMTOOLS_RUNS_DIR", str(folder))
    return folder


def _seq(sb: Sandbox) -> int:
    log = sb.request_log()
    return log[-1]["seq"] if log else 0


def _deletes(sb: Sandbox, since: int) -> list[dict[str, Any]]:
    return [r for r in sb.request_log(since) if r["method"] == "DELETE"]


def _refused(sb: Sandbox, client: dm.Client, plan: DeletePlan, path: Path, **extra: Any) -> str:
    """Apply with ``path`` as backup; assert it is refused with 0 DELETEs; the message."""
    start = _seq(sb)
    with pytest.raises(InputError) as exc:
        plan.apply(client, confirm=len(plan), export_path=path, progress=False, **extra)
    assert _deletes(sb, start) == []
    assert all(sb.get_video(v) is not None for v in plan.video_ids)
    message = str(exc.value)
    assert "nothing was deleted" in message and str(path.name) in message
    return message


def test_an_earlier_backup_is_never_reused_for_other_videos(sb, client, df, pick, tmp_path):
    first, second = pick(2), pick(3)
    backup = tmp_path / "deleted.csv"
    done = plan_deletes(first, snapshot=df).apply(
        client, confirm=2, export_path=backup, progress=False
    )
    assert done.counts()["deleted"] == 2 and done.export_path == backup
    kept = backup.read_bytes()
    message = _refused(sb, client, plan_deletes(second, snapshot=df), backup)
    assert "already exists" in message
    assert backup.read_bytes() == kept  # the earlier backup is untouched
    assert sorted(dm.read_csv(backup).index) == sorted(first.index)


@pytest.mark.parametrize("kind", ["directory", "symlink to a file", "dangling symlink"])
def test_a_path_that_is_not_a_new_file_is_refused(sb, client, df, pick, tmp_path, kind):
    path = tmp_path / "backup.json"
    target = tmp_path / "elsewhere.json"
    if kind == "directory":
        path.mkdir()
    elif kind == "symlink to a file":
        target.write_text("[]")
        path.symlink_to(target)
    else:
        path.symlink_to(target)
    message = _refused(sb, client, plan_deletes(pick(2), snapshot=df), path)
    assert "already exists" in message
    if kind != "directory":
        assert path.is_symlink() and (not target.exists() or target.read_text() == "[]")


def test_a_place_that_cannot_be_written_is_refused(sb, client, df, pick, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    message = _refused(sb, client, plan_deletes(pick(2), snapshot=df), blocker / "b.json")
    assert "cannot write the backup" in message
    assert list(tmp_path.iterdir()) == [blocker]


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root")
def test_a_read_only_folder_is_refused(sb, client, df, pick, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    try:
        _refused(sb, client, plan_deletes(pick(2), snapshot=df), folder / "b.json")
    finally:
        folder.chmod(0o700)


def test_rows_that_a_format_cannot_hold_mean_nothing_is_deleted(sb, client, df, pick, tmp_path):
    rows = pick(2).assign(note=["mine", "mine"])  # not a video field: no dmtools CSV holds it
    message = _refused(sb, client, plan_deletes(rows, snapshot=df), tmp_path / "b.csv")
    assert "note" in message or "unknown" in message
    assert list(tmp_path.iterdir()) == []


FULL_DISK = textwrap.dedent("""
    import json, resource, signal, sys
    import dmtools as dm
    from dmtools.bulk import plan_deletes

    cfg = json.loads(sys.argv[1])
    client = dm.connect(endpoints=dm.Endpoints.sandbox(cfg["url"]), **cfg["login"])
    df = dm.load_videos(client, progress=False, **cfg["where"])
    plan = plan_deletes(df.loc[cfg["ids"]], snapshot=df)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["limit"], cfg["limit"]))
    try:
        plan.apply(client, confirm=len(plan), export_path=cfg["path"], progress=False)
    except Exception as exc:
        print(json.dumps({"type": type(exc).__name__, "message": str(exc)}))
    else:
        print(json.dumps({"type": None}))
""")


def test_a_full_disk_means_nothing_is_deleted(sb, client, dialect, pick, tmp_path):
    chosen = pick(4)
    for vid in chosen.index:  # long descriptions: the backup needs far more than the limit
        sb.edit_video(vid, description="d" * 2900)
    path = tmp_path / "full" / "b.json"
    where = {} if dialect == "legacy" else {"profile": archive_profile(client)}
    cfg = {
        "url": sb.url,
        "login": connect_options(sb, dialect),
        "where": where,
        "ids": list(chosen.index),
        "path": str(path),
        "limit": 4096,
    }
    start = _seq(sb)
    out = subprocess.run(
        [sys.executable, "-c", FULL_DISK, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        check=True,
    )
    outcome = json.loads(out.stdout.strip().splitlines()[-1])
    assert outcome["type"] == "InputError", out.stdout + out.stderr
    assert "nothing was deleted" in outcome["message"] and str(path) in outcome["message"]
    assert _deletes(sb, start) == []
    assert all(sb.get_video(v) is not None for v in chosen.index)
    assert not path.exists() and list(path.parent.iterdir()) == []  # no partial file left


def test_a_plan_without_rows_backs_up_the_videos_read_from_the_api(sb, client, df, pick, tmp_path):
    chosen = pick(3)
    saved = plan_deletes(chosen, snapshot=df).save(tmp_path / "d.plan.json")
    plan = DeletePlan.load(saved)  # ids only: the rows are not in a plan file
    result = plan.apply(client, confirm=3, export_path=tmp_path / "b.csv", progress=False)
    assert result.counts()["deleted"] == 3
    held = dm.read_csv(result.export_path)
    assert sorted(held.index) == sorted(chosen.index)
    for vid in chosen.index:  # the metadata, not just the ids
        assert held.loc[vid, "title"] == chosen.loc[vid, "title"]
        assert held.loc[vid, "created_time"] == chosen.loc[vid, "created_time"]


def test_the_backup_is_on_disk_before_the_first_delete(sb, client, df, pick, runs):
    chosen = pick(3)
    start = _seq(sb)
    result = plan_deletes(chosen, snapshot=df).apply(client, confirm=3, progress=False, batch=False)
    assert result.export_path is not None and result.export_path.parent == runs
    first_delete = min(r["time"] for r in _deletes(sb, start))
    assert result.export_path.stat().st_mtime <= first_delete
    held = json.loads(result.export_path.read_text())
    assert sorted(r["id"] for r in held) == sorted(chosen.index)


def test_a_resumed_delete_writes_a_new_backup_when_the_first_is_gone(
    sb, client, df, pick, tmp_path
):
    chosen = pick(4)
    journal = tmp_path / "d.journal"
    plan = plan_deletes(chosen, snapshot=df)
    last = chosen.index[-1]
    sb.set_faults(
        seed=3,
        rules=[
            {
                "kind": "status",
                "status": 400,
                "rate": 1.0,
                "methods": ["DELETE"],
                "path": f"/videos?/{last}$",
            }
        ],
    )
    try:
        first = plan.apply(
            client, confirm=4, export_path=tmp_path / "one.csv", journal=journal, progress=False
        )
    finally:
        sb.clear_faults()
    assert first.counts()["deleted"] == 3 and first.counts()["failed"] == 1
    (tmp_path / "one.csv").unlink()  # the backup is lost before the job is finished
    start = _seq(sb)
    again = resume(journal, client, progress=False)
    assert again.counts()["deleted"] == 4
    assert again.export_path is not None and again.export_path != tmp_path / "one.csv"
    assert [r["id"] for r in json.loads(again.export_path.read_text())] == [last]
    methods = [r["method"] for r in sb.request_log(start)]
    assert methods[-1] == "DELETE" and methods.count("DELETE") == 1  # the backup came first
