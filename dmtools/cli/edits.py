"""``dmtools plan``, ``apply`` and ``undo``: bulk edits with a journal in ``runs/``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from dmtools.cli import _session
from dmtools.cli._common import (
    JobWorkersOption,
    JournalOption,
    ProgressOption,
    ResultOption,
    guarded,
    info,
    out,
)
from dmtools.cli._jobs import already_done, finish, is_journal, show_plan, status_of
from dmtools.cli._runs import check_output, find_snapshot, job_journal, result_path
from dmtools.cli.data import check_suffix
from dmtools.errors import InputError

__all__ = ["apply", "finish", "plan", "register", "show_plan", "undo"]

PLAN_EXAMPLES = """\b
Examples:
  dmtools export videos.csv          # writes videos.csv (and a snapshot in runs/)
  # ... edit videos.csv in a spreadsheet, save it (under any name) ...
  dmtools plan videos.csv            # prints the changes, saves videos.plan.json
  dmtools plan edited.xlsx --snapshot runs/videos.csv.20250101T000000Z.snapshot.parquet
"""

APPLY_EXAMPLES = """\b
Examples:
  dmtools apply videos.plan.json          # journal and results in runs/
  dmtools apply videos.plan.json          # again: resumes, or says it is done (nothing sent)
  dmtools apply videos.plan.json --again  # apply a finished (or undone) plan once more
  dmtools apply runs/videos.plan-0a1b2c3d4e5f.journal   # resume from the journal alone
  dmtools apply fix.plan.json --workers 8 --result fix.csv
"""

UNDO_EXAMPLES = """\b
Examples:
  dmtools undo videos.plan.json      # the latest job of this plan (its journal in runs/)
  dmtools undo runs/videos.plan-0a1b2c3d4e5f.journal --dry-run
"""

OverrideOption = Annotated[
    bool,
    typer.Option(
        "--override-conflicts",
        help="Write even where a video changed since the snapshot (default: report a conflict).",
    ),
]
AgainOption = Annotated[
    bool,
    typer.Option(
        "--again", help="Apply a plan whose job is finished (or undone) once more, as a new job."
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace an existing output file (never a symlink).")
]


@guarded
def plan(
    edited: Annotated[Path, typer.Argument(help="The edited .csv, .xlsx or .parquet file.")],
    snapshot: Annotated[
        Path | None,
        typer.Option(help="The snapshot it was exported from. Default: found by its videos."),
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
    force: ForceOption = False,
) -> None:
    """Compare an edited file with its snapshot: print the changes and save a plan file.

    Nothing is sent: the plan is checked completely (unknown or read-only columns, types,
    allowed values, lengths, duplicate ids) and one bad cell means no plan. The snapshot is
    found from the file's videos, so an edited file saved under another name still works.
    """
    from dmtools.bulk import plan_edits
    from dmtools.bulk._files import read_edited_file
    from dmtools.frames import import_frame
    from dmtools.schema import LIMITS_PARTNER, LIMITS_PUBLIC

    check_suffix(edited, "edited file", writing=False)
    if not edited.is_file():
        raise InputError(f"no such file: {str(edited)!r}")
    target = out_path or edited.with_suffix(".plan.json")
    check_output(target, force=force, option="--out")
    after = read_edited_file(edited)
    if snapshot is not None:
        if not snapshot.is_file():
            raise InputError(f"no snapshot at {str(snapshot)!r}")
        before = import_frame(snapshot)
    else:
        source, before = find_snapshot(edited, after)
        info(f"Snapshot: {source}")
    limits = LIMITS_PARTNER if partner or _session.partner_key_in_use() else LIMITS_PUBLIC
    result = plan_edits(before, after, limits=limits)
    show_plan(result, rows)
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
    result_file: ResultOption = None,
    workers: JobWorkersOption = None,
    override: OverrideOption = False,
    again: AgainOption = False,
    force: ForceOption = False,
    progress: ProgressOption = True,
) -> None:
    """Apply a saved plan, with a journal: progress, per-video results, resume after a crash.

    Each video is read first: one that changed since the snapshot is a conflict and is left
    alone. The journal and the results go to runs/; running the same command again resumes
    the job, or says what the journal already knows (applied, undone) and sends nothing.
    """
    from dmtools.bulk import EditPlan, resume

    if not plan_file.is_file():
        raise InputError(f"no such file: {str(plan_file)!r}")
    if result_file is not None:
        check_output(result_file, force=force, option="--result")
    if is_journal(plan_file):
        target, edit_plan = plan_file, None
        hint = "apply its plan file again with --again"
    else:
        edit_plan = EditPlan.load(plan_file)
        if journal is not None and again:
            raise InputError("--again starts a new journal in runs/: do not pass --journal")
        target = journal or job_journal(plan_file, edit_plan.fingerprint, again=again)
        hint = f"dmtools apply {plan_file} --again"
    status = status_of(target)
    if status is not None and status.finished:
        already_done(status, hint)
        return
    if status is not None:
        info(f"Resuming the {status.kind} job recorded in {target}: {status.describe()}")
    access = "delete" if status is not None and status.kind == "delete" else "edit"
    started = time.perf_counter()
    with _session.open_client(access) as client:
        if edit_plan is None:
            result = resume(
                target, client, workers=workers, progress=progress, override_conflicts=override
            )
        else:
            result = edit_plan.apply(
                client,
                journal=target,
                workers=workers,
                progress=progress,
                override_conflicts=override,
            )
    finish(result, result_file or result_path(target), time.perf_counter() - started)


@guarded
def undo(
    source: Annotated[
        Path,
        typer.Argument(metavar="JOURNAL", help="The journal of the job to undo, or its plan."),
    ],
    journal: JournalOption = None,
    result_file: ResultOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be restored.")
    ] = False,
    force: ForceOption = False,
    workers: JobWorkersOption = None,
    progress: ProgressOption = True,
) -> None:
    """Put back the values a job changed (a video changed again since is a conflict, never
    overwritten; a video whose write was interrupted is read first).

    The undo job has its own journal (JOURNAL.undo.journal) and results; running the same
    command again resumes it, or says it is done.
    """
    from dmtools.bulk import EditPlan, resume, undo_plan
    from dmtools.bulk.status import undo_journal_path

    if is_journal(source):
        path = source
    elif source.is_file():
        path = job_journal(source, EditPlan.load(source).fingerprint)
    else:
        raise InputError(f"no such file: {str(source)!r}")
    if not path.is_file():
        raise InputError(f"no journal at {str(path)!r}: was the plan applied?")
    if result_file is not None:
        check_output(result_file, force=force, option="--result")
    target = journal or undo_journal_path(path)
    status = status_of(target)
    if status is not None and status.finished:
        already_done(status, "")
        return
    restore = undo_plan(path) if status is None else None
    if restore is not None:
        show_plan(restore)
        if not len(restore) or dry_run:
            out("Nothing to undo." if not len(restore) else "Dry run: nothing was sent.")
            return
    elif dry_run:
        out(f"An undo job was started and not finished: {status.describe() if status else ''}")
        return
    started = time.perf_counter()
    with _session.open_client("edit") as client:
        if restore is None:
            info(f"Resuming the undo recorded in {target}")
            result = resume(target, client, workers=workers, progress=progress)
        else:
            result = restore.apply(client, journal=target, workers=workers, progress=progress)
    finish(result, result_file or result_path(target), time.perf_counter() - started)


def register(app: typer.Typer) -> None:
    app.command(epilog=PLAN_EXAMPLES)(plan)
    app.command(epilog=APPLY_EXAMPLES)(apply)
    app.command(epilog=UNDO_EXAMPLES)(undo)
