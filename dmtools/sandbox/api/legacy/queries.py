"""Legacy list parameters parsed into the state's query model, and the list envelope.

Paging: ``limit`` 1..100 (default 10), ``page`` 1..100, and at most ``list_ceiling`` (1,000)
results reachable per query: ``page * limit`` beyond it is ``invalid_parameter``, and
``has_more`` is false once the next page would cross it. ``total`` counts every match.

Filters become a :class:`~dmtools.sandbox.state.VideoFilter` (the state compiles it to SQL);
every refusal here is the API's 400 ``invalid_parameter`` naming the parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from dmtools.sandbox.api.legacy.errors import invalid_parameter
from dmtools.sandbox.api.legacy.writes import GLOBAL_PARAMS, split_list
from dmtools.sandbox.state.queries import FLAGS as FLAG_NAMES
from dmtools.sandbox.state.queries import SORTS, Paging, VideoFilter
from dmtools.schema import CATEGORIES, FLAGS, MAX_LIMIT, MAX_PAGE, VIDEO_FILTERS, parse_bool

DEFAULT_LIMIT = 10
#: Seconds a time filter may name, either way (beyond: not a time).
MAX_SECONDS = 2**53

#: Boolean filters: name -> (property, inverted).
_BOOLEANS = {
    "private": ("private", False),
    "unpublished": ("published", True),
    "published": ("published", False),
    "is_created_for_kids": ("is_created_for_kids", False),
    "explicit": ("explicit", False),
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
    """The page asked for; beyond the reachable ``ceiling`` is ``invalid_parameter``."""
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


def envelope(
    pages: Paging, total: int, items: list[dict[str, Any]], ceiling: int, explicit: bool = False
) -> dict[str, Any]:
    """The legacy list answer: ``{page, limit, explicit, total, has_more, list}``."""
    has_more = pages.page * pages.limit < total and (pages.page + 1) * pages.limit <= ceiling
    return {
        "page": pages.page,
        "limit": pages.limit,
        "explicit": explicit,
        "total": total,
        "has_more": has_more,
        "list": items,
    }


def _bool(name: str, value: Any) -> bool:
    if value == "":
        return True  # a bare flag (``?private``) means true
    try:
        return parse_bool(value)
    except ValueError:
        raise invalid_parameter(
            name, f"Invalid value for `{name}': {value!r} is not a boolean."
        ) from None


def _number(name: str, value: Any, what: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > MAX_SECONDS:
        raise invalid_parameter(name, f"Invalid value for `{name}': {what} expected.")
    return number


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in split_list(value))


def _equals(name: str, value: Any, out: dict[str, Any]) -> None:
    prop, inverted = _BOOLEANS[name]
    out["equals"].append((prop, _bool(name, value) != inverted))


def _channel(name: str, value: Any, out: dict[str, Any]) -> None:
    if not isinstance(value, str) or value not in CATEGORIES:
        raise invalid_parameter(name, f"Invalid value for `channel': {value!r} is not a category.")
    out["equals"].append(("channel", value))


def _sort(name: str, value: Any, out: dict[str, Any]) -> None:
    if not isinstance(value, str) or value not in SORTS:
        raise invalid_parameter(
            name, f"Invalid value for `sort': {value!r} (one of {', '.join(SORTS)})."
        )
    if value == "relevance" and not out["_params"].get("search"):
        raise invalid_parameter(name, "sort=relevance needs a `search' parameter.")
    out["sort"] = str(value)


def _duration(name: str, value: Any, out: dict[str, Any]) -> None:
    out[name] = _number(name, value, "minutes") * 60


def _seconds(name: str, value: Any, out: dict[str, Any]) -> None:
    out[name] = int(_number(name, value, "unix seconds"))


def _list(name: str, value: Any, out: dict[str, Any]) -> None:
    out[name] = _texts(value)


def _search(name: str, value: Any, out: dict[str, Any]) -> None:
    out["words"] = tuple(str(value).split())


def _country(name: str, value: Any, out: dict[str, Any]) -> None:
    out["equals"].append(("country", str(value).upper()))


def _flags(name: str, value: Any, out: dict[str, Any]) -> None:
    out["flags"].extend(_texts(value))


_Parser = Callable[[str, Any, dict[str, Any]], None]
#: Filter name -> parser adding it to the VideoFilter's keyword arguments.
_PARSERS: dict[str, _Parser] = {
    **dict.fromkeys(_BOOLEANS, _equals),
    **dict.fromkeys(("ids", "exclude_ids", "owners", "languages", "tags"), _list),
    "channel": _channel,
    "search": _search,
    "created_after": _seconds,
    "created_before": _seconds,
    "country": _country,
    "longer_than": _duration,
    "shorter_than": _duration,
    "flags": _flags,
    "sort": _sort,
}
assert set(_PARSERS) == set(VIDEO_FILTERS), "every documented filter has a parser"


def parse_filter(params: dict[str, Any], owner: str | None = None) -> VideoFilter:
    """The :class:`VideoFilter` of list parameters; unknown parameters are refused.

    Raises:
        ApiError: 400 ``invalid_parameter`` naming the first bad parameter.
    """
    out: dict[str, Any] = {"equals": [], "flags": [], "_params": params}
    for name, value in params.items():
        if name in GLOBAL_PARAMS or name in ("page", "limit"):
            continue
        parser = _PARSERS.get(name)
        if parser is not None:
            parser(name, value, out)
        elif name in FLAGS and _bool(name, value):
            out["flags"].append(name)
        else:
            raise invalid_parameter(name, f"Unknown parameter `{name}'.")
    for flag in out["flags"]:
        if flag not in FLAG_NAMES:
            raise invalid_parameter("flags", f"Invalid value for `flags': unknown flag {flag!r}.")
    del out["_params"]
    out["equals"], out["flags"] = tuple(out["equals"]), tuple(out["flags"])
    return VideoFilter(owner=owner, **out)
