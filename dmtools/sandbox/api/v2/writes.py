"""API v2 write bodies (``PATCH`` and create): strict types, limits, and the stored columns.

Strict, as the reference says ("no coercion"): booleans are JSON ``true``/``false`` only,
``tags``/``hashtags``/``ai_subtitles`` are JSON arrays of strings (a comma string is refused),
objects are JSON objects. On ``PATCH`` an unknown key, a read-only key or an empty body is a
400; on create, unknown and read-only top-level keys are ignored (working clients send some)
and ``title``, ``visibility``, ``category``, ``is_for_kids`` and ``source.file_url`` are
required. ``null`` clears the optional fields (``description``, ``language``, ``tags``...).

Rules across fields: ``password`` (1–32 characters) is required when the visibility becomes
``password`` and refused with any other visibility; ``enable_comments: true`` on a video for
kids is a 403; ``can_be_stitched: true`` needs a public video. ``is_explicit`` cannot be
unset: that rule is the state's (:func:`~dmtools.sandbox.state.rules.check_explicit`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dmtools.sandbox.api.errors import ApiError
from dmtools.sandbox.api.v2.errors import invalid, missing
from dmtools.sandbox.api.v2.views import VIDEO, parse_time, visibility
from dmtools.sandbox.state.settings import Settings

#: The categories of the reference (``kids`` from the v2 SDK); outside them is accepted
#: unless ``v2_strict_categories`` is set.
CATEGORIES = frozenset(
    "animals auto creation fun kids lifestyle music news people school sport tech travel tv "
    "videogames webcam".split()
)
VISIBILITIES = ("public", "private", "password")
REQUIRED = ("title", "visibility", "category", "is_for_kids", "source")
ENGAGEMENT_MAX = 500
PASSWORD_MAX = 32
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_TWO_LETTERS = re.compile(r"^[a-zA-Z]{2}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
#: Date-times a write may name: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
_TIMES = (0, 253_402_300_799)
#: Boolean fields -> stored column.
_BOOLEANS = {
    "is_for_kids": "is_created_for_kids",
    "is_explicit": "explicit",
    "enable_comments": "enable_comments",
    "can_be_stitched": "can_be_stitched",
    "is_exclusive_content": "is_exclusive_content",
    "has_paid_partnership": "has_paid_partnership",
    "is_ai_altered": "is_ai_altered",
    "enable_ai_chapter_generation": "enable_ai_chapter_generation",
}


@dataclass(frozen=True)
class Check:
    """What a field validator knows: the settings, and the status of a refusal."""

    settings: Settings

    @property
    def status(self) -> int:
        return int(self.settings.v2_validation_status)

    def fail(self, param: str, reason: str, message: str) -> ApiError:
        return invalid(param, reason, f"Invalid value for '{param}': {message}.", self.status)


def _text(c: Check, name: str, value: Any, maximum: int, *, nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise c.fail(name, "invalid_type", "a string is expected")
    if not value.strip():
        raise c.fail(name, "pattern", "it must contain a non-space character")
    if len(value) > maximum:
        raise c.fail(name, "too_long", f"{len(value)} characters, at most {maximum}")
    return value


def _strings(c: Check, name: str, value: Any, check: Callable[[str], str | None]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise c.fail(name, "invalid_type", "a JSON array of strings is expected")
    if len(value) > c.settings.tags_max:
        raise c.fail(name, "too_many", f"{len(value)} items, at most {c.settings.tags_max}")
    for item in value:
        problem = "a string is expected" if not isinstance(item, str) else check(item)
        if problem:
            raise c.fail(name, "invalid_item", f"{str(item)[:30]!r}: {problem}")
    return list(value)


def _tag(c: Check) -> Callable[[str], str | None]:
    limit = c.settings.tag_length
    return lambda t: None if 0 < len(t.strip()) and len(t) <= limit else f"1 to {limit} characters"


def _code(c: Check, name: str, value: Any, pattern: re.Pattern[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise c.fail(name, "pattern", "two letters are expected")
    return value


def time_value(c: Check, name: str, value: Any) -> int:
    """Unix seconds of an ISO 8601 date-time with ``Z`` or an offset (1970 to 9999)."""
    seconds = parse_time(value)
    if seconds is None:
        raise c.fail(name, "invalid_date", "an ISO 8601 date-time with Z or an offset is expected")
    if not _TIMES[0] <= seconds <= _TIMES[1]:
        raise c.fail(name, "out_of_range", "a date-time from 1970 to 9999 (UTC) is expected")
    return int(seconds)


def _object(c: Check, name: str, value: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise c.fail(name, "invalid_type", "a JSON object is expected")
    for key in value:
        if key not in keys:
            read_only = key in VIDEO.embedded.get(name, ())
            reason, what = ("read_only", "is read-only") if read_only else ("unknown", "unknown")
            raise c.fail(f"{name}.{key}", reason, f"{what} (writable: {', '.join(keys)})")
    return value


def _geo(c: Check, name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {"geo_mode": None, "geo_countries": []}
    obj = _object(c, name, value, ("mode", "countries"))
    if obj.get("mode") not in ("allow", "deny"):
        raise c.fail(f"{name}.mode", "invalid_choice", "'allow' or 'deny' is expected")
    if "countries" not in obj:
        raise missing(f"{name}.countries", c.status)
    if not isinstance(obj["countries"], list):
        raise c.fail(f"{name}.countries", "invalid_type", "a JSON array ([] for none)")
    countries = _strings(
        c, f"{name}.countries", obj["countries"], lambda s: None if _COUNTRY.match(s) else "A-Z"
    )
    return {"geo_mode": obj["mode"], "geo_countries": countries}


def _url(c: Check, name: str, value: Any) -> str:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        valid = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
        valid = valid and parts is not None and (parts.port is None or parts.port > 0)
    except ValueError:
        valid = False
    if not valid:
        raise c.fail(name, "invalid_url", "an http(s) URL is expected")
    return str(value)


def _category(c: Check, name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise c.fail(name, "invalid_choice", "a category name is expected (e.g. 'news')")
    if c.settings.v2_strict_categories and value not in CATEGORIES:
        raise c.fail(name, "invalid_choice", f"one of {', '.join(sorted(CATEGORIES))}")
    return {"channel": value}


def _description(c: Check, name: str, value: Any) -> dict[str, Any]:
    text = value.strip() if isinstance(value, str) else value
    return {"description": _text(c, name, text, c.settings.v2_description_max, nullable=True)}


_Field = Callable[[Check, str, Any], dict[str, Any]]


def _bool(c: Check, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise c.fail(name, "invalid_type", "a JSON boolean (true or false) is expected")
    return value


def _flag(column: str) -> _Field:
    return lambda c, name, value: {column: _bool(c, name, value)}


def _embedding(c: Check, name: str, value: Any) -> dict[str, Any]:
    obj = _object(c, name, value, ("enable_embed",))
    if "enable_embed" not in obj:
        return {}
    return {"allow_embed": _bool(c, f"{name}.enable_embed", obj["enable_embed"])}


def _source(c: Check, name: str, value: Any) -> dict[str, Any]:
    obj = _object(c, name, value, ("file_url",))
    if "file_url" not in obj:
        raise missing(f"{name}.file_url", c.status)
    return {"source_url": _url(c, f"{name}.file_url", obj["file_url"])}


def _subtitles(c: Check, name: str, value: Any) -> dict[str, Any]:
    codes = _strings(c, name, value, lambda s: None if _TWO_LETTERS.match(s) else "two letters")
    return {"ai_subtitles": [code.lower() for code in codes]}


def _codes(column: str, case: Callable[[str], str]) -> _Field:
    def parse(c: Check, name: str, value: Any) -> dict[str, Any]:
        code = _code(c, name, value, _TWO_LETTERS)
        return {column: None if code is None else case(code)}

    return parse


#: Writable fields (``visibility`` and ``password`` are checked together, below).
FIELDS: dict[str, _Field] = {
    "title": lambda c, n, v: {"title": _text(c, n, v, c.settings.v2_title_max, nullable=False)},
    "description": _description,
    "category": _category,
    "tags": lambda c, n, v: {"tags": _strings(c, n, v, _tag(c))},
    "hashtags": lambda c, n, v: {"hashtags": _strings(c, n, v, _tag(c))},
    "ai_subtitles": _subtitles,
    "language": _codes("language", str.lower),
    "country": _codes("country", str.upper),
    "engagement_message": lambda c, n, v: {
        "engagement_message": _text(c, n, v, ENGAGEMENT_MAX, nullable=True)
    },
    "published_at": lambda c, n, v: {"published_at": None if v is None else time_value(c, n, v)},
    "geo_restriction": _geo,
    "embedding": _embedding,
    "source": _source,
    **{name: _flag(column) for name, column in _BOOLEANS.items()},
}
WRITABLE = frozenset({*FIELDS, "visibility", "password"})


def _visibility(c: Check, body: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict:
    """The ``private``/``password`` columns of ``visibility`` and ``password``."""
    new = body.get("visibility") if "visibility" in body else None
    if "visibility" in body and new not in VISIBILITIES:
        raise c.fail("visibility", "invalid_choice", f"one of {', '.join(VISIBILITIES)}")
    if new is None and current is not None:
        new = visibility(current)
    password = body.get("password")
    if "password" in body:
        if new != "password":
            raise c.fail("password", "not_allowed", "only allowed with visibility 'password'")
        if not isinstance(password, str) or not 1 <= len(password) <= PASSWORD_MAX:
            raise c.fail("password", "invalid_length", f"1 to {PASSWORD_MAX} characters")
    elif "visibility" not in body:
        return {}
    if new == "password":
        if password is None:
            password = None if current is None else current.get("password")
        if password is None:
            raise missing("password", c.status)
        return {"private": False, "password": password}
    return {"private": new == "private", "password": None}


def _cross_checks(c: Check, changes: dict[str, Any], current: Mapping[str, Any] | None) -> None:
    after = {**(current or {"private": False, "password": None}), **changes}
    if changes.get("enable_comments") is True and after.get("is_created_for_kids"):
        raise ApiError(
            403,
            "FORBIDDEN",
            "Comments cannot be enabled on a video made for kids.",
            {"param": "enable_comments", "reason": "kids_video"},
        )
    if changes.get("can_be_stitched") is True and visibility(after) != "public":
        raise c.fail("can_be_stitched", "public_only", "only public videos can be stitched")


def parse_body(
    body: Any, settings: Settings, current: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(stored column changes, the fields as the client wrote them)`` of a write body.

    ``current`` is the video a ``PATCH`` changes; None for a create.

    Raises:
        ApiError: 400 (or 422) ``INVALID_PARAMETER`` / ``MISSING_REQUIRED_PARAMETER`` naming
            the field; 403 for comments on a video for kids.
    """
    c = Check(settings)
    if not isinstance(body, dict):
        raise invalid("body", "invalid_type", "The body must be a JSON object.", c.status)
    if current is None:
        for name in REQUIRED:
            if name not in body:
                raise missing(name, c.status)
    elif not body:
        raise invalid("body", "empty", "Empty PATCH body: send the fields to change.", c.status)
    changes: dict[str, Any] = {}
    written: dict[str, Any] = {}
    for name, value in body.items():
        parse = FIELDS.get(name)
        if parse is not None:
            changes.update(parse(c, name, value))
        elif name not in WRITABLE:
            if current is None:
                continue  # create: unknown and read-only top-level keys are ignored
            read_only = name in VIDEO.scalars or name in VIDEO.embedded
            raise c.fail(
                name,
                "read_only" if read_only else "unknown_field",
                "the field is read-only" if read_only else "unknown field",
            )
        written[name] = value
    changes.update(_visibility(c, body, current))
    _cross_checks(c, changes, current)
    return changes, written
