"""The review panel's table: every row of a plan, a page at a time, with search, a field
filter, sorting, context (title, views, upload date) and a checkbox per video.

One row per video: its title, id, views and upload date, then each changed field with the
old and the new value, the changed words marked (:mod:`dmtools.bulk.textdiff`). The widgets
of one page are made once and refilled when the page, the search, the filter or the order
changes, so a plan of any size costs the same few dozen widgets.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from dmtools.bulk import DeletePlan, EditPlan
from dmtools.bulk.textdiff import sides, to_html

__all__ = ["PAGE_ROWS", "PlanTable"]

#: Videos shown per page.
PAGE_ROWS = 10
#: Sort orders: label -> (key, descending).
SORTS: dict[str, tuple[str, bool]] = {
    "video id": ("id", False),
    "title": ("title", False),
    "most views": ("views", True),
    "fewest views": ("views", False),
    "newest": ("created", True),
    "oldest": ("created", False),
}
_SHOW = ("all videos", "included", "excluded")
_EDIT_GRID = "grid-template-columns:21em 5.5em minmax(0,1fr) minmax(0,1fr)"
_DELETE_GRID = "grid-template-columns:minmax(0,1fr) 8em 9em"
_CELL = "padding:2px 4px;overflow-wrap:anywhere;line-height:1.35"


@dataclass(frozen=True)
class Entry:
    """One video of the plan, as the table shows and searches it."""

    video_id: str
    title: str
    views: int | None
    created: Any
    changes: tuple[tuple[str, Any, Any], ...]
    text: str  # casefolded id, title and values, for the search box


def _context(plan: EditPlan | DeletePlan) -> Any:
    frame = plan.context if isinstance(plan, EditPlan) else plan.records
    return frame if frame is not None and len(frame) else None


def _number(value: Any) -> int | None:
    try:
        return None if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return None


def entries(plan: EditPlan | DeletePlan) -> list[Entry]:
    """One entry per video of ``plan``, in plan order."""
    frame = _context(plan)
    known: dict[Any, dict[str, Any]] = {} if frame is None else frame.to_dict("index")
    rows: list[tuple[str, tuple[tuple[str, Any, Any], ...]]]
    if isinstance(plan, EditPlan):
        rows = [(op.video_id, tuple((k, o, n) for k, (o, n) in op.changes.items())) for op in plan]
    else:
        rows = [(vid, ()) for vid in plan.video_ids]
    out = []
    for vid, changes in rows:
        info = known.get(vid, {})
        title = plan.labels.get(vid) or info.get("title") or ""
        values = " ".join(f"{k} {o} {n}" for k, o, n in changes)
        out.append(
            Entry(
                vid,
                str(title),
                _number(info.get("views_total")),
                info.get("created_time"),
                changes,
                f"{vid} {title} {values}".casefold(),
            )
        )
    return out


def _sort_key(key: str) -> Callable[[Entry], Any]:
    def value(entry: Entry) -> Any:
        found = {"id": entry.video_id, "title": entry.title.casefold()}.get(key)
        if found is not None:
            return (0, found)
        raw = entry.views if key == "views" else entry.created
        return (0, raw) if raw is not None and raw == raw else (1, 0)

    return value


def _when(value: Any) -> str:
    try:
        return str(value.strftime("%Y-%m-%d"))
    except (AttributeError, ValueError):
        return ""


class PlanTable(w.VBox):
    """A page of the plan with a checkbox per video; :attr:`excluded` holds the unticked.

    Args:
        plan: the plan to show.
        on_change: called after the set of excluded videos changed.
    """

    def __init__(self, plan: EditPlan | DeletePlan, *, on_change: Callable[[], Any]) -> None:
        self.plan = plan
        self.entries = entries(plan)
        self.excluded: set[str] = set()
        self.page = 0
        self._on_change = on_change
        self._refilling = False
        self._locked = False
        self._shown: list[Entry] = []
        self._deleting = isinstance(plan, DeletePlan)
        self.header = w.HTML(self._header_html())
        self.checks = [
            w.Checkbox(value=True, indent=False, layout=w.Layout(width="2.2em", min_width="2.2em"))
            for _ in range(PAGE_ROWS)
        ]
        self.cells = [w.HTML(layout=w.Layout(flex="1 1 auto", width="100%")) for _ in self.checks]
        self.rows = [
            w.HBox([box, cell], layout=w.Layout(border_bottom="1px solid #eee", width="100%"))
            for box, cell in zip(self.checks, self.cells, strict=True)
        ]
        for row in self.rows:
            row.add_class("dmtools-plan-row")
        super().__init__([self._controls(), self.header, *self.rows, self._pager()])
        self.add_class("dmtools-plan-table")
        for box in self.checks:
            box.observe(self._on_tick, names="value")
        self._filter()

    def _controls(self) -> Any:
        """Search box, field filter, order and "show" choice, wired to the table."""
        self.search = w.Text(
            placeholder="search id, title or values",
            continuous_update=False,
            layout=w.Layout(width="18em"),
        )
        fields = [] if isinstance(self.plan, DeletePlan) else list(self.plan.fields)
        self.field = w.Dropdown(
            options=[("every field", "")] + [(f, f) for f in fields],
            layout=w.Layout(width="11em", display="none" if self._deleting else ""),
        )
        self.sort = w.Dropdown(
            options=list(SORTS), value="video id", description="Sort", layout=w.Layout(width="14em")
        )
        self.sort.style.description_width = "3em"
        self.show = w.Dropdown(options=list(_SHOW), layout=w.Layout(width="9em"))
        for control in (self.search, self.field, self.sort, self.show):
            control.observe(self._on_filter, names="value")
        return w.HBox([self.search, self.field, self.sort, self.show])

    def _pager(self) -> Any:
        """Page buttons, where we are, and the buttons that (un)tick every matching row."""
        self.first, self.prev, self.next, self.last = (
            w.Button(icon=icon, tooltip=tip, layout=w.Layout(width="3em"))
            for icon, tip in (
                ("angle-double-left", "first page"),
                ("angle-left", "previous page"),
                ("angle-right", "next page"),
                ("angle-double-right", "last page"),
            )
        )
        self.where = w.HTML()
        self.exclude_shown = w.Button(layout=w.Layout(width="auto"))
        self.include_shown = w.Button(layout=w.Layout(width="auto"))
        for button, step in ((self.first, "first"), (self.prev, -1), (self.next, 1)):
            button.on_click(lambda _b, s=step: self._go(s))
        self.last.on_click(lambda _b: self._go("last"))
        self.exclude_shown.on_click(lambda _b: self._set_matching(excluded=True))
        self.include_shown.on_click(lambda _b: self._set_matching(excluded=False))
        parts = [self.first, self.prev, self.where, self.next, self.last]
        return w.HBox(
            [*parts, self.exclude_shown, self.include_shown],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )

    # -- what is shown --------------------------------------------------------------------

    def matching(self) -> list[Entry]:
        """The entries that pass the search, field and show filters, in the chosen order."""
        needle = self.search.value.strip().casefold()
        field = self.field.value
        show = self.show.value
        found = [
            e
            for e in self.entries
            if (not needle or needle in e.text)
            and (not field or any(k == field for k, _, _ in e.changes))
            and (show == "all videos" or (show == "excluded") == (e.video_id in self.excluded))
        ]
        key, descending = SORTS[self.sort.value]
        ordered = sorted(found, key=lambda e: e.video_id)
        return sorted(ordered, key=_sort_key(key), reverse=descending)

    def _filter(self, change: Any = None) -> None:
        self._matching = self.matching()
        self.page = 0
        self.refill()

    def _on_filter(self, change: Any) -> None:
        self._filter()

    @property
    def pages(self) -> int:
        return max(1, -(-len(self._matching) // PAGE_ROWS))

    def _go(self, step: int | str) -> None:
        if step == "first":
            self.page = 0
        elif step == "last":
            self.page = self.pages - 1
        else:
            self.page = min(max(0, self.page + int(step)), self.pages - 1)
        self.refill()

    def refill(self) -> None:
        """Show the current page."""
        start = self.page * PAGE_ROWS
        self._shown = self._matching[start : start + PAGE_ROWS]
        self._refilling = True
        try:
            for i, row in enumerate(self.rows):
                if i < len(self._shown):
                    entry = self._shown[i]
                    self.checks[i].value = entry.video_id not in self.excluded
                    self.checks[i].description = ""
                    self.cells[i].value = self._row_html(entry)
                    row.layout.display = ""
                else:
                    row.layout.display = "none"
        finally:
            self._refilling = False
        total, n = len(self.entries), len(self._matching)
        span = f"{start + 1:,}–{start + len(self._shown):,}" if self._shown else "none"
        of = f"{n:,}" + (f" matching (of {total:,})" if n != total else "")
        self.where.value = (
            f'<span style="padding:0 1em">Page {self.page + 1:,} of {self.pages:,} · '
            f"videos {span} of {of}</span>"
        )
        self.first.disabled = self.prev.disabled = self.page == 0
        self.next.disabled = self.last.disabled = self.page >= self.pages - 1
        self.exclude_shown.description = f"Exclude these {n:,}"
        self.include_shown.description = f"Include these {n:,}"
        self.exclude_shown.disabled = self.include_shown.disabled = self._locked or n == 0

    # -- ticking ----------------------------------------------------------------------------

    def lock(self, locked: bool = True) -> None:
        """Freeze the selection (while a job of it runs or can be resumed)."""
        self._locked = locked
        for box in self.checks:
            box.disabled = locked
        self.refill()

    def _on_tick(self, change: Any) -> None:
        if self._refilling or self._locked:
            return
        index = self.checks.index(change["owner"])
        if index >= len(self._shown):
            return
        entry = self._shown[index]
        if change["new"]:
            self.excluded.discard(entry.video_id)
        else:
            self.excluded.add(entry.video_id)
        self.cells[index].value = self._row_html(entry)
        self._on_change()

    def _set_matching(self, *, excluded: bool) -> None:
        if self._locked:
            return
        ids = {e.video_id for e in self._matching}
        if excluded:
            self.excluded |= ids
        else:
            self.excluded -= ids
        if self.show.value == "all videos":
            self.refill()
        else:
            self._filter()
        self._on_change()

    def set_excluded(self, ids: set[str]) -> None:
        """Exclude exactly ``ids`` (from code)."""
        self.excluded = set(ids) & {e.video_id for e in self.entries}
        self._filter()
        self._on_change()

    # -- HTML ---------------------------------------------------------------------------

    def _header_html(self) -> str:
        names = (
            ["video", "views", "uploaded"] if self._deleting else ["video", "field", "old", "new"]
        )
        grid = _DELETE_GRID if self._deleting else _EDIT_GRID
        cells = "".join(f'<div style="{_CELL}"><b>{n}</b></div>' for n in names)
        return (
            '<div style="display:flex"><div style="width:2.2em;min-width:2.2em;'
            'font-weight:bold">use</div>'
            f'<div style="display:grid;{grid};flex:1;border-bottom:2px solid #ccc">{cells}</div>'
            "</div>"
        )

    def _video_html(self, entry: Entry) -> str:
        title = html.escape(entry.title or "(no title)")
        facts = [html.escape(entry.video_id)]
        if not self._deleting:
            if entry.views is not None:
                facts.append(f"{entry.views:,} views")
            if _when(entry.created):
                facts.append(_when(entry.created))
        return (
            f"<b>{title}</b><br>"
            f'<span style="color:#666;font-size:85%;white-space:nowrap">{" · ".join(facts)}</span>'
        )

    def _row_html(self, entry: Entry) -> str:
        off = entry.video_id in self.excluded
        style = "opacity:.45;" if off else ""
        if self._deleting:
            views = "" if entry.views is None else f"{entry.views:,}"
            cells = (
                f'<div style="{_CELL}">{self._video_html(entry)}</div>'
                f'<div style="{_CELL};text-align:right">{views}</div>'
                f'<div style="{_CELL}">{_when(entry.created)}</div>'
            )
            return f'<div style="display:grid;{_DELETE_GRID};{style}">{cells}</div>'
        span = max(1, len(entry.changes))
        parts = [f'<div style="{_CELL};grid-row:span {span}">{self._video_html(entry)}</div>']
        for name, old, new in entry.changes:
            left, right = sides(old, new)
            tags = isinstance(old, list) and isinstance(new, list)
            parts.append(f'<div style="{_CELL}">{html.escape(name)}</div>')
            parts.append(f'<div style="{_CELL}">{to_html(left, tags=tags)}</div>')
            parts.append(f'<div style="{_CELL}">{to_html(right, tags=tags)}</div>')
        note = (
            '<div style="grid-column:1 / -1;color:#a00;font-size:small">excluded: not applied</div>'
            if off
            else ""
        )
        return f'<div style="display:grid;{_EDIT_GRID};{style}">{"".join(parts)}{note}</div>'
