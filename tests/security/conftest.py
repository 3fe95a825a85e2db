"""The security tests' sandbox for the ``cli`` fixture: its own per test (commands change data)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dmtools.sandbox import Sandbox


@pytest.fixture()
def sb(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """The sandbox the ``cli`` fixture runs against: 120 videos, for one test."""
    return sandbox_factory(videos=120, seed=7)
