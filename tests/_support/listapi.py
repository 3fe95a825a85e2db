"""An in-memory video list API for the loader's window tests, on either API dialect.

Its logic is in legacy terms; with ``dialect="v2"`` a small wire layer reads each request
from the v2 wire (``page_size``, ISO 8601 bounds, ``sort=created_at``, ``visibility`` and the
other v2 partitions) and writes each answer back in it (``data`` and ``pagination`` with an
absolute ``next``).
"""

from __future__ import annotations

import random
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from dmtools import schema
from dmtools.dialects import Call, Dialect, Page, get_dialect
from dmtools.dialects._v2fields import iso, unix
from dmtools.errors import ValidationError

#: Both API generations: a promise of the loader is tested on each.
DIALECTS = ("legacy", "v2")
V2_BASE = "https://api.dailymotion.com/v2"
#: v2 request parameters in the double's own (legacy) terms
_V2_SORTS = {"created_at": "old", "-created_at": "recent"}
_V2_VISIBILITY = {
    "public": {"private": "false", "password_protected": "false"},
    "private": {"private": "true"},
    "password": {"password_protected": "true"},
}
_V2_FLAGS = {"is_for_kids": "is_created_for_kids", "is_explicit": "explicit"}
_FILTERS = ("channel", "private", "password_protected", "is_created_for_kids", "explicit")


def flag(video: dict[str, Any], name: str) -> Any:
    """A video's filter value; the flags the tests leave out follow from its id."""
    if name in video:
        return video[name]
    if name == "password_protected":
        return False
    return bool(zlib.crc32(video["id"].encode()) >> _FILTERS.index(name) & 1)


class ListAPI:
    """Just enough of a video list endpoint: time filters, sorts, paging, ceiling, filters.

    Its logic is in legacy terms (:meth:`answer`, :attr:`calls`, :attr:`asked`); with
    ``dialect="v2"`` each request is first read from the v2 wire and each answer written back
    in it (:attr:`requests` holds the requests as sent). v2 documents both time bounds
    inclusive, which is the default there.
    """

    def __init__(
        self,
        videos: dict[str, dict[str, Any]],
        *,
        dialect: str = "legacy",
        after_inclusive: bool = True,
        before_inclusive: bool | None = None,
        ceiling: int = schema.LIST_CEILING,
        total: Callable[[int], int | None] = lambda n: n,
        between: Callable[[ListAPI], None] = lambda api: None,
        past_ceiling: str = "error",
    ) -> None:
        self.videos = videos
        #: The loader words its requests and reads its pages through the client's dialect.
        self.dialect: Dialect = get_dialect(dialect)
        self.v2 = self.dialect.name == "v2"
        self.after_inclusive = after_inclusive
        self.before_inclusive = self.v2 if before_inclusive is None else before_inclusive
        self.ceiling, self.total, self.between = ceiling, total, between
        self.past_ceiling = past_ceiling  # a page past the ceiling: "error" (400) or "empty"
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.asked: dict[str, str] = {}
        self.requests: list[dict[str, str]] = []

    def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = urlsplit(path)  # v2's ``next`` is an absolute URL
        params = {**dict(parse_qsl(url.query)), **params}
        with self.lock:  # each answer is one snapshot, as a server's would be
            self.requests.append(dict(params))
            if not self.v2:
                return self.answer(params)
            asked = v2_request(params)
            return v2_answer(url.path.removeprefix("/v2"), params, self.answer(asked))

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        self.asked = params  # the request about to be answered (for ``between``)
        self.between(self)
        self.calls.append(dict(params))
        page, limit = int(params.get("page", 1)), int(params.get("limit", 10))
        assert 1 <= limit <= 100 and page <= 100, params
        if page * limit > self.ceiling and self.past_ceiling == "error":
            raise ValidationError("page out of range", status=400, type="invalid_parameter")
        if page * limit > self.ceiling:
            return {"page": page, "limit": limit, "total": None, "has_more": False, "list": []}
        rows = list(self.videos.values())
        if "created_after" in params:
            a = int(params["created_after"])
            rows = [v for v in rows if v["created_time"] >= a + (not self.after_inclusive)]
        if "created_before" in params:
            b = int(params["created_before"])
            rows = [v for v in rows if v["created_time"] <= b - (not self.before_inclusive)]
        for name in _FILTERS:
            if name in params:
                rows = [v for v in rows if str(flag(v, name)).lower() == params[name]]
        rows.sort(
            key=lambda v: (v["created_time"], v["id"]),
            reverse=params.get("sort", "recent") == "recent",
        )
        start = (page - 1) * limit
        more = page * limit < len(rows) and (page + 1) * limit <= self.ceiling
        return {
            "page": page,
            "limit": limit,
            "total": self.total(len(rows)),
            "has_more": more,
            "list": [dict(v) for v in rows[start : start + limit]],
        }

    def pages(self, path: str, params: dict[str, str], *, limit: int = 100) -> Iterator[Page]:
        """Like the client's paging generator: its dialect's pages, one by one."""
        call: Call | None = self.dialect.first_page(path, params, size=limit)
        while call is not None:
            page = self.dialect.read_page(self.get(call.path, dict(call.params)), call)
            yield page
            call = page.next


def v2_request(params: dict[str, str]) -> dict[str, str]:
    """A v2 list request in the double's legacy terms (unknown values fail loudly)."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if name == "page_size":
            out["limit"] = value
        elif name == "sort":
            out["sort"] = _V2_SORTS[value]
        elif name in ("created_after", "created_before"):
            seconds = unix(value)
            assert seconds is not None and iso(seconds) == value, params
            out[name] = str(seconds)
        elif name == "visibility":
            out.update(_V2_VISIBILITY[value])
        elif name in _V2_FLAGS:
            out[_V2_FLAGS[name]] = value
        else:
            assert name in ("page", "fields"), params
            out[name] = value
    return out


def v2_answer(path: str, params: dict[str, str], answer: dict[str, Any]) -> dict[str, Any]:
    """A legacy list answer on the v2 wire: ``data`` and ``pagination`` with absolute links."""
    page = int(answer["page"])

    def link(number: int) -> str:
        return f"{V2_BASE}{path}?{urlencode({**params, 'page': str(number)})}"

    data = [
        {
            "video_id": v["id"],
            "created_at": iso(v["created_time"]),
            "title": v["title"],
            "category": v["channel"],
            "visibility": "private" if v["private"] else "public",
        }
        for v in answer["list"]
    ]
    paging = {"page": page, "page_size": answer["limit"], "total": answer["total"]}
    paging |= {"next": link(page + 1) if answer["has_more"] else None}
    paging |= {"previous": link(page - 1) if page > 1 else None}
    return {"data": data, "pagination": paging}


def make_videos(
    times: list[int], rng: random.Random, channels: tuple[str, ...] = schema.CATEGORIES
) -> dict[str, dict[str, Any]]:
    out = {}
    for i, t in enumerate(times):
        vid = f"x{i:06d}{rng.randrange(36**3):03x}"
        out[vid] = {
            "id": vid,
            "created_time": t,
            "title": vid,
            "channel": rng.choice(channels),
            "private": rng.random() < 0.2,
        }
    return out


def new_video(vid: str, t: int) -> dict[str, Any]:
    """A public video created at ``t``, as a test adds it to the list between two requests."""
    return {"id": vid, "created_time": t, "title": vid, "channel": "news", "private": False}


class Churn:
    """A ``between`` hook: before an answer, with chance ``rate``, delete a video or add one
    created in ``[0, span)``; :attr:`deleted` and :attr:`ever` (every id that existed) say
    which videos a load must and may return."""

    def __init__(self, videos: dict[str, Any], rng: random.Random, rate: float, span: int) -> None:
        self.rng, self.rate, self.span = rng, rate, span
        self.deleted: set[str] = set()
        self.ever: set[str] = set(videos)
        self.added = 0

    def __call__(self, api: ListAPI) -> None:
        if self.rng.random() >= self.rate:
            return
        if api.videos and self.rng.random() < 0.5:
            victim = self.rng.choice(sorted(api.videos))
            self.deleted.add(victim)
            del api.videos[victim]
            return
        self.added += 1
        vid = f"n{self.added:06d}"
        self.ever.add(vid)
        api.videos[vid] = new_video(vid, self.rng.randrange(0, self.span))
