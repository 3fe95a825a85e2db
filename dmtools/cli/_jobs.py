"""What ``plan``, ``apply``, ``undo``, ``delete`` and the demo share: printing a plan, the
outcome of a job, its result file, and what a journal already knows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dmtools.cli._common import EXIT_API, EXIT_AUTH, EXIT_PARTIAL, info, out

if TYPE_CHECKING:
    from dmtools.bulk import ApplyResult, EditPlan, JobStatus

__all__ = ["already_done", "finish", "is_journal", "show_plan", "status_of", "write_result"]


def is_journal(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


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
    """The result rows as CSV or JSON (through a temporary file, never a symlink)."""
    from dmtools._safefiles import atomic_write, check_target

    check_target(path, overwrite=True)
    frame = result.to_frame()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        text = frame.reset_index().to_json(orient="records", indent=1)
        return atomic_write(path, text, mode=0o666, fsync=False)
    return atomic_write(path, frame.to_csv, mode=0o666, fsync=False)


def status_of(journal: Path) -> JobStatus | None:
    """What the journal knows, or None when it holds no job yet (refuses a damaged one)."""
    from dmtools.bulk import JournalError, job_status

    if not journal.exists() and not journal.is_symlink():
        return None
    try:
        status = job_status(journal)
    except JournalError as exc:
        if "holds no job" in exc.message:
            return None
        raise
    if status.running:
        from dmtools.bulk._jobfiles import busy

        raise busy(journal)
    return status


def already_done(status: JobStatus, again_hint: str, indent: str = "") -> None:
    """Say what the journal knows about a finished job: nothing is sent."""
    if status.undo_of:
        what = f"The undo of {Path(status.undo_of).name} (plan {status.fingerprint[:12]})"
        text = status.describe().replace("already applied", "already done")
        out(f"{indent}{what} was {text.replace(' applied', ' restored')}; nothing sent.")
    else:
        out(f"{indent}Plan {status.fingerprint[:12]} was {status.describe()}; nothing sent.")
    out(f"{indent}Journal: {status.path}")
    if again_hint:
        out(f"{indent}To run it again: {again_hint}")


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
