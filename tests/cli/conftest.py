"""The command-line tests: every test gets a small sandbox of its own (commands change data)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dmtools.sandbox import Sandbox


@pytest.fixture()
def sb(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox of 120 videos for one test; the ``cli`` fixture runs against it."""
    return sandbox_factory(videos=120, seed=7)
