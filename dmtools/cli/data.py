"""``dmtools export`` and ``dmtools report``: channel videos to files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dmtools.cli import _session
from dmtools.cli._common import ProgressOption, WorkersOption, guarded, info, out
from dmtools.errors import InputError, Problem
from dmtools.loader import DEFAULT_WORKERS

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.client import Client


EXPORT_EXAMPLES = """\b
Examples:
  dmtools export videos.csv
  dmtools export videos.xlsx --fields title,description,tags,views_total
  dmtools export music.parquet --channel music --created-after 2024-01-01 --public
  dmtools export kids.csv --filter is_created_for_kids=true --no-snapshot
  dmtools export news.csv --profile x2abcd     # one profile of a private key (API v2)
\b
Besides OUTPUT, a lossless snapshot is written to runs/ (OUTPUT.<time>.snapshot.parquet):
`dmtools plan` finds it from the videos of your edited file, whatever you name it.
An existing OUTPUT is left alone unless --force is given; a symlink is never written through.
"""

REPORT_EXAMPLES = """\b
Examples:
  dmtools report                              # load the channel, write dmtools-report/
  dmtools report --audience                   # with views by day, country, device
  dmtools report --from videos.csv --out weekly --as-of 2025-06-01
\b
The Audience section (Reporting API: views and watch time per day, the last 28 days
against the 28 before, top videos, countries, devices) is added when the login has the
report scopes; --audience asks for them, --no-audience leaves the section out.
"""


AudienceOption = Annotated[
    bool | None,
    typer.Option(
        "--audience/--no-audience",
        help="Reporting API figures: ask for the report scopes and add them / leave them "
        "out. Default: added when the login has the scopes.",
        show_default=False,
    ),
]


def check_suffix(path: Path, what: str = "output", *, writing: bool = True) -> None:
    """Refuse a file type the command cannot write (or read), by the one suffix table."""
    from dmtools.frames.formats import suffixes

    usable = suffixes(writing=writing)
    if path.suffix.lower() not in usable:
        raise InputError(f"cannot use {str(path)!r} as {what}: use a {', '.join(usable)} file")


def parse_filters(items: list[str] | None) -> dict[str, str]:
    """``["name=value", ...]`` as a dict; every malformed item is reported."""
    filters: dict[str, str] = {}
    problems = []
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            problems.append(Problem(None, "--filter", f"{item!r} is not NAME=VALUE"))
        else:
            filters[name.strip()] = value.strip()
    if problems:
        raise InputError("bad --filter", problems)
    return filters


def profile_arg(profile: list[str] | None) -> str | list[str] | None:
    """``--profile`` values as ``load_videos(profile=...)`` takes them."""
    if not profile:
        return None
    return profile[0] if len(profile) == 1 else list(profile)


def load_channel(
    client: Client,
    *,
    fields: Any = None,
    progress: bool = True,
    workers: int = DEFAULT_WORKERS,
    owner: str = "me",
    profile: str | list[str] | None = None,
    **filters: Any,
) -> pd.DataFrame:
    """``dm.load_videos`` with a line on stderr saying what was loaded, how fast."""
    from dmtools.load import load_videos

    started = time.perf_counter()
    try:
        where: dict[str, Any] = {"profile": profile} if profile is not None else {"owner": owner}
        df = load_videos(
            client, fields=fields, progress=progress, workers=workers, **where, **filters
        )
    except InputError as exc:
        if any(str(p.column or "").startswith("views_") for p in exc.problems):
            raise InputError(
                f"{exc.message}; for view counts use `dmtools analytics` (the Reporting API)",
                exc.problems,
            ) from None
        raise
    info(
        f"Loaded {len(df):,} videos ({len(df.columns)} columns) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return df


OutputArgument = Annotated[Path, typer.Argument(help="File to write: .csv, .xlsx or .parquet.")]
FieldsOption = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated fields (columns), or 'all'. Default: the usual editable and "
        "statistics fields."
    ),
]
OwnerOption = Annotated[
    str,
    typer.Option(
        help="'me' (every channel of the organisation for a private key), or a user id or username."
    ),
]
ProfileOption = Annotated[
    list[str] | None,
    typer.Option(
        "--profile",
        metavar="ID",
        help="A profile (channel) of a private key, by id (repeat for several; 'all' for "
        "every one, with an owner column): API v2 profiles, the legacy API's channels. "
        "Default: --owner.",
    ),
]
ChannelOption = Annotated[str | None, typer.Option(help="Only this category (music, news, ...).")]
SearchOption = Annotated[str | None, typer.Option(help="Only videos matching this search.")]
TagOption = Annotated[
    list[str] | None, typer.Option("--tag", help="Only videos with this tag (repeat).")
]
DateOption = Annotated[
    str | None, typer.Option(metavar="DATE", help="ISO date/time or unix seconds.")
]
PrivateOption = Annotated[
    bool | None, typer.Option("--private/--public", help="Only private / public videos.")
]
PublishedOption = Annotated[
    bool | None,
    typer.Option("--published/--unpublished", help="Only published / unpublished videos."),
]
FilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--filter", metavar="NAME=VALUE", help="Any other list filter of the API (repeat)."
    ),
]
SnapshotOption = Annotated[
    bool,
    typer.Option(
        "--snapshot/--no-snapshot", help="Also write a snapshot to runs/ for `dmtools plan`."
    ),
]
ReplaceOption = Annotated[
    bool, typer.Option("--force", help="Replace an existing OUTPUT (never a symlink).")
]


@guarded
def export(
    output: OutputArgument,
    fields: FieldsOption = None,
    owner: OwnerOption = "me",
    profile: ProfileOption = None,
    channel: ChannelOption = None,
    search: SearchOption = None,
    tag: TagOption = None,
    created_after: DateOption = None,
    created_before: DateOption = None,
    private: PrivateOption = None,
    published: PublishedOption = None,
    filter_: FilterOption = None,
    snapshot: SnapshotOption = True,
    force: ReplaceOption = False,
    progress: ProgressOption = True,
    workers: WorkersOption = DEFAULT_WORKERS,
) -> None:
    """Export the videos of a channel to CSV, Excel or Parquet (every video, past the API's
    1,000-results ceiling), with chosen fields and filters."""
    from dmtools.cli._runs import check_output, new_snapshot_path
    from dmtools.frames import FORMAT_VERSION, export_frame, write_parquet

    check_suffix(output)
    check_output(output, force=force, option="OUTPUT")
    filters: dict[str, Any] = {
        "channel": channel,
        "search": search,
        "tags": list(tag) if tag else None,
        "created_after": created_after,
        "created_before": created_before,
        "private": private,
        "published": published,
        **parse_filters(filter_),
    }
    chosen = {k: v for k, v in filters.items() if v is not None}
    with _session.open_client("edit") as client:
        df = load_channel(
            client,
            fields=fields,
            progress=progress,
            workers=workers,
            owner=owner,
            profile=profile_arg(profile),
            **chosen,
        )
    export_frame(df, output, overwrite=force)
    out(f"Wrote {len(df):,} videos to {output}")
    if snapshot:
        target = new_snapshot_path(output)
        about = {"format": str(FORMAT_VERSION), "export": str(output.resolve())}
        write_parquet(df, target, overwrite=False, metadata=about)
        out(f"Snapshot for `dmtools plan`: {target}")


@guarded
def report(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="FILE",
            help="Report on an exported file instead of loading the channel (no login needed).",
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("dmtools-report"),
    title: Annotated[
        str | None, typer.Option(help="Report title. Default: the channel's name.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="'Now' for views per day. Default: the latest time found in the data.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the files of an earlier report in --out.")
    ] = False,
    audience: AudienceOption = None,
    profile: ProfileOption = None,
    progress: ProgressOption = True,
) -> None:
    """Write a channel report: one self-contained HTML file plus a PNG per chart.

    An earlier report in --out is left alone unless --force is given; a symlink is never
    written through."""
    from dmtools.frames import import_frame
    from dmtools.report import channel_report

    _check_report_folder(out_dir, force=force)
    figures: Any = None
    if source is not None:
        df = import_frame(source)
    else:
        legacy = _session.api_in_use() == "legacy"
        scope = _report_scopes() if audience and legacy else None
        with _session.open_client("edit", scope=scope) as client:
            df = load_channel(client, progress=progress, profile=profile_arg(profile))
            figures = _audience(client, audience, progress) if legacy else None
        if not legacy:
            figures = _reporting_audience(audience, progress)
    started = time.perf_counter()
    with _staging(out_dir) as staging:
        made = channel_report(
            df,
            staging / "report.html",
            title=title,
            as_of=as_of,
            png_dir=staging / "png",
            audience=figures,
        )
        pngs = _publish(staging, out_dir, [made.html, *made.pngs.values()], force=force)
    out(f"Report: {out_dir / 'report.html'} ({len(df):,} videos)")
    out(f"Charts: {pngs} PNG files in {out_dir / 'png'} ({time.perf_counter() - started:.1f} s)")


def _report_scopes() -> list[str]:
    """The edit scopes of the key in use and the report scopes (``report --audience``)."""
    from dmtools.analytics import SCOPES
    from dmtools.notebook import scopes_for

    kind = "private" if _session.partner_key_in_use() else "public"
    return [*scopes_for("edit", kind), *SCOPES]


def _audience(client: Client, wanted: bool | None, progress: bool) -> Any:
    """The report's Audience, or why there is none (``--audience`` makes it required)."""
    if wanted is False:
        return None
    from dmtools.analytics import audience_or_reason

    found = audience_or_reason(client, progress=progress)
    if isinstance(found, str):
        if wanted:
            raise InputError(
                f"--audience: {found}; log in again with the report scopes (`dmtools login "
                "--scope create_reports --scope read_reports ...` with your usual scopes)"
            )
        info(f"Audience section left out: {found} (see `dmtools report --help`)")
    return found


def _reporting_audience(wanted: bool | None, progress: bool) -> Any:
    """The Audience of an API v2 login: through a partner token of the same private key."""
    from dmtools.analytics import SCOPES
    from dmtools.auth import SessionExpired

    if wanted is False:
        return None
    try:
        reporting = _session.open_reporting_client(list(SCOPES))
    except SessionExpired as exc:
        if wanted:
            raise InputError(f"--audience: {exc.message}") from None
        info(f"Audience section left out: {exc.message}")
        return exc.message
    with reporting:
        return _audience(reporting, wanted, progress)


def _check_report_folder(out_dir: Path, *, force: bool) -> None:
    from dmtools.cli._runs import check_output

    for folder in (out_dir, out_dir / "png"):
        if folder.is_symlink():
            raise InputError(f"{folder} is a symbolic link; dmtools never writes through one")
    check_output(out_dir / "report.html", force=force, option="--out folder")


@contextmanager
def _staging(out_dir: Path) -> Iterator[Path]:
    """A new folder beside ``out_dir`` where the report is made, removed afterwards."""
    import shutil
    import tempfile

    out_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".dmtools-report-", dir=out_dir.resolve().parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _publish(staging: Path, out_dir: Path, files: list[Path], *, force: bool) -> int:
    """Move the made files into ``out_dir`` (refusing symlinks, and existing files without
    ``force``); returns the number of PNG files."""
    from dmtools._safefiles import place
    from dmtools.cli._runs import check_output

    targets = [(f, out_dir / f.relative_to(staging)) for f in files]
    for _, target in targets:
        check_output(target, force=force, option="--out folder")
    for made, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        place(made, target, overwrite=force)
    return sum(1 for f in files if f.suffix == ".png")


def register(app: typer.Typer) -> None:
    app.command(epilog=EXPORT_EXAMPLES)(export)
    app.command(epilog=REPORT_EXAMPLES)(report)
