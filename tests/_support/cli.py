"""Running the ``dmtools`` command in-process against a sandbox, with an isolated config dir.

The ``cli`` fixture (``tests/conftest.py``) builds a :class:`Cli` for the module's ``sb``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from dmtools.cli import app
from dmtools.sandbox import Sandbox

#: Every variable the command reads; unset in each run unless a test sets it.
VARIABLES = (
    "DMTOOLS_CLIENT_ID",
    "DMTOOLS_CLIENT_SECRET",
    "DMTOOLS_USERNAME",
    "DMTOOLS_PASSWORD",
    "DMTOOLS_GRANT",
    "DMTOOLS_SANDBOX_URL",
    "DMTOOLS_REDIRECT_URI",
    "DMTOOLS_CONFIG_DIR",
    "DMTOOLS_TOKEN_STORE",
    "DMTOOLS_DEBUG",
    "DMTOOLS_ALLOW_WRITES",
    "DMTOOLS_RUNS_DIR",
    "DMTOOLS_DATA_DIR",
    "DMTOOLS_API",
)


@dataclass
class Cli:
    """``cli("export", "v.csv", creds="public")`` runs ``dmtools export v.csv`` (``creds``:
    ``public`` the demo user, ``private`` the private key, ``v2`` the private key on API v2)."""

    sb: Sandbox
    config: Path
    work: Path
    xdg: Path

    def env(self, creds: str | None = None, **extra: str | None) -> dict[str, str | None]:
        env: dict[str, str | None] = dict.fromkeys(VARIABLES)
        env.update(
            DMTOOLS_CONFIG_DIR=str(self.config),
            DMTOOLS_TOKEN_STORE="file",
            DMTOOLS_DATA_DIR=str(self.xdg / "data"),
            XDG_CONFIG_HOME=str(self.xdg),
        )
        c = self.sb.credentials
        if creds == "public":
            env.update(
                DMTOOLS_CLIENT_ID=c.public_key.client_id,
                DMTOOLS_CLIENT_SECRET=c.public_key.client_secret,
                DMTOOLS_USERNAME=c.user.username,
                DMTOOLS_PASSWORD=c.user.password,
                DMTOOLS_SANDBOX_URL=self.sb.url,
            )
        elif creds == "private":
            env.update(
                DMTOOLS_CLIENT_ID=c.private_key.client_id,
                DMTOOLS_CLIENT_SECRET=c.private_key.client_secret,
                DMTOOLS_GRANT="client_credentials",
                DMTOOLS_SANDBOX_URL=self.sb.url,
            )
        elif creds == "v2":  # API v2: the private key, and the API named by DMTOOLS_API
            env.update(
                DMTOOLS_CLIENT_ID=c.private_key.client_id,
                DMTOOLS_CLIENT_SECRET=c.private_key.client_secret,
                DMTOOLS_SANDBOX_URL=self.sb.url,
                DMTOOLS_API="v2",
            )
        elif creds is not None:
            raise ValueError(creds)
        env.update(extra)
        return env

    def __call__(
        self,
        *args: Any,
        creds: str | None = None,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> Result:
        runner = CliRunner()
        return runner.invoke(
            app,
            [str(a) for a in args],
            input=input,
            env=dict(env) if env is not None else self.env(creds),
        )

    def login(self, *extra: str) -> Result:
        """``dmtools login`` as the demo user (password grant), credentials from the env."""
        result = self("login", "--sandbox-url", self.sb.url, *extra, creds="public")
        assert result.exit_code == 0, result.stderr
        return result


def first_error_line(result: Result) -> str:
    """The ``error: ...`` line on stderr (after any progress lines), asserting it is the only
    one and no traceback was printed."""
    assert "Traceback" not in result.stderr, result.stderr
    found = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(found) == 1, result.stderr
    return found[0]


def file_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
