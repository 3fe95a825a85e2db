"""Channel analytics in one call: :func:`load_analytics`, the Reporting API into a DataFrame.

Example:
    >>> df = dm.load_analytics(client, ["views", "time_watched_seconds"], ["day", "video_id"],
    ...                        start="2026-01-01", end="2026-06-30")   # doctest: +SKIP
    >>> df.join(videos, on="video_id")                                 # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.analytics.access import check_access, graphql_url
from dmtools.analytics.query import DateLike, Names, ReportQuery, build_query
from dmtools.analytics.runner import Finished, Poll
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.client import Client

__all__ = ["account_key", "check_zone", "load_analytics", "load_queries", "run_queries"]

log = logging.getLogger("dmtools.analytics")
PathArg = str | os.PathLike[str]


def account_key(client: Client) -> str:
    """Who asks: the GraphQL endpoint, the API key and the account (reports and their
    results are never shared between accounts)."""
    return f"{graphql_url(client)} {client.client_id} {client.account_id}"


def check_zone(tz: str | None) -> None:
    """Refuse an unknown time zone (InputError) before any request."""
    if tz is None:
        return
    import pandas as pd

    try:
        pd.Timestamp(0, tz=tz)
    except Exception:  # zoneinfo and pytz raise several kinds for an unknown zone
        raise InputError("bad time zone", [Problem(None, "tz", f"unknown zone {tz!r}")]) from None


def _check_paths(**given: Any) -> None:
    """``state`` and ``cache`` are None, a bool or a path (InputError otherwise)."""
    bad = [
        Problem(None, name, f"a path or True/False, not {value!r}")
        for name, value in given.items()
        if value is not None and not isinstance(value, bool | str | os.PathLike)
    ]
    if bad:
        raise InputError("bad options", bad)


def run_queries(
    client: Client,
    queries: Sequence[ReportQuery],
    *,
    state: PathArg | bool | None = None,
    poll: Poll | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    progress: bool = True,
    fetch: bool = True,
) -> list[list[Finished]]:
    """Every report of checked queries (one per date range of each), finished, with its
    frame unless ``fetch`` is False: the reports of all the queries wait in one queue (at
    most 2 in flight in all), through the persisted state (see
    :mod:`dmtools.analytics.runner`). Their tokens are forgotten once every report is in."""
    from dmtools.analytics._wire import ReportingApi
    from dmtools.analytics.runner import ReportRunner
    from dmtools.analytics.state import ReportState, default_state_path

    parts = [q.chunks() for q in queries]
    chunks = [c for part in parts for c in part]
    path = None if state is False else default_state_path() if state in (None, True) else state
    saved = ReportState(path)  # type: ignore[arg-type]
    account = account_key(client)
    try:
        with ReportingApi(client) as api:
            runner = ReportRunner(
                api, saved, account, poll=poll, sleep=sleep, progress=progress, fetch=fetch
            )
            finished = runner.run(chunks)
        saved.forget(account, [c.key() for c in chunks])
    finally:
        saved.close()
    log.info(
        "%d report(s): %d asked, %d picked up, %.0f s waited",
        len(chunks),
        runner.asked,
        runner.resumed,
        runner.waited,
    )
    out, first = [], 0
    for part in parts:
        out.append(finished[first : first + len(part)])
        first += len(part)
    return out


def load_queries(
    client: Client,
    queries: Sequence[ReportQuery],
    *,
    tz: str | None = None,
    cache: PathArg | bool = False,
    **options: Any,
) -> list[pd.DataFrame]:
    """The frames of checked queries, their reports asked for together (see
    :func:`load_analytics` for the options and errors).

    Raises:
        InputError: an unknown time zone, or a token without the scopes of a query (before
            any request).
    """
    from dmtools.analytics.cache import ResultCache, default_cache_dir
    from dmtools.analytics.frame import stitch, to_zone

    check_zone(tz)
    _check_paths(cache=cache, state=options.get("state"))
    for query in queries:
        check_access(client, query)
    account = account_key(client)
    store = None
    if cache is not False:
        store = ResultCache(default_cache_dir() if cache is True else Path(cache))
    kept = [store.get(account, q) if store is not None else None for q in queries]
    missing = [q for q, frame in zip(queries, kept, strict=True) if frame is None]
    fetched = iter(run_queries(client, missing, **options) if missing else [])
    frames = []
    for query, frame in zip(queries, kept, strict=True):
        if frame is None:
            frame = stitch([f.frame for f in next(fetched) if f.frame is not None], query)
            if store is not None:
                store.put(account, query, frame)
        frames.append(to_zone(frame, tz))
    return frames


def load_analytics(
    client: Client,
    metrics: Names,
    dimensions: Names | None = ("day",),
    *,
    start: DateLike,
    end: DateLike | None = None,
    filters: Mapping[str, Any] | None = None,
    product: str | None = None,
    tz: str | None = None,
    progress: bool = True,
    state: PathArg | bool | None = None,
    cache: PathArg | bool = False,
    poll: Poll | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> pd.DataFrame:
    """A Reporting API report as one typed DataFrame: ask, wait, download, stitch.

    Args:
        client: a client with the report scopes (:data:`dmtools.analytics.SCOPES`).
        metrics, dimensions: ``["views", "time_watched_seconds"]``, ``["day", "video_id"]``
            (case-insensitive, Python or API spelling; at most 8 dimensions, none: totals).
        start, end: the dates covered, both included (``YYYY-MM-DD``, dates or datetimes;
            ``end`` defaults to today, UTC). Over 180 days, several reports are asked for
            and stitched together.
        filters: ``{"video_owner_channel_slug": "mychannel", "media_type": "video"}``...
        product: ``"all"`` (the API's default), ``"content"``, ``"embed"`` or ``"claim"``.
        tz: convert the time columns to this zone (``"Europe/Paris"``); default UTC.
        progress: show a progress bar (a widget in Jupyter).
        state: where report tokens are kept so an interrupted load resumes (default: the
            data folder, :mod:`dmtools.analytics.state`); ``False``: not kept.
        cache: keep the result for the same request (``True``: in the data folder; or a
            folder; :mod:`dmtools.analytics.cache`).
        poll: how to wait (:class:`~dmtools.analytics.runner.Poll`); sleep: the waiting
            function (tests move a sandbox clock instead of sleeping).

    Returns:
        One row per combination of the dimensions: the dimensions then the metrics (names
        and types: :mod:`dmtools.analytics.frame`), sorted by the dimensions.

    Raises:
        InputError: before any request: unknown names, more than 8 dimensions, an
            incompatible metric and dimension, bad dates, filters or product, a token without
            the needed scopes, or an unknown time zone (every problem listed).
        PermissionDenied: the API key lacks a permission (``missing_scope``).
        ReportError: a report ended FAILED or EXPIRED twice, or did not finish in time.
        APIError, TransportError: what the transport's retries could not cure.

    Example:
        >>> df = load_analytics(client, "views", ["day", "visitor_country"],
        ...                     start="2026-05-01", end="2026-05-31", tz="Europe/Paris")  # doctest: +SKIP
    """
    last = end if end is not None else dt.datetime.now(dt.UTC).date()
    query = build_query(
        metrics, dimensions, start=start, end=last, filters=filters, product=product
    )
    [frame] = load_queries(
        client, [query], tz=tz, cache=cache, state=state, poll=poll, sleep=sleep, progress=progress
    )
    return frame
