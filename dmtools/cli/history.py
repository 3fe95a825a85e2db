"""``dmtools history ...``: daily snapshots of the channel in a DuckDB file, and questions
over time (what changed and which plan did it, views before and after an edit)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dmtools.cli import _session
from dmtools.cli._common import ProgressOption, WorkersOption, guarded, info, out
from dmtools.cli.data import load_channel
from dmtools.errors import InputError
from dmtools.loader import DEFAULT_WORKERS

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.history import History
    from dmtools.history.demo import Week
    from dmtools.sandbox import Sandbox

HISTORY_EXAMPLES = """\b
Examples:
  dmtools history snapshot                        # today's snapshot into history.duckdb
  dmtools history snapshot --at 2026-03-01        # dated (build a history after the fact)
  dmtools history list
  dmtools history as-of 2026-03-01 --out march.csv
  dmtools history changes 2026-03-01 2026-03-08 --journal jobs/
  dmtools history effect cleanup.plan.journal --days 7
  dmtools history export lake/                    # Hive-partitioned Parquet
  dmtools history demo                            # a simulated week on a local sandbox
"""

app = typer.Typer(
    help="A history of the channel: dated snapshots in DuckDB, changes, views over time.",
    no_args_is_help=True,
    epilog=HISTORY_EXAMPLES,
)

DbOption = Annotated[Path, typer.Option("--db", help="The history file (DuckDB).")]
DB = Path("history.duckdb")


def _open(db: Path, read_only: bool = True) -> History:
    from dmtools.history import History

    return History(db, read_only=read_only)


def _table(frame: pd.DataFrame, limit: int = 50) -> str:
    import pandas as pd

    with pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.max_colwidth", 40
    ):
        text = frame.head(limit).to_string()
    more = len(frame) - limit
    return text + (f"\n... and {more} more rows" if more > 0 else "")


def _save_or_show(frame: pd.DataFrame, output: Path | None, what: str) -> None:
    if output is None:
        out(_table(frame) if len(frame) else f"No {what}.")
        return
    if output.suffix.lower() == ".parquet":
        frame.to_parquet(output)
    elif output.suffix.lower() == ".csv":
        frame.to_csv(output)
    else:
        from dmtools.frames import export_frame

        export_frame(frame, output)
    out(f"Wrote {len(frame):,} {what} to {output}")


@app.command()
@guarded
def snapshot(
    db: DbOption = DB,
    at: Annotated[
        str | None, typer.Option(metavar="TIME", help="When it is taken (default: now).")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="The channel (profile) to load and store, by id. Default: the login's "
            "videos, one snapshot per profile when a private key reaches several."
        ),
    ] = None,
    fields: Annotated[str | None, typer.Option(help="Comma-separated fields, or 'all'.")] = None,
    progress: ProgressOption = True,
    workers: WorkersOption = DEFAULT_WORKERS,
) -> None:
    """Load the channel and store it as a dated snapshot (the same snapshot twice stores once)."""
    from datetime import UTC, datetime

    from dmtools.history._columns import to_timestamp

    when = to_timestamp(at, name="--at") if at is not None else None  # checked before loading
    with _open(db, read_only=False) as history:
        client = _session.open_client("edit")
        with client:
            df = load_channel(
                client, fields=fields, progress=progress, workers=workers, profile=profile
            )
        several = profile is None and "owner" in df and df["owner"].nunique() > 1
        parts = list(df.groupby("owner", sort=True)) if several else [(profile, df)]
        if several and when is None:
            when = datetime.now(UTC)  # one time for the snapshots of every profile
        for owner, part in parts:
            snap = history.snapshot(
                part, taken_at=when, profile=None if owner is None else str(owner)
            )
            verb = "Stored" if snap.stored else "Already stored:"
            out(
                f"{verb} snapshot {snap.snapshot_id} of {snap.profile} at "
                f"{snap.taken_at:%Y-%m-%d %H:%M:%S} UTC ({snap.videos:,} videos) in {db}"
            )


@app.command()
@guarded
def views(
    db: DbOption = DB,
    days: Annotated[int, typer.Option(help="Days up to yesterday (UTC) to fetch.")] = 28,
    profile: Annotated[
        str | None, typer.Option(help="The channel (default: the history's only one).")
    ] = None,
    progress: ProgressOption = True,
) -> None:
    """Fetch the Reporting API's daily views of the channel's videos into the history (where
    the views of an API v2 history come from; `effect` and views per day then read them).
    Without --profile: every profile the history holds."""
    from dmtools.analytics import SCOPES

    if not db.exists():
        raise InputError(f"no history at {db}: run `dmtools history snapshot` first")
    with _open(db, read_only=False) as history:
        stored = history.snapshots()
        if stored.empty:
            raise InputError(f"{db} holds no snapshot yet: run `dmtools history snapshot` first")
        profiles = [profile] if profile else sorted(stored.profile.unique())
        client = _session.open_reporting_client(list(SCOPES))
        with client:
            for name in profiles:
                got = history.fetch_views(client, days=days, profile=name, progress=progress)
                out(
                    f"Stored {got.stored:,} of {got.rows:,} rows of daily views per video of "
                    f"{name} ({days} days) in {db}"
                )


@app.command("list")
@guarded
def list_(db: DbOption = DB) -> None:
    """List the stored snapshots."""
    with _open(db) as history:
        frame = history.snapshots()
    out(_table(frame.drop(columns=["fields"]).set_index("snapshot_id"), limit=1000))


@app.command("as-of")
@guarded
def as_of(
    when: Annotated[str, typer.Argument(help="A time or a date (its end, UTC).")],
    db: DbOption = DB,
    profile: Annotated[str | None, typer.Option(help="The channel.")] = None,
    video: Annotated[list[str] | None, typer.Option(help="Only this video (repeat).")] = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write to .csv, .xlsx or .parquet.")
    ] = None,
) -> None:
    """The videos as they were at a past time."""
    with _open(db) as history:
        snap = history.snapshot_at(when, profile=profile)
        frame = history.as_of(when, profile=profile, ids=video)
    info(f"Snapshot {snap.snapshot_id if snap else '?'} taken at {snap.taken_at if snap else '?'}")
    if output is not None:
        from dmtools.frames import export_frame

        export_frame(frame, output)
        out(f"Wrote {len(frame):,} videos to {output}")
    else:
        out(_table(frame))


@app.command()
@guarded
def changes(
    start: Annotated[str, typer.Argument(help="From this time or date.")],
    end: Annotated[str, typer.Argument(help="To this time or date.")],
    db: DbOption = DB,
    journal: Annotated[
        list[Path] | None,
        typer.Option(help="A bulk job's journal, or a folder of *.journal files (repeat)."),
    ] = None,
    every_snapshot: Annotated[
        bool, typer.Option(help="Compare each pair of snapshots in between too.")
    ] = False,
    profile: Annotated[str | None, typer.Option(help="The channel.")] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Write to .csv or .parquet.")] = None,
) -> None:
    """What changed between two dates, and which plan changed it."""
    with _open(db) as history:
        frame = history.changes(
            start, end, journals=journal or [], every_snapshot=every_snapshot, profile=profile
        )
    if len(frame):
        explained = int(frame.plan.notna().sum())
        info(f"{len(frame):,} changes, {explained:,} made by a bulk job of the journals given")
    shown = frame.assign(plan=frame.plan.str.slice(0, 12))
    _save_or_show(frame if output else shown.drop(columns=["journal"]), output, "changes")


@app.command()
@guarded
def effect(
    journal: Annotated[list[Path], typer.Argument(help="Journals of bulk edit jobs (or folders).")],
    db: DbOption = DB,
    days: Annotated[float, typer.Option(help="Days before and after each edit.")] = 7,
    profile: Annotated[str | None, typer.Option(help="The channel.")] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Write to .csv or .parquet.")] = None,
) -> None:
    """Views per day before and after each edit of the given bulk jobs."""
    import pandas as pd

    with _open(db) as history:
        frame = history.edit_effect(journal, days=days, profile=profile)
    for plan, part in frame.groupby("plan"):
        before, after = part.views_per_day_before.mean(), part.views_per_day_after.mean()
        if pd.notna(before) and pd.notna(after) and before > 0:
            info(
                f"plan {str(plan)[:12]}: {len(part)} videos edited; mean views/day "
                f"{before:,.1f} before -> {after:,.1f} after ({after / before - 1:+.0%})"
            )
        else:
            info(
                f"plan {str(plan)[:12]}: {len(part)} videos edited; not enough snapshots on "
                f"both sides of the edit within {days:g} days"
            )
    _save_or_show(frame.assign(plan=frame.plan.str.slice(0, 12)), output, "edited videos")


@app.command()
@guarded
def export(
    root: Annotated[Path, typer.Argument(help="The dataset's root folder.")],
    db: DbOption = DB,
    profile: Annotated[str | None, typer.Option(help="The channel.")] = None,
) -> None:
    """Write every snapshot (and stored analytics) as Hive-partitioned Parquet
    (profile=/date=); new files only."""
    with _open(db) as history:
        before = set(root.rglob("*.parquet")) if root.exists() else set()
        paths = history.export(root, profile=profile)
    new = [p for p in paths if p not in before]
    out(f"{len(paths):,} snapshots in {root / 'videos'} ({len(new):,} written now)")


@app.command()
@guarded
def demo(
    db: Annotated[Path, typer.Option("--db", help="The history file.")] = Path(
        "history-demo.duckdb"
    ),
    videos: Annotated[int, typer.Option(help="Videos in the sandbox's channel.")] = 300,
    edited: Annotated[int, typer.Option(help="Videos the bulk edit changes.")] = 20,
    api: Annotated[
        str,
        typer.Option(
            "--api",
            metavar="API",
            help="legacy (the demo user; views from the videos' counters) or v2 (the private "
            "key through API v2; views from the Reporting API).",
        ),
    ] = "legacy",
) -> None:
    """A simulated week on a local sandbox: daily snapshots, a bulk edit on day 0, and its
    effect on views (edited videos against a control group)."""
    from dmtools.dialects import get_dialect
    from dmtools.sandbox import Sandbox

    api = get_dialect(api).name  # an unknown API is refused before anything starts

    journal = db.with_suffix(".journal")
    for path in (db, journal):
        if path.exists():
            raise InputError(f"{path} exists: remove it or pass another --db")
    with Sandbox(videos=videos, seed=7) as sb, _open(db, read_only=False) as history:
        week = _simulated_week(sb, history, journal, edited, api)
        out(f"\nBulk edit: {week.result.counts()['applied']} titles changed (journal {journal})")
        first, last = week.snapshots[0].taken_at, week.snapshots[-1].taken_at
        found = history.changes(first, last, journals=[journal])
        out(
            f"Changes over the week: {len(found)}, {int(found.plan.notna().sum())} attributed to the plan"
        )
        out("\nViews per day per video, 3 days before and after the edit:")
        from dmtools.history.demo import edited_vs_control

        out(_table(edited_vs_control(history, week).round(2)))
    out(f"\nHistory kept in {db}: try `dmtools history list --db {db}`")


def _simulated_week(sb: Sandbox, history: History, journal: Path, edited: int, api: str) -> Week:
    """The demo's week: the demo user on the legacy API; on API v2 the private key, with its
    partner login for the Reporting API's views."""
    from dmtools.analytics import SCOPES
    from dmtools.history.demo import demo_client, simulate_week
    from dmtools.testing import connect_sandbox

    client = demo_client(sb) if api == "legacy" else connect_sandbox(sb, api=api)
    reports = None
    if api != "legacy":
        sb.settings(report_delay=0)  # reports are ready at once in the demo
        reports = connect_sandbox(sb, grant="client_credentials", scope=SCOPES)
    with client:
        return simulate_week(
            sb,
            client,
            history,
            journal=journal,
            edited=edited,
            reports=reports,
            on_day=lambda day, s: out(
                f"day {day:+d}: snapshot {s.snapshot_id} ({s.videos} videos)"
                + ("  <- bulk edit after this snapshot" if day == 0 else "")
            ),
        )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="history")
