"""The field tables of the video and user objects, shared by the client and the sandbox.

Each :class:`Field` says how a value travels on the wire (``kind``), which pandas dtype holds
it, whether it can be written, and its limits. The sandbox validates writes with the same
table the client uses to validate a plan, so both agree by construction.

Example:
    >>> from dmtools.schema import VIDEO_FIELDS
    >>> VIDEO_FIELDS["title"].editable
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dmtools._vocabulary import (
    CATEGORIES,
    CATEGORY_LABELS,
    LANGUAGES,
    SORTS,
    STATUSES,
    category_choices,
    category_value,
)
from dmtools.errors import InputError, Problem

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "DEFAULT_VIDEO_FIELDS",
    "EDITABLE_VIDEO_FIELDS",
    "LANGUAGES",
    "LIMITS_PARTNER",
    "LIMITS_PUBLIC",
    "LIST_CEILING",
    "Field",
    "FieldLimits",
    "MAX_LIMIT",
    "MAX_PAGE",
    "SECONDS_RANGE",
    "SORTS",
    "STATUSES",
    "USER_FIELDS",
    "VIDEO_FIELDS",
    "VIDEO_FILTERS",
    "BY_COLUMN",
    "category_choices",
    "category_value",
    "check_value",
    "column_field",
    "field_for",
    "parse_bool",
    "resolve_fields",
    "unknown_fields",
]

Kind = Literal[
    "string", "boolean", "integer", "float", "date", "array", "category", "object", "dict"
]

#: Paging rules: ``limit`` at most 100, ``page`` at most 100, and at most 1,000 results
#: reachable per query (``page * limit`` beyond it is refused).
MAX_LIMIT = 100
MAX_PAGE = 100
LIST_CEILING = 1000
#: Unix seconds a date may hold (what ``datetime64[ns]`` columns can hold).
SECONDS_RANGE = (-9_223_372_036, 9_223_372_036)


@dataclass(frozen=True)
class FieldLimits:
    """Length limits, which depend on the kind of API key (partner keys get more room)."""

    title: int
    description: int
    tags: int = 150
    tag_length: int = 50

    def max_length(self, name: str) -> int | None:
        return {"title": self.title, "description": self.description}.get(name)


LIMITS_PUBLIC = FieldLimits(title=100, description=3000)
LIMITS_PARTNER = FieldLimits(title=150, description=5000)


@dataclass(frozen=True)
class Field:
    """One field of an API object.

    Attributes:
        name: wire name (dotted for sub-fields, e.g. ``owner.screenname``).
        kind: wire type.
        dtype: pandas dtype of the column holding it.
        editable: can be written with ``POST /video/<id>``.
        required: cannot be cleared (a missing value is an error, not a "clear").
        choices: allowed values (enums).
        default: part of the loader's default field set.
        description: one line for humans.
    """

    name: str
    kind: Kind
    dtype: str
    editable: bool = False
    required: bool = False
    choices: frozenset[str] | None = None
    default: bool = False
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def column(self) -> str:
        """DataFrame column name (dots become underscores: ``owner.screenname`` → ``owner_screenname``)."""
        return self.name.replace(".", "_")


def _f(name: str, kind: Kind, dtype: str, **kw: Any) -> tuple[str, Field]:
    return name, Field(name, kind, dtype, **kw)


_TS = "datetime64[ns, UTC]"

#: The video fields dmtools knows, in the column order of a loaded frame.
VIDEO_FIELDS: dict[str, Field] = dict(
    [
        _f("id", "string", "string", default=True, description="video id (xid)"),
        _f("title", "string", "string", editable=True, required=True, default=True),
        _f("description", "string", "string", editable=True, default=True),
        _f("tags", "array", "object", editable=True, default=True, description="list of tags"),
        _f(
            "channel",
            "category",
            "category",
            editable=True,
            required=True,
            choices=frozenset(CATEGORIES),
            default=True,
            description="category id",
        ),
        _f("language", "string", "string", editable=True, choices=LANGUAGES, default=True),
        _f("country", "string", "string", editable=True),
        _f("published", "boolean", "boolean", editable=True, required=True, default=True),
        _f("private", "boolean", "boolean", editable=True, required=True, default=True),
        _f("is_created_for_kids", "boolean", "boolean", editable=True, required=True, default=True),
        _f("explicit", "boolean", "boolean", editable=True, required=True),
        _f("allow_embed", "boolean", "boolean", editable=True, required=True),
        _f("status", "category", "category", choices=frozenset(STATUSES), default=True),
        _f("owner", "object", "string", default=True, description="owner user id"),
        _f("owner.screenname", "string", "string", default=True),
        _f("owner.username", "string", "string"),
        _f("created_time", "date", _TS, default=True),
        _f("updated_time", "date", _TS, default=True),
        _f("duration", "integer", "Int64", default=True, description="seconds"),
        _f("views_total", "integer", "Int64", default=True),
        _f("views_last_day", "integer", "Int64"),
        _f("views_last_week", "integer", "Int64"),
        _f("views_last_month", "integer", "Int64"),
        _f("likes_total", "integer", "Int64", default=True),
        _f("comments_total", "integer", "Int64"),
        _f("bookmarks_total", "integer", "Int64"),
        _f("url", "string", "string"),
        _f("embed_url", "string", "string"),
        _f("thumbnail_url", "string", "string"),
        _f("private_id", "string", "string"),
        _f("password_protected", "boolean", "boolean"),
        _f("mode", "category", "category", choices=frozenset({"vod", "live"})),
    ]
)

DEFAULT_VIDEO_FIELDS: tuple[str, ...] = tuple(n for n, f in VIDEO_FIELDS.items() if f.default)
EDITABLE_VIDEO_FIELDS: tuple[str, ...] = tuple(n for n, f in VIDEO_FIELDS.items() if f.editable)

#: Video fields by frame column name (``owner_screenname`` -> the ``owner.screenname`` field).
BY_COLUMN: dict[str, Field] = {f.column: f for f in VIDEO_FIELDS.values()}


def column_field(name: str) -> Field | None:
    """The video :class:`Field` a field name (``owner.screenname``) or a frame column name
    (``owner_screenname``) stands for; None when it is not a video field. This is the one
    map between columns and fields.

    Example:
        >>> column_field("owner_screenname").name
        'owner.screenname'
    """
    return VIDEO_FIELDS.get(name) or BY_COLUMN.get(name)


def field_for(name: str) -> Field:
    """The video :class:`Field` for a field name or a column name (:func:`column_field`).

    Raises:
        InputError: the name is not a video field.
    """
    spec = column_field(name)
    if spec is None:
        raise InputError(f"unknown video field {name!r}", [Problem(None, name, "unknown field")])
    return spec


def resolve_fields(fields: str | Iterable[str] | None = None) -> list[str]:
    """The video field names a request or a frame uses, in schema order, ``id`` first.

    Args:
        fields: None for :data:`DEFAULT_VIDEO_FIELDS`, ``"all"`` for every known field, or
            names (field names or column names, a list or one comma-separated string).
            ``id`` is always included.

    Raises:
        InputError: naming every unknown field.

    Example:
        >>> resolve_fields(["title", "owner_screenname"])
        ['id', 'title', 'owner.screenname']
    """
    if fields is None:
        return list(DEFAULT_VIDEO_FIELDS)
    if isinstance(fields, str):
        if fields.strip() == "all":
            return list(VIDEO_FIELDS)
        fields = [part for part in fields.split(",") if part.strip()]
    names = [str(raw).strip() for raw in fields]
    unknown = [name for name in names if column_field(name) is None]
    if unknown:
        raise InputError(
            f"unknown video field(s): {', '.join(map(repr, unknown))}",
            [Problem(None, name, "unknown video field") for name in unknown],
        )
    wanted = {"id", *(field_for(name).name for name in names)}
    return [name for name in VIDEO_FIELDS if name in wanted]


#: The user fields dmtools knows.
USER_FIELDS: dict[str, Field] = dict(
    [
        _f("id", "string", "string", default=True),
        _f("username", "string", "string", default=True),
        _f("screenname", "string", "string", default=True),
        _f("fullname", "string", "string"),
        _f("email", "string", "string", extra={"scope": "email"}),
        _f("url", "string", "string"),
        _f("country", "string", "string"),
        _f("language", "string", "string"),
        _f("avatar_120_url", "string", "string"),
        _f("created_time", "date", _TS),
        _f("videos_total", "integer", "Int64"),
        _f("views_total", "integer", "Int64"),
        _f("followers_total", "integer", "Int64"),
        _f("verified", "boolean", "boolean"),
        _f("partner", "boolean", "boolean"),
        _f("limits", "dict", "object"),
    ]
)

#: Video list filters and their wire kinds.
VIDEO_FILTERS: dict[str, Kind] = {
    "ids": "array",
    "owners": "array",
    "channel": "category",
    "search": "string",
    "tags": "array",
    "sort": "string",
    "created_after": "date",
    "created_before": "date",
    "private": "boolean",
    "unpublished": "boolean",
    "published": "boolean",
    "is_created_for_kids": "boolean",
    "explicit": "boolean",
    "languages": "array",
    "country": "string",
    "longer_than": "float",
    "shorter_than": "float",
    "flags": "array",
    "exclude_ids": "array",
}

#: Values accepted in ``flags``.
FLAGS: frozenset[str] = frozenset(
    "private unpublished is_created_for_kids explicit password_protected featured hd live "
    "no_live verified partner".split()
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(value: Any) -> bool:
    """The API's boolean input rules: ``0/false/no`` and ``1/true/yes`` (any case).

    Raises:
        ValueError: for anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean (use true/false, 1/0 or yes/no)")


def unknown_fields(names: Iterable[str], table: Mapping[str, Field] = VIDEO_FIELDS) -> list[str]:
    """The names in ``names`` that the table does not know, in input order."""
    return [n for n in names if n not in table]


def check_value(name: str, value: Any, limits: FieldLimits = LIMITS_PUBLIC) -> str | None:
    """Why ``value`` cannot be written to video field ``name``, or None if it can.

    ``value`` is the Python value (``str``, ``bool``, ``list[str]`` or None). The same rules
    run in the client (before any request) and in the sandbox (as the API would answer).
    """
    spec = VIDEO_FIELDS.get(name)
    if spec is None:
        return f"unknown field {name!r}"
    if not spec.editable:
        return f"{name} is read-only"
    if value is None:
        return f"{name} is required and cannot be empty" if spec.required else None
    if spec.kind == "boolean":
        return None if isinstance(value, bool) else f"{value!r} is not a boolean"
    if spec.kind == "array":
        if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
            return "tags must be a list of strings"
        if len(value) > limits.tags:
            return f"{len(value)} tags, at most {limits.tags} allowed"
        for tag in value:
            if len(tag) > limits.tag_length:
                return f"tag {tag[:20]!r}... is {len(tag)} characters, at most {limits.tag_length}"
        return None
    if not isinstance(value, str):
        return f"{value!r} is not text"
    if spec.required and not value.strip():
        return f"{name} is required and cannot be empty"
    if spec.choices is not None and value not in spec.choices:
        if name == "channel":
            return f"{value!r} is not a category; use one of: {category_choices()}"
        if name == "language":
            return f"{value!r} is not an ISO 639-1 language code"
        return f"{value!r} is not one of {sorted(spec.choices)}"
    if name == "country" and not (len(value) == 2 and value.isalpha() and value.isupper()):
        return f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. FR)"
    maximum = limits.max_length(name)
    if maximum is not None and len(value) > maximum:
        return f"{len(value)} characters, at most {maximum} allowed"
    return None
