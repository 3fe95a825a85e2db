"""The project metadata agrees with itself."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from _support import ROOT

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
        "import sys, dmtools; heavy = {'pandas', 'numpy', 'requests', 'matplotlib', "
        "'ipywidgets', 'werkzeug', 'requests_oauthlib'}; print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_is_exported_and_resolves() -> None:
    """httpx-style: ``__all__`` is what the module defines or loads lazily (plus the ``report``
    module and ``__version__``), derived from the module rather than listed again here."""
    import dmtools

    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import dmtools, types; print(' '.join(n for n, v in vars(dmtools).items() "
            "if not n.startswith('_') and not isinstance(v, types.ModuleType) "
            "and str(getattr(v, '__module__', '')).startswith('dmtools')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    defined = set(fresh.stdout.split())
    expected = defined | set(dmtools._LAZY) | {"report", "__version__"}
    assert sorted(dmtools.__all__, key=str.casefold) == sorted(expected, key=str.casefold)
    missing = [name for name in dmtools.__all__ if getattr(dmtools, name, None) is None]
    assert missing == []


def test_every_exception_and_warning_class_of_errors_is_exported() -> None:
    import dmtools
    from dmtools import errors

    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    }
    assert classes <= set(errors.__all__)
    assert classes <= set(dmtools.__all__)
    assert all(getattr(dmtools, name) is getattr(errors, name) for name in classes)
