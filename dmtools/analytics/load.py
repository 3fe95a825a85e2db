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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmtools.analytics.access import check_access, graphql_url
from dmtools.analytics.query import DateLike, Names, ReportQuery, build_query
from dmtools.analytics.runner import Finished, Poll
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.client import Client

__all__ = ["account_key", "check_zone", "load_analytics", "run_query"]

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


def run_query(
    client: Client,
    query: ReportQuery,
    *,
    state: PathArg | bool | None = None,
    poll: Poll | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    progress: bool = True,
    fetch: bool = True,
) -> list[Finished]:
    """Every report of a checked query (one per date range), finished, with its frame unless
    ``fetch`` is False, through the persisted state (see :mod:`dmtools.analytics.runner`).
    Their tokens are forgotten once every report is in."""
    from dmtools.analytics._wire import ReportingApi
    from dmtools.analytics.runner import ReportRunner
    from dmtools.analytics.state import ReportState, default_state_path

    chunks = query.chunks()
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
        "%d report(s) for %s to %s: %d asked, %d picked up, %.0f s waited",
        len(chunks),
        query.start,
        query.end,
        runner.asked,
        runner.resumed,
        runner.waited,
    )
    return finished


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
        client: a logged-in client whose token has the report scopes
            (:data:`dmtools.analytics.SCOPES`; see :mod:`dmtools.analytics.access`).
        metrics: ``"views"``, ``["views", "time_watched_seconds"]``... (case-insensitive;
            Python or API spelling).
        dimensions: ``["day", "video_id"]``...: at most 8; ``None`` or ``[]`` for totals.
        start, end: the dates covered, both included (``YYYY-MM-DD``, dates or datetimes;
            ``end`` defaults to today, UTC). Over 180 days, several reports are asked for
            and stitched together.
        filters: ``{"video_owner_channel_slug": "mychannel", "media_type": "video"}``...
        product: ``"all"`` (the API's default), ``"content"``, ``"embed"`` or ``"claim"``.
        tz: convert the time columns to this zone (``"Europe/Paris"``); default UTC.
        progress: show a progress bar (a widget in Jupyter).
        state: where report tokens are kept so an interrupted load resumes (default: the
            data folder, see :mod:`dmtools.analytics.state`); ``False``: not kept.
        cache: keep the result and use it again for the same request once its days are
            complete (``True``: in the data folder; or a folder), see
            :mod:`dmtools.analytics.cache`.
        poll: how to wait (:class:`~dmtools.analytics.runner.Poll`: interval, timeout,
            reports in flight).
        sleep: the waiting function (tests move a sandbox clock instead of sleeping).

    Returns:
        One row per combination of the dimensions, columns = dimensions then metrics (see
        :mod:`dmtools.analytics.frame` for names and types), sorted by the dimensions.

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
    from dmtools.analytics.cache import ResultCache, default_cache_dir
    from dmtools.analytics.frame import stitch, to_zone

    last = end if end is not None else dt.datetime.now(dt.UTC).date()
    query = build_query(
        metrics, dimensions, start=start, end=last, filters=filters, product=product
    )
    check_zone(tz)
    check_access(client, query)
    store = None
    if cache is not False:
        store = ResultCache(default_cache_dir() if cache is True else Path(cache))
        kept = store.get(account_key(client), query)
        if kept is not None:
            return to_zone(kept, tz)
    finished = run_query(client, query, state=state, poll=poll, sleep=sleep, progress=progress)
    frame = stitch([f.frame for f in finished if f.frame is not None], query)
    if store is not None:
        store.put(account_key(client), query, frame)
    return to_zone(frame, tz)
