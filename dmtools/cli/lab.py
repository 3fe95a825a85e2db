"""``dmtools lab``: JupyterLab on the example notebooks, wired to a local sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dmtools.cli._common import guarded, info, out
from dmtools.errors import InputError

if TYPE_CHECKING:
    from dmtools.sandbox import Sandbox

LAB_EXAMPLES = """\b
Examples:
  dmtools lab                        # sandbox + JupyterLab on ./notebooks, opens a browser
  dmtools lab --videos 5000 --no-browser --port 8890
  dmtools lab --dry-run              # print the command and environment, start nothing
  dmtools lab --api v2               # the notebooks log in with the private key (API v2)
  dmtools lab --allow-root           # in a container running as root
  dmtools lab -- --IdentityProvider.token=s3cret   # anything after -- goes to JupyterLab
\b
The notebooks read DMTOOLS_SANDBOX_URL, DMTOOLS_CLIENT_ID, DMTOOLS_CLIENT_SECRET,
DMTOOLS_GRANT, DMTOOLS_USERNAME, DMTOOLS_PASSWORD and DMTOOLS_API (see dmtools.notebook); the login
panel's "Use the sandbox" box uses this sandbox too (its private key comes from
DMTOOLS_SANDBOX_PRIVATE_CLIENT_ID and DMTOOLS_SANDBOX_PRIVATE_CLIENT_SECRET). The sandbox
stops when JupyterLab does.
"""

#: Variables holding secrets: shown masked.
SECRET_VARIABLES = frozenset(
    {"DMTOOLS_CLIENT_SECRET", "DMTOOLS_PASSWORD", "DMTOOLS_SANDBOX_PRIVATE_CLIENT_SECRET"}
)
ROOT_MESSAGE = (
    "JupyterLab refuses to run as root. Run `dmtools lab` as a normal user, or, in a "
    "container where root is the only user, add --allow-root"
)


def lab_environment(sb: Sandbox, api: str = "legacy") -> dict[str, str]:
    """The variables the notebooks read to log in to ``sb``: as its demo user (legacy API),
    or with its private key through API v2 (``api="v2"``)."""
    c = sb.credentials
    if api != "legacy":
        return {
            "DMTOOLS_SANDBOX_URL": sb.url,
            "DMTOOLS_API": api,
            "DMTOOLS_CLIENT_ID": c.private_key.client_id,
            "DMTOOLS_CLIENT_SECRET": c.private_key.client_secret,
            "DMTOOLS_SANDBOX_PRIVATE_CLIENT_ID": c.private_key.client_id,
            "DMTOOLS_SANDBOX_PRIVATE_CLIENT_SECRET": c.private_key.client_secret,
        }
    return {
        "DMTOOLS_SANDBOX_URL": sb.url,
        "DMTOOLS_CLIENT_ID": c.public_key.client_id,
        "DMTOOLS_CLIENT_SECRET": c.public_key.client_secret,
        "DMTOOLS_GRANT": "password",
        "DMTOOLS_USERNAME": c.user.username,
        "DMTOOLS_PASSWORD": c.user.password,
        "DMTOOLS_REDIRECT_URI": c.public_key.redirect_uri,
        "DMTOOLS_SANDBOX_PRIVATE_CLIENT_ID": c.private_key.client_id,
        "DMTOOLS_SANDBOX_PRIVATE_CLIENT_SECRET": c.private_key.client_secret,
    }


def lab_command(
    notebooks: Path,
    *,
    port: int | None,
    browser: bool,
    allow_root: bool = False,
    extra: list[str] | None = None,
) -> list[str]:
    """``python -m jupyterlab`` bound to 127.0.0.1, on ``notebooks``, with JupyterLab 4's
    own option names (no deprecated alias)."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={notebooks}",
        f"--ServerApp.open_browser={browser}",
    ]
    if port:
        command.append(f"--ServerApp.port={port}")
    if allow_root:
        command.append("--ServerApp.allow_root=True")
    return command + list(extra or [])


def running_as_root() -> bool:
    """True for the root user (JupyterLab then refuses to start without allow_root)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def check_root(allow_root: bool, extra: list[str] | None) -> None:
    """Refuse early, with what to do, when JupyterLab would refuse to run as root."""
    passed = any("allow_root" in a or a == "--allow-root" for a in extra or [])
    if running_as_root() and not (allow_root or passed):
        raise InputError(ROOT_MESSAGE)


def masked(variables: Mapping[str, str]) -> dict[str, str]:
    return {k: ("********" if k in SECRET_VARIABLES else v) for k, v in variables.items()}


def _run(command: list[str], env: dict[str, str]) -> int:
    """Run JupyterLab until it exits. Ctrl-C is JupyterLab's to handle (the terminal sends it
    to both processes); SIGTERM is passed on to it, so it never outlives the sandbox."""
    proc = subprocess.Popen(command, env=env)

    def stop(signum: int, frame: object) -> None:
        proc.terminate()

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, stop),
    }
    try:
        return proc.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if proc.poll() is None:  # pragma: no cover - only if the wait itself failed
            proc.terminate()
            proc.wait(10)


def _notebook_folder(notebooks: Path | None) -> Path:
    """The notebook folder: the one given, else ./notebooks if it exists, else ``.``."""
    folder = (
        notebooks or (Path("notebooks") if Path("notebooks").is_dir() else Path("."))
    ).resolve()
    if not folder.is_dir():
        raise InputError(f"no notebook folder at {str(folder)!r}")
    return folder


def _show_dry_run(
    url: str, command: list[str], variables: dict[str, str], *, as_json: bool
) -> None:
    """Print what ``lab`` would run (secrets masked)."""
    if as_json:
        out(json.dumps({"sandbox": url, "command": command, "env": masked(variables)}))
        return
    out(f"Sandbox: {url} (stopped again: dry run)")
    out("Environment for the notebooks:")
    for name, value in masked(variables).items():
        out(f"  {name}={value}")
    out("Command:")
    out("  " + " ".join(command))


@guarded
def lab(
    extra: Annotated[
        list[str] | None,
        typer.Argument(metavar="[-- JUPYTER_ARGS]...", help="More JupyterLab arguments, after --."),
    ] = None,
    notebooks: Annotated[
        Path | None,
        typer.Option(
            help="Notebook folder. Default: ./notebooks if it exists, else the current folder."
        ),
    ] = None,
    videos: Annotated[int, typer.Option(help="Videos in the sandbox's demo channel.")] = 1500,
    seed: Annotated[int, typer.Option(help="Seed of the demo data.")] = 7,
    port: Annotated[
        int | None, typer.Option(help="JupyterLab's port (default: JupyterLab picks).")
    ] = None,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a browser.")] = True,
    allow_root: Annotated[bool, typer.Option(help="Let JupyterLab run as root.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the command and the environment (secrets masked), then stop the sandbox.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --dry-run: print one JSON object.")
    ] = False,
    api: Annotated[
        str,
        typer.Option(
            "--api",
            metavar="API",
            help="legacy (the notebooks log in as the demo user) or v2 (with the sandbox's "
            "private key, through API v2).",
        ),
    ] = "legacy",
) -> None:
    """Start a sandbox and JupyterLab (on 127.0.0.1) with the notebooks logged in to it."""
    from dmtools.dialects import get_dialect
    from dmtools.sandbox import Sandbox

    api = get_dialect(api).name  # an unknown API is refused before anything starts
    folder = _notebook_folder(notebooks)
    check_root(allow_root or dry_run, extra)
    command = lab_command(folder, port=port, browser=browser, allow_root=allow_root, extra=extra)
    with Sandbox(videos=videos, seed=seed, mode="thread") as sb:
        variables = lab_environment(sb, api)
        if dry_run:
            _show_dry_run(sb.url, command, variables, as_json=as_json)
            return
        info(
            f"Sandbox running at {sb.url} with {videos:,} demo videos; starting JupyterLab "
            f"on {folder} (Ctrl-C in JupyterLab stops both)"
        )
        code = _run(command, {**os.environ, **variables})
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command(epilog=LAB_EXAMPLES)(lab)
