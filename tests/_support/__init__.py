"""Helpers shared by the tests, one module per area (``from _support.sandbox import bearer``).

Fixtures live in ``tests/conftest.py``; these modules hold plain functions and classes. The
paths below let a test find the repository wherever its file sits under ``tests/``.
"""

from __future__ import annotations

from pathlib import Path

#: The ``tests`` folder.
TESTS = Path(__file__).resolve().parents[1]
#: The repository (the folder holding ``dmtools/`` and ``pyproject.toml``).
ROOT = TESTS.parent
#: Data files of the tests.
DATA = TESTS / "data"
