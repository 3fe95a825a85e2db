"""The video resource: read, list, edit and delete videos as plain dicts.

Every function takes a :class:`dmtools.Client` first. Field names and list filters are checked
against :mod:`dmtools.schema` (and what the client's API dialect supports) before anything is
sent, so a typo costs no request. Records use the canonical field names of the schema, on
every API dialect. This layer does not import pandas; :func:`load_videos` does.

Which list a query reads (legacy Platform API):

* ``owner="me"``: ``/me/videos`` (your own videos, private ones included);
* ``owner="<user id or username>"``: ``/user/<owner>/videos``;
* ``owner=None``: the global ``/videos`` list with the given filters;
* with a private API key (``client.is_partner``) ``owner="me"`` means every channel of the
  organisation, each read from ``/user/<channel id>/videos`` on the partner host.

One list query reaches at most the API's result ceiling (1,000 videos); use
:func:`load_videos` to get all of them as a DataFrame.

Example:
    >>> video = get_video(client, "x8f6bsv", fields=["id", "title"])   # doctest: +SKIP
    >>> recent = all_videos(client, channel="music", created_after=1700000000)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dmtools._query import (
    VideoQuery,
    build_query,
    organisation_channels,
    organisation_profiles,
    resolve,
)
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
    "organisation_profiles",
    "update_video",
]

log = logging.getLogger(__name__)

FilterValue = Any


def _problem(name: str, reason: str) -> Problem:
    return Problem(row=None, column=name, reason=reason)


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
    dialect = client.dialect
    names = resolve(dialect, fields)
    return dialect.record(client.send(dialect.video_call(video_id, names)))


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


def _iterate(
    client: Client, query: VideoQuery, *, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    for path in query.paths:
        count, total = 0, None
        for page in client.pages(path, query.params, limit=limit):
            total = page.total
            count += len(page.items)
            yield from page.items
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

    Asks for one video only (a page of one item per list, until one is found).

    Example:
        >>> newest = first_video(client, sort="recent")              # doctest: +SKIP
    """
    fields, owner = query.pop("fields", None), query.pop("owner", "me")
    checked = build_query(client, owner=owner, fields=fields, filters=query)
    for path in checked.paths:
        page = next(client.pages(path, checked.params, limit=1), None)
        if page is not None and page.items:
            return page.items[0]
    return None


def update_video(
    client: Client,
    video_id: str,
    *,
    return_fields: Iterable[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Edit fields of one video (legacy: ``POST /video/<id>``); returns the video after the
    edit (``return_fields``, or the default fields), read back where the API answers with
    no body.

    Values are Python values (``str``, ``bool``, ``list[str]``; None clears an optional
    field) checked first with the dialect's rules (:func:`dmtools.schema.check_value` and
    the key's limits on the legacy API).

    Raises:
        InputError: naming every bad field (no request sent).

    Example:
        >>> update_video(client, "x8f6bsv", title="New title", tags=["a", "b"])  # doctest: +SKIP
    """
    from dmtools.dialects import segment

    dialect = client.dialect
    segment(video_id, "video id")
    if not fields:
        raise InputError("nothing to update", [_problem("fields", "no field given")])
    problems = dialect.check_edit(fields, partner=client.is_partner)
    names = resolve(dialect, return_fields) if return_fields is not None else None
    if problems:
        raise InputError(f"cannot update video {video_id}", problems)
    answer = client.send(dialect.edit_call(video_id, fields, names))
    after = dialect.read_edit(answer, video_id, names)
    return after if after is not None else get_video(client, video_id, names)


def delete_video(client: Client, video_id: str) -> dict[str, Any]:
    """Delete one video (legacy: ``DELETE /video/<id>``); returns the API's answer (``{}``).

    Example:
        >>> delete_video(client, "x8f6bsv")                          # doctest: +SKIP
    """
    answer = client.send(client.dialect.delete_call(video_id))
    return answer if isinstance(answer, dict) else {}


def __getattr__(name: str) -> Any:
    """``dmtools.videos.load_videos`` still resolves (it lives in :mod:`dmtools.load`)."""
    if name == "load_videos":
        from dmtools.load import load_videos

        return load_videos
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
