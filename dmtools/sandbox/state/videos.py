"""The stored video record: columns, defaults, conversion to and from SQLite rows, checks.

Booleans are stored as 0/1 and lists (tags, hashtags...) as JSON arrays. :func:`check_columns` refuses what
SQLite could not store faithfully (a wrong type, an integer outside 64 bits, a missing
required value), so a bad out-of-band edit is a clear ``ValueError``, not a database error.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

#: The stored video columns in table order: (name, kind, never NULL); kinds are text,
#: int, bool (stored 0/1) and tags (a list of strings, stored as a JSON array).
_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("id", "text", True),
    ("owner", "text", True),
    ("title", "text", False),
    ("description", "text", False),
    ("tags", "tags", True),
    ("channel", "text", False),
    ("language", "text", False),
    ("country", "text", False),
    ("published", "bool", True),
    ("private", "bool", True),
    ("is_created_for_kids", "bool", False),
    ("explicit", "bool", True),
    ("allow_embed", "bool", True),
    ("status", "text", False),
    ("created_time", "int", True),
    ("updated_time", "int", False),
    ("duration", "int", False),
    ("views_total", "int", True),
    ("views_last_day", "int", True),
    ("views_last_week", "int", True),
    ("views_last_month", "int", True),
    ("likes_total", "int", True),
    ("comments_total", "int", True),
    ("bookmarks_total", "int", True),
    ("private_id", "text", False),
    ("password", "text", False),
    ("mode", "text", False),
    ("source_url", "text", False),
    ("version", "int", True),
    # API v2 fields with no legacy twin (added to older database files by ``db``)
    ("hashtags", "tags", True),
    ("ai_subtitles", "tags", True),
    ("enable_comments", "bool", True),
    ("is_ai_altered", "bool", True),
    ("enable_ai_chapter_generation", "bool", True),
    ("can_be_stitched", "bool", True),
    ("is_exclusive_content", "bool", True),
    ("has_paid_partnership", "bool", True),
    ("engagement_message", "text", False),
    ("published_at", "int", False),
    ("geo_mode", "text", False),
    ("geo_countries", "tags", True),
)
VIDEO_COLUMNS = tuple(name for name, _, _ in _COLUMNS)
BOOL_COLUMNS = tuple(name for name, kind, _ in _COLUMNS if kind == "bool")
LIST_COLUMNS = frozenset(name for name, kind, _ in _COLUMNS if kind == "tags")
INT_COLUMNS = frozenset(name for name, kind, _ in _COLUMNS if kind == "int")
REQUIRED_COLUMNS = frozenset(name for name, _, required in _COLUMNS if required)
DEFAULTS: dict[str, Any] = {
    "tags": [],
    "published": False,
    "private": False,
    "explicit": False,
    "allow_embed": True,
    "views_total": 0,
    "views_last_day": 0,
    "views_last_week": 0,
    "views_last_month": 0,
    "likes_total": 0,
    "comments_total": 0,
    "bookmarks_total": 0,
    "mode": "vod",
    "hashtags": [],
    "ai_subtitles": [],
    "enable_comments": True,
    "is_ai_altered": False,
    "enable_ai_chapter_generation": False,
    "can_be_stitched": False,
    "is_exclusive_content": False,
    "has_paid_partnership": False,
    "geo_countries": [],
}
_INT64 = (-(2**63), 2**63 - 1)


_EMPTY_LISTS = (None, "", "[]")
_BOOL_SET = frozenset(BOOL_COLUMNS)


def from_row(row: sqlite3.Row) -> dict[str, Any]:
    """A stored video as a dict (booleans as bool, list columns as lists)."""
    return decoder(tuple(row.keys()))(tuple(row))


def _loads(text: str) -> Any:
    """A stored JSON list, as ``json.loads`` reads it.

    orjson reads a list of strings (what :func:`to_column` stores) the same way, faster;
    anything else (numbers, which it may read otherwise, or text it refuses) is left to the
    standard library.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    if type(value) is list and all(type(item) is str for item in value):
        return value
    return json.loads(text)


@functools.lru_cache(maxsize=256)
def decoder(columns: tuple[str, ...]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """How a row of ``columns`` (a plain tuple, in that order) becomes a video dict.

    Only the list and bool columns among ``columns`` are decoded, so a query that selects a
    few columns pays for those alone; a row of every column decodes as :func:`from_row`.
    """
    lists = [i for i, name in enumerate(columns) if name in LIST_COLUMNS]
    bools = [i for i, name in enumerate(columns) if name in _BOOL_SET]

    def decode(row: Sequence[Any]) -> dict[str, Any]:
        values = list(row)
        for i in lists:
            text = values[i]
            values[i] = [] if text in _EMPTY_LISTS else _loads(text)  # most lists are empty
        for i in bools:
            if values[i] is not None:
                values[i] = bool(values[i])
        return dict(zip(columns, values, strict=True))

    return decode


@functools.lru_cache(maxsize=256)
def select_columns(wanted: frozenset[str]) -> tuple[str, ...]:
    """The stored columns of ``wanted`` in table order.

    Raises:
        ValueError: naming the unknown columns.
    """
    unknown = wanted.difference(VIDEO_COLUMNS)
    if unknown:
        raise ValueError(f"unknown video column(s): {', '.join(sorted(unknown))}")
    return tuple(name for name in VIDEO_COLUMNS if name in wanted)


def to_column(name: str, value: Any) -> Any:
    """The value SQLite stores for ``value`` in column ``name``."""
    if name in LIST_COLUMNS:
        return json.dumps(list(value or []), ensure_ascii=False)
    if name in BOOL_COLUMNS and value is not None:
        return int(bool(value))
    return value


def _problem(name: str, value: Any) -> str | None:
    if value is None:
        return "a value is required" if name in REQUIRED_COLUMNS else None
    if name in LIST_COLUMNS:
        ok = isinstance(value, list | tuple) and all(isinstance(t, str) for t in value)
        return None if ok else "a list of strings is expected"
    if name in BOOL_COLUMNS:
        return None if isinstance(value, bool | int) else "true or false is expected"
    if name in INT_COLUMNS:
        if isinstance(value, bool) or not isinstance(value, int):
            return "an integer is expected"
        return None if _INT64[0] <= value <= _INT64[1] else "the integer is out of range"
    if not isinstance(value, str):
        return "a string is expected"
    return None


def check_columns(changes: Mapping[str, Any]) -> None:
    """Refuse unknown or read-only columns and values the column cannot hold.

    Raises:
        ValueError: naming the first bad column.
    """
    unknown = [n for n in changes if n not in VIDEO_COLUMNS or n in ("id", "version")]
    if unknown:
        raise ValueError(f"unknown video column(s): {', '.join(map(str, unknown))}")
    for name, value in changes.items():
        problem = _problem(name, value)
        if problem:
            raise ValueError(f"video column {name!r}: {problem}")
        if isinstance(value, str):
            _encodable(name, value)
        elif name in LIST_COLUMNS:
            for tag in value:
                _encodable(name, tag)


def _encodable(name: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"video column {name!r}: the text is not valid Unicode") from None
