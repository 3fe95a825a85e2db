"""API v2 query parameters, video list filters and the list envelope with its links.

Query parameters are checked strictly: an unknown or repeated parameter is a 400
``INVALID_PARAMETER`` naming it (the access token goes in the ``Authorization`` header, never
in the URL). Booleans are ``true``/``false``; times are ISO 8601 with ``Z`` or an offset.

Lists answer ``{"data": [...], "pagination": {"page", "page_size", "total", "next",
"previous"}}``. ``page_size`` is 1–100 (default 20); at most ``list_ceiling`` (1,000) items
are reachable per query: the page that reaches the ceiling is cut there and its ``next`` is
null, and a page starting at or past it is refused. ``next``/``previous`` are absolute URLs
(the API's own scheme and host) keeping every query parameter but ``page``. ``total`` is the
exact count (or capped at the ceiling, or null: ``v2_total``). Filters: ``visibility``,
``is_explicit``, ``is_for_kids``, ``enable_advertising`` (every sandbox video has advertising
enabled), ``created_after``/``created_before`` (both inclusive), ``tags`` (comma-separated,
every one required); ``sort`` is a comma list of ``created_at`` and ``title``, ``-`` for
descending (default ``-created_at``; ties by video id).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request

from dmtools.sandbox.api.v2.errors import invalid
from dmtools.sandbox.api.v2.views import parse_time
from dmtools.sandbox.state.queries import Paging, VideoFilter
from dmtools.sandbox.state.settings import Settings

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 2**31
LIST_PARAMS = frozenset(
    {
        "page",
        "page_size",
        "fields",
        "sort",
        "visibility",
        "enable_advertising",
        "is_explicit",
        "is_for_kids",
        "created_after",
        "created_before",
        "tags",
    }
)
_SORTABLE = {"created_at": "created_time", "title": "title"}
_BOOLEANS = {"is_explicit": "explicit", "is_for_kids": "is_created_for_kids"}


def query(request: Request, allowed: Collection[str]) -> dict[str, str]:
    """The query parameters, each known to the route and given once.

    Raises:
        ApiError: 400 ``INVALID_PARAMETER`` naming the first bad parameter.
    """
    for name in request.args:
        if name == "access_token":
            raise invalid(
                name,
                "unknown_parameter",
                "Access tokens go in the Authorization header (Bearer), not in the URL.",
            )
        if name not in allowed:
            raise invalid(name, "unknown_parameter", f"Unknown parameter '{name}'.")
        if len(request.args.getlist(name)) > 1:
            raise invalid(name, "repeated", f"Parameter '{name}' is given more than once.")
    return {name: request.args[name] for name in request.args}


def _int(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise invalid(name, "invalid_type", f"'{name}' must be an integer.") from None
    if not low <= value <= high:
        raise invalid(name, "out_of_range", f"'{name}' must be between {low} and {high}.")
    return value


def paging(params: dict[str, str], ceiling: int) -> Paging:
    """The page asked for (refused when it starts at or past the result ceiling)."""
    page = _int("page", params.get("page", "1"), 1, MAX_PAGE)
    size = _int("page_size", params.get("page_size", str(DEFAULT_PAGE_SIZE)), 1, MAX_PAGE_SIZE)
    if (page - 1) * size >= ceiling:
        raise invalid(
            "page",
            "beyond_result_limit",
            f"At most {ceiling} results are reachable per query (this page starts at "
            f"{(page - 1) * size}): narrow the query with created_after/created_before.",
        )
    return Paging(page, size)


def _bool(name: str, text: str) -> bool:
    if text not in ("true", "false"):
        raise invalid(name, "invalid_type", f"'{name}' must be true or false.")
    return text == "true"


def _time(name: str, text: str) -> float:
    seconds = parse_time(text)
    if seconds is None:
        raise invalid(
            name,
            "invalid_date",
            f"'{name}' must be an ISO 8601 date-time with Z or an offset "
            "(e.g. 2026-05-01T00:00:00Z).",
        )
    return seconds


def sort_order(text: str) -> tuple[tuple[str, bool], ...]:
    """``(column, descending)`` pairs of a ``sort`` value."""
    order: list[tuple[str, bool]] = []
    for part in (p.strip() for p in text.split(",")):
        name = part.removeprefix("-")
        if name not in _SORTABLE or any(c == _SORTABLE[name] for c, _ in order):
            raise invalid(
                "sort",
                "invalid_choice",
                f"Invalid 'sort' {text!r}: a comma list of created_at and title, each once, "
                "'-' for descending.",
            )
        order.append((_SORTABLE[name], part.startswith("-")))
    return tuple(order)


def video_filter(params: dict[str, str], owner: str | None) -> VideoFilter:
    """The :class:`VideoFilter` of a list's parameters."""
    out: dict[str, Any] = {"order_by": sort_order(params.get("sort", "-created_at"))}
    equals = [
        (column, _bool(name, params[name])) for name, column in _BOOLEANS.items() if name in params
    ]
    if "enable_advertising" in params and not _bool(
        "enable_advertising", params["enable_advertising"]
    ):
        out["ids"] = ()  # every sandbox video has advertising enabled
    if "visibility" in params:
        if params["visibility"] not in ("public", "private", "password"):
            raise invalid(
                "visibility", "invalid_choice", "'visibility' is public, private or password."
            )
        out["privacy"] = params["visibility"]
    if "created_after" in params:
        out["created_after"] = math.ceil(_time("created_after", params["created_after"]))
    if "created_before" in params:  # inclusive: before the next whole second
        out["created_before"] = math.floor(_time("created_before", params["created_before"])) + 1
    if "tags" in params:
        out["tags"] = tuple(t.strip() for t in params["tags"].split(",") if t.strip())
    return VideoFilter(owner=owner, equals=tuple(equals), **out)


def _link(request: Request, page: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return f"{request.base_url}?{urlencode([*args, ('page', str(page))])}"


def envelope(
    request: Request,
    pages: Paging,
    total: int,
    items: list[dict[str, Any]],
    settings: Settings,
) -> dict[str, Any]:
    """The list answer, with the absolute ``next``/``previous`` links."""
    ceiling = settings.list_ceiling
    end = pages.offset + len(items)
    more = end < min(total, ceiling)
    counts = {"exact": total, "capped": min(total, ceiling), "null": None}
    return {
        "data": items,
        "pagination": {
            "page": pages.page,
            "page_size": pages.limit,
            "total": counts[settings.v2_total],
            "next": _link(request, pages.page + 1) if more else None,
            "previous": _link(request, pages.page - 1) if pages.page > 1 else None,
        },
    }
