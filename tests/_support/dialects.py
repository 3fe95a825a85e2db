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

from typing import TYPE_CHECKING, Any

from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

if TYPE_CHECKING:
    import pandas as pd

#: The API dialects every guarantee is tested on.
DIALECTS = ("legacy", "v2")
#: (API URL, key) -> the profile the tests of a v2 client edit.
_ARCHIVES: dict[tuple[str, str], str] = {}


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


def archive_profile(client: Client) -> str:
    """The profile a v2 client's tests edit: the last one its key reaches (the archive; read
    once per sandbox and key with one ``GET /me``)."""
    from dmtools.load import load_profiles

    key = (client.endpoints.api_url, client.client_id)
    if key not in _ARCHIVES:
        _ARCHIVES[key] = str(load_profiles(client)["profile_id"].iloc[-1])
    return _ARCHIVES[key]


def load_channel(client: Client, **options: Any) -> pd.DataFrame:
    """``dm.load_videos`` of the channel the tests edit, whichever dialect ``client`` speaks:
    the demo channel (legacy), the archive profile (v2)."""
    from dmtools.load import load_videos

    if client.dialect.name == "legacy":
        return load_videos(client, **options)
    return load_videos(client, profile=archive_profile(client), **options)


#: Canonical field -> its name on API v2's wire (where the sandbox's commit log records it).
V2_WIRE = {
    "channel": "category",
    "private": "visibility",
    "password_protected": "visibility",
    "is_created_for_kids": "is_for_kids",
    "explicit": "is_explicit",
    "allow_embed": "embedding",
}
#: The method of an edit, by dialect.
EDIT_METHOD = {"legacy": "POST", "v2": "PATCH"}
#: A video's path as the sandbox logs it (and its fault rules match it), by dialect.
VIDEO_PATH = {"legacy": "/video/{}", "v2": "/v2/videos/{}"}


def wire_fields(dialect: str, names: Any) -> tuple[str, ...]:
    """The sorted wire names of canonical fields ``names`` (as the commit log shows them)."""
    if dialect == "legacy":
        return tuple(sorted(names))
    return tuple(sorted({V2_WIRE.get(name, name) for name in names}))


def connect_options(sb: Sandbox, dialect: str) -> dict[str, Any]:
    """``dm.connect`` keywords of :func:`login` on ``dialect``, as JSON for a child process:
    ``dm.connect(endpoints=dm.Endpoints.sandbox(url), **options)``."""
    c = sb.credentials
    if dialect != "legacy":
        key = c.private_key
        return {
            "api": dialect,
            "client_id": key.client_id,
            "client_secret": key.client_secret,
            "scope": ["account.read", "video.read", "video.manage"],
        }
    return {
        "spec": "password",
        "client_id": c.public_key.client_id,
        "client_secret": c.public_key.client_secret,
        "username": c.user.username,
        "password": c.user.password,
        "scope": ["manage_videos"],
    }
