"""``dmtools analytics``: a Reporting API report to a CSV or Parquet file."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer

from dmtools.cli import _session
from dmtools.cli._common import ProgressOption, guarded, info, out
from dmtools.errors import InputError

EXAMPLES = """\b
Examples:
  dmtools analytics views.csv --start 2026-01-01
  dmtools analytics by-video.parquet --metrics views,time_watched_seconds \\
      --dimensions day,video_id --start 2025-01-01 --end 2025-12-31
  dmtools analytics countries.csv --days 28 --dimensions visitor_country \\
      --filter video_owner_channel_slug=mychannel --product content
\b
Needs a login with the report scopes: dmtools login --scope create_reports
--scope read_reports (--scope access_revenue for earnings, --scope access_ads for ad
metrics), or DMTOOLS_* variables (the command asks for those scopes itself).
Reports in progress are kept (in DMTOOLS_DATA_DIR): running the same command again, even
after Ctrl-C, picks them up instead of asking again. OUTPUT is never replaced without
--force, and never written through a symlink.
"""


def _dates(
    start: str | None, end: str | None, days: int | None
) -> tuple[str | dt.date, str | dt.date]:
    if days is not None and start is not None:
        raise InputError("give --start or --days, not both")
    last: str | dt.date = end or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    if start is not None:
        return start, end or dt.datetime.now(dt.UTC).date()
    if days is None or days < 1:
        raise InputError("give --start DATE, or --days N (the last N complete days)")
    from dmtools.analytics.query import parse_date

    return parse_date(last, "end") - dt.timedelta(days=days - 1), last


Metrics = Annotated[
    str, typer.Option(help="Comma-separated metrics (views, time_watched_seconds, ...).")
]
Dimensions = Annotated[
    str,
    typer.Option(
        help="Comma-separated dimensions (day, video_id, visitor_country, ...); '' for totals."
    ),
]
Day = Annotated[str | None, typer.Option(metavar="DATE", help="First day (YYYY-MM-DD).")]
LastDay = Annotated[
    str | None, typer.Option(metavar="DATE", help="Last day (default: today, UTC).")
]
Days = Annotated[int | None, typer.Option(help="Instead of --start: the last N complete days.")]
Filters = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        metavar="NAME=VALUE",
        help="A report filter (video_owner_channel_slug, media_type, ...; repeat).",
    ),
]
Product = Annotated[str | None, typer.Option(help="all, content, embed or claim.")]
Zone = Annotated[str | None, typer.Option(help="Time zone of the time columns (default UTC).")]
Cache = Annotated[
    bool, typer.Option("--cache/--no-cache", help="Reuse a finished result of the same request.")
]
Force = Annotated[
    bool, typer.Option("--force", help="Replace an existing OUTPUT (never a symlink).")
]


@guarded
def analytics(
    output: Annotated[Path, typer.Argument(help="File to write: .csv or .parquet.")],
    metrics: Metrics = "views",
    dimensions: Dimensions = "day",
    start: Day = None,
    end: LastDay = None,
    days: Days = None,
    filter_: Filters = None,
    product: Product = None,
    tz: Zone = None,
    cache: Cache = False,
    force: Force = False,
    progress: ProgressOption = True,
) -> None:
    """Write a Reporting API report (views, watch time, earnings... by day, video, country,
    device...) to CSV or Parquet: ranges over 180 days are split and stitched, reports in
    progress are picked up again after an interruption."""
    from dmtools.analytics import SCOPES, build_query, check_access, load_analytics
    from dmtools.analytics.files import SUFFIXES, save_frame
    from dmtools.analytics.load import check_zone
    from dmtools.cli._runs import check_output
    from dmtools.cli.data import parse_filters

    if output.suffix.lower() not in SUFFIXES:
        raise InputError(f"cannot use {str(output)!r} as output: use a .csv or .parquet file")
    check_output(output, force=force, option="OUTPUT")
    first, last = _dates(start, end, days)
    filters = parse_filters(filter_)
    query = build_query(
        metrics, dimensions, start=first, end=last, filters=filters, product=product
    )
    check_zone(tz)
    client = _session.open_reporting_client(list(SCOPES))
    started = time.perf_counter()
    with client:
        try:
            check_access(client, query)
        except InputError as exc:
            raise InputError(
                "this login cannot ask for reports: run `dmtools login "
                + " ".join(f"--scope {s}" for s in SCOPES)
                + "` (or log in from DMTOOLS_* variables)",
                exc.problems,
            ) from None
        df = load_analytics(
            client, metrics, dimensions, start=first, end=last, filters=filters,
            product=product, tz=tz, progress=progress, cache=cache,
        )  # fmt: skip
    save_frame(df, output, overwrite=force)
    reports = len(query.chunks())
    info(
        f"{reports} report{'s' if reports > 1 else ''} ({query.start} to {query.end}) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    out(f"Wrote {len(df):,} rows x {len(df.columns)} columns to {output}")


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(analytics)
