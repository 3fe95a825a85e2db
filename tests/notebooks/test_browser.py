"""The panels in a real JupyterLab, driven in Chromium with Playwright.

A JupyterLab server is started on 127.0.0.1 (ephemeral port, token auth) over a temporary
copy of notebooks/, with its own temporary Jupyter directories, and wired to a sandbox of
this test process the way ``dmtools lab`` wires it (``DMTOOLS_*`` variables): the test can
slow the sandbox down and read its commit log, so "nothing was written" and "each video was
written once" are checked on the server itself. Chromium is Debian's ``/usr/bin/chromium``
(or ``DMTOOLS_CHROMIUM``); Playwright never downloads a browser.

Screenshots go to ``artifacts/``; with ``DMTOOLS_UPDATE_SCREENSHOTS=1`` the ones the README
shows are also copied to ``docs/images/``.

Run: ``.venv/bin/pytest -m browser tests/notebooks/test_browser.py``. Without Chromium or Playwright
the tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

from _support import ROOT

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from _support.widgets import find_secrets, sandbox_secrets

from dmtools.sandbox import Sandbox

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
DOCS_IMAGES = ROOT / "docs" / "images"
CHROMIUM = os.environ.get("DMTOOLS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 30_000
#: Screenshots the README shows (copied to docs/images with DMTOOLS_UPDATE_SCREENSHOTS=1).
README_SHOTS = {
    "login_panel.png",
    "plan_review.png",
    "review_stopped.png",
    "notebook_charts.png",
    "delete_review.png",
}
#: JupyterLab settings: no news or update pop-ups over the notebook, and widget state saved
#: in the notebook file (so the test can check what a user's saved notebook would hold).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
    # every cell in the page (no virtual scrolling), so outputs far down can be checked
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _unavailable(reason: str) -> None:
    """Fail under CI (the browser tests must run there), skip with the reason elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Lab:
    url: str
    token: str
    workdir: Path
    sb: Sandbox

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"


def _wait_for_server(runtime: Path, proc: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    """Read the server's runtime file once it exists and the server answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("JupyterLab exited:\n" + log.read_text()[-3000:])
        for path in runtime.glob("jpserver-*.json"):
            try:
                info: dict[str, Any] = json.loads(path.read_text())
                requests.get(f"http://127.0.0.1:{info['port']}/api", timeout=2).raise_for_status()
                return info
            except (ValueError, KeyError, requests.RequestException):
                pass
        time.sleep(0.1)  # polling a subprocess's start-up file: no event to wait on
    raise RuntimeError("JupyterLab did not start within 60 s:\n" + log.read_text()[-3000:])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab wired like ``dmtools lab``: the legacy API, the sandbox's demo user."""
    yield from _start_lab(tmp_path_factory, "legacy")


@pytest.fixture(scope="module")
def lab_v2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab wired like ``dmtools lab --api v2``: the sandbox's private key, API v2."""
    yield from _start_lab(tmp_path_factory, "v2")


def _start_lab(tmp_path_factory: pytest.TempPathFactory, api: str) -> Iterator[Lab]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")
    from dmtools.cli.lab import lab_environment

    base = tmp_path_factory.mktemp("jupyterlab")
    workdir = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", workdir)
    sb = Sandbox(videos=300, seed=7).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMTOOLS_")}
    env.update(lab_environment(sb, api))  # what `dmtools lab` gives the notebooks
    env["DMTOOLS_CONFIG_DIR"] = str(base / "dmtools-config")  # no saved login of the machine
    for name in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "IPYTHONDIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
    ):
        (base / name.lower()).mkdir()
        env[name] = str(base / name.lower())
    for relative, settings in LAB_SETTINGS.items():
        target = base / "jupyterlab_settings_dir" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings))
    token = secrets.token_hex(24)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={workdir}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers often run as root
    log = base / "jupyterlab.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        info = _wait_for_server(base / "jupyter_runtime_dir", proc, log)
        yield Lab(f"http://127.0.0.1:{info['port']}", token, workdir, sb)
    finally:
        sb.stop()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(
            log, ARTIFACTS / ("jupyterlab.log" if api == "legacy" else f"jupyterlab-{api}.log")
        )


@pytest.fixture(scope="module")
def chromium(lab: Lab) -> Iterator[Any]:
    """One headless Chromium for the module (Playwright's sync API runs once per thread)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # a busy machine: the same patience everywhere
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(lab: Lab, chromium: Any) -> Iterator[Any]:
    yield from _page(chromium)


@pytest.fixture(scope="module")
def page_v2(lab_v2: Lab, chromium: Any) -> Iterator[Any]:
    yield from _page(chromium)


def _page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 1500})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def demo_password() -> str:
    """The demo user's password in the kernel's sandbox (the same for every seed-7 sandbox)."""
    with Sandbox(videos=1, seed=7) as sb:
        return sb.credentials.user.password


def _shot(locator: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    locator.screenshot(path=str(path))
    if name in README_SHOTS and os.environ.get("DMTOOLS_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMAGES / name)
    return path


def _open(page: Any, lab: Lab, name: str) -> None:
    page.goto(lab.notebook_url(name))
    page.locator(".jp-Notebook:visible").first.wait_for()
    dialog = page.locator(".jp-Dialog .jp-mod-accept")  # "Select kernel", if JupyterLab asks
    try:
        dialog.wait_for(timeout=3000)
        dialog.click()
    except Exception:  # no dialog: the notebook's kernel started by itself
        pass
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']:visible").first.wait_for()


def _run_menu(page: Any, command: str, menu: str = "Run") -> None:
    page.locator(".lm-MenuBar-item", has_text=menu).click()
    page.locator(f"li.lm-Menu-item[data-command='{command}']").click()


def _status(panel: Any) -> Any:
    return panel.locator(".dmtools-status")


def test_login_panel_logs_in_in_jupyterlab(lab: Lab, page: Any, demo_password: str) -> None:
    from playwright.sync_api import expect

    _open(page, lab, "01_login.ipynb")
    page.locator(".jp-Cell").first.click()
    _run_menu(page, "runmenu:run-all")
    # the unattended login cell ran (no click needed) ...
    expect(
        page.locator(
            ".jp-OutputArea-output", has_text="Logged in as Demo Channel (local sandbox)"
        ).first
    ).to_be_visible()
    # ... and the panel is there for people
    panel = page.locator(".dmtools-login-panel")
    expect(panel).to_be_visible()
    panel.scroll_into_view_if_needed()

    # client credentials with the sandbox's private key
    panel.get_by_role("checkbox", name=re.compile("Use the sandbox of this lab")).check()
    expect(_status(panel)).to_contain_text(f"Using the sandbox at {lab.sb.url}")
    expect(panel.locator("input[type=password]").first).to_have_attribute(
        "placeholder", "(sandbox credentials)"
    )
    panel.get_by_role("button", name="Private API key").click()
    panel.get_by_role("button", name="Log in").click()
    expect(_status(panel)).to_contain_text(
        "Logged in as Demo News (local sandbox) with read_videos"
    )
    _shot(panel, "login_panel.png")

    # API v2: the same private key, client credentials from the kernel, no browser involved
    panel.get_by_role("button", name="API v2 (private key)").click()
    expect(panel.get_by_role("button", name="Public API key")).to_be_disabled()
    panel.get_by_role("button", name="Log in").click()
    expect(_status(panel)).to_contain_text(
        "Logged in as demo-news (local sandbox) with account.read video.read"
    )
    _shot(panel, "login_panel_v2.png")
    panel.get_by_role("button", name="Platform API (legacy)").click()

    # authorization code: the panel's link, the consent page, and back by itself
    panel.get_by_role("button", name="Public API key").click()
    panel.get_by_role("button", name="Log in").click()
    link = panel.locator("a.dmtools-consent-link")
    expect(link).to_be_visible()
    with page.context.expect_page() as opened:
        link.click()
    consent = opened.value
    consent.wait_for_load_state()
    expect(consent.locator("h1")).to_have_text("Authorize application")
    consent.locator("input[name=username]").fill("demo")
    consent.locator("input[name=password]").fill(demo_password)
    _shot(consent, "consent_page.png")
    consent.locator("button[value=allow]").click()
    expect(consent.locator("body")).to_contain_text("Logged in. You can close this tab")
    consent.close()
    expect(_status(panel)).to_contain_text(
        "Logged in as Demo Channel (local sandbox) with", timeout=TIMEOUT_MS
    )
    expect(link).to_have_count(0)  # the link (and its state) left the page
    assert panel.locator("input[type=password]").evaluate_all(
        "fields => fields.map(f => f.value)"
    ) == ["", ""]
    _shot(panel, "login_panel_code.png")

    # saved with its widget state, the notebook holds no secret
    saved = lab.workdir / "01_login.ipynb"
    before = saved.stat().st_mtime_ns
    _run_menu(page, "docmanager:save", menu="File")
    text = _wait_for_save(saved, before)
    assert "PasswordModel" in text and "dmtools-login-panel" in text
    assert "Logged in as Demo Channel (local sandbox)" in text
    with Sandbox(videos=1, seed=7) as same_seed:
        assert find_secrets(text, sandbox_secrets(same_seed)) == []


def _wait_for_save(path: Path, before: int) -> str:
    """The notebook's text once JupyterLab has written it (with its widget state)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            text = path.read_text(encoding="utf-8")
            if '"widgets"' in text:
                return text
        time.sleep(0.1)  # the save happens in the server process: poll the file
    raise AssertionError(f"{path.name} was not saved with its widget state")


def _review_status(panel: Any) -> Any:
    return panel.locator(".dmtools-review-status")


def _nb(page: Any) -> Any:
    """The notebook on show (other notebooks stay open in hidden tabs)."""
    return page.locator(".jp-NotebookPanel:visible")


#: Text the last code cell of each notebook prints: seen, the whole notebook has run.
LAST_OUTPUT = {
    "02_channel_report.ipynb": "Report written to",
    "03_bulk_edit.ipynb": "Not applied yet: click Apply in the panel above.",
    "04_bulk_delete.ipynb": "videos before,",
    "05_analytics.ipynb": "read back",
    "06_history.ipynb": "snapshot files under lake-",
}


def _run_all(page: Any, name: str, restart: bool = False) -> None:
    """Clear every output, Run All (or Restart Kernel and Run All), and wait until the last
    cell has printed (so a busy machine cannot make the test look too early)."""
    from playwright.sync_api import expect

    _nb(page).locator(".jp-Cell:visible").first.click()
    _run_menu(page, "editmenu:clear-all", menu="Edit")
    if restart:
        _run_menu(page, "runmenu:restart-and-run-all", menu="Kernel")
        page.locator(".jp-Dialog .jp-mod-accept").click()
    else:
        _run_menu(page, "runmenu:run-all")
    last = _nb(page).locator(".jp-OutputArea-output", has_text=LAST_OUTPUT[name])
    expect(last.first).to_be_visible(timeout=180_000)
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']:visible")
    expect(idle.first).to_be_visible(timeout=60_000)


def _commits(lab: Lab, since: int) -> list[dict[str, Any]]:
    return [c for c in lab.sb.commits() if c["seq"] > since]


def _last_seq(lab: Lab) -> int:
    commits = lab.sb.commits()
    return int(commits[-1]["seq"]) if commits else 0


def _rows(panel: Any) -> Any:
    return panel.locator(".dmtools-plan-row:visible")


def _checkboxes(panel: Any) -> Any:
    return _rows(panel).locator("input[type=checkbox]")


def test_charts_and_the_report_show_as_pictures(lab: Lab, page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, lab, "02_channel_report.ipynb")
    _run_all(page, "02_channel_report.ipynb")
    pictures = _nb(page).locator(".jp-RenderedImage img")
    expect(pictures).to_have_count(4, timeout=60_000)  # three charts and the report overview
    for index in range(4):
        size = pictures.nth(index).evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert size[0] > 300 and size[1] > 150, size
    outputs = " ".join(_nb(page).locator(".jp-OutputArea-output").all_inner_texts())
    assert "<Figure size" not in outputs and "Axes" not in outputs
    assert "271.131368" not in outputs and "not visible to this login" in outputs
    cell = _nb(page).locator(".jp-CodeCell", has_text="report.plot_by_category(df)").first
    cell.scroll_into_view_if_needed()
    _shot(cell, "notebook_charts.png")
    table = _nb(page).locator(".jp-CodeCell", has_text="report.key_figures(df)").first
    table.scroll_into_view_if_needed()
    _shot(table, "notebook_key_figures.png")


def test_cancel_then_run_all_writes_nothing(lab: Lab, page: Any) -> None:
    from playwright.sync_api import expect

    mark = _last_seq(lab)
    _open(page, lab, "03_bulk_edit.ipynb")
    _run_all(page, "03_bulk_edit.ipynb")
    panels = _nb(page).locator(".dmtools-review-panel")
    expect(panels).to_have_count(3)  # the plan, the tag clean-up, the CSV edits
    first = panels.first
    expect(first).to_contain_text("Checked on the server: all 5 videos still need this change")
    plan_cell = _nb(page).locator(".jp-CodeCell", has_text="plan = dm.plan_edits(df, edited").first
    plan_cell.scroll_into_view_if_needed()
    _shot(plan_cell, "plan_table.png")
    expect(
        _nb(page).locator(".jp-OutputArea-output", has_text="Nothing applied yet: click Apply")
    ).to_be_visible()
    first.scroll_into_view_if_needed()
    first.get_by_role("button", name="Cancel").click()
    expect(_review_status(first)).to_contain_text("Cancelled: nothing was sent")
    expect(first.get_by_role("button", name="Apply")).to_be_disabled()
    # the cell after the panel, run again, still applies nothing
    _nb(page).locator(".jp-CodeCell", has_text="result = panel.result").first.click()
    _run_menu(page, "runmenu:run")
    _run_all(page, "03_bulk_edit.ipynb", restart=True)
    expect(panels).to_have_count(3)
    assert _commits(lab, mark) == []


def test_unticked_rows_are_not_applied(lab: Lab, page: Any) -> None:
    from playwright.sync_api import expect

    mark = _last_seq(lab)
    _open(page, lab, "03_bulk_edit.ipynb")
    _run_all(page, "03_bulk_edit.ipynb", restart=True)
    panel = _nb(page).locator(".dmtools-review-panel").first
    panel.scroll_into_view_if_needed()
    expect(panel).to_contain_text("All 5 videos selected")
    boxes = _checkboxes(panel)
    expect(boxes).to_have_count(5)
    rows = _rows(panel).all_inner_texts()
    boxes.nth(1).uncheck()
    boxes.nth(3).uncheck()
    expect(panel).to_contain_text("3 of 5 videos selected (2 excluded)")
    expect(panel).to_contain_text("excluded: not applied")
    expect(panel.locator("ins").first).to_be_visible()  # the words that change, marked
    _shot(panel, "plan_review.png")
    panel.get_by_role("button", name="Apply").click()
    expect(_review_status(panel)).to_contain_text("Done: applied 3.", timeout=60_000)
    written = {c["video_id"] for c in _commits(lab, mark)}
    kept = [text for i, text in enumerate(rows[:5]) if i not in (1, 3)]
    assert len(written) == 3 and all(any(v in text for text in kept) for v in written)
    assert len(_commits(lab, mark)) == 3


def test_stop_then_resume_completes_exactly(lab: Lab, page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, lab, "03_bulk_edit.ipynb")
    _run_all(page, "03_bulk_edit.ipynb", restart=True)
    mark = _last_seq(lab)
    panel = _nb(page).locator(".dmtools-review-panel").nth(1)  # the tag clean-up
    panel.scroll_into_view_if_needed()
    expect(panel).to_contain_text("still need this change")
    total = int(re.search(r"All (\d+) videos selected", panel.inner_text()).group(1))  # type: ignore[union-attr]
    assert total > 40
    # a slow API: 1 s per request, so that Stop lands while batches of 10 edits are in flight
    lab.sb.set_faults(latency=1.0)
    try:
        panel.get_by_role("button", name="Apply").click()
        progress = panel.locator(".dmtools-review-progress")
        expect(progress).to_contain_text(re.compile(rf"^\s*(1\d|[2-9]\d)/{total}"), timeout=60_000)
        panel.get_by_role("button", name="Stop").click()
        expect(_review_status(panel)).to_contain_text("Stopped at", timeout=60_000)
    finally:
        lab.sb.set_faults()
    resume = panel.get_by_role("button", name="Resume")
    expect(resume).to_be_enabled()
    stopped = len(_commits(lab, mark))
    assert 0 < stopped < total
    _shot(panel, "review_stopped.png")
    resume.click()
    expect(_review_status(panel)).to_contain_text(f"Done: applied {total}.", timeout=60_000)
    commits = _commits(lab, mark)
    assert len(commits) == total == len({c["video_id"] for c in commits})  # each exactly once


def test_delete_needs_the_count_and_notices_videos_already_gone(lab: Lab, page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, lab, "04_bulk_delete.ipynb")
    mark = _last_seq(lab)
    _run_all(page, "04_bulk_delete.ipynb", restart=True)
    panel = _nb(page).locator(".dmtools-review-panel").first
    panel.scroll_into_view_if_needed()
    expect(
        _nb(page).locator(".jp-OutputArea-output", has_text="Nothing deleted: type the number")
    ).to_be_visible()
    assert _commits(lab, mark) == []
    delete = panel.get_by_role("button", name="Delete")
    expect(delete).to_be_disabled()
    panel.locator("input[placeholder^='type 3']").fill("3")
    expect(delete).to_be_enabled()
    _shot(panel, "delete_review.png")
    delete.click()
    expect(_review_status(panel)).to_contain_text("Done: deleted 3.", timeout=60_000)
    assert len([c for c in _commits(lab, mark) if c["kind"] == "delete"]) == 3


@pytest.mark.parametrize(
    "name,charts", [("05_analytics.ipynb", 3), ("06_history.ipynb", 0)], ids=["05", "06"]
)
def test_analytics_and_history_run_on_api_v2(
    lab_v2: Lab, page_v2: Any, name: str, charts: int
) -> None:
    """``dmtools lab --api v2``: every cell of 05 and 06 runs, 05's charts show, and the
    views come from the Reporting API. (With the lab's key in the environment 06 takes
    today's snapshot instead of simulating a week, as on the legacy API: no chart.)"""
    from playwright.sync_api import expect

    page = page_v2
    _open(page, lab_v2, name)
    _run_all(page, name)
    outputs = " ".join(_nb(page).locator(".jp-OutputArea-output").all_inner_texts())
    assert "Traceback" not in outputs and "Error" not in outputs
    assert "Logged in as demo-news (local sandbox) with account.read" in outputs
    pictures = _nb(page).locator(".jp-RenderedImage img")
    expect(pictures).to_have_count(charts, timeout=60_000)
    for index in range(charts):
        size = pictures.nth(index).evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert size[0] > 300 and size[1] > 150, size
    if name == "06_history.ipynb":
        assert re.search(r"[\d,]+ daily views per video stored from the Reporting API", outputs)
        assert "1 snapshots in history-" in outputs
        cell = _nb(page).locator(".jp-CodeCell", has_text="history.fetch_views").first
    else:
        assert "with its Audience section: True" in outputs
        cell = _nb(page).locator(".jp-CodeCell", has_text="plot_audience_over_time").first
    cell.scroll_into_view_if_needed()
    _shot(cell, f"v2_{name.split('_')[0]}.png")
    assert lab_v2.sb.commits() == []  # reading notebooks: nothing written
