"""The sandbox's layout holds: state without HTTP, dialects apart, the client side untouched.

Read from the source (imports anywhere in a module, including inside functions):

* ``state/`` imports nothing from ``api/``, ``faults/``, the lifecycle or werkzeug;
* a dialect subpackage (``api/<dialect>/``) imports no other dialect;
* the sandbox imports from the client side only ``schema`` and ``reporting_schema`` (the
  shared catalogues) and ``config`` (for Endpoints);
* no module over 400 lines, no function over 60.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from _support import ROOT

SANDBOX = ROOT / "dmtools" / "sandbox"
MODULES = sorted(SANDBOX.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _part(path: Path) -> str:
    return "/".join(path.relative_to(SANDBOX).parts[:-1])


def test_the_layout_has_state_api_faults_and_the_lifecycle_beside_them() -> None:
    parts = {_part(p) for p in MODULES}
    assert {
        "state",
        "api",
        "api/legacy",
        "api/v2",
        "api/reporting",
        "state/reporting",
        "faults",
    } <= parts
    assert {p.name for p in SANDBOX.glob("*.py")} >= {"sandbox.py", "server.py", "__main__.py"}


@pytest.mark.parametrize("path", [p for p in MODULES if _part(p).split("/")[0] == "state"], ids=str)
def test_the_state_layer_imports_no_http(path: Path) -> None:
    for name in _imports(path):
        assert not name.startswith(
            ("dmtools.sandbox.api", "dmtools.sandbox.faults", "werkzeug", "http")
        ), name
        assert name not in ("dmtools.sandbox.server", "dmtools.sandbox.sandbox"), name


@pytest.mark.parametrize("path", [p for p in MODULES if _part(p).startswith("api/")], ids=str)
def test_a_dialect_imports_no_other_dialect(path: Path) -> None:
    own = "dmtools.sandbox." + _part(path).replace("/", ".")
    dialects = {
        "dmtools.sandbox.api." + p.name
        for p in (SANDBOX / "api").iterdir()
        if p.is_dir() and not p.name.startswith("_")
    }
    for name in _imports(path):
        other = {d for d in dialects if name.startswith(d) and d != own}
        assert not other, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=str)
def test_the_sandbox_uses_only_the_schemas_and_config_from_the_client_side(path: Path) -> None:
    client = {
        n for n in _imports(path) if n.startswith("dmtools") and not n.startswith("dmtools.sandbox")
    }
    assert client <= {"dmtools.schema", "dmtools.reporting_schema", "dmtools.config"}, client


@pytest.mark.parametrize("path", MODULES, ids=str)
def test_modules_and_functions_stay_small(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= 400
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            assert node.end_lineno - node.lineno + 1 <= 60, node.name
