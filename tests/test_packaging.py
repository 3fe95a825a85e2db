"""The project metadata agrees with itself."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from PyPI names.
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_names_the_same_runtime_dependencies_as_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {_name(r) for r in pyproject["project"]["dependencies"]}
    conda: set[str] = set()
    text = (ROOT / "environment.yml").read_text()
    section = text.split("dependencies:", 1)[1]
    for line in section.splitlines():
        item = line.strip()
        if not item.startswith("- ") or item.endswith(":"):
            continue
        name = _name(item[2:])
        if name in {"python", "pip", "-e"} or item[2:].startswith("-e"):
            continue
        conda.add(CONDA_TO_PYPI.get(name, name))
    assert conda == declared


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if "pytest" in line and not line.startswith("#")]
    assert len(commands) == 1
    assert commands[0].strip() in readme


def test_package_is_typed_and_has_a_console_script() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert (ROOT / "dmtools" / "py.typed").exists()
    assert pyproject["project"]["scripts"]["dmtools"] == "dmtools.cli:main"
    assert pyproject["project"]["requires-python"] == ">=3.11"


def test_importing_dmtools_does_not_load_heavy_optional_modules() -> None:
    code = (
        "import sys, dmtools; heavy = {'pandas', 'matplotlib', 'ipywidgets', 'werkzeug', "
        "'requests_oauthlib'}; print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_public_names_are_pinned_and_all_resolve() -> None:
    import dmtools

    expected = {
        "APIError",
        "AuthenticationError",
        "AuthorizationCodeFlow",
        "Client",
        "DailymotionError",
        "DeletePlan",
        "EditPlan",
        "Endpoints",
        "FileTokenStore",
        "InputError",
        "InsecureTransportError",
        "KeyringTokenStore",
        "LoginRequired",
        "MemoryTokenStore",
        "NotFound",
        "PermissionDenied",
        "RateLimited",
        "Sandbox",
        "Secret",
        "ServerError",
        "TransportError",
        "ValidationError",
        "__version__",
        "add_tags",
        "all_videos",
        "connect",
        "delete_video",
        "first_video",
        "get_video",
        "iterate_videos",
        "label_categories",
        "load_videos",
        "login_panel",
        "plan_deletes",
        "plan_edits",
        "read_csv",
        "read_excel",
        "read_parquet",
        "remove_tags",
        "report",
        "review_panel",
        "set_category",
        "to_frame",
        "update_video",
        "without_tags",
        "write_csv",
        "write_excel",
        "write_parquet",
    }
    assert set(dmtools.__all__) == expected
    missing = [name for name in dmtools.__all__ if getattr(dmtools, name, None) is None]
    assert missing == []
