"""The additive rows of a report: audience per (video, day or hour), split as asked (no HTTP).

:func:`audience_rows` turns the daily (or hourly) views of the report's videos into
:class:`~dmtools.sandbox.state.reporting.splits.Rows` carrying views, watch time,
completions and earnings, then applies the splits its dimensions and filters need.
:func:`upload_rows` gives one row per video created in the window. Per video (from its key):
viewers watch 20-70 % of it on average, completions follow, and earnings come from a revenue
per mille that depends on country and device (none for kids' and private videos).

Filters and products act on the placements: ``EMBED`` keeps the embeds, ``CLAIM`` and the
``CLAIM`` monetization type keep nothing (the sandbox has no claims), ``WEBSITE_MONETIZATION``
keeps the channel's own site, ``visitorDomainGroup`` one domain group, and the ``LIVE`` media
type nothing (every sandbox video is a VOD).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dmtools.sandbox.state.reporting.audience import (
    DAY,
    BoolArray,
    IntArray,
    KeyArray,
    daily_views,
    hourly_split,
    uniform,
)
from dmtools.sandbox.state.reporting.query import ReportQuery
from dmtools.sandbox.state.reporting.splits import (
    COUNTRY_RPM,
    DEVICE_RPM,
    DEVICE_WATCH,
    EMBED_PLACEMENTS,
    GROUP_OF,
    GROUPS,
    PLACEMENTS,
    WEBSITE_PLACEMENTS,
    Catalogue,
    Rows,
    split,
)

#: Euros per 1,000 monetised views before the country and device factors.
BASE_RPM_EUR = 1.0
#: US dollars per euro in earnings.
USD_PER_EUR = 1.08


def day_number(date: Any) -> int:
    """Days since 1970-01-01 of a ``datetime.date``."""
    return int(date.toordinal() - 719163)


def allowed_placements(query: ReportQuery, catalogue: Catalogue) -> BoolArray | None:
    """Videos × placements kept by the product and filters (None: all, no split needed)."""
    keep = np.ones((len(catalogue.videos), len(PLACEMENTS)), dtype=bool)
    if query.product == "CLAIM" or query.filter("monetizationType") == "CLAIM":
        keep[:] = False
    if query.product == "EMBED":
        keep[:, [k for k in range(len(PLACEMENTS)) if k not in EMBED_PLACEMENTS]] = False
    if query.filter("monetizationType") == "WEBSITE_MONETIZATION":
        keep[:, [k for k in range(len(PLACEMENTS)) if k not in WEBSITE_PLACEMENTS]] = False
    domain = query.filter("visitorDomainGroup")
    if domain is not None:
        domains = catalogue.values("VISITOR_DOMAIN_GROUP")
        keep &= np.array([[d == domain for d in row] for row in domains], dtype=bool)
    return None if keep.all() else keep


def _per_video(keys: KeyArray, videos: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    watched = 0.2 + 0.5 * uniform(keys, 40)
    duration = np.array([max(1, int(v.get("duration") or 60)) for v in videos], dtype=float)
    monetised = np.array(
        [not (v.get("is_created_for_kids") or v.get("private")) for v in videos], dtype=float
    )
    return {
        "watched": watched,
        "completion": watched**1.5,
        "duration": duration,
        "monetised": monetised,
        "slots": 1 + duration // 480,
    }


def audience_rows(
    query: ReportQuery, catalogue: Catalogue, *, now: float, allowed: BoolArray | None
) -> tuple[Rows, bool]:
    """The split audience rows of a report, and whether their time index is hours."""
    videos, keys = catalogue.videos, catalogue.keys
    first, last = day_number(query.start), day_number(query.end)
    created = np.array([int(v["created_time"]) // DAY for v in videos], dtype=np.int64)
    totals = np.array([int(v["views_total"]) for v in videos], dtype=np.int64)
    matrix = daily_views(keys, created, totals, now=now, first=first, last=last)
    video, offset = np.nonzero(matrix)
    views, time = matrix[video, offset], first + offset
    hourly = "HOUR" in query.dimensions
    if hourly and len(views):
        hours = hourly_split(keys, video, time, views, now=now)
        row, hour = np.nonzero(hours)
        video, views, time = video[row], hours[row, hour], time[row] * 24 + hour
    rows = _base(catalogue, video.astype(np.int64), time.astype(np.int64), views)
    needed = {GROUP_OF[d].name for d in query.dimensions if d in GROUP_OF}
    if allowed is not None:
        needed.add("placement")
    for group in GROUPS:
        if group.name in needed:
            rows = split(
                rows,
                group,
                catalogue.shares(group),
                watch=catalogue.watch_factor(group),
                rpm=catalogue.rpm_factor(group),
                allowed=allowed if group.name == "placement" else None,
            )
    return rows, hourly


def _base(catalogue: Catalogue, video: IntArray, time: IntArray, views: IntArray) -> Rows:
    """Rows of views with watch time, completions and earnings (expected over the splits)."""
    per = _per_video(catalogue.keys, catalogue.videos)
    device, geo = GROUPS[1], GROUPS[0]
    watch_mean = catalogue.expected(DEVICE_WATCH, device)
    rpm = (
        BASE_RPM_EUR
        * catalogue.expected(COUNTRY_RPM, geo)
        * catalogue.expected(DEVICE_RPM, device)
        * per["monetised"]
    )
    mean = per["watched"] * per["duration"] * watch_mean
    watch = np.floor(views * mean[video] + 0.5).astype(np.int64)
    completions = np.floor(views * np.minimum(1.0, per["completion"][video]) + 0.5)
    return Rows(
        video,
        time,
        views.astype(np.int64),
        watch,
        completions.astype(np.int64),
        views * rpm[video] / 1000.0,
        {},
    )


def ad_columns(rows: Rows, catalogue: Catalogue, hourly: bool) -> dict[str, Any]:
    """Additive ad counts per row: inventory, sellable, impressions, errors, timeouts."""
    per = _per_video(catalogue.keys, catalogue.videos)
    inventory = rows.views * per["slots"][rows.video].astype(np.int64)
    sellable = np.floor(inventory * 0.85 * per["monetised"][rows.video] + 0.5).astype(np.int64)
    day = rows.time // 24 if hourly else rows.time
    fill = 0.55 + 0.15 * uniform(np.zeros(len(day), dtype=np.uint64), 50, day)
    impressions = np.floor(sellable * fill + 0.5).astype(np.int64)
    return {
        "TOTAL_INVENTORY": inventory,
        "SELLABLE_INVENTORY": sellable,
        "NB_IMPRESSION": impressions,
        "AD_ERRORS": np.floor(impressions * 0.02 + 0.5).astype(np.int64),
        "TIMEOUTS": np.floor(impressions * 0.012 + 0.5).astype(np.int64),
    }


def upload_rows(query: ReportQuery, catalogue: Catalogue) -> tuple[IntArray, IntArray]:
    """(video index, creation day) of the videos created within the report's range."""
    first, last = day_number(query.start), day_number(query.end)
    created = np.array([int(v["created_time"]) // DAY for v in catalogue.videos], dtype=np.int64)
    inside = np.nonzero((created >= first) & (created <= last))[0]
    return inside.astype(np.int64), created[inside]
