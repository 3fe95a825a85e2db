"""What the review panel says: every sentence it shows, in one place (escaped HTML)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dmtools.bulk import ApplyResult, DeletePlan, EditPlan
from dmtools.bulk.runner import STOPPED_ON_REQUEST

from ._shared import error_text

#: Failures and conflicts listed by name in the result summary.
LISTED_PROBLEMS = 20
_PROBLEMS = ("failed", "conflict", "not_attempted")


def summary_html(plan: EditPlan | DeletePlan) -> str:
    if isinstance(plan, DeletePlan):
        what = f"{len(plan):,} video(s) to delete"
        rule = "Nothing is deleted until you type the number of videos and click Delete."
    else:
        s = plan.summary()
        fields = ", ".join(f"{k} {v:,}" for k, v in s["fields"].items()) or "nothing"
        what = f"{s['videos']:,} video(s) to change ({fields}); {s['unchanged_rows']:,} unchanged"
        rule = "Nothing is sent until you click Apply."
    return (
        f"<b>Review the plan.</b> {html.escape(rule)} Untick a video to leave it out."
        f"<br><small>Plan {plan.fingerprint[:12]}: {html.escape(what)}</small>"
    )


def selection_html(plan: Any, selected: Any, journal: Path) -> str:
    n, total = len(selected), len(plan)
    if n == total:
        text = f"All {total:,} videos selected"
    else:
        text = f"{n:,} of {total:,} videos selected ({total - n:,} excluded)"
    return (
        f"<p><b>{html.escape(text)}</b> · plan {selected.fingerprint[:12]} · journal "
        f"<code>{html.escape(str(journal))}</code></p>"
    )


def delete_warning(n: int) -> str:
    return (
        f"<b>Deleting cannot be undone.</b> Type <code>{n}</code> below (the number of "
        "selected videos) to enable the Delete button. Their metadata is saved to a file "
        "before the first one is deleted."
    )


def other_plan_journal(path: Path) -> str:
    return (
        f"The journal {path} belongs to another plan: applying would be refused. Pass "
        "another journal= (or none: the panel picks one per plan)."
    )


def unfinished_notes(states: Sequence[Any]) -> list[str]:
    notes = []
    for state in states[:3]:
        notes.append(
            f"Another job is unfinished: {state.sentence()} To resume it: "
            f'dm.review_panel("{state.path}", client).'
        )
    if len(states) > 3:
        notes.append(f"… and {len(states) - 3} more unfinished job(s) in {states[0].path.parent}.")
    return notes


def cancelled_text(stopped: bool, journal: Path) -> str:
    if stopped:
        return (
            "Cancelled: nothing more was sent. What the stopped run did is in the journal "
            f"{journal}; a panel opened on it can still resume it."
        )
    return "Cancelled: nothing was sent. A cell that applies this plan in code will refuse."


def confirm_needed(n: int) -> str:
    return f"Type the exact number of videos to delete ({n}) to confirm; nothing was deleted."


def progress_html(done: int, total: int, elapsed: float | None) -> str:
    text = f"{done:,}/{total:,}"
    if elapsed is not None and done and total > done and elapsed > 1:
        left = elapsed / done * (total - done)
        text += f" · {elapsed:,.0f} s, about {left:,.0f} s left"
    return f'<span style="padding-left:1em">{html.escape(text)}</span>'


def failure_text(exc: BaseException, resumable: bool) -> str:
    text = f"Stopped with an error: {error_text(exc)}"
    if resumable:
        return text + "\nThe journal kept every operation: click Resume to finish the job."
    return text + "\nNothing more was sent."


def _counts(result: ApplyResult) -> str:
    return (
        ", ".join(f"{name.replace('_', ' ')} {n:,}" for name, n in result.counts().items() if n)
        or "nothing to do"
    )


def result_text(result: ApplyResult, state: str) -> str:
    counts = result.counts()
    if state == "stopped":
        left = counts["not_attempted"] + counts["failed"]
        done = len(result.rows) - counts["not_attempted"]
        why = "on request" if result.stopped == STOPPED_ON_REQUEST else result.stopped
        lines = [
            f"Stopped at {done:,}/{len(result.rows):,} ({why or 'with failures'}): "
            f"{_counts(result)}.",
            f"{left:,} left: click Resume to finish the job exactly (nothing done is sent again).",
        ]
    else:
        lines = [f"Done: {_counts(result)}."]
    if counts["unchanged"]:
        lines.append(
            f"{counts['unchanged']:,} video(s) already held the new values (done elsewhere): "
            "nothing was sent for them."
        )
    if counts["already_absent"]:
        lines.append(
            f"{counts['already_absent']:,} video(s) were already deleted elsewhere: nothing "
            "was sent for them."
        )
    if result.export_path is not None:
        lines.append(f"The deleted videos' metadata was saved to {result.export_path}.")
    if result.journal_path is not None:
        lines.append(f"Journal: {result.journal_path}")
    return "\n".join(lines)


def problems_html(result: ApplyResult, labels: Mapping[str, str]) -> str:
    wanted = _PROBLEMS[:2] if result.stopped == STOPPED_ON_REQUEST else _PROBLEMS
    problems = [r for r in result.rows if r.status in wanted]
    if not problems:
        return ""
    items = "".join(
        f"<li><code>{html.escape(r.video_id)}</code> "
        f"{html.escape(labels.get(r.video_id, ''))}: <b>{html.escape(r.status)}</b> "
        f"{html.escape(r.message)}</li>"
        for r in problems[:LISTED_PROBLEMS]
    )
    more = len(problems) - LISTED_PROBLEMS
    if more > 0:
        items += f"<li>… and {more} more (see result.to_frame())</li>"
    return f"<p><b>Failures and conflicts ({len(problems)})</b></p><ul>{items}</ul>"


def finished_text(plan: Any, journal: Path) -> str:
    """What the journal of a finished job knows, for a panel opened on its plan again."""
    from dmtools.bulk.status import job_status

    status = job_status(journal)
    again = (
        ""
        if plan.kind == "delete"
        else " Apply again sends its changes once more, with a new journal."
    )
    return f"This plan was {status.describe()} (journal {journal}). Nothing was sent.{again}"
