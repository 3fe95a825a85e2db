"""A channel into a DataFrame: :func:`load_videos`, every video of a list query, typed;
:func:`load_profiles`, the profiles (channels) a key reaches.

Example:
    >>> df = dm.load_videos(client, fields=["id", "title", "views_total"])  # doctest: +SKIP
    >>> dm.load_profiles(v2_client)                                  # doctest: +SKIP
      profile_id       name display_name
    0    xx80rl7  demo-news    Demo News
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dmtools.errors import Problem
from dmtools.loader import DEFAULT_WORKERS
from dmtools.videos import FilterValue, _problem, build_query, organisation_profiles
from dmtools.visibility import load_note, mark_partial

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.client import Client
    from dmtools.videos import VideoQuery

__all__ = ["PROFILE_COLUMNS", "load_profiles", "load_videos"]

#: The columns of :func:`load_profiles`.
PROFILE_COLUMNS = ("profile_id", "name", "display_name")


def load_videos(
    client: Client,
    *,
    owner: str | None = "me",
    profile: str | Sequence[str] | None = None,
    fields: Iterable[str] | str | None = None,
    progress: bool = True,
    workers: int = DEFAULT_WORKERS,
    tz: str | None = None,
    **filters: FilterValue,
) -> pd.DataFrame:
    """Every matching video as a DataFrame (index ``id``, dtypes from the schema).

    Reads past the 1,000-results ceiling in creation-time windows (:mod:`dmtools.loader`):
    each video once, even when videos are added or deleted meanwhile. A frame that cannot
    see private or unpublished videos says so (:mod:`dmtools.visibility`).

    Args:
        owner: ``"me"`` (every channel of the organisation for a private key), a user id or
            username, or None for the global list (the legacy API only).
        profile: instead of ``owner``: a profile (channel) id, a list, or ``"all"`` (every
            profile of :func:`load_profiles`): one frame, read through this one client (one
            pool, one rate limit); ``owner`` (v2's ``profile.profile_id``) says whose.
        fields: field names (default :data:`dmtools.schema.DEFAULT_VIDEO_FIELDS`).
        progress, workers: show a progress bar; requests at once (default 12).
        tz: the date columns' time zone (``"Europe/Paris"``; default UTC).
        **filters: names of :data:`dmtools.schema.VIDEO_FILTERS` (not ``sort``: sort the
            frame); ``created_after <= created_time < created_before``.

    Raises:
        InputError: unknown fields, filters or time zone, bad values (before any request).

    Warns:
        IncompleteLoadWarning: some videos cannot be reached (more in one second than one
            query returns, no filter splits them); names the second and the count.

    Example:
        >>> df = load_videos(client, fields=["id", "title", "created_time"])  # doctest: +SKIP
    """
    problems = []
    if "sort" in filters:
        problems.append(_problem("sort", "load_videos returns every video; sort the frame instead"))
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 64:
        problems.append(Problem(None, "workers", f"{workers!r}: expected 1 to 64"))
    zone = _zone(tz, problems)  # checked with the rest, before any request
    profiles, fields = _profiles(profile, owner, fields, problems)
    query = build_query(
        client,
        owner="me" if profile is not None else owner,
        fields=fields,
        problems=problems,
        filters={k: v for k, v in filters.items() if k != "sort"},
        profiles=profiles,
    )
    frame = _in_zone(_load_frame(client, query, progress, workers), zone)
    return mark_partial(frame, load_note(client, "me" if profile is not None else owner, frame))


def _load_frame(client: Client, query: VideoQuery, progress: bool, workers: int) -> pd.DataFrame:
    """Load ``query`` into a frame, most of it built while the last reads are in flight."""
    from dmtools import loader
    from dmtools._loadframe import FrameParts, ReadAgain

    parts = FrameParts(query.fields)
    load = functools.partial(loader.load_records, client, query, progress=progress)
    try:
        return parts.frame(load(workers=workers, early=parts.early))
    except ReadAgain:
        return FrameParts(query.fields).frame(load(workers=workers))


def _profiles(
    profile: str | Sequence[str] | None,
    owner: str | None,
    fields: Iterable[str] | str | None,
    problems: list[Problem],
) -> tuple[list[str] | None, Iterable[str] | str | None]:
    """(the profile ids to read, None for ``owner``'s list or every profile; the fields,
    with ``owner`` added when several profiles share the frame)."""
    if profile is None:
        return None, fields
    if owner != "me":
        problems.append(_problem("profile", "pass owner= or profile=, not both"))
    several = profile == "all" or (not isinstance(profile, str) and len(profile) != 1)
    ids = None if profile == "all" else [profile] if isinstance(profile, str) else list(profile)
    if several and fields is not None and not (isinstance(fields, str) and fields == "all"):
        names = [f for f in fields.split(",")] if isinstance(fields, str) else list(fields)
        fields = names if "owner" in (n.strip() for n in names) else [*names, "owner"]
    return ids, fields


def load_profiles(client: Client) -> pd.DataFrame:
    """The profiles (channels) the client's key reaches, one row each, in the API's order.

    Columns :data:`PROFILE_COLUMNS`: ``profile_id`` (what ``load_videos(client,
    profile=...)`` takes), ``name`` and ``display_name`` (API v2 says them; the legacy API
    lists channel ids only, so they are missing there). One request (``GET /me`` on API v2,
    ``GET /auth`` on the legacy API).

    Example:
        >>> dm.load_profiles(client).profile_id.tolist()              # doctest: +SKIP
        ['xx80rl7', 'xzfxfg7', 'xsdcbj1']
    """
    import pandas as pd

    rows = [{c: p.get(c) for c in PROFILE_COLUMNS} for p in organisation_profiles(client)]
    return pd.DataFrame(rows, columns=list(PROFILE_COLUMNS)).astype("string")


def _in_zone(frame: pd.DataFrame, zone: str | None) -> pd.DataFrame:
    """The date columns of ``frame`` in time zone ``zone`` (UTC when None)."""
    import pandas as pd

    for column in frame.columns if zone is not None else ():
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert(zone)
    return frame


def _zone(tz: str | None, problems: list[Problem]) -> str | None:
    """``tz`` checked as an IANA time zone name (a problem when unknown)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return None if tz is None else ZoneInfo(str(tz)).key
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        problems.append(
            Problem(None, "tz", f"{tz!r} is not a time zone name (e.g. 'Europe/Paris')")
        )
        return None
