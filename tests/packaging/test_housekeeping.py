"""What a run leaves in a work tree is ignored by git: journals, their locks, runs/."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from _support import ROOT


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize(
    "name",
    [
        "edits.journal",
        "edits.journal.lock",
        "notebooks/edits-20250101-000000.journal.lock",
        "runs/videos.plan-0a1b2c3d4e5f.journal",
        "notebooks/runs/deleted-0a1b2c3d4e5f-20250101T000000Z.json",
    ],
)
def test_run_artefacts_are_ignored_by_git(name: str) -> None:
    inside = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True
    )
    if inside.returncode != 0:
        pytest.skip("not a git work tree (an sdist)")
    found = subprocess.run(["git", "check-ignore", "-q", "--no-index", name], cwd=ROOT)
    assert found.returncode == 0, f"{name} is not ignored by .gitignore"
