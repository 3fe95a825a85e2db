"""The example notebooks run headless top to bottom, and what they save holds no secret.

Each notebook is executed by nbclient in a fresh kernel (working directory: a temp folder),
saved with its outputs and widget state, and the saved file is scanned for the sandbox's
client secrets, the demo user's password, and any access or refresh token.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from _widget_support import find_secrets, sandbox_secrets
from nbclient import NotebookClient

from dmtools.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAMES = [path.name for path in NOTEBOOKS]

#: Text (regular expressions) each notebook must print when it ran against the embedded sandbox.
EXPECTED = {
    "01_login.ipynb": [r"Logged in as Demo Channel \(local sandbox\) with no scopes"],
    "02_channel_report.ipynb": [r"\n\d{3,4} videos\n", "Report written to channel_report.html"],
    "03_bulk_edit.ipynb": [
        r"Changes will be applied\.",
        "Result of plan",
        "applied 5",
        "'applied': 5",
        "'applied': 2",
    ],
    "04_bulk_delete.ipynb": ["Dry run of plan", "deleted 3", "1500 videos before, 1497 now"],
    "06_history.ipynb": [
        r"7 snapshots in history-",
        r"20 changes, 20 attributed to plan [0-9a-f]{12}",
        r"edited: [\d.]+ -> [\d.]+ views/day per video \(\+(49|50|51)%\)",
        r"control: [\d.]+ -> [\d.]+ views/day per video \(\+0%\)",
        r"7 snapshot files under lake-",
    ],
}
#: Files a notebook leaves in its working folder.
WRITTEN = {
    "02_channel_report.ipynb": ["channel_report.html"],
    "03_bulk_edit.ipynb": ["edits-*.journal", "undo-*.journal", "csv-*.journal", "videos-*.csv"],
    "04_bulk_delete.ipynb": ["deleted-videos-*.csv"],
    "06_history.ipynb": ["history-*.duckdb", "week-*.journal", "lake-*/videos/profile=*"],
}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMTOOLS_")}
    env.update(extra)
    return env


def _execute(name: str, workdir: Path, env: dict[str, str]) -> Path:
    """Run notebooks/<name> in a kernel working in ``workdir``; save it there; return the path."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=env)  # the kernel sees only the variables given here
    out = workdir / name
    nbformat.write(nb, out)
    return out


def _outputs_text(nb: Any) -> str:
    parts: list[str] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts += [str(v) for v in output.get("data", {}).values()]
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "widgets" not in nb.metadata
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_on_the_embedded_sandbox_and_saves_no_secret(
    name: str, tmp_path: Path
) -> None:
    saved = _execute(name, tmp_path, _clean_env())
    text = saved.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    outputs = _outputs_text(nb)
    for expected in EXPECTED[name]:
        assert re.search(expected, outputs), f"{name}: {expected!r} not in the outputs"
    for pattern in WRITTEN.get(name, []):
        assert list(tmp_path.glob(pattern)), f"{name} did not write {pattern}"
    with Sandbox(videos=1, seed=7) as same_seed:  # the kernel's sandbox has these secrets
        secrets = sandbox_secrets(same_seed)
    assert find_secrets(text, secrets) == []
    if name == "01_login.ipynb":
        # the login panel's widgets were saved, so the scan covered its state
        state = json.dumps(nb.metadata["widgets"])
        assert "PasswordModel" in state and "Log in to the Dailymotion API" in state


@pytest.fixture()
def outside() -> Iterator[Sandbox]:
    """A sandbox outside the kernel, reached through DMTOOLS_* variables like the real API."""
    with Sandbox(videos=300, seed=5) as sb:
        yield sb


@pytest.mark.parametrize(
    "name,grant", [("01_login.ipynb", "client_credentials"), ("03_bulk_edit.ipynb", "password")]
)
def test_notebook_logs_in_from_environment_variables(
    name: str, grant: str, outside: Sandbox, tmp_path: Path
) -> None:
    creds = outside.credentials
    if grant == "client_credentials":
        env = _clean_env(
            DMTOOLS_CLIENT_ID=creds.private_key.client_id,
            DMTOOLS_CLIENT_SECRET=creds.private_key.client_secret,
        )
        who = "Logged in as Demo News (local sandbox) with read_videos,"
    else:
        env = _clean_env(
            DMTOOLS_CLIENT_ID=creds.public_key.client_id,
            DMTOOLS_CLIENT_SECRET=creds.public_key.client_secret,
            DMTOOLS_USERNAME=creds.user.username,
            DMTOOLS_PASSWORD=creds.user.password,
            DMTOOLS_GRANT="password",
        )
        who = "Logged in as Demo Channel (local sandbox) with manage_videos"
    env["DMTOOLS_SANDBOX_URL"] = outside.url
    saved = _execute(name, tmp_path, env)
    text = saved.read_text(encoding="utf-8")
    assert who in _outputs_text(nbformat.reads(text, as_version=4))
    assert find_secrets(text, sandbox_secrets(outside)) == []
    clients = {entry["client_id"] for entry in outside.request_log() if entry["client_id"]}
    assert clients == {
        creds.private_key.client_id if grant == "client_credentials" else creds.public_key.client_id
    }
    if name == "03_bulk_edit.ipynb":  # edits, undo and the CSV round trip reached this sandbox
        assert len(outside.commits()) == 5 + 5 + 2
