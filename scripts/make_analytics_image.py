"""Draw the README's analytics chart from ``dm.load_analytics`` on the sandbox's demo data.

Usage::

    .venv/bin/python scripts/make_analytics_image.py [--out docs/images]

Starts a sandbox with its default seeded data, logs in as the demo user (its channel) with
the report scopes, asks for views per day and device type from 2026-09-01 to 2026-11-30 (the README's
example), and writes ``analytics_views.png``: views per day stacked by device, with the
7-day average of all views.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import dmtools as dm
from dmtools.report._figure import ReportFigure, png_bytes
from dmtools.testing import connect_sandbox

DEVICES = ("mobile", "desktop", "tv", "tablet")
COLORS = ("#2b6cb0", "#63b3ed", "#dd8452", "#a0aec0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    with dm.Sandbox() as sb:
        sb.settings(report_delay=0)
        client = connect_sandbox(sb, grant="password", scope=dm.analytics.SCOPES)
        daily = dm.load_analytics(
            client,
            ["views", "time_watched_seconds"],
            ["day", "visitor_device_type"],
            start="2026-09-01",
            end="2026-11-30",
            state=False,
        )
    by_device = daily.pivot_table(
        index="day", columns="visitor_device_type", values="views", aggfunc="sum", fill_value=0
    )
    fig = ReportFigure(figsize=(10, 3.6), layout="constrained")
    ax = fig.add_subplot()
    days = by_device.index.tz_localize(None)
    ax.stackplot(
        days,
        *[by_device[d].to_numpy() for d in DEVICES],
        labels=DEVICES,
        colors=COLORS,
        alpha=0.9,
    )
    average = by_device.sum(axis=1).rolling(7, min_periods=1).mean()
    ax.plot(days, average.to_numpy(), color="#1a202c", linewidth=1.6, label="7-day average")
    ax.set_title(
        "Views per day by device: dm.load_analytics(client, ..., ['day', 'visitor_device_type'])",
        loc="left",
        fontsize=11,
        fontweight="bold",
    )
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylabel("Views", fontsize=9)
    ax.set_xlim(days[0], days[-1])
    ax.set_ylim(0, float(by_device.sum(axis=1).max()) * 1.3)
    ax.legend(ncols=5, frameon=False, fontsize=8, loc="upper left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "analytics_views.png"
    target.write_bytes(png_bytes(fig))
    print(f"{len(daily):,} rows; wrote {target}")


if __name__ == "__main__":
    main()
