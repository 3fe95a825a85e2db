"""API v2 video fields: the canonical ↔ v2 name table, reading records, writing bodies.

:data:`WIRE` is the one table of the mapping (the README's field table is written from it):
canonical field (:data:`dmtools.schema.VIDEO_FIELDS`) → v2 field, dotted for a sub-field of
an embedded object (``profile.profile_id``). Canonical fields absent from it do not exist on
v2 (:data:`MISSING_HINTS` says where their data lives instead). Records hold the legacy
values: unix seconds for dates, booleans ``private``/``password_protected`` from
``visibility``.

Example:
    >>> to_record({"video_id": "x1", "visibility": "private", "profile": {"profile_id": "p"}})
    {'id': 'x1', 'private': True, 'password_protected': False, 'owner': 'p'}
    >>> to_body({"private": True, "allow_embed": False, "country": "fr"})
    {'visibility': 'private', 'embedding': {'enable_embed': False}, 'country': 'FR'}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dmtools import schema
from dmtools.errors import Problem

__all__ = [
    "LIMITS",
    "MISSING_HINTS",
    "WIRE",
    "WRITABLE",
    "check_values",
    "iso",
    "to_body",
    "to_record",
    "unix",
    "wire_names",
]

#: canonical field -> API v2 field (dotted: a sub-field of an embedded object).
WIRE: dict[str, str] = {
    "id": "video_id",
    "title": "title",
    "description": "description",
    "tags": "tags",
    "channel": "category",
    "language": "language",
    "country": "country",
    "published": "is_published",
    "private": "visibility",
    "password_protected": "visibility",
    "is_created_for_kids": "is_for_kids",
    "explicit": "is_explicit",
    "allow_embed": "embedding.enable_embed",
    "owner": "profile.profile_id",
    "owner.screenname": "profile.display_name",
    "owner.username": "profile.name",
    "created_time": "created_at",
    "updated_time": "updated_at",
    "duration": "source.duration",
    "url": "video_url",
    "embed_url": "embedding.embed_url",
    "thumbnail_url": "thumbnail.h720_url",
}
#: canonical fields API v2 can write (``published`` is v2's read-only ``is_published``).
WRITABLE = frozenset(
    "title description tags channel language country private is_created_for_kids explicit "
    "allow_embed".split()
)
#: API v2's text limits (the same for every key).
LIMITS = schema.FieldLimits(title=255, description=3000)
_VIEWS = "views come from the Reporting API: dm.load_analytics(client, ...)"
#: Where the data of a field API v2 lacks lives instead.
MISSING_HINTS: dict[str, str] = {
    "views_total": _VIEWS,
    "views_last_day": _VIEWS,
    "views_last_week": _VIEWS,
    "views_last_month": _VIEWS,
    "likes_total": "API v2 has no like counts",
    "comments_total": "API v2 has no comment counts",
    "bookmarks_total": "API v2 has no bookmark counts",
    "status": "API v2 shows processing.encoding_status instead (not a column)",
    "private_id": "API v2 folds the private id into url (video_url)",
    "mode": "API v2 has no live/vod mode field",
}
#: API v2 field -> canonical field (the first canonical name of a shared v2 field).
CANONICAL: dict[str, str] = {}
for _name, _wire in WIRE.items():
    CANONICAL.setdefault(_wire, _name)
_TWO_LETTERS = re.compile(r"^[A-Za-z]{2}$")


def iso(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of unix seconds (what v2 filters read)."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(text: Any) -> int | None:
    """Unix seconds of an ISO 8601 date-time (``Z`` or an offset); None for anything else."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text)  # "Z" included (Python 3.11)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def wire_names(names: Sequence[str]) -> list[str]:
    """The v2 ``fields`` names of canonical ``names`` (those v2 lacks are left out)."""
    return list(dict.fromkeys(WIRE[name] for name in names if name in WIRE))


def _description(value: Any) -> Any:
    return "" if value is None else value  # v2 reads an empty description as null; legacy ""


#: How a v2 value becomes a canonical one, for the fields whose values differ.
_FROM_WIRE: dict[str, Callable[[Any], Any]] = {
    "private": lambda value: None if value is None else value == "private",
    "password_protected": lambda value: None if value is None else value == "password",
    "created_time": unix,
    "updated_time": unix,
    "description": _description,
}
#: (canonical name, top-level wire name, nested name or "", conversion or None), once.
_READ = tuple(
    (name, top, sub, _FROM_WIRE.get(name))
    for name, wire in WIRE.items()
    for top, _, sub in [wire.partition(".")]
)


def to_record(item: Mapping[str, Any]) -> dict[str, Any]:
    """One v2 video object as a canonical record (only the fields it holds)."""
    out: dict[str, Any] = {}
    for name, top, sub, convert in _READ:
        if top not in item:
            continue
        value = item[top]
        if sub:
            if not (type(value) is dict or isinstance(value, Mapping)) or sub not in value:
                continue
            value = value[sub]
        out[name] = value if convert is None else convert(value)
    return out


def to_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of a PATCH writing canonical ``values`` (checked first)."""
    body: dict[str, Any] = {}
    for name, value in values.items():
        wire = WIRE[name]
        if name == "private":
            value = "private" if value else "public"
        elif name == "description" and isinstance(value, str) and not value.strip():
            value = None  # v2 refuses "": null clears
        elif name == "tags" and value is not None:
            value = list(value)
        elif name in ("language", "country") and isinstance(value, str):
            value = value.lower() if name == "language" else value.upper()
        top, _, sub = wire.partition(".")
        if sub:
            body.setdefault(top, {})[sub] = value
        else:
            body[top] = value
    return body


def _v2_rule(name: str, value: Any) -> str | None:
    """Why API v2 refuses ``value`` for a canonical field it can write (None: it accepts)."""
    if name == "explicit" and value is False:
        return "API v2 cannot unset explicit once it is set (is_explicit)"
    if name == "title" and isinstance(value, str) and not value.strip():
        return "title is required and cannot be blank"
    if name == "description" and isinstance(value, str) and value != value.strip():
        if not value.strip():
            return "API v2 does not keep a blank description: leave the cell empty to clear it"
        return "API v2 trims descriptions: remove the spaces or line breaks around the text"
    if name == "tags" and isinstance(value, list | tuple):
        blank = [t for t in value if isinstance(t, str) and not t.strip()]
        if blank:
            return "tags cannot be blank on API v2"
    if name in ("language", "country") and value is not None:
        if not isinstance(value, str) or not _TWO_LETTERS.match(value):
            return f"{value!r} is not a two-letter code"
    return None


def check_values(values: Mapping[str, Any]) -> list[Problem]:
    """Why canonical ``values`` cannot be written through API v2 (empty: they can)."""
    problems: list[Problem] = []
    for name, value in values.items():
        spec = schema.VIDEO_FIELDS.get(name)
        if spec is not None and spec.editable and name not in WRITABLE:
            reason: str | None = f"{name} is read-only on API v2 (not writable there)"
        else:
            reason = schema.check_value(name, value, LIMITS) or _v2_rule(name, value)
        if reason is not None:
            problems.append(Problem(None, name, reason))
    return problems
