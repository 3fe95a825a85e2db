"""Canary scan across the whole toolkit (S-14, S-15).

``test_auth_canary.py`` covers the auth layer (token managers, code flow, token files). Here
the same secrets are hunted along every other public path, with every logger at DEBUG: the
client (all grants, a refresh, a 401 replay, failures), ``load_videos``, file exports, bulk
edit with a journal and undo, bulk delete with its export, a channel report, and the
``dmtools`` command (in-process and as a real process). The secrets are the sandbox's own:
API secrets, user passwords, and every access/refresh token and authorization code it issued
during the test (read from its database at the end).

Scanned: log records (formatted), stdout/stderr, warnings, ``str``/``repr``/tracebacks of
every raised error (with the locals of every non-test frame, and IPython's verbose
traceback), ``repr``/``_repr_html_`` of public objects, and every file written (journals,
plans, results, CSV, Excel members, Parquet contents, report HTML and PNGs, token stores),
for each secret raw, URL-encoded, JSON-escaped and as ``base64(client_id:client_secret)``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pandas as pd
import pytest
from _support import ROOT
from _support.auth import consent
from _support.canary import (
    WRONG_PASSWORD,
    WRONG_SECRET,
    Scan,
    error_texts,
    failure,
    ipython_traceback,
    issued_secrets,
    needles,
    scan_outputs,
    spellings,
)
from _support.cli import Cli

import dmtools as dm
from dmtools import report
from dmtools.bulk import plan_deletes, plan_edits, resume
from dmtools.config import Endpoints
from dmtools.sandbox import Sandbox

# -- the library -------------------------------------------------------------------------------


def _connect(sb: Sandbox, grant: str, **extra: Any) -> dm.Client:
    c = sb.credentials
    if grant == "client_credentials":
        return dm.connect(
            grant,
            client_id=c.private_key.client_id,
            client_secret=c.private_key.client_secret,
            endpoints=sb.endpoints,
            scope=extra.pop("scope", ["read_videos", "edit_videos"]),
            **extra,
        )
    return dm.connect(
        grant,
        client_id=c.public_key.client_id,
        client_secret=c.public_key.client_secret,
        endpoints=sb.endpoints,
        **extra,
    )


def _library_run(sb: Sandbox, work: Path, scan: Scan) -> int:
    """Run every public library path; return the number of errors collected."""
    c = sb.credentials
    errors: list[BaseException] = []

    def expect(call: Callable[[], object]) -> None:
        errors.append(failure(call))

    # every grant, a refresh and a 401 replay through the client
    client = _connect(
        sb, "password", username=c.user.username, password=c.user.password, scope=["manage_videos"]
    )
    partner = _connect(sb, "client_credentials")
    refresh = client._manager.token.refresh_token
    assert refresh is not None
    continued = _connect(
        sb, "refresh_token", refresh_token=refresh.reveal(), scope=["manage_videos"]
    )
    flow = dm.AuthorizationCodeFlow(
        c.public_key.client_id,
        c.public_key.client_secret,
        redirect_uri=c.public_key.redirect_uri,
        scope=["manage_videos"],
        endpoints=sb.endpoints,
    )
    flow.complete(consent(flow.authorization_url(), c.user.username, c.user.password))
    coded = dm.connect(
        "authorization_code",
        code_flow=flow,
        client_id=c.public_key.client_id,
        client_secret=c.public_key.client_secret,
        endpoints=sb.endpoints,
    )
    client._manager.refresh()
    sb.expire_tokens()
    for each in (client, partner, continued, coded):
        assert each.me(["id"])["id"]  # 401 invalid_token -> renewed -> replayed
        scan.display(f"client {each.is_partner}", each)
    assert client.stats["replays"] >= 1
    scan.display("flow", flow)

    # data out: load, files
    df = dm.load_videos(client, progress=False)
    partner_df = dm.load_videos(partner, progress=False, fields=["id", "title", "owner"])
    assert len(df) == 60 and len(partner_df) > 0
    dm.write_csv(df, work / "videos.csv")
    dm.write_excel(df, work / "videos.xlsx")
    dm.write_parquet(df, work / "videos.parquet")

    # bulk edit with a journal, resume, undo
    edited = df.copy()
    edited.loc[df.index[:4], "title"] = [f"Canary run {n}" for n in range(4)]
    edited.loc[df.index[4], "tags"] = ["canary", "scan"]
    plan = plan_edits(df, edited)
    plan.save(work / "edits.plan.json")
    scan.display("plan", plan)
    scan.text("plan frame", plan.to_frame().to_csv())
    sb.set_faults(
        seed=3,
        rules=[
            {
                "kind": "reset",
                "rate": 1.0,
                "methods": ["POST"],
                "path": f"/video/{df.index[3]}$",
                "after_commit": True,
            }
        ],
    )
    result = plan.apply(client, journal=work / "edits.journal", progress=False)
    sb.clear_faults()
    assert result.counts()["applied"] == 5, result.to_frame()
    again = resume(work / "edits.journal", client, progress=False)
    undo = again.undo_plan()
    undone = undo.apply(client, journal=work / "undo.journal", progress=False)
    assert undone.ok
    for name, obj in (
        ("result", result),
        ("resumed", again),
        ("undo plan", undo),
        ("undone", undone),
    ):
        scan.display(name, obj)
    scan.text("result frame", result.to_frame().to_csv())

    # bulk delete with its export (json by default, then xlsx)
    doomed = plan_deletes(df.loc[df.index[-3:]], snapshot=df)
    scan.display("delete plan", doomed)
    scan.display("dry run", doomed.apply(client, progress=False))
    deleted = doomed.apply(
        client,
        confirm=3,
        journal=work / "deletes.journal",
        progress=False,
        export_path=work / "deleted.xlsx",
    )
    assert deleted.counts()["deleted"] == 3
    scan.display("deleted", deleted)
    expect(lambda: doomed.apply(client, confirm=2))

    # a channel report
    made = report.channel_report(df, work / "report" / "report.html")
    scan.display("report", made)

    # failure paths
    kept = str(df.index[0])
    reader = _connect(sb, "password", username=c.user.username, password=c.user.password, scope=[])
    expect(lambda: client.get("/video/xnope000"))
    expect(lambda: client.post(f"/video/{kept}", data={"language": "not-a-language"}))
    expect(lambda: client.post(f"/video/{kept}", data={"title": "x" * 1000}))
    expect(lambda: reader.post(f"/video/{kept}", data={"title": "not allowed"}))
    expect(lambda: dm.load_videos(client, fields=["title", "no_such_field"], progress=False))
    for rule in (
        {"kind": "status", "status": 429, "retry_after": 3600},
        {"kind": "status", "status": 500, "html": True, "methods": ["POST"]},
        {"kind": "status", "status": 503, "retry_after": 3600},
        {"kind": "reset", "after_commit": True, "methods": ["POST"]},
        {"kind": "truncate", "methods": ["POST"]},
    ):
        sb.set_faults(seed=1, rules=[{**rule, "rate": 1.0, "path": "^/video/"}])
        expect(lambda: client.post(f"/video/{kept}", data={"title": "During a fault"}))
    sb.set_faults(
        seed=1,
        rules=[{"kind": "status", "status": 502, "html": True, "rate": 1.0, "path": "^/oauth/"}],
    )
    expect(client._manager.refresh)
    sb.clear_faults()
    expect(lambda: _connect(sb, "password", username=c.user.username, password=WRONG_PASSWORD))
    expect(
        lambda: dm.connect(
            "password",
            client_id=c.public_key.client_id,
            client_secret=WRONG_SECRET,
            username=c.user.username,
            password=c.user.password,
            endpoints=sb.endpoints,
        )
    )
    sb.settings(strict_partner_scopes=True)  # unknown partner scopes are refused only then
    expect(lambda: _connect(sb, "client_credentials", scope=["manage_everything"]))
    sb.settings(strict_partner_scopes=False)
    expect(lambda: _connect(sb, "refresh_token", refresh_token=WRONG_SECRET))
    continued.logout()
    expect(lambda: continued.me())
    for each in (client, partner, coded, reader):
        each.close()
    for error in errors:
        scan.error(error)
    return len(errors)


def test_no_secret_leaks_from_the_library(
    debug_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    captured_warnings: list[warnings.WarningMessage],
    tmp_path: Path,
) -> None:
    scan = Scan()
    with Sandbox(videos=60, seed=5) as sb:
        failures = _library_run(sb, tmp_path, scan)
        tokens, other = issued_secrets(sb)
        found = needles(sb, tokens | other)
        scan.display("sandbox", sb)
        scan.display("credentials", sb.credentials)
    assert failures == 17
    assert len(tokens) >= 12  # four sessions, renewed, plus the failure paths' tokens
    output = capsys.readouterr()
    logs = debug_logs.getvalue()
    assert "POST /oauth/token" in logs and "GET /me/videos" in logs  # DEBUG did log
    scan_outputs(scan, logs, output.out, output.err, captured_warnings)
    assert scan.tree(tmp_path) >= 12  # csv, xlsx, parquet, plan, journals, export, report
    assert {p.suffix for p in tmp_path.rglob("*")} >= {
        ".csv",
        ".xlsx",
        ".parquet",
        ".journal",
        ".html",
        ".png",
        ".json",
    }
    assert scan.hits(found) == []


# -- the command line --------------------------------------------------------------------------


def _cli_run(cli: Cli, scan: Scan) -> None:
    sb = cli.sb
    c = sb.credentials

    def run(
        *args: Any,
        expect: int = 0,
        creds: str | None = None,
        env: dict[str, str | None] | None = None,
    ) -> None:
        result = cli("-vv", *args, creds=creds, env=env)
        assert result.exit_code == expect, (args, result.stdout, result.stderr)
        scan.text(f"dmtools {args[0]} stdout", result.stdout)
        scan.text(f"dmtools {args[0]} stderr", result.stderr)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            scan.error(result.exception)

    debug = {"DMTOOLS_DEBUG": "1"}
    run("login", "--sandbox-url", sb.url, creds="public", env={**cli.env("public"), **debug})
    run("whoami")
    run("whoami", "--json")
    run("export", "videos.csv", "--no-progress")
    run("export", "videos.xlsx", "--no-snapshot", "--no-progress")
    frame = dm.frames.import_frame(cli.work / "videos.csv")
    edited = frame.copy()
    edited.loc[frame.index[:3], "title"] = ["Canary one", "Canary two", "Canary three"]
    dm.frames.export_frame(edited, cli.work / "videos.csv")
    run("plan", "videos.csv")
    sb.set_faults(
        seed=2,
        rules=[
            {
                "kind": "reset",
                "rate": 1.0,
                "methods": ["POST"],
                "path": f"/video/{frame.index[0]}$",
                "after_commit": False,
            }
        ],
    )
    run("apply", "videos.plan.json", "--no-progress", expect=5)
    sb.clear_faults()
    run("apply", "videos.plan.json", "--no-progress")  # resumes the job in runs/
    run("undo", "videos.plan.json", "--no-progress")
    run(
        "delete",
        *map(str, frame.index[-2:]),
        "--confirm",
        "2",
        "--export",
        "gone.xlsx",
        "--no-progress",
    )
    run("report", "--from", "videos.csv", "--out", "rep")
    sb.expire_tokens()
    run("whoami", expect=3)  # an expired session without the secret
    run("whoami", env=cli.env(DMTOOLS_CLIENT_SECRET=c.public_key.client_secret, **debug))
    run("export", "v.csv", "--owner", "nosuchuser", "--no-progress", expect=4)
    run("logout")
    run("login", env={**cli.env("public", DMTOOLS_PASSWORD=WRONG_PASSWORD), **debug}, expect=3)
    run("login", env={**cli.env("public", DMTOOLS_CLIENT_SECRET=WRONG_SECRET), **debug}, expect=3)
    run("login", "--grant", "client_credentials", creds="public", expect=3)
    run("login", "--sandbox-url", sb.url, "--access", "delete", creds="private")
    run("export", "partner.csv", "--no-progress")
    run("whoami", "--json")


def _cli_process(
    cli: Cli, args: list[str], env: dict[str, str | None], expect: int
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DMTOOLS_")}
    full.update({k: v for k, v in env.items() if v is not None})
    full.update(PYTHONPATH=str(ROOT), DMTOOLS_DEBUG="1")
    done = subprocess.run(
        [sys.executable, "-m", "dmtools", "-vv", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cli.work,
        env=full,
    )
    assert done.returncode == expect, done.stderr
    return done


def test_no_secret_leaks_from_the_command_line(
    cli: Cli,
    debug_logs: io.StringIO,
    captured_warnings: list[warnings.WarningMessage],
    tmp_path: Path,
) -> None:
    scan = Scan()
    _cli_run(cli, scan)
    processes = [
        _cli_process(cli, ["export", "proc.csv", "--no-progress"], cli.env("public"), 0),
        _cli_process(cli, ["whoami"], cli.env("public", DMTOOLS_PASSWORD=WRONG_PASSWORD), 3),
    ]
    for done in processes:
        scan.text("process stdout", done.stdout)
        scan.text("process stderr", done.stderr)
    assert "debug (dmtools" in processes[0].stderr  # -vv did turn debug logging on
    tokens, other = issued_secrets(cli.sb)
    assert len(tokens) >= 6
    scan.text("logs", debug_logs.getvalue())
    for caught in captured_warnings:
        scan.text("warning", str(caught.message))
    token_file = cli.config / "tokens.json"
    session_files = [token_file]
    assert scan.tree(cli.work) >= 10 and (cli.work / "rep" / "report.html").exists()
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        if path not in session_files and cli.work not in path.parents:
            scan.file(path)  # cli.json and anything else in the config directories
    assert (cli.config / "cli.json").exists()
    assert scan.hits(needles(cli.sb, tokens | other)) == []
    # the token file holds the session's tokens, and nothing else secret
    session = Scan()
    session.file(token_file)
    assert session.hits(needles(cli.sb, other)) == []
    assert session.hits(needles(cli.sb, tokens))


# -- S-15: errors from a server that echoes the request ---------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with an error whose message and error_data echo the request:
    request line, headers (Authorization included) and body."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("latin-1")
        echo = f"{self.requestline}\n{self.headers}\n{body}"
        payload: dict[str, Any]
        if self.path == "/oauth/token":  # the OAuth error form
            payload = {"error": "invalid_request", "error_description": echo, "echo": echo}
        else:  # the API error form, with error_data
            payload = {
                "error": {
                    "code": 400,
                    "type": "invalid_parameter",
                    "message": echo,
                    "more_info": echo,
                    "error_data": {"request": echo},
                }
            }
        data = json.dumps(payload).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header(
            "WWW-Authenticate",
            f'Bearer error="invalid_request", '
            f'error_description="{self.headers.get("Authorization", "")}"',
        )
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _error_objects(error: BaseException) -> list[str]:
    texts = error_texts(error) + [ipython_traceback(error)]
    texts += [repr(vars(error))] if hasattr(error, "__dict__") else []
    return texts


def test_token_endpoint_errors_never_echo_what_was_sent(
    echo_url: str, debug_logs: io.StringIO
) -> None:
    with Sandbox(videos=5) as sb:
        c = sb.credentials
        echoing = dataclasses.replace(
            Endpoints.sandbox(sb.url),
            token_url=echo_url + "/oauth/token",
            partner_token_url=echo_url + "/oauth/v1/token",
        )
        errors = [
            failure(
                lambda: dm.connect(
                    "password",
                    client_id=c.public_key.client_id,
                    client_secret=c.public_key.client_secret,
                    username=c.user.username,
                    password=c.user.password,
                    endpoints=echoing,
                )
            ),
            failure(
                lambda: dm.connect(
                    "client_credentials",
                    client_id=c.private_key.client_id,
                    client_secret=c.private_key.client_secret,
                    endpoints=echoing,
                )
            ),
        ]
        found = needles(sb, set.union(*issued_secrets(sb)))
    assert all(isinstance(e, dm.APIError) for e in errors)
    assert "grant_type=password" in str(errors[0])  # the echo did reach the message
    assert "grant_type=client_credentials" in json.dumps(getattr(errors[1], "error_data", {}))
    scan = Scan()
    for error in errors:
        scan.items.extend(("token error", text) for text in _error_objects(error))
    scan.text("logs", debug_logs.getvalue())
    assert scan.hits(found) == []


def test_api_errors_never_echo_what_was_sent(
    echo_url: str, debug_logs: io.StringIO, tmp_path: Path
) -> None:
    with Sandbox(videos=5) as sb:
        c = sb.credentials
        echoing = dataclasses.replace(Endpoints.sandbox(sb.url), api_url=echo_url)
        client = dm.connect(
            "password",
            client_id=c.public_key.client_id,
            client_secret=c.public_key.client_secret,
            username=c.user.username,
            password=c.user.password,
            scope=["manage_videos"],
            endpoints=echoing,
        )
        errors = [
            failure(lambda: client.get("/me")),
            failure(lambda: client.post("/video/x1", data={"title": "t"})),
            failure(lambda: client.delete("/video/x1")),
        ]
        df = pd.DataFrame({"title": ["Before"]}, index=pd.Index(["x1"], name="id"))
        plan = plan_edits(df, df.assign(title=["After"]))
        result = plan.apply(client, journal=tmp_path / "echo.journal", progress=False)
        found = needles(sb, set.union(*issued_secrets(sb)))
    assert all(isinstance(e, dm.APIError) for e in errors)
    assert "Authorization" in str(errors[0])  # the echo did reach the message
    assert result.counts()["failed"] == 1
    scan = Scan()
    for error in errors:
        scan.items.extend(("api error", text) for text in _error_objects(error))
    scan.display("result", result)
    scan.text("result frame", result.to_frame().to_csv())
    scan.text("logs", debug_logs.getvalue())
    scan.tree(tmp_path)
    assert scan.hits(found) == []


def test_connect_and_transport_frames_hold_no_plain_secret() -> None:
    with Sandbox(videos=3) as sb:
        c = sb.credentials
        errors = [
            failure(
                lambda: dm.connect(
                    "password",
                    client_id=c.public_key.client_id,
                    client_secret=c.public_key.client_secret,
                    username=c.user.username,
                    password=WRONG_PASSWORD,
                    endpoints=sb.endpoints,
                )
            )
        ]
        with _connect(
            sb,
            "password",
            username=c.user.username,
            password=c.user.password,
            scope=["manage_videos"],
        ) as client:
            errors.append(failure(lambda: client.get("/video/xnope000")))
        found = needles(sb, set.union(*issued_secrets(sb)))
    scan = Scan()
    for error in errors:
        scan.items.extend(("error", text) for text in error_texts(error, skip_known=False))
        scan.text("error (IPython)", ipython_traceback(error, skip_known=False))
    assert scan.hits(found) == []


# -- the scan itself ---------------------------------------------------------------------------


def test_the_scan_finds_a_planted_secret_in_each_kind_of_artefact(tmp_path: Path) -> None:
    planted = "planted canary/6b2f+0e"
    found = {form: "planted" for form in spellings(planted)}
    frame = pd.DataFrame({"title": [f"a {planted} b"]}, index=pd.Index(["x1"], name="id"))
    dm.write_excel(frame, tmp_path / "f.xlsx")
    dm.write_parquet(frame, tmp_path / "f.parquet")
    assert planted.encode() not in (tmp_path / "f.xlsx").read_bytes()  # compressed members
    leaky = eval(compile("lambda secret: 1 / 0", "/elsewhere/leaky.py", "eval"))
    error = failure(lambda: leaky(planted))
    for kind, fill in (
        ("xlsx", lambda s: s.file(tmp_path / "f.xlsx")),
        ("parquet", lambda s: s.file(tmp_path / "f.parquet")),
        ("traceback locals", lambda s: s.error(error)),
        ("url-encoded", lambda s: s.text("t", f"a=1&x={quote_plus(planted)}")),
        ("json", lambda s: s.text("t", json.dumps({"k": planted}))),
    ):
        scan = Scan()
        fill(scan)
        assert scan.hits(found), kind
    assert planted in ipython_traceback(error)
