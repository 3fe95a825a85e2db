"""The plan review panel: see every change, then Apply (with progress) or Cancel."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from dmtools.bulk import ApplyResult, DeletePlan, EditPlan
from dmtools.errors import InputError

from ._shared import error_text, status_html

if TYPE_CHECKING:
    from dmtools.client import Client

__all__ = ["ReviewPanel"]

#: Failures and conflicts listed by name in the result summary.
LISTED_PROBLEMS = 20
_PROBLEMS = ("failed", "conflict", "not_attempted")


class ReviewPanel(w.VBox):
    """Review a bulk edit or delete plan, then apply it with a progress bar, or cancel.

    The table lists every change (video, title, field, old → new) with counts. A delete
    plan is applied only after the exact number of videos was typed in the confirmation
    box. Applying runs :meth:`EditPlan.apply <dmtools.bulk.EditPlan.apply>` (or
    :meth:`DeletePlan.apply <dmtools.bulk.DeletePlan.apply>`) and shows its result, with
    failures and conflicts listed; the result is :attr:`result`.

    Args:
        plan: the plan to review.
        client: the logged-in client that applies it.
        journal: journal file of the job (resume and undo after a crash).
        export_path: deletes only: where the videos' metadata is saved before deleting.
        workers: concurrent requests.
        force: deletes only: allow more videos than the plan's safety cap.
        on_done: called with the :class:`~dmtools.bulk.ApplyResult` after applying.

    Example:
        >>> dm.review_panel(dm.plan_edits(df, edited), client)   # doctest: +SKIP
    """

    def __init__(
        self,
        plan: EditPlan | DeletePlan,
        client: Client,
        *,
        journal: str | os.PathLike[str] | None = None,
        export_path: str | os.PathLike[str] | None = None,
        workers: int = 4,
        force: bool = False,
        on_done: Callable[[ApplyResult], Any] | None = None,
    ) -> None:
        if not isinstance(plan, EditPlan | DeletePlan):
            raise InputError(
                f"review_panel takes an edit or delete plan, not {type(plan).__name__}"
            )
        self.plan = plan
        self.client = client
        self.result: ApplyResult | None = None
        self.error: BaseException | None = None
        self.state = "review"  # then "applying", "done", "failed" or "cancelled"
        self._journal, self._export_path = journal, export_path
        self._workers = workers
        self._on_done = on_done
        self._deleting = isinstance(plan, DeletePlan)
        count = len(plan)

        self.summary = w.HTML(self._summary_html())
        self.table = w.HTML(plan._repr_html_(), layout=w.Layout(max_height="24em", overflow="auto"))
        self.confirm = w.Text(
            description="Confirm",
            style={"description_width": "initial"},
            placeholder=f"type {count} to delete {count} video(s)",
        )
        self.force = w.Checkbox(
            value=force, indent=False, description=f"Allow more than {self._cap()} videos"
        )
        self.apply_button = w.Button(
            description="Delete" if self._deleting else "Apply",
            button_style="danger" if self._deleting else "primary",
            icon="trash" if self._deleting else "check",
        )
        self.cancel_button = w.Button(description="Cancel")
        self.progress = w.IntProgress(
            value=0, min=0, max=max(count, 1), description="Progress", layout=w.Layout(width="34em")
        )
        self.status = w.HTML()
        self.result_view = w.HTML()

        rows: list[Any] = [self.summary, self.table]
        if self._deleting:
            rows.append(
                w.HTML(
                    f"<b>Deleting cannot be undone.</b> Type <code>{count}</code> "
                    "below (the number of videos) to enable the Delete button."
                )
            )
            rows.append(self.confirm)
            if count > self._cap():
                rows.append(self.force)
        rows += [
            w.HBox([self.apply_button, self.cancel_button]),
            self.progress,
            self.status,
            self.result_view,
        ]
        super().__init__(rows)
        self.add_class("dmtools-review-panel")
        self.progress.layout.display = "none"

        self.confirm.observe(self._refresh_button, names="value")
        self.force.observe(self._refresh_button, names="value")
        self.apply_button.on_click(self._on_apply)
        self.cancel_button.on_click(self._on_cancel)
        self._refresh_button()

    def __repr__(self) -> str:
        return f"<dmtools ReviewPanel: {self.plan.kind} plan of {len(self.plan)}, {self.state}>"

    def _cap(self) -> int:
        return self.plan.cap if isinstance(self.plan, DeletePlan) else len(self.plan)

    def _summary_html(self) -> str:
        plan = self.plan
        if isinstance(plan, DeletePlan):
            text = "Nothing is deleted until you type the number of videos and click Delete."
        else:
            text = "Nothing is sent until you click Apply."
        return f"<b>Review the plan.</b> {html.escape(text)}"

    def _confirmed(self) -> bool:
        return self.confirm.value.strip() == str(len(self.plan))

    def _refresh_button(self, change: Any = None) -> None:
        ready = self.state == "review" and self.plan.changes_present
        if self._deleting:
            ready = (
                ready and self._confirmed() and (len(self.plan) <= self._cap() or self.force.value)
            )
        self.apply_button.disabled = not ready
        self.cancel_button.disabled = self.state != "review"
        if self.state == "review" and not self.plan.changes_present:
            self.status.value = status_html("info", "Nothing to change: the plan is empty.")

    def _set_status(self, kind: str, text: str) -> None:
        self.status.value = status_html(kind, text)

    # -- actions --------------------------------------------------------------------------

    def _on_cancel(self, button: Any = None) -> None:
        if self.state != "review":
            return
        self.state = "cancelled"
        self._refresh_button()
        self.confirm.disabled = True
        self._set_status("info", "Cancelled: nothing was sent.")

    def _on_apply(self, button: Any = None) -> None:
        if self.state != "review":
            return
        if self._deleting and not self._confirmed():
            self._set_status(
                "error",
                f"Type the exact number of videos to delete "
                f"({len(self.plan)}) to confirm; nothing was deleted.",
            )
            return
        self.state = "applying"
        self._refresh_button()
        self.confirm.disabled = True
        self.progress.layout.display = ""
        self.progress.bar_style = "info"
        self._set_status("busy", "Deleting…" if self._deleting else "Applying…")
        try:
            if isinstance(self.plan, DeletePlan):
                result = self.plan.apply(
                    self.client,
                    confirm=int(self.confirm.value.strip()),
                    force=self.force.value,
                    export_path=self._export_path,
                    journal=self._journal,
                    workers=self._workers,
                    progress=self._on_progress,
                )
            else:
                result = self.plan.apply(
                    self.client,
                    journal=self._journal,
                    workers=self._workers,
                    progress=self._on_progress,
                )
        except Exception as exc:
            self.error = exc
            self.state = "failed"
            self.progress.bar_style = "danger"
            self._set_status("error", f"Nothing more was sent: {error_text(exc)}")
            return
        self.result = result
        self.state = "done"
        self.progress.value = self.progress.max
        self.progress.bar_style = "success" if result.ok else "warning"
        self._set_status("ok" if result.ok else "error", self._result_text(result))
        self.result_view.value = self._problems_html(result) + result._repr_html_()
        if self._on_done is not None:
            self._on_done(result)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.progress.description = f"{done}/{total}"

    @staticmethod
    def _result_text(result: ApplyResult) -> str:
        counts = (
            ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in result.counts().items() if n)
            or "nothing to do"
        )
        text = f"Done: {counts}."
        if result.stopped:
            text += f"\nStopped early: {result.stopped}"
        if result.export_path is not None:
            text += f"\nThe deleted videos' metadata was saved to {result.export_path}."
        if result.journal_path is not None:
            text += f"\nJournal: {result.journal_path}"
        return text

    def _problems_html(self, result: ApplyResult) -> str:
        problems = [r for r in result.rows if r.status in _PROBLEMS]
        if not problems:
            return ""
        labels = self.plan.labels
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
