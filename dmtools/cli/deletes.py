"""``dmtools delete``: guarded deletes, with a backup written before the first DELETE."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dmtools._safefiles import check_target
from dmtools.bulk.delete_plan import cap_rule
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
from dmtools.cli._jobs import already_done, finish, status_of
from dmtools.cli._runs import result_path, runs_dir
from dmtools.cli.data import ProfileOption, load_channel, profile_arg
from dmtools.errors import InputError

if TYPE_CHECKING:
    from dmtools.bulk import DeletePlan

__all__ = ["delete", "register"]

DELETE_EXAMPLES = f"""\b
Examples:
  dmtools delete x8abc12 x8abc13               # asks you to type the count
  dmtools delete --from to-delete.csv --confirm 12
  dmtools delete --from ids.txt --snapshot runs/videos.csv.20250101T000000Z.snapshot.parquet --dry-run
\b
Guards: ids must be in the snapshot (default: your channel, loaded now); you confirm the
exact count; more than {cap_rule()} needs --force; the videos'
metadata is saved to a new file (runs/deleted-...json, or --export) and read back before
the first DELETE. Deleting cannot be undone.
"""


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


IdsArgument = Annotated[list[str] | None, typer.Argument(metavar="ID", help="Video ids to delete.")]
FromOption = Annotated[
    Path | None,
    typer.Option(
        "--from",
        metavar="FILE",
        help="Ids from a .csv, .xlsx or .parquet file (its id column) or a .txt file.",
    ),
]
SnapshotOption = Annotated[
    Path | None,
    typer.Option(help="Check the ids against this snapshot instead of loading your channel now."),
]
ConfirmOption = Annotated[
    int | None,
    typer.Option(metavar="N", help="The exact number of videos (instead of typing it when asked)."),
]
CapOption = Annotated[
    bool,
    typer.Option("--force", help=f"Allow more than the cap ({cap_rule()})."),
]
ExportOption = Annotated[
    Path | None,
    typer.Option(
        "--export",
        help="A new file where the videos' metadata is saved before deleting (.csv, "
        ".xlsx, .parquet, .json; an existing path is refused). Default: in runs/.",
    ),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Only show what would be deleted.")]


def _planned(
    client: Any,
    wanted: list[str],
    snapshot: Path | None,
    progress: bool,
    profile: str | list[str] | None = None,
) -> DeletePlan:
    """The delete plan of ``wanted``, checked against the snapshot (or the channel), shown."""
    from dmtools.bulk import plan_deletes
    from dmtools.frames import import_frame

    if snapshot is not None:
        frame = import_frame(snapshot)
    else:
        info("Loading your channel to check the ids against it")
        frame = load_channel(client, progress=progress, profile=profile)
    deletes = plan_deletes(wanted, snapshot=frame)
    out(
        f"Delete plan {deletes.fingerprint[:12]}: {len(deletes):,} video(s) "
        f"(cap without --force: {deletes.cap:,})"
    )
    for vid in deletes.video_ids[:20]:
        out(f"  {vid}  {deletes.labels.get(vid, '')}")
    if len(deletes) > 20:
        out(f"  ... and {len(deletes) - 20:,} more")
    return deletes


@guarded
def delete(
    ids: IdsArgument = None,
    from_file: FromOption = None,
    snapshot: SnapshotOption = None,
    confirm: ConfirmOption = None,
    force: CapOption = False,
    export_path: ExportOption = None,
    journal: JournalOption = None,
    result_file: ResultOption = None,
    dry_run: DryRunOption = False,
    profile: ProfileOption = None,
    workers: JobWorkersOption = None,
    progress: ProgressOption = True,
) -> None:
    """Delete videos, with guards: exact-count confirmation, a size cap, ids checked against
    a snapshot, and a backup of the videos (a new file, on disk) before the first DELETE."""
    wanted = list(ids or []) + (_ids_from(from_file) if from_file is not None else [])
    if not wanted:
        raise InputError("no video selected: give ids or --from FILE")
    if export_path is not None:
        check_target(export_path, overwrite=False, hint="a backup is always a new file")
    if result_file is not None:
        check_target(result_file, overwrite=False, hint="choose another --result")
    with _session.open_client("delete") as client:
        deletes = _planned(client, wanted, snapshot, progress, profile_arg(profile))
        if dry_run:
            out("Dry run: nothing was deleted.")
            return
        target = journal or runs_dir() / f"delete-{deletes.fingerprint[:12]}.journal"
        status = status_of(target)
        if status is not None and status.finished:
            already_done(status, "")
            return
        deletes.check_cap(force=force)
        count = _confirmation(deletes, confirm)
        started = time.perf_counter()
        result = deletes.apply(
            client,
            confirm=count,
            force=force,
            export_path=export_path,
            journal=target,
            workers=workers,
            progress=progress,
        )
    if result.export_path is not None:
        out(f"Metadata of the deleted videos (saved before deleting): {result.export_path}")
    finish(result, result_file or result_path(target), time.perf_counter() - started)


def register(app: typer.Typer) -> None:
    app.command(epilog=DELETE_EXAMPLES)(delete)
