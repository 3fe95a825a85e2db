"""Data rules of videos, whatever the dialect that writes them (no HTTP).

Field-level validation (types, lengths, enums) is the dialect's job, since names and limits
differ per API version; the rules here hold for every version.

Example:
    >>> check_publishable({"published": False, "title": "draft"})  # drafts need nothing
    >>> check_explicit({"explicit": False}, {"explicit": True})  # setting the flag is fine
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Mapping
from typing import Any

from dmtools.sandbox.state.errors import RuleViolation

#: Fields that must be set for a video to be published.
PUBLISH_REQUIRED = ("title", "channel", "is_created_for_kids")


def check_publishable(video: Mapping[str, Any]) -> None:
    """A published video needs a title, a channel and ``is_created_for_kids``.

    Raises:
        RuleViolation: ``missing`` set, naming the first unset field.
    """
    if not video.get("published"):
        return
    for name in PUBLISH_REQUIRED:
        value = video.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise RuleViolation(
                name,
                f"Missing required parameter `{name}': a published "
                f"video needs {', '.join(PUBLISH_REQUIRED)}.",
                missing=True,
            )


def check_explicit(current: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
    """The ``explicit`` flag cannot be removed once set.

    Raises:
        RuleViolation: the change clears a set flag.
    """
    if current.get("explicit") and changes.get("explicit") is False:
        raise RuleViolation(
            "explicit", "Invalid value for `explicit': the flag cannot be removed once set."
        )


def new_video(
    video_id: str, owner: str, columns: Mapping[str, Any], upload: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The full record of a video created by a client (before the publish check).

    ``columns`` are the written values (stored column names); ``upload`` is the upload the
    source URL points to, which gives the default title and the duration.
    """
    now = int(time.time())
    name = str(upload["name"]).rsplit(".", 1)[0] if upload and upload.get("name") else ""
    record: dict[str, Any] = {
        "id": video_id,
        "owner": owner,
        "title": name or "Untitled video",
        "description": "",
        "tags": [],
        "channel": None,
        "language": None,
        "country": None,
        "published": False,
        "private": False,
        "is_created_for_kids": None,
        "explicit": False,
        "allow_embed": True,
        "created_time": now,
        "updated_time": now,
        "duration": int(upload["duration"]) if upload else random.Random().randint(30, 900),
        "private_id": "k" + secrets.token_hex(6),
        "password": None,
        "mode": "vod",
    }
    record.update(columns)
    return record


def status_of(record: Mapping[str, Any]) -> str:
    """The status of a freshly created video."""
    return "published" if record["published"] else "ready"
