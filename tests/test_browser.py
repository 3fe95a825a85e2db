"""The panels in a real JupyterLab, driven in Chromium with Playwright.

A JupyterLab server is started on 127.0.0.1 (ephemeral port, token auth) over a temporary
copy of notebooks/, with its own temporary Jupyter directories and no ``DMTOOLS_*``
credentials (the kernel uses its embedded sandbox). Chromium is Debian's
``/usr/bin/chromium`` (or ``DMTOOLS_CHROMIUM``); Playwright never downloads a browser.

Screenshots go to ``artifacts/``; with ``DMTOOLS_UPDATE_SCREENSHOTS=1`` the login panel
and plan review screenshots are also copied to ``docs/images/`` for the README.

Run: ``.venv/bin/pytest -m browser tests/test_browser.py``. Without Chromium or Playwright
the tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

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
from _widget_support import find_secrets, sandbox_secrets

from dmtools.sandbox import Sandbox

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
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
README_SHOTS = {"login_panel.png", "plan_review.png"}
#: JupyterLab settings: no news or update pop-ups over the notebook, and widget state saved
#: in the notebook file (so the test can check what a user's saved notebook would hold).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
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
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")
    base = tmp_path_factory.mktemp("jupyterlab")
    workdir = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMTOOLS_")}
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
    env["DMTOOLS_SANDBOX_VIDEOS"] = "200"  # a small channel: the kernel's sandbox starts fast
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
        yield Lab(f"http://127.0.0.1:{info['port']}", token, workdir)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(log, ARTIFACTS / "jupyterlab.log")


@pytest.fixture(scope="module")
def page(lab: Lab) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        yield context.new_page()
        context.close()
        browser.close()


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
    panel.get_by_role("checkbox", name="Use the local sandbox").check()
    expect(_status(panel)).to_contain_text("Using the local sandbox")
    expect(panel.locator("input[type=password]").first).to_have_attribute(
        "placeholder", "(sandbox credentials)"
    )
    panel.get_by_role("button", name="Private API key").click()
    panel.get_by_role("button", name="Log in").click()
    expect(_status(panel)).to_contain_text(
        "Logged in as Demo News (local sandbox) with read_videos"
    )
    _shot(panel, "login_panel.png")

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


def test_plan_review_applies_in_jupyterlab(lab: Lab, page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, lab, "03_bulk_edit.ipynb")
    # run everything above the cell that applies in code, then apply with the button
    page.locator(".jp-CodeCell", has_text="if panel.result is not None").locator(
        ".jp-InputPrompt"
    ).first.click()
    _run_menu(page, "notebook:run-all-above")
    panel = page.locator(".dmtools-review-panel")
    expect(panel).to_be_visible(timeout=60_000)
    panel.scroll_into_view_if_needed()
    expect(panel).to_contain_text("5 video(s) to change")
    apply = panel.get_by_role("button", name="Apply")
    expect(apply).to_be_enabled()
    apply.click()
    expect(_status(panel)).to_contain_text("Done: applied 5.")
    bar = panel.locator(".widget-hprogress .progress-bar")
    expect(bar).to_have_attribute("style", re.compile(r"width: 100%"))
    _shot(panel, "plan_review.png")
