"""The command line with an API v2 login: a private key, no browser, every command."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from _support.cli import Cli, file_mode, first_error_line
from _support.sandbox import seeded
from _support.widgets import find_secrets, sandbox_secrets

from dmtools.sandbox import Sandbox


def _v2_login(cli: Cli, *extra: str, **env: str | None) -> dict[str, object]:
    """``dmtools login`` on API v2; the saved cli.json. The commands that follow run with no
    credential in the environment: the saved session alone."""
    result = cli("login", *extra, env=cli.env("v2", **env))
    assert result.exit_code == 0, result.stderr
    assert "to API v2 (sandbox)" in result.stdout
    return dict(json.loads((cli.config / "cli.json").read_text()))


def _paths(sb: Sandbox, since: int = 0) -> set[str]:
    return {entry["path"].split("/")[1] for entry in sb.request_log(since)}


def test_login_on_api_v2_needs_no_browser_and_the_session_remembers_the_api(cli: Cli) -> None:
    saved = _v2_login(cli, "--api", "v2", "--access", "delete", DMTOOLS_API=None)
    assert saved["api"] == "v2" and saved["grant"] == "client_credentials"
    assert str(saved["key"]).endswith("@v2")
    assert set(saved["scopes"]) == {"account.read", "video.read", "video.manage"}  # type: ignore[arg-type]
    for path in (cli.config / "cli.json", cli.config / "tokens.json"):
        assert file_mode(path) == 0o600
    assert find_secrets((cli.config / "cli.json").read_text(), sandbox_secrets(cli.sb)) == []
    tokens = [e for e in cli.sb.request_log() if "token" in e["path"]]
    assert [e["path"] for e in tokens] == ["/oauth2/v2/token"]
    who = cli("whoami", "--json", env=cli.env())
    facts = json.loads(who.stdout)
    assert facts["dialect"] == "v2" and facts["session"] == "saved"
    assert facts["profiles"] == list(cli.sb.credentials.private_key.profiles)
    assert facts["api"] == cli.sb.url + "/v2"


def test_dmtools_api_in_the_environment_chooses_v2_even_with_a_username_left_over(
    cli: Cli,
) -> None:
    saved = _v2_login(cli, DMTOOLS_USERNAME="demo")
    assert saved["api"] == "v2" and saved["username"] is None
    shown = cli("whoami", env=cli.env())
    assert "dialect  v2" in shown.stdout and "profiles " in shown.stdout


def test_user_grants_on_api_v2_are_refused_before_anything_is_asked_or_sent(cli: Cli) -> None:
    for grant in ("password", "authorization_code"):
        result = cli("login", "--api", "v2", "--grant", grant, env=cli.env("v2"))
        assert result.exit_code == 2
        line = first_error_line(result)
        assert f"'{grant}' grant" in line and "--api legacy" in line, line
    assert cli.sb.request_log() == [] and not (cli.config / "cli.json").exists()
    unknown = cli("login", "--api", "v3", env=cli.env("v2"))
    assert unknown.exit_code == 2 and "unknown API dialect 'v3'" in first_error_line(unknown)


def test_export_edit_plan_apply_undo_on_a_v2_profile(cli: Cli) -> None:
    _v2_login(cli, "--access", "edit")
    sb, profile = cli.sb, cli.sb.credentials.private_key.profiles[0]
    start = len(sb.request_log())
    exported = cli("export", "v.csv", "--profile", profile, "--no-progress", env=cli.env())
    assert exported.exit_code == 0, exported.stderr
    rows = list(csv.reader((cli.work / "v.csv").open(encoding="utf-8-sig")))
    header, body = rows[0], rows[1:]
    assert len(body) == 60 and {r[header.index("owner")] for r in body} == {profile}
    assert _paths(sb, start) == {"v2"}  # read through API v2 only
    body[0][header.index("title")] += " (v2)"
    body[1][header.index("private")] = (
        "true" if body[1][header.index("private")] == "false" else "false"
    )
    with (cli.work / "v.csv").open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([header, *body])
    planned = cli("plan", "v.csv", env=cli.env())
    assert planned.exit_code == 0 and "2 video(s) to change" in planned.stdout, planned.stderr
    applied = cli("apply", "v.plan.json", "--no-progress", env=cli.env())
    assert applied.exit_code == 0 and "applied 2" in applied.stdout, applied.stderr
    edits = [c for c in sb.commits() if c["kind"] != "delete"]
    assert sorted(c["video_id"] for c in edits) == sorted([body[0][0], body[1][0]])
    assert sb.get_video(body[0][0])["title"].endswith(" (v2)")  # type: ignore[index]
    journal = next((cli.work / "runs").glob("*.journal"))
    undone = cli("undo", journal, "--no-progress", env=cli.env())
    assert undone.exit_code == 0 and "applied 2" in undone.stdout, undone.stderr
    assert not sb.get_video(body[0][0])["title"].endswith(" (v2)")  # type: ignore[index]
    patches = [e for e in sb.request_log(start) if e["method"] == "PATCH"]
    assert len(patches) == 4 and all(e["path"].startswith("/v2/videos/") for e in patches)


def test_delete_and_report_on_a_v2_login(cli: Cli) -> None:
    _v2_login(cli, "--access", "delete")
    sb, profile = cli.sb, cli.sb.credentials.private_key.profiles[1]
    victim = sorted(seeded(7, 120, profile))[0]
    args = ("delete", victim, "--profile", profile, "--confirm", "1", "--no-progress")
    deleted = cli(*args, env=cli.env())
    assert deleted.exit_code == 0 and "deleted 1" in deleted.stdout, deleted.stderr
    assert sb.get_video(victim) is None and list((cli.work / "runs").glob("deleted-*.json"))
    other = sorted(seeded(7, 120, sb.credentials.private_key.profiles[0]))[0]
    refused = cli("delete", other, "--profile", profile, "--confirm", "1", env=cli.env())
    assert refused.exit_code == 2 and "not in the snapshot" in refused.stderr
    assert sb.get_video(other) is not None
    report = cli("report", "--profile", profile, "--out", "rep", "--no-progress", env=cli.env())
    assert report.exit_code == 0, report.stderr
    assert "(39 videos)" in report.stdout and (cli.work / "rep" / "report.html").exists()


def test_view_counts_on_v2_point_to_dmtools_analytics_and_nothing_is_read(cli: Cli) -> None:
    _v2_login(cli)
    start = len(cli.sb.request_log())
    result = cli("export", "v.csv", "--fields", "title,views_total", env=cli.env())
    assert result.exit_code == 2
    assert "`dmtools analytics`" in first_error_line(result)
    assert "column 'views_total'" in result.stderr
    assert not (cli.work / "v.csv").exists()
    assert [e for e in cli.sb.request_log(start) if "videos" in e["path"]] == []


def test_every_profile_in_one_file_with_its_owner_and_logout(cli: Cli) -> None:
    _v2_login(cli)
    result = cli("export", "all.parquet", "--profile", "all", "--no-progress", env=cli.env())
    assert result.exit_code == 0, result.stderr
    import pandas as pd

    frame = pd.read_parquet(cli.work / "all.parquet")
    assert set(frame["owner"]) == set(cli.sb.credentials.private_key.profiles)
    assert frame["views_total"].isna().all()  # one frame for both APIs: absent on v2
    assert cli("logout", env=cli.env()).exit_code == 0
    assert not (cli.config / "cli.json").exists()
    after = cli("whoami", env=cli.env())
    assert after.exit_code == 3


def test_analytics_and_the_report_audience_on_a_v2_login_use_the_same_private_key(
    cli: Cli,
) -> None:
    cli.sb.settings(report_delay=0)  # commands wait in real time: no wait here
    _v2_login(cli)
    args = ("analytics", "a.csv", "--metrics", "views", "--dimensions", "day", "--days", "7")
    refused = cli(*args, "--no-progress", env=cli.env())  # the saved v2 session alone
    assert refused.exit_code == 3
    assert "set DMTOOLS_CLIENT_SECRET" in first_error_line(refused)
    assert not (cli.work / "a.csv").exists()
    secret = cli.sb.credentials.private_key.client_secret
    done = cli(*args, "--no-progress", env=cli.env(DMTOOLS_CLIENT_SECRET=secret))
    assert done.exit_code == 0, done.stderr
    assert "Wrote 7 rows" in done.stdout
    tokens = [e["path"] for e in cli.sb.request_log() if "token" in e["path"]]
    assert tokens == ["/oauth2/v2/token", "/oauth/v1/token"]  # the v2 login, the partner token
    report = cli(
        "report",
        "--audience",
        "--out",
        "rep",
        "--no-progress",
        env=cli.env(DMTOOLS_CLIENT_SECRET=secret),
    )
    assert report.exit_code == 0, report.stderr
    assert "<h2>Audience, " in (cli.work / "rep" / "report.html").read_text()
    plain = cli("report", "--out", "rep2", "--no-progress", env=cli.env())
    assert plain.exit_code == 0 and "Audience section left out" in plain.stderr
    assert "<h2>Audience, " not in (cli.work / "rep2" / "report.html").read_text()
    assert "set DMTOOLS_CLIENT_SECRET" in (cli.work / "rep2" / "report.html").read_text()


def test_history_snapshot_on_v2_stores_one_snapshot_per_profile_or_the_one_asked(
    cli: Cli,
) -> None:
    _v2_login(cli)
    profiles = cli.sb.credentials.private_key.profiles
    every = cli("history", "snapshot", "--db", "h.duckdb", "--no-progress", env=cli.env())
    assert every.exit_code == 0, every.stderr
    stored = [line for line in every.stdout.splitlines() if line.startswith("Stored snapshot")]
    assert sorted(line.split(" of ")[1].split(" ")[0] for line in stored) == sorted(profiles)
    assert len({line.split(" at ")[1].split(" (")[0] for line in stored}) == 1  # one time
    one = cli(
        "history", "snapshot", "--db", "h.duckdb", "--profile", profiles[1], "--no-progress",
        env=cli.env(),
    )  # fmt: skip
    assert one.exit_code == 0, one.stderr
    assert f"of {profiles[1]} at" in one.stdout and "(40 videos)" in one.stdout
    listed = cli("history", "list", "--db", "h.duckdb", env=cli.env())
    assert listed.exit_code == 0 and all(p in listed.stdout for p in profiles)


def test_lab_on_api_v2_logs_the_notebooks_in_with_the_private_key(cli: Cli, tmp_path: Path) -> None:
    from dmtools.cli.lab import lab_environment
    from dmtools.notebook import connect_from_env_or_sandbox

    env = {**lab_environment(cli.sb, "v2"), "DMTOOLS_CONFIG_DIR": str(tmp_path / "none")}
    assert "DMTOOLS_USERNAME" not in env and "DMTOOLS_PASSWORD" not in env
    with connect_from_env_or_sandbox("edit", environ=env) as client:
        assert client.dialect.name == "v2" and client.base_url == cli.sb.url + "/v2"
        assert client.client_id == cli.sb.credentials.private_key.client_id
    folder = tmp_path / "nb"
    folder.mkdir()
    shown = cli("lab", "--api", "v2", "--dry-run", "--json", "--notebooks", folder, env=cli.env())
    assert shown.exit_code == 0, shown.stderr
    facts = json.loads(shown.stdout)
    assert facts["env"]["DMTOOLS_API"] == "v2"
    assert cli.sb.credentials.private_key.client_secret not in shown.stdout  # masked
    refused = cli("lab", "--api", "v3", "--dry-run", "--notebooks", folder, env=cli.env())
    assert refused.exit_code == 2 and "unknown API dialect 'v3'" in refused.stderr
