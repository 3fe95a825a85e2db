"""``dmtools plan``, ``apply``, ``undo`` and ``delete``: bulk changes with a journal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dmtools.cli import _session
from dmtools.cli._common import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_PARTIAL,
    JournalOption,
    ProgressOption,
    ResultOption,
    WorkersOption,
    guarded,
    info,
    out,
)
from dmtools.cli.data import check_suffix, load_channel, snapshot_path
from dmtools.errors import InputError

if TYPE_CHECKING:
    from dmtools.bulk import ApplyResult, DeletePlan, EditPlan

PLAN_EXAMPLES = """\b
Examples:
  dmtools export videos.csv          # writes videos.csv and videos.snapshot.parquet
  # ... edit videos.csv in a spreadsheet, save it ...
  dmtools plan videos.csv            # prints the changes, saves videos.plan.json
  dmtools plan edited.xlsx --snapshot videos.snapshot.parquet --out fix.plan.json
"""

APPLY_EXAMPLES = """\b
Examples:
  dmtools apply videos.plan.json     # journal videos.plan.journal, results videos.plan.result.csv
  dmtools apply videos.plan.json     # again: resumes the job, never sends a change twice
  dmtools apply videos.plan.journal  # resume from the journal alone
  dmtools apply fix.plan.json --workers 8 --result fix.csv
"""

UNDO_EXAMPLES = """\b
Examples:
  dmtools undo videos.plan.journal   # or the plan: dmtools undo videos.plan.json
  dmtools undo videos.plan.journal --dry-run
"""

DELETE_EXAMPLES = """\b
Examples:
  dmtools delete x8abc12 x8abc13               # asks you to type the count
  dmtools delete --from to-delete.csv --confirm 12
  dmtools delete --from ids.txt --snapshot videos.snapshot.parquet --dry-run
\b
Guards: ids must be in the snapshot (default: your channel, loaded now); you confirm the
exact count; more than 10 % of the snapshot or 50 videos needs --force; the videos'
metadata is exported before the first DELETE. Deleting cannot be undone.
"""


# -- shared ---------------------------------------------------------------------------------


def _is_journal(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _default_path(path: Path, suffix: str) -> Path:
    """``fix.plan.json`` -> ``fix.plan<suffix>``; ``x.journal`` -> ``x<suffix>``."""
    return path.with_suffix(suffix)


def show_plan(plan: EditPlan, rows: int = 10, indent: str = "") -> None:
    """The plan's counts and its first changed fields."""
    from dmtools.bulk.render import show

    summary = plan.summary()
    fields = ", ".join(f"{name} {count}" for name, count in summary["fields"].items())
    out(
        f"{indent}Plan {plan.fingerprint[:12]}: {summary['operations']:,} video(s) to change "
        f"({fields or 'nothing'}); {summary['unchanged_rows']:,} unchanged"
    )
    shown = 0
    for op in plan.ops:
        for name, (old, new) in op.changes.items():
            if shown == rows:
                break
            title = show(plan.labels.get(op.video_id), 30)
            out(f"{indent}  {op.video_id}  {title:<30}  {name}: {show(old, 40)} -> {show(new, 40)}")
            shown += 1
    total = sum(len(op.changes) for op in plan.ops)
    if total > shown:
        out(f"{indent}  ... and {total - shown:,} more change(s)")
    for note in plan.notes:
        out(f"{indent}  note: {note}")


def write_result(result: ApplyResult, path: Path) -> Path:
    frame = result.to_frame()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        path.write_text(frame.reset_index().to_json(orient="records", indent=1), encoding="utf-8")
    else:
        frame.to_csv(path)
    return path


def finish(
    result: ApplyResult, result_path: Path | None, seconds: float | None = None, indent: str = ""
) -> None:
    """Print the outcome, write the result file, and exit non-zero unless all went well."""
    counts = ", ".join(f"{status} {n:,}" for status, n in result.counts().items() if n)
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    out(f"{indent}Done{took}: {counts or 'nothing to do'}")
    problems = [r for r in result.rows if r.status in ("conflict", "failed", "not_attempted")]
    for row in problems[:10]:
        out(f"{indent}  {row.video_id}: {row.status}: {row.message}")
    if len(problems) > 10:
        out(f"{indent}  ... and {len(problems) - 10:,} more")
    if result_path is not None:
        out(f"{indent}Results: {write_result(result, result_path)}")
    if result.journal_path is not None:
        out(f"{indent}Journal: {result.journal_path}")
    if result.stopped:
        info(f"error: the job stopped early: {result.stopped}")
        down = result.stopped.startswith("service unavailable")
        raise typer.Exit(EXIT_API if down else EXIT_AUTH)
    if not result.ok:
        info(
            f"error: {len(problems):,} operation(s) were not applied (conflicts, failures or "
            "not attempted); see the results; run the same command again to retry failures"
        )
        raise typer.Exit(EXIT_PARTIAL)


# -- commands -------------------------------------------------------------------------------


@guarded
def plan(
    edited: Annotated[Path, typer.Argument(help="The edited .csv, .xlsx or .parquet file.")],
    snapshot: Annotated[
        Path | None,
        typer.Option(help="The snapshot it was exported from. Default: EDITED.snapshot.parquet."),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Plan file. Default: EDITED.plan.json.")
    ] = None,
    rows: Annotated[int, typer.Option(help="Changes to print.")] = 10,
    partner: Annotated[
        bool,
        typer.Option(
            "--partner",
            help="Check lengths against a private key's limits (default: when the "
            "saved login or DMTOOLS_GRANT is client_credentials).",
        ),
    ] = False,
) -> None:
    """Compare an edited file with its snapshot: print the changes and save a plan file.

    Nothing is sent: the plan is checked completely (unknown or read-only columns, types,
    allowed values, lengths, duplicate ids) and one bad cell means no plan.
    """
    from dmtools.bulk import plan_edits
    from dmtools.frames import import_frame
    from dmtools.schema import LIMITS_PARTNER, LIMITS_PUBLIC

    check_suffix(edited, "edited file")
    if not edited.is_file():
        raise InputError(f"no such file: {str(edited)!r}")
    source = snapshot or snapshot_path(edited)
    if not source.is_file():
        raise InputError(
            f"no snapshot at {str(source)!r}: pass --snapshot (the "
            ".snapshot.parquet file `dmtools export` wrote)"
        )
    limits = LIMITS_PARTNER if partner or _session.partner_key_in_use() else LIMITS_PUBLIC
    result = plan_edits(import_frame(source), edited, limits=limits)
    show_plan(result, rows)
    target = out_path or _default_path(edited, ".plan.json")
    result.save(target)
    out(
        f"Plan saved to {target}"
        + (f"; apply it with: dmtools apply {target}" if len(result) else "")
    )


@guarded
def apply(
    plan_file: Annotated[
        Path,
        typer.Argument(
            metavar="PLAN", help="A plan file from `dmtools plan`, or a journal to resume."
        ),
    ],
    journal: JournalOption = None,
    result_path: ResultOption = None,
    workers: WorkersOption = 4,
    override_conflicts: Annotated[
        bool,
        typer.Option(
            "--override-conflicts",
            help="Write even where a video changed since the snapshot (default: report a "
            "conflict).",
        ),
    ] = False,
    progress: ProgressOption = True,
) -> None:
    """Apply a saved plan, with a journal: progress, per-video results, resume after a crash.

    Each video is read first: one that changed since the snapshot is a conflict and is left
    alone. The journal defaults to PLAN.journal and the results to PLAN.result.csv; running
    the same command again resumes the job from its journal.
    """
    import time

    from dmtools.bulk import EditPlan, resume

    if not plan_file.is_file():
        raise InputError(f"no such file: {str(plan_file)!r}")
    started = time.perf_counter()
    if _is_journal(plan_file):
        from dmtools.bulk import Journal

        with Journal.open(plan_file) as recorded:
            kind = recorded.header().get("kind")
        client = _session.open_client("delete" if kind == "delete" else "edit")
        info(f"Resuming the {kind} job recorded in {plan_file}")
        with client:
            result = resume(
                plan_file,
                client,
                workers=workers,
                progress=progress,
                override_conflicts=override_conflicts,
            )
        finish(
            result,
            result_path or _default_path(plan_file, ".result.csv"),
            time.perf_counter() - started,
        )
        return
    edit_plan = EditPlan.load(plan_file)
    target = journal or _default_path(plan_file, ".journal")
    if target.exists():
        info(f"Resuming the job recorded in {target}")
    client = _session.open_client("edit")
    with client:
        result = edit_plan.apply(
            client,
            journal=target,
            workers=workers,
            progress=progress,
            override_conflicts=override_conflicts,
        )
    finish(
        result,
        result_path or _default_path(plan_file, ".result.csv"),
        time.perf_counter() - started,
    )


@guarded
def undo(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="JOURNAL", help="The journal of the job to undo (or its plan file)."
        ),
    ],
    journal: JournalOption = None,
    result_path: ResultOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be restored.")
    ] = False,
    workers: WorkersOption = 4,
    progress: ProgressOption = True,
) -> None:
    """Put back the values a finished job changed (a video changed again since is a conflict,
    never overwritten).

    The undo job has its own journal (JOURNAL.undo.journal) and results
    (JOURNAL.undo.result.csv).
    """
    from dmtools.bulk import undo_plan

    path = source if _is_journal(source) else _default_path(source, ".journal")
    if not path.is_file():
        raise InputError(f"no journal at {str(path)!r}")
    restore = undo_plan(path)
    show_plan(restore)
    if not len(restore) or dry_run:
        out("Nothing to undo." if not len(restore) else "Dry run: nothing was sent.")
        return
    import time

    started = time.perf_counter()
    client = _session.open_client("edit")
    with client:
        result = restore.apply(
            client,
            journal=journal or _default_path(path, ".undo.journal"),
            workers=workers,
            progress=progress,
        )
    finish(
        result,
        result_path or _default_path(path, ".undo.result.csv"),
        time.perf_counter() - started,
    )


def _ids_from(path: Path) -> list[str]:
    if path.suffix.lower() == ".txt":
        return [
            line.strip()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
    from dmtools.frames import import_frame

    return [str(v) for v in import_frame(path).index]


def _confirmation(plan: DeletePlan, given: int | None) -> int:
    if given is not None:
        return given
    try:
        answer = typer.prompt(
            f"This deletes {len(plan):,} video(s) and cannot be undone. "
            "Type the number of videos to delete",
            default="",
            show_default=False,
            err=True,
        )
    except typer.Abort:
        answer = ""
    if not sys.stdin.isatty():
        info("")  # the answer was not echoed: end the prompt's line
    try:
        return int(str(answer).strip())
    except ValueError:
        raise InputError(
            f"no valid confirmation ({str(answer).strip()!r}); type the count, or "
            "pass --confirm N; nothing was deleted"
        ) from None


@guarded
def delete(
    ids: Annotated[
        list[str] | None, typer.Argument(metavar="ID", help="Video ids to delete.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="FILE",
            help="Ids from a .csv, .xlsx or .parquet file (its id column) or a .txt file.",
        ),
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            help="Check the ids against this snapshot instead of loading your channel now."
        ),
    ] = None,
    confirm: Annotated[
        int | None,
        typer.Option(
            metavar="N", help="The exact number of videos (instead of typing it when asked)."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Allow more than the cap (50 videos or 10 % of the snapshot)."
        ),
    ] = False,
    export_path: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="Where the videos' metadata is saved before deleting (.csv, .xlsx, "
            ".parquet, .json).",
        ),
    ] = None,
    journal: JournalOption = None,
    result_path: ResultOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be deleted.")
    ] = False,
    workers: WorkersOption = 4,
    progress: ProgressOption = True,
) -> None:
    """Delete videos, with guards: exact-count confirmation, a size cap, ids checked against
    a snapshot, and an export of the videos first."""
    import time

    from dmtools.bulk import plan_deletes
    from dmtools.frames import import_frame

    wanted = list(ids or []) + (_ids_from(from_file) if from_file is not None else [])
    if not wanted:
        raise InputError("no video selected: give ids or --from FILE")
    client = _session.open_client("delete")
    with client:
        if snapshot is not None:
            frame = import_frame(snapshot)
        else:
            info("Loading your channel to check the ids against it")
            frame = load_channel(client, progress=progress)
        deletes = plan_deletes(wanted, snapshot=frame)
        out(
            f"Delete plan {deletes.fingerprint[:12]}: {len(deletes):,} video(s) "
            f"(cap without --force: {deletes.cap:,})"
        )
        for vid in deletes.video_ids[:20]:
            out(f"  {vid}  {deletes.labels.get(vid, '')}")
        if len(deletes) > 20:
            out(f"  ... and {len(deletes) - 20:,} more")
        if dry_run:
            out("Dry run: nothing was deleted.")
            return
        if len(deletes) > deletes.cap and not force:
            raise InputError(
                f"{len(deletes):,} videos is over the limit of {deletes.cap:,} for "
                "one delete (50 videos or 10 % of the snapshot); pass --force to "
                "delete them anyway; nothing was deleted"
            )
        count = _confirmation(deletes, confirm)
        started = time.perf_counter()
        result = deletes.apply(
            client,
            confirm=count,
            force=force,
            export_path=export_path,
            journal=journal or Path(f"dmtools-delete-{deletes.fingerprint[:12]}.journal"),
            workers=workers,
            progress=progress,
        )
    if result.export_path is not None:
        out(f"Metadata of the deleted videos: {result.export_path}")
    finish(result, result_path, time.perf_counter() - started)


def register(app: typer.Typer) -> None:
    app.command(epilog=PLAN_EXAMPLES)(plan)
    app.command(epilog=APPLY_EXAMPLES)(apply)
    app.command(epilog=UNDO_EXAMPLES)(undo)
    app.command(epilog=DELETE_EXAMPLES)(delete)
