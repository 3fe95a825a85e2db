"""The video resource: read, list, edit and delete videos as plain dicts.

Every function takes a :class:`dmtools.Client` first. Field names and list filters are checked
against :mod:`dmtools.schema` before anything is sent, so a typo costs no request.

Which list a query reads:

* ``owner="me"``: ``/me/videos`` (your own videos, private ones included);
* ``owner="<user id or username>"``: ``/user/<owner>/videos``;
* ``owner=None``: the global ``/videos`` list with the given filters;
* with a private API key (``client.is_partner``) ``owner="me"`` means every channel of the
  organisation, each read from ``/user/<channel id>/videos`` on the partner host.

One list query reaches at most :data:`dmtools.schema.LIST_CEILING` (1,000) videos; use
:func:`dmtools.load_videos` (:mod:`dmtools.load`) to get all of them as a DataFrame.

Example:
    >>> video = get_video(client, "x8f6bsv", fields=["id", "title"])   # doctest: +SKIP
    >>> recent = all_videos(client, channel="music", created_after=1700000000)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from dmtools import schema
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    from dmtools.client import Client

__all__ = [
    "VideoQuery",
    "all_videos",
    "build_query",
    "delete_video",
    "first_video",
    "get_video",
    "iterate_videos",
    "organisation_channels",
    "update_video",
]

log = logging.getLogger(__name__)

FilterValue = Any
T = TypeVar("T")


@dataclass(frozen=True)
class VideoQuery:
    """A validated list query: the list paths to read and the wire parameters (no paging).

    ``paths`` has one entry per list (several for an organisation's channels); ``fields`` is
    the resolved field list; ``params`` holds ``fields`` and the filters, encoded for the wire.
    """

    paths: tuple[str, ...]
    fields: tuple[str, ...]
    params: dict[str, str]


def _problem(name: str, reason: str) -> Problem:
    return Problem(row=None, column=name, reason=reason)


def _fields(fields: Iterable[str] | str | None) -> tuple[str, ...]:
    """Checked field names (see :func:`dmtools.frames.resolve_fields`; ``id`` always in)."""
    from dmtools.frames import resolve_fields

    return tuple(resolve_fields(fields))


def _encode_filter(name: str, kind: str, value: Any) -> str:
    """The wire text of one filter value; raises ValueError/TypeError with the reason."""
    if kind == "array":
        items = [value] if isinstance(value, str) else list(value)
        if not items or not all(isinstance(i, str) and i.strip() for i in items):
            raise ValueError("expected a non-empty list of non-empty strings")
        return ",".join(i.strip() for i in items)
    if kind == "date":
        from dmtools.cells import canonical

        try:
            return str(canonical("created_time", value))
        except InputError as exc:
            raise ValueError(exc.problems[0].reason if exc.problems else str(exc)) from None
    if kind == "boolean":
        return "true" if schema.parse_bool(value) else "false"
    if kind == "float":
        number = (
            float(value)
            if isinstance(value, numbers.Real) and not isinstance(value, bool)
            else -1.0
        )
        if not number >= 0:
            raise ValueError("expected a number >= 0")
        return format(number, "g")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected non-empty text")
    if kind == "category":
        value = schema.category_value(value)
        if value not in schema.CATEGORIES:
            raise ValueError(f"not a category; use one of: {schema.category_choices()}")
    if name == "sort" and value not in schema.SORTS:
        raise ValueError(f"not a sort order (one of: {', '.join(schema.SORTS)})")
    return value


def _encode_filters(filters: Mapping[str, Any]) -> dict[str, str]:
    """Check list filters against :data:`dmtools.schema.VIDEO_FILTERS` and encode them.

    ``None`` values are dropped. Dates accept datetimes, ISO 8601 text or unix seconds.

    Raises:
        InputError: naming every unknown filter and every bad value.
    """
    problems: list[Problem] = []
    params: dict[str, str] = {}
    for name, value in filters.items():
        if value is None:
            continue
        kind = schema.VIDEO_FILTERS.get(name)
        if kind is None:
            problems.append(_problem(name, "unknown filter"))
            continue
        try:
            params[name] = _encode_filter(name, kind, value)
        except (TypeError, ValueError) as exc:
            problems.append(_problem(name, f"{value!r}: {exc}"))
    after, before = params.get("created_after"), params.get("created_before")
    if after is not None and before is not None and int(after) > int(before):
        problems.append(_problem("created_after", "is later than created_before"))
    if problems:
        known = ", ".join(schema.VIDEO_FILTERS)
        raise InputError(f"bad video filters (known filters: {known})", problems)
    return params


def _segment(value: str, what: str) -> str:
    """One URL path segment from a user id / video id, refusing anything path-like."""
    if not isinstance(value, str) or not value.strip() or any(c in value for c in "/?#\\"):
        raise InputError(f"bad {what}", [_problem(what, f"{value!r} is not a valid {what}")])
    return quote(value.strip(), safe="")


def organisation_channels(client: Client) -> list[str]:
    """The user ids of the channels a private API key reaches (its organisation's channels).

    Read from the ``channels`` of ``GET /auth``; falls back to the account itself when the
    API lists none.

    Example:
        >>> organisation_channels(partner_client)                      # doctest: +SKIP
        ['x1news', 'x2sport']
    """
    info = client.get("/auth")
    channels = info.get("channels") if isinstance(info, dict) else None
    if isinstance(channels, str):
        channels = [c for c in channels.split(",") if c]
    if channels:
        return list(dict.fromkeys(str(c) for c in channels))
    return [client.account_id]


def build_query(
    client: Client,
    *,
    owner: str | None,
    fields: Iterable[str] | str | None,
    filters: Mapping[str, Any],
    problems: Iterable[Problem] = (),
) -> VideoQuery:
    """Validate a list query and say which paths to read.

    Every problem (unknown fields or filters, bad values, a malformed owner, plus the
    caller's ``problems``) is reported in one :class:`~dmtools.errors.InputError`, before any
    request. Then, for a private key and ``owner="me"``, one ``GET /auth`` lists the channels.
    """
    found = list(problems)

    def checked(step: Callable[[], T], default: T) -> T:
        try:
            return step()
        except InputError as exc:
            found.extend(exc.problems)
            return default

    no_names: tuple[str, ...] = ()
    names = checked(lambda: _fields(fields), no_names)
    params = checked(lambda: _encode_filters(filters), dict[str, str]())
    owner_path = (
        ""
        if owner in (None, "me")
        else checked(lambda: f"/user/{_segment(str(owner), 'owner')}/videos", "")
    )
    if found:
        hint = ""
        if any(p.reason == "unknown filter" for p in found):
            hint = f" (known filters: {', '.join(schema.VIDEO_FILTERS)})"
        raise InputError(f"bad video query{hint}", found)
    if owner is None:
        paths: tuple[str, ...] = ("/videos",)
    elif owner == "me":
        paths = (
            tuple(f"/user/{_segment(c, 'owner')}/videos" for c in organisation_channels(client))
            if client.is_partner
            else ("/me/videos",)
        )
    else:
        paths = (owner_path,)
    params["fields"] = ",".join(names)
    return VideoQuery(paths=paths, fields=names, params=params)


def get_video(
    client: Client, video_id: str, fields: Iterable[str] | str | None = None
) -> dict[str, Any]:
    """One video as a dict of the requested fields (dotted sub-fields as flat keys).

    Raises:
        InputError: unknown field or malformed id (no request sent).
        NotFound: no such video.

    Example:
        >>> get_video(client, "x8f6bsv", ["title", "views_total"])   # doctest: +SKIP
        {'id': 'x8f6bsv', 'title': 'Sunset', 'views_total': 1234}
    """
    names = _fields(fields)
    path = f"/video/{_segment(video_id, 'video id')}"
    return client.get(path, {"fields": ",".join(names)})


def iterate_videos(
    client: Client,
    *,
    fields: Iterable[str] | str | None = None,
    owner: str | None = "me",
    channel: str | None = None,
    search: str | None = None,
    tags: Sequence[str] | str | None = None,
    created_after: datetime | float | str | None = None,
    created_before: datetime | float | str | None = None,
    private: bool | None = None,
    published: bool | None = None,
    ids: Sequence[str] | str | None = None,
    sort: str | None = None,
    **filters: FilterValue,
) -> Iterator[dict[str, Any]]:
    """Videos of one list query, page after page, as dicts (at most 1,000 per list).

    Args:
        fields: field names (default :data:`dmtools.schema.DEFAULT_VIDEO_FIELDS`).
        owner: ``"me"``, a user id or username, or None for the global list.
        channel: category id (``"music"``...).
        created_after, created_before: datetimes, ISO 8601 text or unix seconds.
        **filters: any other name of :data:`dmtools.schema.VIDEO_FILTERS`.

    Raises:
        InputError: unknown fields or filters, or bad filter values (before any request).

    Example:
        >>> for video in iterate_videos(client, channel="music"):     # doctest: +SKIP
        ...     print(video["title"])
    """
    query = build_query(
        client,
        owner=owner,
        fields=fields,
        filters={
            "channel": channel,
            "search": search,
            "tags": tags,
            "created_after": created_after,
            "created_before": created_before,
            "private": private,
            "published": published,
            "ids": ids,
            "sort": sort,
            **filters,
        },
    )
    return _iterate(client, query)


def _iterate(client: Client, query: VideoQuery) -> Iterator[dict[str, Any]]:
    for path in query.paths:
        count, total = 0, None
        for envelope in client.transport.pages(path, dict(query.params)):
            total = envelope.get("total")
            count += len(envelope["list"])
            yield from envelope["list"]
        if isinstance(total, int) and total > count:
            log.warning(
                "%s: %d of %d matching videos returned, the most one list query "
                "reaches; load_videos() reads them all",
                path,
                count,
                total,
            )


def all_videos(client: Client, **query: Any) -> list[dict[str, Any]]:
    """Every video of :func:`iterate_videos` (same arguments) as a list.

    Example:
        >>> titles = [v["title"] for v in all_videos(client, channel="news")]   # doctest: +SKIP
    """
    return list(iterate_videos(client, **query))


def first_video(client: Client, **query: Any) -> dict[str, Any] | None:
    """The first video of :func:`iterate_videos` (same arguments), or None.

    Example:
        >>> newest = first_video(client, sort="recent")              # doctest: +SKIP
    """
    return next(iter(iterate_videos(client, **query)), None)


def update_video(
    client: Client,
    video_id: str,
    *,
    return_fields: Iterable[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Edit fields of one video (``POST /video/<id>``); returns the video as the API answers.

    Values are Python values (``str``, ``bool``, ``list[str]``; None clears an optional
    field) checked with :func:`dmtools.schema.check_value` and the key's limits first.

    Raises:
        InputError: naming every bad field (no request sent).

    Example:
        >>> update_video(client, "x8f6bsv", title="New title", tags=["a", "b"])  # doctest: +SKIP
    """
    path = f"/video/{_segment(video_id, 'video id')}"
    if not fields:
        raise InputError("nothing to update", [_problem("fields", "no field given")])
    problems = [
        _problem(name, reason)
        for name, value in fields.items()
        if (reason := schema.check_value(name, value, client.limits)) is not None
    ]
    names = _fields(return_fields) if return_fields is not None else None
    if problems:
        raise InputError(f"cannot update video {video_id}", problems)
    params = {"fields": ",".join(names)} if names else None
    return client.post(path, dict(fields), params=params, op="edit")


def delete_video(client: Client, video_id: str) -> dict[str, Any]:
    """Delete one video (``DELETE /video/<id>``).

    Example:
        >>> delete_video(client, "x8f6bsv")                          # doctest: +SKIP
    """
    return client.delete(f"/video/{_segment(video_id, 'video id')}")
