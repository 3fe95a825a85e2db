"""The plan review panel: the only way a notebook applies a plan.

See every row (paged, searchable, sortable, with the changed words marked), untick the
videos to leave out, then Apply (or type the count and Delete). The job runs on a background
thread with a journal, so the kernel stays free, the progress keeps moving and Stop ends it
cleanly; Resume finishes it exactly, in this kernel or, from the journal, in a new one.
While the panel holds the plan, ``plan.apply`` in code refuses (:mod:`dmtools.bulk.gate`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from dmtools.bulk import ApplyResult, DeletePlan, EditPlan, Journal
from dmtools.bulk._jobfiles import next_run
from dmtools.bulk.background import BackgroundJob
from dmtools.bulk.check import RUNS_DIR, check_server, default_journal, job_state, unfinished_jobs
from dmtools.bulk.gate import Review, hold, panel_job
from dmtools.bulk.status import plan_of_header
from dmtools.errors import DailymotionError, InputError

from . import _reviewtext as T
from ._plantable import PlanTable
from ._shared import error_text, status_html

if TYPE_CHECKING:
    from dmtools.client import Client

__all__ = ["ReviewPanel"]

#: Seconds between two progress updates sent to the browser.
PROGRESS_EVERY = 0.1


class ReviewPanel(w.VBox):
    """Review a bulk edit or delete plan, choose its rows, apply it with progress, stop and
    resume it, or cancel.

    Args:
        plan: the plan to review, or the path of a job's journal (to resume it).
        client: the logged-in client that applies it.
        journal: the job's journal file; default ``runs/<kind>-<fingerprint>.journal`` for
            the selected rows (so a panel opened again on the same plan finds the job).
        export_path: deletes only: where the videos' metadata is saved before deleting.
        workers: concurrent requests.
        force: deletes only: allow more videos than the plan's safety cap.
        on_done: called with the :class:`~dmtools.bulk.ApplyResult` when a run ends.
        check: read what the server holds now when the panel opens (reads only).
        runs_dir: the folder of default journals, also searched for unfinished jobs.

    Example:
        >>> panel = dm.review_panel(dm.plan_edits(df, edited), client)   # doctest: +SKIP
        >>> panel          # review, untick, Apply; later: panel.result  # doctest: +SKIP
    """

    def __init__(
        self,
        plan: EditPlan | DeletePlan | str | os.PathLike[str],
        client: Client,
        *,
        journal: str | os.PathLike[str] | None = None,
        export_path: str | os.PathLike[str] | None = None,
        workers: int = 4,
        force: bool = False,
        on_done: Callable[[ApplyResult], Any] | None = None,
        check: bool = True,
        runs_dir: str | os.PathLike[str] = RUNS_DIR,
    ) -> None:
        if isinstance(plan, str | os.PathLike):
            journal = plan if journal is None else journal
            with Journal.open(plan) as store:
                header = store.header()
            plan, export_path = plan_of_header(header), header.get("export_path")
        if not isinstance(plan, EditPlan | DeletePlan):
            raise InputError(
                f"review_panel takes an edit or delete plan, not {type(plan).__name__}"
            )
        self.plan, self.client = plan, client
        self.result: ApplyResult | None = None
        self.error: BaseException | None = None
        # then applying, stopping, stopped, done, failed or cancelled; finished: an earlier
        # run (code, command line, another panel) carried the plan out, as its journal says
        self.state = "review"
        self.job: BackgroundJob[ApplyResult] | None = None
        self.check_job: BackgroundJob[Any] | None = None
        self.applied_plan: EditPlan | DeletePlan | None = None
        self._journal, self._export_path = journal, export_path
        self._workers, self._on_done, self._runs = workers, on_done, Path(runs_dir)
        self._deleting = isinstance(plan, DeletePlan)
        self._review = Review(plan.kind)
        hold(plan, self._review)
        self._last_progress = 0.0
        self._build(force)
        self._notice_jobs()
        if check and plan.changes_present and self.state == "review":
            self._start_check()
        self._refresh()

    def _build(self, force: bool) -> None:
        count = len(self.plan)
        self.summary = w.HTML(T.summary_html(self.plan))
        self.notices = w.HTML()
        self.check_view = w.HTML()
        self.table = PlanTable(self.plan, on_change=self._selection_changed)
        self.selection = w.HTML()
        self.confirm = w.Text(
            description="Confirm",
            style={"description_width": "initial"},
            placeholder=f"type {count} to delete {count} video(s)",
        )
        self.force = w.Checkbox(value=force, indent=False, description="")
        self.apply_button = w.Button(
            description="Delete" if self._deleting else "Apply",
            button_style="danger" if self._deleting else "primary",
            icon="trash" if self._deleting else "check",
        )
        self.stop_button = w.Button(description="Stop", icon="stop", button_style="warning")
        self.cancel_button = w.Button(description="Cancel")
        self.progress = w.IntProgress(
            value=0, min=0, max=max(count, 1), description="Progress", layout=w.Layout(width="34em")
        )
        self.progress_text = w.HTML()
        self.status = w.HTML()
        self.result_view = w.HTML()
        self.warning = w.HTML()
        rows: list[Any] = [self.summary, self.notices, self.check_view, self.table, self.selection]
        if self._deleting:
            rows += [self.warning, self.confirm, self.force]
        rows += [
            w.HBox([self.apply_button, self.stop_button, self.cancel_button]),
            w.HBox([self.progress, self.progress_text]),
            self.status,
            self.result_view,
        ]
        super().__init__(rows)
        self.add_class("dmtools-review-panel")
        self.status.add_class("dmtools-review-status")
        self.check_view.add_class("dmtools-review-check")
        self.progress_text.add_class("dmtools-review-progress")
        self.confirm.observe(self._refresh, names="value")
        self.force.observe(self._refresh, names="value")
        self.apply_button.on_click(self._on_apply)
        self.stop_button.on_click(self._on_stop)
        self.cancel_button.on_click(self._on_cancel)
        self._selection_changed()

    def __repr__(self) -> str:
        return f"<dmtools ReviewPanel: {self.plan.kind} plan of {len(self.plan)}, {self.state}>"

    # -- the selection and its job ------------------------------------------------------------

    @property
    def selected_plan(self) -> EditPlan | DeletePlan:
        """The plan of the ticked rows (the whole plan when nothing is excluded)."""
        if self.applied_plan is not None:
            return self.applied_plan
        if not self.table.excluded:
            return self.plan
        return self.plan.drop(sorted(self.table.excluded))

    def exclude(self, ids: Any) -> None:
        """Untick these videos (ids, as for ``plan.drop``), as if done in the table."""
        from dmtools.bulk.selection import chosen_ids

        self.table.set_excluded(
            chosen_ids(ids, [e.video_id for e in self.table.entries], "exclude")
        )

    @property
    def journal_path(self) -> Path:
        """The journal the selected plan's job uses."""
        if self._journal is not None:
            return Path(self._journal)
        return default_journal(self.selected_plan, self._runs)

    def _selection_changed(self) -> None:
        plan = self.selected_plan
        self.selection.value = T.selection_html(self.plan, plan, self.journal_path)
        if self._deleting:
            n = len(plan)
            self.confirm.placeholder = f"type {n} to delete {n} video(s)"
            cap = plan.cap  # type: ignore[union-attr]
            self.force.description = f"Allow more than {cap} videos (the safety cap)"
            self.force.layout.display = "" if n > cap else "none"
            self.warning.value = T.delete_warning(n)
        if hasattr(self, "status"):
            self._refresh()

    def _confirmed(self) -> bool:
        return self.confirm.value.strip() == str(len(self.selected_plan))

    def _refresh(self, change: Any = None) -> None:
        plan = self.selected_plan
        resumable = self.state == "stopped" or (self.state == "review" and self._unfinished())
        again = self.state == "finished" and not self._deleting
        ready = (self.state in ("review", "stopped") or again) and plan.changes_present
        if self._deleting:
            over = len(plan) > plan.cap and not self.force.value  # type: ignore[union-attr]
            ready = ready and self._confirmed() and not over
        self.apply_button.disabled = not ready
        verb = "Delete" if self._deleting else "Apply"
        self.apply_button.description = (
            "Resume" if resumable else f"{verb} again" if again else verb
        )
        self.stop_button.layout.display = "" if self.state in ("applying", "stopping") else "none"
        self.stop_button.disabled = self.state != "applying"
        self.cancel_button.disabled = self.state not in ("review", "stopped")
        self.confirm.disabled = self.state not in ("review", "stopped")
        self.progress.layout.display = "none" if self.state in ("review", "cancelled") else ""
        if self.state == "review" and not plan.changes_present:
            empty = "the plan is empty" if not self.plan.changes_present else "no video is selected"
            self._set_status("info", f"Nothing to change: {empty}.")
        elif self.state == "review" and "Nothing to change" in self.status.value:
            self.status.value = ""

    def _unfinished(self) -> bool:
        state = self._job_state()
        return state is not None and not state.finished and state.done > 0

    def _job_state(self) -> Any:
        try:
            state = job_state(self.journal_path)
        except InputError:
            return None
        return state if state and state.fingerprint == self.selected_plan.fingerprint else None

    def _set_status(self, kind: str, text: str) -> None:
        self.status.value = status_html(kind, text)

    # -- notices: the journal, other jobs, the server ----------------------------------------

    def _notice_jobs(self) -> None:
        notes: list[str] = []
        try:
            state = job_state(self.journal_path)
        except InputError as exc:
            state = None
            notes.append(f"The journal {self.journal_path} cannot be used: {error_text(exc)}")
        if state is not None and state.fingerprint != self.plan.fingerprint:
            notes.append(T.other_plan_journal(self.journal_path))
        elif state is not None and state.finished:
            notes.append(T.finished_text(self.plan, self.journal_path))
            self.state = self._review.state = "finished"
            self.table.lock()
        elif state is not None:
            notes.append(state.sentence())
            self.table.lock()
        others = [
            s
            for s in unfinished_jobs(self._runs)
            if s.fingerprint != self.plan.fingerprint and s.kind == self.plan.kind
        ]
        notes += T.unfinished_notes(others)
        self.notices.value = "".join(status_html("info", n) for n in notes)

    def _start_check(self) -> None:
        plan = self.plan
        self.check_view.value = status_html("busy", "Checking what the server holds now…")

        def progress(done: int, total: int) -> None:
            if done == total or time.monotonic() - self._last_progress > 0.5:
                self._last_progress = time.monotonic()
                self.check_view.value = status_html(
                    "busy", f"Checking what the server holds now: {done:,}/{total:,} videos read…"
                )

        def done(job: BackgroundJob[Any]) -> None:
            if job.error is not None:
                text = f"Could not check the server: {error_text(job.error)}"
                self.check_view.value = status_html("error", text)
            elif job.result is not None and not job.stop_event.is_set():
                kind = "ok" if len(job.result.pending) == job.result.total else "info"
                self.check_view.value = status_html(kind, job.result.sentence())
            else:
                self.check_view.value = ""

        self.check_job = BackgroundJob(
            lambda stop, report: check_server(plan, self.client, stop=stop, progress=report),
            name="dmtools-check",
            on_progress=progress,
            on_done=done,
        ).start()

    # -- actions ------------------------------------------------------------------------------

    def _on_cancel(self, button: Any = None) -> None:
        if self.state not in ("review", "stopped"):
            return
        stopped = self.state == "stopped"
        self.state = self._review.state = "cancelled"
        self.table.lock()
        self._refresh()
        self._set_status("info", T.cancelled_text(stopped, self.journal_path))

    def _on_stop(self, button: Any = None) -> None:
        if self.state == "applying" and self.job is not None:
            self.state = "stopping"
            self.job.stop()
            self._refresh()
            self._set_status("busy", "Stopping after the requests in flight…")

    def _on_apply(self, button: Any = None) -> None:
        if self.state == "finished" and not self.apply_button.disabled:
            self._journal = next_run(self.journal_path)  # a new job: the old one stays
            self.state = "review"
        if self.state not in ("review", "stopped") or self.apply_button.disabled:
            if self._deleting and not self._confirmed():
                self._set_status("error", T.confirm_needed(len(self.selected_plan)))
            return
        plan = self.applied_plan = self.selected_plan
        hold(plan, self._review)
        if self.check_job is not None:
            self.check_job.stop()
        self.state = self._review.state = "applying"
        self.table.lock()
        self.progress.bar_style = "info"
        self._started = time.monotonic()
        self._refresh()
        self._set_status("busy", "Deleting…" if self._deleting else "Applying…")
        self.result_view.value = ""
        self.job = BackgroundJob(
            self._work, name="dmtools-review", on_progress=self._on_progress, on_done=self._finish
        ).start()

    def _work(self, stop: Any, progress: Callable[[int, int], None]) -> ApplyResult:
        plan, journal = self.selected_plan, self.journal_path
        with panel_job(self._review):
            if isinstance(plan, DeletePlan):
                return plan.apply(
                    self.client,
                    confirm=len(plan),
                    force=self.force.value,
                    export_path=self._export_path,
                    journal=journal,
                    workers=self._workers,
                    progress=progress,
                    stop=stop,
                )
            return plan.apply(
                self.client, journal=journal, workers=self._workers, progress=progress, stop=stop
            )

    def _on_progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_progress < PROGRESS_EVERY:
            return
        if self.job is not None and self.job.stop_event.is_set() and done == total:
            return  # a stopped run reports its end as done == total: the result says more
        self._last_progress = now
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.progress_text.value = T.progress_html(done, total, now - self._started)

    def _finish(self, job: BackgroundJob[ApplyResult]) -> None:
        if job.error is not None:
            self.error = job.error
            self.state = self._review.state = "failed" if not self._unfinished() else "stopped"
            self.progress.bar_style = "danger"
            self._set_status("error", T.failure_text(job.error, self.state == "stopped"))
            self._refresh()
            return
        result = self.result = job.result
        assert result is not None
        counts = result.counts()
        left = counts["not_attempted"] + counts["failed"]
        self.state = self._review.state = "stopped" if result.stopped or left else "done"
        done = len(result.rows) - counts["not_attempted"]
        self.progress.max, self.progress.value = max(len(result.rows), 1), done
        self.progress.bar_style = "success" if result.ok else "warning"
        self.progress_text.value = T.progress_html(done, len(result.rows), None)
        kind = "ok" if result.ok else "warn" if self.state == "stopped" else "error"
        self._set_status(kind, T.result_text(result, self.state))
        table = result._repr_html_() if self.state == "done" else ""
        self.result_view.value = T.problems_html(result, self.selected_plan.labels) + table
        self._refresh()
        if self._on_done is not None:
            self._on_done(result)

    # -- for code and tests -----------------------------------------------------------------

    def wait(self, timeout: float | None = 60.0) -> ApplyResult | None:
        """Wait for the panel's running job (apply, else the server check) to end; return
        :attr:`result`. A notebook cell never needs this (the panel updates by itself).

        Raises:
            TimeoutError: still running after ``timeout`` seconds.
        """
        job = self.job or self.check_job
        if job is not None:
            try:
                job.wait(timeout)
            except (DailymotionError, OSError):
                pass  # shown in the panel and kept in .error
        return self.result
