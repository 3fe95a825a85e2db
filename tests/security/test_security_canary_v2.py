"""Canary scan on API v2 (S-14): the library and the command line with a v2 login.

The same hunt as ``test_security_canary.py``, along the paths a v2 user takes: the private
key's login (``client_credentials`` at ``/oauth2/v2/token``), a renewal after a 401, profiles,
``load_videos`` per profile and for all of them, file exports, bulk edit (``PATCH``) with a
journal, a reset after commit, resume and undo, bulk delete with its export, a channel
report, v2 errors (unknown video, refused values, missing scope, faults, a wrong secret, an
unknown scope), and ``dmtools login --api v2`` with every command. Every logger is at DEBUG;
the secrets are the sandbox's own, v2 JWTs and the key that signs them included.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _support.canary import (
    WRONG_SECRET,
    Scan,
    failure,
    issued_secrets,
    needles,
    scan_outputs,
)
from _support.cli import Cli

import dmtools as dm
from dmtools import report
from dmtools.bulk import plan_deletes, plan_edits, resume
from dmtools.sandbox import Sandbox

MANAGE = ["account.read", "video.read", "video.manage"]


def _v2(sb: Sandbox, secret: str | None = None, scope: list[str] | None = None) -> dm.Client:
    key = sb.credentials.private_key
    return dm.connect(
        api="v2",
        client_id=key.client_id,
        client_secret=secret or key.client_secret,
        endpoints=sb.endpoints,
        scope=MANAGE if scope is None else scope,
    )


def _edit_and_delete(sb: Sandbox, client: dm.Client, df: Any, work: Path, scan: Scan) -> None:
    """Bulk edit with a reset after commit, resume, undo; a delete with its export."""
    edited = df.copy()
    edited.loc[df.index[:4], "title"] = [f"Canary run {n}" for n in range(4)]
    edited.loc[df.index[4], "tags"] = ["canary", "scan"]
    plan = plan_edits(df, edited)
    plan.save(work / "edits.plan.json")
    scan.display("plan", plan)
    reset = {"kind": "reset", "rate": 1.0, "methods": ["PATCH"], "after_commit": True}
    sb.set_faults(seed=3, rules=[{**reset, "path": f"/v2/videos/{df.index[3]}$"}])
    result = plan.apply(client, journal=work / "edits.journal", progress=False)
    sb.clear_faults()
    assert result.counts()["applied"] == 5, result.to_frame()
    again = resume(work / "edits.journal", client, progress=False)
    undo = again.undo_plan()
    undone = undo.apply(client, journal=work / "undo.journal", progress=False)
    assert undone.ok
    for name, obj in (("result", result), ("undo plan", undo), ("undone", undone)):
        scan.display(name, obj)
    scan.text("result frame", result.to_frame().to_csv())
    doomed = plan_deletes(df.loc[df.index[-3:]], snapshot=df)
    deleted = doomed.apply(
        client,
        confirm=3,
        journal=work / "deletes.journal",
        progress=False,
        export_path=work / "deleted.xlsx",
    )
    assert deleted.counts()["deleted"] == 3
    scan.display("deleted", deleted)


def _failures(sb: Sandbox, client: dm.Client, kept: str) -> list[BaseException]:
    """Every way a v2 call fails, each error kept for the scan."""
    api = client.dialect
    reader = _v2(sb, scope=["account.read", "video.read"])
    calls: list[Callable[[], object]] = [
        lambda: client.send(api.video_call("xnope000", ["id", "title"])),
        lambda: client.send(api.edit_call(kept, {"title": "x" * 1000}, None)),
        lambda: reader.send(api.edit_call(kept, {"title": "not allowed"}, None)),
        lambda: dm.load_videos(client, fields=["title", "views_total"], progress=False),
        lambda: _v2(sb, secret=WRONG_SECRET),
        lambda: _v2(sb, scope=["video.everything"]),
    ]
    errors = [failure(call) for call in calls]
    for rule in (
        {"kind": "status", "status": 429, "retry_after": 3600},
        {"kind": "status", "status": 500, "html": True, "methods": ["PATCH"]},
        {"kind": "status", "status": 503, "retry_after": 3600},
        {"kind": "reset", "after_commit": True, "methods": ["PATCH"]},
        {"kind": "truncate", "methods": ["PATCH"]},
    ):
        sb.set_faults(seed=1, rules=[{**rule, "rate": 1.0, "path": "^/v2/videos/"}])
        errors.append(failure(lambda: client.send(api.edit_call(kept, {"title": "Fault"}, None))))
    sb.clear_faults()
    reader.close()
    return errors


def test_no_secret_leaks_from_the_library_on_api_v2(
    debug_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    captured_warnings: list[warnings.WarningMessage],
    tmp_path: Path,
) -> None:
    scan = Scan()
    with Sandbox(videos=60, seed=5) as sb:
        client = _v2(sb)
        sb.expire_tokens()
        assert client.me(["id"])["id"]  # 401 expired_token -> a new token -> replayed
        assert client.stats["replays"] >= 1
        scan.display("client", client)
        profiles = dm.load_profiles(client)
        scan.text("profiles", profiles.to_csv())
        df = dm.load_videos(client, profile=str(profiles["profile_id"].iloc[0]), progress=False)
        every = dm.load_videos(client, profile="all", fields=["id", "title"], progress=False)
        assert len(df) == 60 and set(every["owner"]) == set(profiles["profile_id"])
        dm.write_csv(df, tmp_path / "videos.csv")
        dm.write_excel(df, tmp_path / "videos.xlsx")
        dm.write_parquet(every, tmp_path / "every.parquet")
        _edit_and_delete(sb, client, df, tmp_path, scan)
        scan.display("report", report.channel_report(df, tmp_path / "report" / "report.html"))
        errors = _failures(sb, client, str(df.index[0]))
        client.close()
        tokens, other = issued_secrets(sb)
        found = needles(sb, tokens | other)
    assert len(errors) == 11
    for error in errors:
        scan.error(error)
    assert len(tokens) >= 3 and all(t.count(".") == 2 for t in tokens)  # JWTs: 2 logins, 1 renewal
    logs = debug_logs.getvalue()
    assert "POST /oauth2/v2/token" in logs and "PATCH /v2/videos/" in logs  # DEBUG did log
    output = capsys.readouterr()
    scan_outputs(scan, logs, output.out, output.err, captured_warnings)
    assert scan.tree(tmp_path) >= 10
    assert scan.hits(found) == []


def _cli_run(cli: Cli, scan: Scan) -> None:
    sb = cli.sb
    profile = sb.credentials.private_key.profiles[0]

    def run(*args: Any, expect: int = 0, env: dict[str, str | None] | None = None) -> None:
        result = cli("-vv", *args, env=env if env is not None else cli.env())
        assert result.exit_code == expect, (args, result.stdout, result.stderr)
        scan.text(f"dmtools {args[0]} stdout", result.stdout)
        scan.text(f"dmtools {args[0]} stderr", result.stderr)

    debug = {"DMTOOLS_DEBUG": "1"}
    run("login", "--api", "v2", "--access", "delete", env={**cli.env("v2"), **debug})
    run("whoami")
    run("whoami", "--json")
    run("export", "videos.csv", "--profile", profile, "--no-progress")
    frame = dm.frames.import_frame(cli.work / "videos.csv")
    edited = frame.copy()
    edited.loc[frame.index[:3], "title"] = ["Canary one", "Canary two", "Canary three"]
    dm.frames.export_frame(edited, cli.work / "videos.csv")
    run("plan", "videos.csv")
    reset = {"kind": "reset", "rate": 1.0, "methods": ["PATCH"], "after_commit": False}
    sb.set_faults(seed=2, rules=[{**reset, "path": f"/v2/videos/{frame.index[0]}$"}])
    run("apply", "videos.plan.json", "--no-progress", expect=5)
    sb.clear_faults()
    run("apply", "videos.plan.json", "--no-progress")  # resumes the job in runs/
    run("undo", "videos.plan.json", "--no-progress")
    gone = map(str, frame.index[-2:])
    run("delete", *gone, "--profile", profile, "--confirm", "2", "--export", "gone.xlsx")
    run("report", "--profile", profile, "--out", "rep", "--no-progress")
    run("export", "v.csv", "--fields", "views_total", expect=2)
    sb.expire_tokens()
    run("whoami", expect=3)  # an expired v2 session without the secret
    run("whoami", env={**cli.env("v2"), **debug})  # with it: a new token
    run("logout")
    run("login", env={**cli.env("v2", DMTOOLS_CLIENT_SECRET=WRONG_SECRET), **debug}, expect=3)
    run("login", "--grant", "password", env=cli.env("v2"), expect=2)


def test_no_secret_leaks_from_the_command_line_on_api_v2(
    cli: Cli,
    debug_logs: io.StringIO,
    captured_warnings: list[warnings.WarningMessage],
    tmp_path: Path,
) -> None:
    scan = Scan()
    _cli_run(cli, scan)
    tokens, other = issued_secrets(cli.sb)
    assert len(tokens) >= 2  # the login's, and the renewal's after the expiry
    scan.text("logs", debug_logs.getvalue())
    for caught in captured_warnings:
        scan.text("warning", str(caught.message))
    assert scan.tree(cli.work) >= 8 and (cli.work / "rep" / "report.html").exists()
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        if path.name != "tokens.json" and cli.work not in path.parents:
            scan.file(path)  # cli.json and anything else in the config directories
    assert scan.hits(needles(cli.sb, tokens | other)) == []
