"""Test tiers and the fixtures every test folder shares.

The default run is the pull-request tier. Long variants are marked ``extended`` and run only
with ``DMTOOLS_EXTENDED=1`` (they are reported as skipped otherwise, never as passed).

Fixtures (all over real HTTP on 127.0.0.1, ephemeral ports, so ``pytest -n 2`` is safe):

* ``sb``: the demo sandbox (1,500 videos, seed 7), shared by the tests of one module. A module
  whose tests need other data or settings defines its own ``sb``, which replaces this one for
  its tests (``tests/cli/conftest.py`` does so for a folder);
* ``sandbox_factory``: ``sandbox_factory(videos=30, seed=3, ...)`` starts a sandbox for one
  test only (for tests that change data others count, or need special settings); every
  sandbox it started is stopped after the test;
* ``client``: the demo user of ``sb`` logged in (:func:`dmtools.testing.connect_sandbox`,
  password grant, ``manage_videos``), shared by the tests of one module;
* ``http``: a plain ``requests`` session that ignores proxy settings;
* ``cli``: the ``dmtools`` command run in-process against ``sb``, with its own config folder
  (:class:`_support.cli.Cli`);
* ``api`` and ``clock``: a scripted HTTP server and a fake clock for transport tests;
* ``debug_logs``: every logger at DEBUG into a stream, and ``captured_warnings``: every
  warning, for the secret canaries;
* ``dialect``: ``"legacy"`` then ``"v2"``: a test of a promise that takes it runs on both API
  dialects (module-scoped, so a module's ``sb``/``client`` fixtures may depend on it); log in
  and pick the channel with :mod:`_support.dialects`. (``api`` is the scripted server above.)

Helpers (functions, classes) are in ``tests/_support/``, one module per area.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from _support.canary import debug_logging
from _support.cli import VARIABLES, Cli
from _support.dialects import DIALECTS
from _support.fakeapi import FakeAPI, FakeClock
from hypothesis import settings

from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

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


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """The demo sandbox (1,500 videos, seed 7), shared by the tests of one module."""
    with Sandbox(videos=1500, seed=7) as sandbox:
        yield sandbox


@pytest.fixture()
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes that live for one test: ``sandbox_factory(**Sandbox options)``."""
    started: list[Sandbox] = []

    def start(**options: Any) -> Sandbox:
        sandbox = Sandbox(**options)
        started.append(sandbox)
        return sandbox.start()

    yield start
    for sandbox in reversed(started):
        sandbox.stop()


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Iterator[Client]:
    """The demo user of ``sb`` logged in (password grant, ``manage_videos``)."""
    with connect_sandbox(sb) as logged_in:
        yield logged_in


@pytest.fixture()
def http() -> Iterator[requests.Session]:
    """A ``requests`` session for raw HTTP calls (never a proxy or ``.netrc`` on loopback)."""
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()


@pytest.fixture()
def cli(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("export", "v.csv", creds="public")`` runs ``dmtools export v.csv`` against ``sb``,
    in a fresh working folder, with every ``DMTOOLS_*`` variable unset."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return Cli(sb=sb, config=tmp_path / "config", work=work, xdg=tmp_path / "xdg")


@pytest.fixture()
def api() -> Iterator[FakeAPI]:
    """A scripted HTTP server on 127.0.0.1 for one test (:class:`_support.fakeapi.FakeAPI`)."""
    fake = FakeAPI()
    yield fake
    fake.close()


@pytest.fixture()
def clock() -> FakeClock:
    """A monotonic clock that moves only when something sleeps on it."""
    return FakeClock()


@pytest.fixture()
def debug_logs() -> Iterator[io.StringIO]:
    """Every logger at DEBUG into one stream for one test (:func:`_support.canary.debug_logging`)."""
    with debug_logging() as stream:
        yield stream


@pytest.fixture()
def captured_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning raised during one test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


@pytest.fixture(scope="module", params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """The API dialect a test of a promise runs on: ``legacy``, then ``v2``."""
    return str(request.param)
