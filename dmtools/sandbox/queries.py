"""Video list queries: paging rules, filters and sorts, turned into SQL.

Paging: ``limit`` 1..100 (default 10), ``page`` 1..100, and at most ``list_ceiling`` (1,000)
results reachable per query: ``page * limit`` beyond it is ``invalid_parameter``, and
``has_more`` is false once the next page would cross it. ``total`` counts every match.

Time windows: ``created_after`` is inclusive and ``created_before`` exclusive
(``created_after <= created_time < created_before``, unix seconds), so consecutive windows
``[a, b)``, ``[b, c)`` neither overlap nor lose videos sharing a timestamp. Sorts break ties on
the video id, so pages are stable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dmtools.sandbox.apierrors import invalid_parameter
from dmtools.sandbox.calls import GLOBAL_PARAMS
from dmtools.sandbox.rules import split_list
from dmtools.schema import CATEGORIES, FLAGS, MAX_LIMIT, MAX_PAGE, VIDEO_FILTERS, parse_bool

DEFAULT_LIMIT = 10

SORTS: dict[str, str] = {
    "recent": "created_time DESC, id DESC",
    "old": "created_time ASC, id ASC",
    "visited": "views_total DESC, id ASC",
    "visited-hour": "views_last_day DESC, id ASC",
    "visited-today": "views_last_day DESC, id ASC",
    "visited-week": "views_last_week DESC, id ASC",
    "visited-month": "views_last_month DESC, id ASC",
    "least-visited": "views_total ASC, id ASC",
    "trending": "views_last_day DESC, views_last_week DESC, id ASC",
    "relevance": "views_total DESC, id ASC",
    "random": "(created_time * 2654435761) % 1000003, id ASC",
    "id-asc": "id ASC",
}

_FLAG_SQL = {
    "private": "private = 1",
    "unpublished": "published = 0",
    "is_created_for_kids": "is_created_for_kids = 1",
    "explicit": "explicit = 1",
    "password_protected": "password IS NOT NULL",
    "featured": "0",
    "hd": "1",
    "live": "mode = 'live'",
    "no_live": "mode <> 'live'",
    "verified": "owner IN (SELECT id FROM users WHERE verified = 1)",
    "partner": "owner IN (SELECT id FROM users WHERE partner = 1)",
}
_BOOL_COLUMNS = {
    "private": ("private", False),
    "unpublished": ("published", True),
    "published": ("published", False),
    "is_created_for_kids": ("is_created_for_kids", False),
    "explicit": ("explicit", False),
}


@dataclass
class Paging:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def envelope(
        self, total: int, items: list[dict[str, Any]], ceiling: int, explicit: bool = False
    ) -> dict[str, Any]:
        has_more = self.page * self.limit < total and (self.page + 1) * self.limit <= ceiling
        return {
            "page": self.page,
            "limit": self.limit,
            "explicit": explicit,
            "total": total,
            "has_more": has_more,
            "list": items,
        }


def _int(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise invalid_parameter(
            name, f"Invalid value for `{name}': {value!r} is not an integer."
        ) from None
    if not low <= number <= high:
        raise invalid_parameter(
            name, f"Invalid value for `{name}': must be between {low} and {high}."
        )
    return number


def paging(params: dict[str, Any], ceiling: int, default_limit: int = DEFAULT_LIMIT) -> Paging:
    page = _int("page", params.get("page", 1), 1, MAX_PAGE)
    limit = _int("limit", params.get("limit", default_limit), 1, MAX_LIMIT)
    if page * limit > ceiling:
        raise invalid_parameter(
            "page",
            f"Invalid value for `page': at most {ceiling} results are reachable per query "
            f"(page * limit = {page * limit}); narrow the query, e.g. with "
            "created_after/created_before.",
        )
    return Paging(page, limit)


@dataclass
class VideoQuery:
    where: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    order: str = SORTS["recent"]

    def add(self, clause: str, *args: Any) -> None:
        self.where.append(clause)
        self.args.extend(args)

    @property
    def sql(self) -> str:
        return " AND ".join(f"({w})" for w in self.where) or "1"


def _bool(name: str, value: Any) -> bool:
    if value == "":
        return True  # a bare flag (``?private``) means true
    try:
        return parse_bool(value)
    except ValueError:
        raise invalid_parameter(
            name, f"Invalid value for `{name}': {value!r} is not a boolean."
        ) from None


def _seconds(name: str, value: Any) -> int:
    try:
        return int(float(str(value).strip()))
    except ValueError:
        raise invalid_parameter(
            name, f"Invalid value for `{name}': unix seconds expected."
        ) from None


def _in(column: str, values: list[Any], negate: bool = False) -> str:
    marks = ",".join("?" * len(values)) or "NULL"
    return f"{column} {'NOT IN' if negate else 'IN'} ({marks})"


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def build_query(params: dict[str, Any], resolve_user: Callable[[str], str | None]) -> VideoQuery:
    """A :class:`VideoQuery` from list parameters; unknown parameters are refused."""
    query = VideoQuery()
    flags: list[str] = []
    for name, value in params.items():
        if name in GLOBAL_PARAMS or name in ("page", "limit"):
            continue
        if name not in VIDEO_FILTERS:
            if name in FLAGS and _bool(name, value):
                flags.append(name)
                continue
            raise invalid_parameter(name, f"Unknown parameter `{name}'.")
        if name in _BOOL_COLUMNS:
            column, inverted = _BOOL_COLUMNS[name]
            query.add(f"{column} = ?", int(_bool(name, value) != inverted))
        elif name in ("ids", "exclude_ids"):
            ids = split_list(value)
            query.add(_in("id", ids, name == "exclude_ids"), *ids)
        elif name == "owners":
            owners = [resolve_user(str(o)) or str(o) for o in split_list(value)]
            query.add(_in("owner", owners), *owners)
        elif name == "channel":
            if value not in CATEGORIES:
                raise invalid_parameter(
                    name, f"Invalid value for `channel': {value!r} is not a category."
                )
            query.add("channel = ?", value)
        elif name == "search":
            for word in str(value).split():
                query.add(
                    "title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' "
                    "OR tags LIKE ? ESCAPE '\\'",
                    *[_like(word)] * 3,
                )
        elif name == "tags":
            for tag in split_list(value):
                query.add(
                    "EXISTS (SELECT 1 FROM json_each(videos.tags) "
                    "WHERE lower(json_each.value) = lower(?))",
                    str(tag),
                )
        elif name == "created_after":
            query.add("created_time >= ?", _seconds(name, value))
        elif name == "created_before":
            query.add("created_time < ?", _seconds(name, value))
        elif name == "languages":
            langs = split_list(value)
            query.add(_in("language", langs), *langs)
        elif name == "country":
            query.add("country = ?", str(value).upper())
        elif name in ("longer_than", "shorter_than"):
            try:
                minutes = float(str(value))
            except ValueError:
                raise invalid_parameter(
                    name, f"Invalid value for `{name}': minutes expected."
                ) from None
            query.add("duration > ?" if name == "longer_than" else "duration < ?", minutes * 60)
        elif name == "flags":
            flags.extend(str(f) for f in split_list(value))
        elif name == "sort":
            if value not in SORTS:
                raise invalid_parameter(
                    name, f"Invalid value for `sort': {value!r} (one of {', '.join(SORTS)})."
                )
            if value == "relevance" and not params.get("search"):
                raise invalid_parameter(name, "sort=relevance needs a `search' parameter.")
            query.order = SORTS[str(value)]
    for flag in flags:
        if flag not in _FLAG_SQL:
            raise invalid_parameter("flags", f"Invalid value for `flags': unknown flag {flag!r}.")
        query.add(_FLAG_SQL[flag])
    return query
