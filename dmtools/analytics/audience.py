"""The Reporting API figures of a channel report: :func:`channel_audience`.

Two reports make the audience part of :func:`dmtools.report.channel_report`: views and
seconds watched per day and video over the period and the one before it, and views per
country and device type over the period (see :class:`dmtools.report.audience.Audience`).
:func:`audience_or_reason` is for front ends that fall back to the metadata report: it gives
the reason in words when the login has no access, instead of raising.

Example:
    >>> aud = channel_audience(client, days=28)                          # doctest: +SKIP
    >>> report.channel_report(df, "report.html", audience=aud)           # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dmtools.errors import InputError, PermissionDenied

if TYPE_CHECKING:
    from dmtools.client import Client
    from dmtools.report.audience import Audience

__all__ = ["audience_or_reason", "channel_audience"]

log = logging.getLogger("dmtools.analytics")


def channel_audience(
    client: Client,
    *,
    days: int = 28,
    end: dt.date | str | None = None,
    filters: Mapping[str, Any] | None = None,
    **options: Any,
) -> Audience:
    """The audience of the last ``days`` days (to ``end``, default yesterday, UTC: the last
    complete day) and of the ``days`` before, for the channel report: two reports, asked
    for together.

    Args:
        client: a client with the report scopes.
        days: length of the period (and of the one it is compared with).
        end: the last day of the period.
        filters: report filters (``{"video_owner_channel_slug": "mychannel"}``).
        **options: as for :func:`dmtools.load_analytics` (``progress``, ``state``,
            ``cache``, ``poll``, ``sleep``, ``tz``).

    Raises:
        InputError: the login lacks the report scopes (before any request), or a bad
            ``days``; and whatever :func:`dmtools.load_analytics` raises.
    """
    from dmtools.analytics.load import load_queries
    from dmtools.analytics.query import build_query, parse_date
    from dmtools.report.audience import Audience

    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 90:
        raise InputError(f"days must be a whole number of days from 1 to 90, not {days!r}")
    last = (
        parse_date(end, "end")
        if end is not None
        else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    )
    start = last - dt.timedelta(days=days - 1)
    daily = build_query(
        ["views", "time_watched_seconds"],
        ["day", "video_id"],
        start=start - dt.timedelta(days=days),
        end=last,
        filters=filters,
    )
    places = build_query(
        "views", ["visitor_country", "visitor_device_type"], start=start, end=last, filters=filters
    )
    by_day, by_place = load_queries(client, [daily, places], **options)
    return Audience(daily=by_day, places=by_place, start=start, end=last)


def audience_or_reason(client: Client, **options: Any) -> Audience | str:
    """:func:`channel_audience`, or why this login cannot have it (its token has no report
    scope, or its key no Reporting API access), in words for the report. Other errors
    (bad options, a failed report) are raised."""
    from dmtools.analytics.access import check_access
    from dmtools.analytics.query import build_query

    today = dt.datetime.now(dt.UTC).date()
    try:
        check_access(client, build_query("views", "day", start=today, end=today))
    except InputError as exc:
        missing = "; ".join(p.reason for p in exc.problems)
        return f"this login has no access to the Reporting API ({missing})"
    try:
        return channel_audience(client, **options)
    except PermissionDenied as exc:
        log.info("no audience figures: %s", exc)
        return f"this API key has no access to the Reporting API ({exc.message})"
