"""The package's shape stays small: modules of at most 400 lines, functions of at most 60
(decorators and docstring included), and ``import dmtools`` without pandas or requests."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import dmtools

PACKAGE = Path(dmtools.__file__).parent
MODULE_LINES = 400
FUNCTION_LINES = 60


def _modules() -> list[Path]:
    found = sorted(PACKAGE.rglob("*.py"))
    assert len(found) > 100  # the whole package, not an empty glob
    return found


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                size = (node.end_lineno or node.lineno) - start + 1
                if size > FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}"] = size
    assert long == {}


def test_import_dmtools_and_the_dict_layer_load_neither_pandas_nor_requests() -> None:
    code = (
        "import sys, dmtools, dmtools.videos, dmtools.errors, dmtools.dialects; "
        "print(sorted(m for m in ('pandas', 'numpy', 'requests') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
