"""The ``dmtools`` command: help, login and sessions, export, report, lab, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import webbrowser
from pathlib import Path

import pytest
import requests
import typer.main
from _support import ROOT
from _support.auth import consent
from _support.cli import Cli, file_mode, first_error_line

import dmtools as dm
from dmtools.cli import app
from dmtools.notebook import connect_from_env_or_sandbox

COMMANDS = (
    "sandbox",
    "login",
    "whoami",
    "logout",
    "export",
    "report",
    "plan",
    "apply",
    "undo",
    "delete",
    "demo",
    "lab",
)


def test_help_lists_every_command_and_the_exit_code_table(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "130 "):
        assert f"\n    {code}" in result.stdout
    assert "DMTOOLS_CLIENT_SECRET" in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_examples(cli: Cli, name: str) -> None:
    result = cli(name, "--help")
    assert result.exit_code == 0, result.stderr
    assert "Examples:" in result.stdout
    assert f"dmtools {name}" in result.stdout


def test_no_option_can_carry_a_secret() -> None:
    command = typer.main.get_command(app)
    names = [
        opt
        for sub in command.commands.values()  # type: ignore[attr-defined]
        for param in sub.params
        for opt in param.opts
    ]
    assert "--client-id" in names
    carriers = [n for n in names if any(w in n for w in ("secret", "password", "token"))]
    assert carriers == ["--token-lifetime"]  # the sandbox's token lifetime, seconds


def test_a_command_without_login_exits_3_with_one_line(cli: Cli) -> None:
    result = cli("whoami")
    assert result.exit_code == 3
    assert first_error_line(result).startswith("error: not logged in: run `dmtools login`")


def test_login_saves_a_session_that_later_commands_use_without_credentials(cli: Cli) -> None:
    c = cli.sb.credentials
    result = cli.login()
    assert "Logged in as Demo Channel (sandbox) with manage_videos" in result.stdout
    profile = json.loads((cli.config / "cli.json").read_text())
    assert profile["grant"] == "password" and profile["sandbox_url"] == cli.sb.url
    tokens = (cli.config / "tokens.json").read_text()
    for path in (cli.config / "cli.json", cli.config / "tokens.json"):
        assert file_mode(path) == 0o600
        text = path.read_text()
        assert c.public_key.client_secret not in text and c.user.password not in text
    assert "access_token" in tokens

    who = cli("whoami", "--json")  # no credentials in the environment
    assert who.exit_code == 0, who.stderr
    facts = json.loads(who.stdout)
    assert facts["screenname"] == "Demo Channel" and facts["session"] == "saved"
    assert facts["scopes"] == ["manage_videos"] and facts["sandbox"] is True


def test_notebooks_reuse_the_session_of_dmtools_login(cli: Cli) -> None:
    import dmtools.notebook as nb

    assert cli.login().exit_code == 0
    env = {"DMTOOLS_CONFIG_DIR": str(cli.config), "DMTOOLS_TOKEN_STORE": "file"}
    before = nb._sandbox
    client = connect_from_env_or_sandbox("edit", environ=env)  # no credentials: the session
    assert nb._sandbox is before  # no local sandbox was started for it
    assert client.base_url == cli.sb.url and client.scopes == ("manage_videos",)
    assert client.me(["username"])["username"] == "demo"
    assert "Demo Channel (local sandbox) with manage_videos" in nb.login_summary(client)
    assert cli("logout").exit_code == 0
    assert nb.saved_session(env) is None
    (cli.config / "cli.json").write_text("{not json")
    assert nb.saved_session(env) is None  # a broken file: logged, the notebook still starts


def test_login_with_a_private_key_uses_client_credentials(cli: Cli) -> None:
    result = cli("login", "--sandbox-url", cli.sb.url, "--access", "delete", creds="private")
    assert result.exit_code == 0, result.stderr
    facts = json.loads(cli("whoami", "--json").stdout)
    assert facts["key"] == "private"
    assert set(facts["scopes"]) == {"read_videos", "edit_videos", "delete_videos"}


def test_login_with_the_wrong_grant_for_the_key_exits_3_naming_the_right_one(cli: Cli) -> None:
    result = cli("login", "--grant", "client_credentials", creds="public")
    assert result.exit_code == 3
    line = first_error_line(result)
    assert "public API key" in line and "password" in line
    assert not (cli.config / "cli.json").exists()


def test_login_asks_for_secrets_with_hidden_input(cli: Cli) -> None:
    c = cli.sb.credentials
    env = cli.env(DMTOOLS_CLIENT_ID=c.public_key.client_id, DMTOOLS_USERNAME="demo")
    result = cli(
        "login",
        "--sandbox-url",
        cli.sb.url,
        env=env,
        input=f"{c.public_key.client_secret}\n{c.user.password}\n",
    )
    assert result.exit_code == 0, result.stderr
    assert "API secret" in result.stderr and "Password" in result.stderr
    for secret in (c.public_key.client_secret, c.user.password):
        assert secret not in result.stdout and secret not in result.stderr


def test_login_with_a_bad_password_exits_3(cli: Cli) -> None:
    env = cli.env("public", DMTOOLS_PASSWORD="not the password")
    result = cli("login", env=env)
    assert result.exit_code == 3
    assert "not the password" not in result.stderr
    first_error_line(result)


def test_login_with_the_authorization_code_grant(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    c = cli.sb.credentials
    answered: list[int] = []

    def browser(url: str) -> bool:  # the user signs in on the consent page
        def sign_in() -> None:
            location = consent(url, c.user.username, c.user.password)
            answered.append(requests.get(location, timeout=10).status_code)

        threading.Thread(target=sign_in, daemon=True).start()
        return True

    monkeypatch.setattr(webbrowser, "open", browser)
    env = cli.env(
        DMTOOLS_CLIENT_ID=c.public_key.client_id, DMTOOLS_CLIENT_SECRET=c.public_key.client_secret
    )
    result = cli(
        "login",
        "--grant",
        "authorization_code",
        "--sandbox-url",
        cli.sb.url,
        "--timeout",
        "20",
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    assert answered == [200]
    assert json.loads((cli.config / "cli.json").read_text())["grant"] == "authorization_code"
    assert json.loads(cli("whoami", "--json").stdout)["username"] == "demo"


def test_an_expired_saved_session_renews_only_with_the_secret(cli: Cli) -> None:
    cli.login()
    cli.sb.expire_tokens()
    stale = cli("whoami")
    assert stale.exit_code == 3
    assert "expired" in first_error_line(stale)
    env = cli.env(DMTOOLS_CLIENT_SECRET=cli.sb.credentials.public_key.client_secret)
    renewed = cli("whoami", env=env)
    assert renewed.exit_code == 0, renewed.stderr
    assert cli("whoami").exit_code == 0  # the renewed token was saved


def test_logout_forgets_the_session(cli: Cli) -> None:
    cli.login()
    assert cli("logout").exit_code == 0
    assert not (cli.config / "cli.json").exists()
    assert json.loads((cli.config / "tokens.json").read_text())["tokens"] == {}
    assert cli("whoami").exit_code == 3


def test_environment_credentials_work_without_login_and_save_nothing(cli: Cli) -> None:
    result = cli("whoami", creds="public")
    assert result.exit_code == 0, result.stderr
    assert "session  environment" in result.stdout
    assert not cli.config.exists()


def test_export_writes_the_filtered_videos_and_a_snapshot(cli: Cli) -> None:
    cli.login()
    result = cli(
        "export",
        "music.csv",
        "--fields",
        "title,channel,views_total",
        "--channel",
        "music",
        "--no-progress",
    )
    assert result.exit_code == 0, result.stderr
    df = dm.read_csv(cli.work / "music.csv")
    assert list(df.columns) == ["title", "channel", "views_total"]
    expected = {
        v["id"]
        for v in requests.get(
            cli.sb.url + "/videos",
            timeout=10,
            params={"owners": cli.sb.credentials.user.id, "channel": "music", "limit": 100},
        ).json()["list"]
    }
    assert len(df) > 0 and set(df.channel) == {"music"}
    assert set(df.index) >= expected
    [path] = (cli.work / "runs").glob("music.*.snapshot.parquet")
    snapshot = dm.read_parquet(path)
    assert snapshot.equals(df)


@pytest.mark.parametrize("name", ["videos.xlsx", "videos.parquet"])
def test_export_to_excel_and_parquet(cli: Cli, name: str) -> None:
    result = cli("export", name, "--no-snapshot", "--no-progress", creds="public")
    assert result.exit_code == 0, result.stderr
    df = dm.frames.import_frame(cli.work / name)
    assert len(df) == 120 and not list(cli.work.rglob("*.snapshot.parquet"))


def test_export_bad_field_or_filter_exits_2_before_any_request(cli: Cli) -> None:
    cli.login()
    before = len(cli.sb.request_log())
    result = cli("export", "v.csv", "--fields", "title,nope", "--filter", "colour=red")
    assert result.exit_code == 2
    first_error_line(result)
    assert "'nope'" in result.stderr and "'colour'" in result.stderr
    malformed = cli("export", "v.csv", "--filter", "oops")
    assert malformed.exit_code == 2 and "'oops' is not NAME=VALUE" in malformed.stderr
    assert [r for r in cli.sb.request_log()[before:] if "videos" in r["path"]] == []
    assert not (cli.work / "v.csv").exists()


def test_export_to_an_unknown_file_type_exits_2(cli: Cli) -> None:
    result = cli("export", "videos.txt", creds="public")
    assert result.exit_code == 2
    assert ".csv" in first_error_line(result)


def test_an_api_error_exits_4(cli: Cli) -> None:
    result = cli("export", "v.csv", "--owner", "nosuchuser", "--no-progress", creds="public")
    assert result.exit_code == 4
    assert "404" in first_error_line(result)


def test_report_writes_html_and_pngs(cli: Cli) -> None:
    assert cli("export", "v.parquet", "--no-progress", creds="public").exit_code == 0
    result = cli("report", "--from", "v.parquet", "--out", "rep", "--title", "Weekly")
    assert result.exit_code == 0, result.stderr
    html = (cli.work / "rep" / "report.html").read_text()
    assert "<h1>Weekly</h1>" in html
    pngs = sorted((cli.work / "rep" / "png").glob("*.png"))
    assert len(pngs) >= 10 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_lab_dry_run_builds_the_command_and_the_notebooks_environment(cli: Cli) -> None:
    folder = cli.work / "notebooks"
    folder.mkdir()
    result = cli(
        "lab",
        "--dry-run",
        "--json",
        "--no-browser",
        "--port",
        "8899",
        "--notebooks",
        folder,
        "--videos",
        "20",
        "--",
        "--allow-root",
    )
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    command = plan["command"]
    assert command[1:3] == ["-m", "jupyterlab"]
    assert "--ServerApp.ip=127.0.0.1" in command and "--ServerApp.open_browser=False" in command
    assert "--ServerApp.port=8899" in command
    assert f"--ServerApp.root_dir={folder}" in command and command[-1] == "--allow-root"
    env = plan["env"]
    assert env["DMTOOLS_SANDBOX_URL"] == plan["sandbox"]
    assert plan["sandbox"].startswith("http://127.0.0.1:")
    assert env["DMTOOLS_CLIENT_SECRET"] == env["DMTOOLS_PASSWORD"] == "********"
    assert env["DMTOOLS_SANDBOX_PRIVATE_CLIENT_SECRET"] == "********"
    assert env["DMTOOLS_GRANT"] == "password" and env["DMTOOLS_USERNAME"] == "demo"


def test_lab_uses_no_deprecated_option_and_starts_cleanly(tmp_path: Path) -> None:
    from dmtools.cli.lab import lab_command

    command = lab_command(tmp_path, port=None, browser=False, allow_root=True)
    done = subprocess.run(
        [*command, "--help-all"], capture_output=True, text=True, timeout=120, check=True
    )
    help_text = done.stdout
    for option in command[3:]:  # each is a documented, current option of JupyterLab 4
        name = option.split("=")[0].lstrip("-")
        block = help_text[help_text.index(f"--{name}=") :][:400]
        assert "deprecated" not in block.lower().split("--", 2)[1], option


def test_lab_as_root_says_what_to_do_before_starting_anything(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dmtools.cli.lab as lab

    folder = cli.work / "nb"
    folder.mkdir()
    monkeypatch.setattr(lab, "running_as_root", lambda: True)
    monkeypatch.setattr(lab, "_run", lambda *a: pytest.fail("JupyterLab was started"))
    result = cli("lab", "--no-browser", "--notebooks", folder)
    assert result.exit_code == 2
    assert "refuses to run as root" in result.stderr and "--allow-root" in result.stderr
    started: list[list[str]] = []
    monkeypatch.setattr(lab, "_run", lambda command, env: started.append(command) or 0)
    assert cli("lab", "--no-browser", "--allow-root", "--notebooks", folder).exit_code == 0
    assert "--ServerApp.allow_root=True" in started[0]


def test_the_lab_environment_logs_the_notebooks_in_to_its_sandbox(cli: Cli) -> None:
    from dmtools.cli.lab import lab_environment

    client = connect_from_env_or_sandbox("edit", environ=lab_environment(cli.sb))
    with client:
        assert client.base_url == cli.sb.url
        assert client.me(["username"])["username"] == "demo"


def test_python_dash_m_dmtools_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dmtools", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"dmtools {dm.__version__}"
