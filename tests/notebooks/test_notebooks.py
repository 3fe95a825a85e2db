"""The example notebooks run headless top to bottom, and what they save holds no secret.

Each notebook is executed by nbclient in a fresh kernel (working directory: a temp folder),
saved with its outputs and widget state, and the saved file is scanned for the sandbox's
client secrets, the demo user's password, and any access or refresh token.
"""

from __future__ import annotations

from _support import ROOT

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from _support.widgets import find_secrets, sandbox_secrets
from nbclient import NotebookClient

from dmtools.sandbox import Sandbox

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAMES = [path.name for path in NOTEBOOKS]

#: Text (regular expressions) each notebook must print when it ran against the embedded sandbox.
EXPECTED = {
    "01_login.ipynb": [r"Logged in as Demo Channel \(local sandbox\) with no scopes"],
    "02_channel_report.ipynb": [
        r"\n\d{3,4} videos\n",
        "Report written to channel_report.html",
        "No Audience section: this login has no access to the Reporting API",
        "deprecated on 2026-03-09",
        "Note: public videos only",
        "not visible to this login",
    ],
    "03_bulk_edit.ipynb": [
        r"Panels will apply what you confirm\.",
        r"Edit plan \w{12}: 5 video\(s\) to change",
        r"\{\+ \(director's cut\)\+\}",
        "Nothing applied yet: click Apply",
        "Nothing to undo yet",
        r"\d{3} videos without tags",
        "ReviewPanel: edit plan of 3, review",
        "Not applied yet",
    ],
    "04_bulk_delete.ipynb": [
        "Dry run of plan",
        "Nothing deleted: type the number of videos",
        "1500 videos before, 1500 now",
    ],
    "05_analytics.ipynb": [
        r"Logged in as .* with .*create_reports",
        r"240 days: 2 reports of at most 180 days, stitched: \d+ days with views",
        r"\n[\d,]+ rows, 56 days, \d+ videos\n",
        r"Top videos of the last 28 days: 10",
        r"with its Audience section: True",
        r"stored [\d,]+ of [\d,]+ rows in analytics__day__video_id; read back [\d,]+",
    ],
    "06_history.ipynb": [
        r"7 snapshots in history-",
        r"20 changes, 20 attributed to plan [0-9a-f]{12}",
        r"edited: [\d.]+ -> [\d.]+ views/day per video \(\+(49|50|51)%\)",
        r"control: [\d.]+ -> [\d.]+ views/day per video \(\+0%\)",
        r"7 snapshot files under lake-",
    ],
}
#: What the analytics and history notebooks print on API v2 with the embedded sandbox.
EXPECTED_V2 = {
    "05_analytics.ipynb": [
        r"Logged in as demo-news \(local sandbox\) with account\.read",
        r"Reports: Logged in as Demo News \(local sandbox\) with create_reports",
        *EXPECTED["05_analytics.ipynb"][1:],
    ],
    "06_history.ipynb": [
        r"Logged in as demo-news \(local sandbox\) with account\.read",
        r"7 snapshots in history-",
        r"20 changes, 20 attributed to plan [0-9a-f]{12}",
        r"edited: [\d.]+ -> [\d.]+ views/day per video",
        r"edited against control: \+(3\d|4\d|5\d|6\d)% \(views from analytics\)",
        r"7 snapshot files under lake-",
        r"\n\s+date\s+videos\s+views\n",  # the daily views exported beside the snapshots
    ],
}
#: Files a notebook leaves in its working folder.
WRITTEN = {
    "02_channel_report.ipynb": ["channel_report.html"],
    "03_bulk_edit.ipynb": ["videos-to-edit.csv"],
    "05_analytics.ipynb": ["analytics_report.html", "channel.duckdb"],
    "06_history.ipynb": ["history-*.duckdb", "week-*.journal", "lake-*/videos/profile=*"],
}
#: Pictures (image/png outputs) a notebook must show: its charts and the report.
PICTURES = {"02_channel_report.ipynb": 4, "05_analytics.ipynb": 3, "06_history.ipynb": 1}
#: The cell that shows each writing notebook's first review panel.
PANEL_CELL = {
    "03_bulk_edit.ipynb": "panel = dm.review_panel(plan, client)",
    "04_bulk_delete.ipynb": "panel = dm.review_panel(plan, client, export_path=BACKUP)",
}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMTOOLS_")}
    env["DMTOOLS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="dmtools-config-")  # no saved login
    env["DMTOOLS_DATA_DIR"] = tempfile.mkdtemp(prefix="dmtools-data-")  # report tokens
    env.update(extra)
    return env


def _execute(
    name: str, workdir: Path, env: dict[str, str], *, after_panel: str | None = None
) -> Path:
    """Run notebooks/<name> in a kernel working in ``workdir``; save it there; return the path.

    ``after_panel``: code run in a cell inserted right after the first review panel (what a
    user's clicks do), before the cells that follow it.
    """
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    if after_panel is not None:
        at = next(i for i, c in enumerate(nb.cells) if c.source.startswith(PANEL_CELL[name]))
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(after_panel))
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
    assert not (tmp_path / "runs").exists(), "Run All started a job"
    pictures = [
        output
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert len(pictures) >= PICTURES.get(name, 0), f"{name}: {len(pictures)} pictures"
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
    assert outside.commits() == []  # Run All wrote nothing: every write waits for a panel


def _outside_env(sb: Sandbox) -> dict[str, str]:
    creds = sb.credentials
    return _clean_env(
        DMTOOLS_CLIENT_ID=creds.public_key.client_id,
        DMTOOLS_CLIENT_SECRET=creds.public_key.client_secret,
        DMTOOLS_USERNAME=creds.user.username,
        DMTOOLS_PASSWORD=creds.user.password,
        DMTOOLS_GRANT="password",
        DMTOOLS_SANDBOX_URL=sb.url,
    )


@pytest.mark.parametrize("name", NAMES)
def test_run_all_changes_nothing_until_a_panel_is_confirmed(
    name: str, outside: Sandbox, tmp_path: Path
) -> None:
    saved = _execute(name, tmp_path, _outside_env(outside))
    assert outside.commits() == []
    outputs = _outputs_text(nbformat.read(saved, as_version=4))
    assert "Traceback" not in outputs


def test_a_confirmed_panel_applies_and_the_cells_after_it_use_its_result(
    outside: Sandbox, tmp_path: Path
) -> None:
    click = "panel.apply_button.click()\nprint('state:', panel.wait(120) is not None, panel.state)"
    saved = _execute("03_bulk_edit.ipynb", tmp_path, _outside_env(outside), after_panel=click)
    outputs = _outputs_text(nbformat.read(saved, as_version=4))
    assert "state: True done" in outputs
    assert "'applied': 5" in outputs and "ReviewPanel: edit plan of 5, review" in outputs
    commits = outside.commits()
    assert len(commits) == 5 and len({c["video_id"] for c in commits}) == 5
    assert list((tmp_path / "runs").glob("edit-*.journal"))  # the undo waits in its own panel


def test_cancel_then_the_rest_of_the_notebook_writes_nothing(
    outside: Sandbox, tmp_path: Path
) -> None:
    cancel = (
        "panel.cancel_button.click()\n"
        "try:\n"
        "    plan.apply(client)\n"
        "except dm.InputError as exc:\n"
        "    print('refused:', exc)"
    )
    saved = _execute("03_bulk_edit.ipynb", tmp_path, _outside_env(outside), after_panel=cancel)
    outputs = _outputs_text(nbformat.read(saved, as_version=4))
    assert "refused: Not applied: this edit plan was cancelled in its review panel" in outputs
    assert "Nothing applied yet" in outputs
    assert outside.commits() == []


def test_a_delete_needs_the_typed_count_even_when_clicked_from_code(
    outside: Sandbox, tmp_path: Path
) -> None:
    untyped = "panel.apply_button.click()\nprint('state:', panel.state)"
    saved = _execute("04_bulk_delete.ipynb", tmp_path, _outside_env(outside), after_panel=untyped)
    outputs = _outputs_text(nbformat.read(saved, as_version=4))
    assert "state: review" in outputs and "Nothing deleted" in outputs
    assert outside.commits() == []
    typed = (
        "panel.confirm.value = str(len(plan))\npanel.apply_button.click()\n"
        "print('state:', panel.wait(120) is not None, panel.state)"
    )
    saved = _execute("04_bulk_delete.ipynb", tmp_path, _outside_env(outside), after_panel=typed)
    outputs = _outputs_text(nbformat.read(saved, as_version=4))
    assert "state: True done" in outputs and "300 videos before, 297 now" in outputs
    deletes = [c for c in outside.commits() if c["kind"] == "delete"]
    assert len(deletes) == 3
    assert list(tmp_path.glob("deleted-videos-*.csv"))


def _v2_env(sb: Sandbox) -> dict[str, str]:
    """The notebooks' environment for API v2: the sandbox's private key, ``DMTOOLS_API=v2``."""
    key = sb.credentials.private_key
    return _clean_env(
        DMTOOLS_CLIENT_ID=key.client_id,
        DMTOOLS_CLIENT_SECRET=key.client_secret,
        DMTOOLS_SANDBOX_URL=sb.url,
        DMTOOLS_API="v2",
    )


def _v2_requests(sb: Sandbox) -> list[dict[str, Any]]:
    return [e for e in sb.request_log() if e["path"].startswith(("/v2/", "/oauth2/v2/"))]


@pytest.mark.parametrize("name", ["01_login.ipynb", "02_channel_report.ipynb"])
def test_reading_notebooks_run_unchanged_on_api_v2(
    name: str, outside: Sandbox, tmp_path: Path
) -> None:
    saved = _execute(name, tmp_path, _v2_env(outside))
    text = saved.read_text(encoding="utf-8")
    outputs = _outputs_text(nbformat.reads(text, as_version=4))
    assert "Traceback" not in outputs
    assert re.search(r"Logged in as demo-news \(local sandbox\) with account\.read", outputs)
    if name == "02_channel_report.ipynb":  # every profile of the key: 240 + 60 + 40 videos
        assert "\n340 videos\n" in outputs and (tmp_path / "channel_report.html").exists()
    assert find_secrets(text, sandbox_secrets(outside)) == []
    assert _v2_requests(outside) and outside.commits() == []
    legacy = [e for e in outside.request_log() if e["path"].startswith(("/rest/", "/video"))]
    assert legacy == []  # the videos were read through API v2 only


def test_the_edit_notebook_applies_and_reads_back_through_api_v2(
    outside: Sandbox, tmp_path: Path
) -> None:
    click = (
        "panel.apply_button.click()\nprint('state:', panel.wait(120) is not None, panel.state)\n"
        "after = dm.load_videos(client, fields=['id', 'title']).loc[quiet, 'title']\n"
        "print('after:', int(after.str.endswith(suffix).sum()), 'of', len(after))"
    )
    saved = _execute("03_bulk_edit.ipynb", tmp_path, _v2_env(outside), after_panel=click)
    outputs = _outputs_text(nbformat.read(saved, as_version=4))
    assert "Traceback" not in outputs
    assert "state: True done" in outputs and "'applied': 5" in outputs
    assert "after: 5 of 5" in outputs  # read back through v2
    commits = outside.commits()
    assert len(commits) == 5 and len({c["video_id"] for c in commits}) == 5
    patches = [e for e in _v2_requests(outside) if e["method"] == "PATCH"]
    assert len(patches) == 5  # one PATCH per video, nothing through the legacy API
    assert find_secrets(saved.read_text(encoding="utf-8"), sandbox_secrets(outside)) == []


def test_the_delete_notebook_deletes_the_typed_count_through_api_v2(
    outside: Sandbox, tmp_path: Path
) -> None:
    typed = (
        "panel.confirm.value = str(len(plan))\npanel.apply_button.click()\n"
        "print('state:', panel.wait(120) is not None, panel.state)"
    )
    saved = _execute("04_bulk_delete.ipynb", tmp_path, _v2_env(outside), after_panel=typed)
    outputs = _outputs_text(nbformat.read(saved, as_version=4))
    assert "Traceback" not in outputs
    assert "state: True done" in outputs and "340 videos before, 337 now" in outputs
    deletes = [c for c in outside.commits() if c["kind"] == "delete"]
    assert len(deletes) == 3
    assert len([e for e in _v2_requests(outside) if e["method"] == "DELETE"]) == 3
    assert list(tmp_path.glob("deleted-videos-*.csv"))


def _pictures(nb: Any) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("name", ["05_analytics.ipynb", "06_history.ipynb"])
def test_analytics_and_history_run_on_api_v2_with_the_embedded_sandbox(
    name: str, tmp_path: Path
) -> None:
    """``DMTOOLS_API=v2`` without a key: the videos through API v2 with the local sandbox's
    private key, the views from its Reporting API (06 simulates its week there)."""
    saved = _execute(name, tmp_path, _clean_env(DMTOOLS_API="v2"))
    text = saved.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    outputs = _outputs_text(nb)
    assert "Traceback" not in outputs
    for expected in EXPECTED_V2[name]:
        assert re.search(expected, outputs), f"{name}: {expected!r} not in the outputs"
    for pattern in WRITTEN[name]:
        assert list(tmp_path.glob(pattern)), f"{name} did not write {pattern}"
    assert _pictures(nb) >= PICTURES[name]
    if name == "06_history.ipynb":
        assert list(tmp_path.glob("lake-*/analytics/day__video_id/profile=*"))
    with Sandbox(videos=1, seed=7) as same_seed:
        assert find_secrets(text, sandbox_secrets(same_seed)) == []


@pytest.mark.parametrize("name", ["05_analytics.ipynb", "06_history.ipynb"])
def test_analytics_and_history_read_videos_through_api_v2_and_views_from_reports(
    name: str, outside: Sandbox, tmp_path: Path
) -> None:
    """A private key in the environment with ``DMTOOLS_API=v2``: videos are read through API
    v2 only, reports asked with the same key's partner token, and nothing is written."""
    saved = _execute(name, tmp_path, _v2_env(outside))
    text = saved.read_text(encoding="utf-8")
    outputs = _outputs_text(nbformat.reads(text, as_version=4))
    assert "Traceback" not in outputs
    assert "Reports: Logged in as Demo News (local sandbox) with create_reports" in outputs or (
        name == "06_history.ipynb"
    )
    if name == "06_history.ipynb":  # today's snapshot of the first profile, 28 days of views
        assert re.search(r"[\d,]+ daily views per video stored from the Reporting API", outputs)
        assert "1 snapshots in history-" in outputs
    log = outside.request_log()
    legacy = [e for e in log if e["path"].startswith(("/rest/", "/video", "/user", "/me"))]
    assert [e for e in legacy if "video" in e["path"]] == [] and _v2_requests(outside)
    assert [e for e in log if e["path"] == "/graphql"]  # the Reporting API
    tokens = {e["path"] for e in log if "token" in e["path"]}
    assert tokens == {"/oauth2/v2/token", "/oauth/v1/token"}
    assert {e["client_id"] for e in log if e["client_id"]} == {
        outside.credentials.private_key.client_id
    }
    assert outside.commits() == []
    assert find_secrets(text, sandbox_secrets(outside)) == []
