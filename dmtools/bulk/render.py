"""Text and HTML views of plans and results (escaped, truncated, bounded in size)."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any, cast

from dmtools.bulk._values import is_cleared

if TYPE_CHECKING:
    from dmtools.bulk._base import PlanBase
    from dmtools.bulk.delete_plan import DeletePlan
    from dmtools.bulk.plan import EditPlan
    from dmtools.bulk.result import ApplyResult

#: Longest value shown in a table cell before it is cut with an ellipsis.
CELL_CHARS = 60
#: Rows shown in a rendered table; the rest are counted.
MAX_ROWS = 200

#: Inline cell style: notebook front ends restyle tables, and some drop <style> blocks.
_CELL = "text-align:left;vertical-align:top;padding:2px 8px"


def show(value: Any, limit: int = CELL_CHARS) -> str:
    """A value as short readable text: lists as JSON, None as ``(empty)``."""
    if value is None:
        text = "(empty)"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(
    headers: list[str],
    rows: list[list[tuple[str, str]]],
    total: int,
    caption: str,
    notes: tuple[str, ...] = (),
) -> str:
    """rows: cells as (css class, raw text); every text is escaped here."""
    out = [
        '<table class="dmtools-table">',
        f"<caption style='text-align:left'>{html.escape(caption)}</caption><thead><tr>",
    ]
    out += [f'<th style="{_CELL}">{html.escape(h)}</th>' for h in headers]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = "".join(
            f'<td class="{css}" style="{_CELL}">{text}</td>'  # diff HTML, escaped by textdiff
            if css
            else f'<td style="{_CELL}">{html.escape(text)}</td>'
            for css, text in row
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    if total > len(rows):
        out.append(
            f"<p>… and {total - len(rows)} more row(s): page through all of them in "
            "dm.review_panel(plan, client), or see plan.to_frame().</p>"
        )
    out += [f"<p>{html.escape(note)}</p>" for note in notes]
    return "".join(out)


def _edit_rows(plan: EditPlan, *, as_html: bool = True) -> tuple[list[list[tuple[str, str]]], int]:
    """One row per changed field; old and new show where they differ (word level)."""
    from dmtools.bulk.textdiff import sides, to_html, to_text

    rows: list[list[tuple[str, str]]] = []
    total = 0
    for op in plan.ops:
        for name, (old, new) in op.changes.items():
            total += 1
            if len(rows) < MAX_ROWS:
                left, right = sides(old, new)
                tags = isinstance(old, list) and isinstance(new, list)
                shown = to_html if as_html else to_text
                a, b = shown(left, tags=tags), shown(right, tags=tags)
                rows.append(
                    [
                        ("", op.video_id),
                        ("", show(plan.labels.get(op.video_id), 40)),
                        ("", name),
                        ("old", a),
                        ("new", "clear" if is_cleared(new) and not tags else b),
                    ]
                )
    return rows, total


def _caption(plan: EditPlan) -> str:
    s = plan.summary()
    fields = ", ".join(f"{k} {v}" for k, v in s["fields"].items()) or "none"
    return (
        f"Edit plan {plan.fingerprint[:12]}: {s['operations']} video(s) to change "
        f"({fields}; {s['clears']} clear(s)); {s['unchanged_rows']} row(s) unchanged"
    )


def plan_html(plan: PlanBase) -> str:
    """The HTML table of a plan (edit or delete)."""
    if plan.kind == "delete":
        return delete_html(cast("DeletePlan", plan))
    edits = cast("EditPlan", plan)
    rows, total = _edit_rows(edits)
    return _table(
        ["video", "title", "field", "old", "→ new"], rows, total, _caption(edits), edits.notes
    )


def plan_text(plan: PlanBase) -> str:
    """The text view of a plan (edit or delete)."""
    if plan.kind == "delete":
        return delete_text(cast("DeletePlan", plan))
    edits = cast("EditPlan", plan)
    rows, total = _edit_rows(edits, as_html=False)
    lines = [_caption(edits)]
    lines += [f"  {r[0][1]}  {r[2][1]}: {r[3][1]} → {r[4][1]}" for r in rows[:20]]
    if total > 20:
        lines.append(f"  … and {total - 20} more change(s)")
    lines += [f"  note: {n}" for n in edits.notes]
    return "\n".join(lines)


def _delete_caption(plan: DeletePlan) -> str:
    return (
        f"Delete plan {plan.fingerprint[:12]}: {len(plan)} video(s) to delete "
        "(dry run unless applied with confirm=<count>)"
    )


def _delete_rows(plan: DeletePlan) -> list[list[tuple[str, str]]]:
    return [[("", vid), ("", show(plan.labels.get(vid), 60))] for vid in plan.video_ids[:MAX_ROWS]]


def delete_html(plan: DeletePlan) -> str:
    return _table(["video", "title"], _delete_rows(plan), len(plan), _delete_caption(plan))


def delete_text(plan: DeletePlan) -> str:
    lines = [_delete_caption(plan)]
    lines += [f"  {r[0][1]}  {r[1][1]}" for r in _delete_rows(plan)[:20]]
    if len(plan) > 20:
        lines.append(f"  … and {len(plan) - 20} more")
    return "\n".join(lines)


def _result_caption(result: ApplyResult) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in result.counts().items() if v)
    prefix = "Dry run" if result.dry_run else "Result"
    caption = f"{prefix} of plan {result.fingerprint[:12]}: {counts or 'nothing to do'}"
    if result.already_finished:
        caption += " (already done by an earlier run: nothing sent)"
    return caption + (f"; aborted: {result.stopped}" if result.stopped else "")


def _result_rows(result: ApplyResult) -> list[list[tuple[str, str]]]:
    ordered = sorted(
        result.rows, key=lambda r: (r.status in ("applied", "unchanged", "deleted"), r.op_id)
    )
    return [
        [
            ("", str(r.op_id)),
            ("", r.video_id),
            ("", r.status),
            ("", "" if r.http_status is None else str(r.http_status)),
            ("", r.error_type or ""),
            ("", show(r.message, 100)),
        ]
        for r in ordered[:MAX_ROWS]
    ]


def result_html(result: ApplyResult) -> str:
    headers = ["op", "video", "status", "http", "error", "message"]
    return _table(headers, _result_rows(result), len(result.rows), _result_caption(result))


def result_text(result: ApplyResult) -> str:
    lines = [_result_caption(result)]
    problems = [r for r in result.rows if r.status in ("failed", "conflict")]
    lines += [
        f"  {r.video_id}: {r.status} {r.error_type or ''} {show(r.message, 100)}".rstrip()
        for r in problems[:20]
    ]
    if len(problems) > 20:
        lines.append(f"  … and {len(problems) - 20} more")
    return "\n".join(lines)
