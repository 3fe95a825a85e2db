"""Both API dialects in one test: a login and the channel it edits, by dialect name.

The ``dialect`` fixture (``tests/conftest.py``) runs a test once on the legacy Platform API
and once on API v2. On the legacy API a test acts as the sandbox's demo user (password
grant, ``manage_videos``) on the demo channel; on API v2 it acts with the sandbox's private
key (``client_credentials``, the only v2 grant) on the organisation's archive profile, whose
size follows the sandbox's ``videos`` (4/5 of it).

Example:
    >>> with login(sb, dialect) as client:                                   # doctest: +SKIP
    ...     df = dm.load_videos(client, owner=channel(sb, dialect))
"""

from __future__ import annotations

from typing import Any

from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

#: The API dialects every guarantee is tested on.
DIALECTS = ("legacy", "v2")


def login(sb: Sandbox, dialect: str, **options: Any) -> Client:
    """A client of ``sb`` speaking ``dialect`` (``options`` go to ``connect_sandbox``)."""
    return connect_sandbox(sb, api=dialect, **options)


def channel(sb: Sandbox, dialect: str) -> str:
    """The owner whose videos a test loads: ``"me"`` (the demo channel) on the legacy API,
    the organisation's archive profile on API v2."""
    if dialect == "legacy":
        return "me"
    profiles = sb.credentials.private_key.profiles
    return profiles[-1]


def channel_owner(sb: Sandbox, dialect: str) -> str:
    """The account id owning :func:`channel`'s videos (the value of their ``owner`` field)."""
    return sb.credentials.user.id if dialect == "legacy" else channel(sb, dialect)


def read_only(dialect: str) -> list[str]:
    """Scopes reading videos but not editing them, in ``dialect``'s words."""
    return ["userinfo"] if dialect == "legacy" else ["account.read", "video.read"]
