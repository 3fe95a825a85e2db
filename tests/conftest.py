"""Test tiers and shared settings.

The default run is the pull-request tier. Long variants are marked ``extended`` and run only
with ``DMTOOLS_EXTENDED=1`` (they are reported as skipped otherwise, never as passed).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

EXTENDED = os.environ.get("DMTOOLS_EXTENDED") == "1"

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("extended", max_examples=500, deadline=None, print_blob=True)
settings.load_profile("extended" if EXTENDED else "ci")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if EXTENDED:
        return
    skip = pytest.mark.skip(reason="extended tier: set DMTOOLS_EXTENDED=1")
    for item in items:
        if "extended" in item.keywords:
            item.add_marker(skip)
