"""A channel into a DataFrame: :func:`load_videos`, every video of a list query, typed.

Example:
    >>> df = dm.load_videos(client, fields=["id", "title", "views_total"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dmtools.errors import Problem
from dmtools.videos import FilterValue, _problem, build_query
from dmtools.visibility import load_note, mark_partial

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.client import Client

__all__ = ["load_videos"]


def load_videos(
    client: Client,
    *,
    owner: str | None = "me",
    fields: Iterable[str] | str | None = None,
    progress: bool = True,
    workers: int = 8,
    tz: str | None = None,
    **filters: FilterValue,
) -> pd.DataFrame:
    """Every matching video as a DataFrame (index ``id``, dtypes from the schema).

    Reads past the API's 1,000-results-per-query ceiling by splitting the query into
    creation-time windows (see :mod:`dmtools.loader`), fetched by ``workers`` threads, with
    each video exactly once even when videos are added or deleted during the load.

    Args:
        owner: ``"me"`` (every channel of the organisation for a private key), a user id or
            username, or None for the global list.
        fields: field names (default :data:`dmtools.schema.DEFAULT_VIDEO_FIELDS`).
        progress: show a progress bar (tqdm.auto: a widget in Jupyter, text in a terminal).
        workers: concurrent requests.
        tz: the date columns' time zone (``"Europe/Paris"``; default UTC), used by reports.
        **filters: names of :data:`dmtools.schema.VIDEO_FILTERS` (``sort`` is not allowed:
            sort the frame instead). ``created_after``/``created_before`` keep
            ``created_after <= created_time < created_before``.

    A frame that cannot see private or unpublished videos says so (:mod:`dmtools.visibility`).

    Raises:
        InputError: unknown fields, filters or time zone, bad values (before any request).

    Warns:
        dmtools.loader.IncompleteLoadWarning: when some videos cannot be reached (more in one
            second than one query returns, and no filter splits them); names the second and
            the count.

    Example:
        >>> df = load_videos(client, fields=["id", "title", "views_total"])  # doctest: +SKIP
        >>> df.views_total.sum()                                      # doctest: +SKIP
    """
    from dmtools import loader
    from dmtools.frames import to_frame

    problems = []
    if "sort" in filters:
        problems.append(_problem("sort", "load_videos returns every video; sort the frame instead"))
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 64:
        problems.append(Problem(None, "workers", f"{workers!r}: expected 1 to 64"))
    zone = _zone(tz, problems)  # checked with the rest, before any request
    query = build_query(
        client,
        owner=owner,
        fields=fields,
        problems=problems,
        filters={k: v for k, v in filters.items() if k != "sort"},
    )
    records = loader.load_records(client, query, progress=progress, workers=workers)
    frame = _in_zone(to_frame(records, fields=list(query.fields)), zone)
    return mark_partial(frame, load_note(client, owner, frame))


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
