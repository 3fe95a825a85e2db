"""The plan review panel: every row paged, choose rows, apply in the background, stop and
resume exactly, cancel, and the panel as the only writer (real sandbox, real HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import dmtools as dm
from dmtools.bulk.check import default_journal
from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox
from dmtools.widgets import ReviewPanel, review_panel
from dmtools.widgets._plantable import PAGE_ROWS


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=300, seed=11) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Client:
    return connect_sandbox(sb)


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Default journals (runs/) go to a folder of the test's own."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture()
def df(client: Client) -> pd.DataFrame:
    return dm.load_videos(
        client,
        fields=["id", "title", "description", "tags", "private", "views_total", "created_time"],
        progress=False,
    )


def _retitle(df: pd.DataFrame, ids: list[str], suffix: str) -> pd.DataFrame:
    edited = df.loc[ids].copy()
    edited["title"] = edited["title"].str.slice(0, 80) + suffix
    return edited


def _page_text(panel: ReviewPanel) -> str:
    table = panel.table
    rows = zip(table.cells, table.rows, strict=True)
    return "".join(cell.value for cell, row in rows if row.layout.display != "none")


def _all_pages(panel: ReviewPanel) -> str:
    table, text = panel.table, []
    table._go("first")
    for _ in range(table.pages):
        text.append(_page_text(panel))
        table._go(1)
    return "".join(text)


def _commits(sb: Sandbox, ids: list[str] | set[str]) -> list[str]:
    return [c["video_id"] for c in sb.commits() if c["video_id"] in set(ids)]


def test_every_row_is_reviewed_then_applied_in_the_background(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    ids = list(df.index[:40])
    plan = dm.plan_edits(df, _retitle(df, ids, " [reviewed]"))
    panel = review_panel(plan, client)
    assert isinstance(panel, ReviewPanel)
    panel.wait()  # the server check
    assert "all 40 videos still need this change" in panel.check_view.value
    assert "Nothing is sent until you click Apply" in panel.summary.value
    assert panel.table.pages == -(-40 // PAGE_ROWS)
    shown = _all_pages(panel)
    for vid in ids:  # every row, not the first 200 or 7
        assert vid in shown
    assert "[reviewed]</ins>" in shown
    assert f"{int(df.loc[ids[0], 'views_total']):,} views" in shown  # context columns
    assert not panel.apply_button.disabled and panel.progress.layout.display == "none"

    steps: list[int] = []
    panel.progress.observe(lambda change: steps.append(change["new"]), names="value")
    done: list[object] = []
    panel._on_done = done.append
    panel.apply_button.click()  # returns at once: the job runs on its own thread
    assert panel.state in ("applying", "done")
    result = panel.wait()
    assert panel.state == "done" and result is not None and done == [result]
    assert steps and steps[-1] == 40 and panel.progress.max == 40
    assert result.counts()["applied"] == 40
    assert "Done: applied 40." in panel.status.value
    assert panel.progress.bar_style == "success"
    assert panel.apply_button.disabled and panel.cancel_button.disabled
    assert all(sb.get_video(v)["title"].endswith(" [reviewed]") for v in ids)
    panel.apply_button.click()  # a second click sends nothing more
    assert sorted(_commits(sb, ids)) == sorted(ids)
    assert result.journal_path == default_journal(plan)


def test_search_filter_sort_and_show_excluded(client: Client, df: pd.DataFrame) -> None:
    ids = list(df.index[:30])
    edited = _retitle(df, ids, " (new)")
    edited.loc[ids[:4], "private"] = ~df.loc[ids[:4], "private"]
    panel = ReviewPanel(dm.plan_edits(df, edited), client, check=False)
    table = panel.table
    title = str(df.loc[ids[7], "title"])
    table.search.value = ids[7]
    assert len(table.matching()) == 1 and ids[7] in _page_text(panel)
    table.search.value = ""
    table.field.value = "private"
    assert {e.video_id for e in table.matching()} == set(ids[:4])
    table.field.value = ""
    table.sort.value = "most views"
    views = [e.views for e in table.matching()]
    assert views == sorted(views, reverse=True)
    table.sort.value = "title"
    assert [e.title for e in table.matching()][0] <= title
    table.checks[0].value = False
    first = table._shown[0].video_id
    table.show.value = "excluded"
    assert [e.video_id for e in table.matching()] == [first]
    assert "excluded: not applied" in _page_text(panel)


def test_unticked_videos_are_not_applied_and_the_fingerprint_follows(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    ids = list(df.index[40:46])
    plan = dm.plan_edits(df, _retitle(df, ids, " (some)"))
    panel = ReviewPanel(plan, client, check=False)
    panel.table.search.value = ids[1]
    panel.table.checks[0].value = False  # untick in the table
    panel.table.search.value = ""
    panel.exclude([ids[1], ids[4]])  # the same from code
    assert panel.selected_plan.fingerprint == plan.drop([ids[1], ids[4]]).fingerprint
    assert "4 of 6 videos selected (2 excluded)" in panel.selection.value
    assert panel.selected_plan.fingerprint[:12] in panel.selection.value
    panel.apply_button.click()
    result = panel.wait()
    assert result is not None and len(result) == 4
    assert sorted(_commits(sb, ids)) == sorted(set(ids) - {ids[1], ids[4]})
    assert not sb.get_video(ids[1])["title"].endswith(" (some)")
    assert panel.table.checks[0].disabled  # the selection of a job is fixed


def test_stop_then_resume_completes_exactly(sb: Sandbox, client: Client, df: pd.DataFrame) -> None:
    ids = list(df.index[100:160])
    plan = dm.plan_edits(df, _retitle(df, ids, " (slow)"))
    panel = ReviewPanel(plan, client, check=False, workers=2)
    stopped_at: list[int] = []

    def stop_after_ten(change: dict[str, int]) -> None:
        if change["new"] >= 10 and not stopped_at:
            stopped_at.append(change["new"])
            panel.stop_button.click()

    panel.progress.observe(stop_after_ten, names="value")
    sb.set_faults(latency=0.01)
    try:
        panel.apply_button.click()
        first = panel.wait()
        assert panel.state == "stopped" and first is not None
        sent = len(_commits(sb, ids))
        assert 10 <= sent < len(ids) and first.counts()["applied"] == sent
        assert "Stopped at" in panel.status.value and "Resume" in panel.status.value
        assert panel.apply_button.description == "Resume" and not panel.apply_button.disabled
        with pytest.raises(dm.InputError, match="stopped this edit plan part way"):
            plan.apply(client)  # code cannot write behind the panel
        panel.apply_button.click()
        second = panel.wait()
    finally:
        sb.set_faults()
    assert panel.state == "done" and second is not None
    assert second.counts()["applied"] == len(ids)
    assert sorted(_commits(sb, ids)) == sorted(ids)  # each video written exactly once


def test_a_new_panel_resumes_a_job_from_its_journal(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    ids = list(df.index[160:170])
    plan = dm.plan_edits(df, _retitle(df, ids, " (kernel died)"))
    journal = default_journal(plan)
    stop = threading.Event()

    def die_after_three(done: int, total: int) -> None:
        if done >= 3:
            stop.set()  # like a kernel that died part way: the journal has the rest

    first = plan.apply(
        client, journal=journal, stop=stop, progress=die_after_three, workers=1, batch=False
    )
    sent = first.counts()["applied"]
    assert 3 <= sent < len(ids)
    again = ReviewPanel(plan, client, check=False)  # the same plan, in a new kernel
    assert f"stopped at {sent}/10" in again.notices.value
    assert again.apply_button.description == "Resume" and again.table.checks[0].disabled
    panel = review_panel(str(journal), client)  # or the journal itself
    assert panel.plan.fingerprint == plan.fingerprint and panel._journal == str(journal)
    assert panel.apply_button.description == "Resume"
    panel.apply_button.click()
    assert panel.wait() is not None and panel.state == "done"
    assert sorted(_commits(sb, ids)) == sorted(ids)  # exactly once each
    later = ReviewPanel(plan, client, check=False)
    assert "already applied on" in later.notices.value and "Nothing was sent" in later.notices.value
    assert later.state == "finished" and later.apply_button.description == "Apply again"
    with pytest.raises(dm.InputError, match="already carried out, as its journal says"):
        plan.apply(client)


def test_cancel_sends_nothing_and_code_cannot_apply_behind_it(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    vid = df.index[5]
    plan = dm.plan_edits(df, _retitle(df, [vid], " (never)"))
    panel = review_panel(plan, client, check=False)
    requests = len(sb.request_log())
    with pytest.raises(dm.InputError, match="waiting in its review panel"):
        plan.apply(client)
    panel.cancel_button.click()
    assert panel.state == "cancelled" and "nothing was sent" in panel.status.value
    assert panel.apply_button.disabled
    panel.apply_button.click()
    with pytest.raises(dm.InputError, match="cancelled in its review panel"):
        plan.apply(client, journal="x.journal")
    assert len(sb.request_log()) == requests and panel.result is None
    assert not Path("x.journal").exists()
    assert not sb.get_video(vid)["title"].endswith(" (never)")
    fresh = dm.plan_edits(df, _retitle(df, [vid], " (never)"))  # built again: on purpose
    assert fresh.apply(client, progress=False).counts()["applied"] == 1


def test_the_panel_notices_work_done_by_another_path(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    ids = list(df.index[170:174])
    edited = _retitle(df, ids, " (elsewhere)")
    dm.plan_edits(df, edited).apply(client, progress=False)  # e.g. from code or the CLI
    panel = ReviewPanel(dm.plan_edits(df, edited), client)
    panel.wait()
    assert "Already done elsewhere: all 4 videos hold the new values" in panel.check_view.value
    commits = len(sb.commits())
    panel.apply_button.click()
    result = panel.wait()
    assert result is not None and result.counts()["unchanged"] == 4
    assert "already held the new values" in panel.status.value
    assert len(sb.commits()) == commits

    gone = list(df.index[174:176])
    deletes = dm.plan_deletes(df.loc[gone], snapshot=df)
    sb.delete_video(gone[0])
    panel = ReviewPanel(deletes, client, export_path="deleted.csv")
    panel.wait()
    assert "1 of 2 videos are already gone" in panel.check_view.value
    panel.confirm.value = "2"
    panel.apply_button.click()
    result = panel.wait()
    assert result is not None and result.counts() == {**result.counts(), "already_absent": 1}
    assert "already deleted elsewhere" in panel.status.value


def test_a_long_text_shows_where_it_changed(client: Client, df: pd.DataFrame) -> None:
    vid = df.index[180]
    edited = df.loc[[vid]].copy()
    start = "An intro that goes on and on. " * 60
    before = df.copy()
    before.loc[vid, "description"] = start + "The end is near."
    edited.loc[vid, "description"] = start + "The end is here."
    panel = ReviewPanel(dm.plan_edits(before, edited), client, check=False)
    text = _page_text(panel)
    assert ">near</del>" in text and ">here</ins>" in text
    assert len(text) < 3000  # the unchanged stretch is shortened, not the change


def test_delete_needs_the_exact_count_of_the_selected_videos(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    ids = list(df.index[190:193])
    plan = dm.plan_deletes(df.loc[ids], snapshot=df)
    panel = review_panel(plan, client, export_path="deleted.csv", check=False)
    assert panel.apply_button.description == "Delete"
    assert all(vid in _page_text(panel) for vid in ids)
    panel.exclude([ids[2]])
    assert panel.apply_button.disabled
    for wrong in ("", "3", "1", "two", " 2x"):
        panel.confirm.value = wrong
        assert panel.apply_button.disabled
        panel.apply_button.click()  # even a programmatic click is refused
        assert "Type the exact number" in panel.status.value
    with pytest.raises(dm.InputError, match="after typing the number of videos"):
        plan.apply(client, confirm=3)
    assert all(sb.get_video(vid) is not None for vid in ids)
    panel.confirm.value = " 2 "
    assert not panel.apply_button.disabled
    panel.apply_button.click()
    result = panel.wait()
    assert result is not None and result.counts()["deleted"] == 2, panel.status.value
    assert sb.get_video(ids[0]) is None and sb.get_video(ids[1]) is None
    assert sb.get_video(ids[2]) is not None  # unticked: kept
    assert Path("deleted.csv").exists() and "deleted.csv" in panel.status.value
    assert panel.confirm.disabled


def test_delete_over_the_cap_needs_the_force_box(client: Client, df: pd.DataFrame) -> None:
    ids = list(df.index[200:235])  # 35 of ~290 rows: over the 10 % cap
    plan = dm.plan_deletes(df.loc[ids], snapshot=df)
    assert len(plan) > plan.cap
    panel = ReviewPanel(plan, client, export_path="deleted.json", check=False)
    assert panel.force.layout.display == ""
    panel.confirm.value = str(len(plan))
    assert panel.apply_button.disabled
    panel.force.value = True
    assert not panel.apply_button.disabled
    panel.apply_button.click()
    result = panel.wait()
    assert result is not None and result.counts()["deleted"] == len(ids)


def test_conflicts_and_failures_are_listed_in_the_result(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    ids = list(df.index[10:13])
    plan = dm.plan_edits(df, _retitle(df, ids, " v2"))
    sb.edit_video(ids[0], title="changed by someone else")  # -> conflict
    sb.delete_video(ids[1])  # -> failed (gone)
    panel = ReviewPanel(plan, client)
    panel.wait()
    assert "1 changed since the plan was made" in panel.check_view.value
    assert "1 no longer exist" in panel.check_view.value
    panel.apply_button.click()
    result = panel.wait()
    assert result is not None
    statuses = result.to_frame()["op_status"].to_dict()
    assert statuses[ids[0]] == "conflict" and statuses[ids[2]] == "applied"
    assert statuses[ids[1]] != "applied"
    view = panel.result_view.value
    assert "Failures and conflicts (2)" in view
    assert ids[0] in view and ids[1] in view and "conflict" in view
    assert "applied 1" in panel.status.value
    assert sb.get_video(ids[0])["title"] == "changed by someone else"


def test_an_empty_plan_cannot_be_applied(client: Client, df: pd.DataFrame) -> None:
    panel = ReviewPanel(dm.plan_edits(df, df.copy()), client)
    assert panel.apply_button.disabled and "the plan is empty" in panel.status.value


def test_a_journal_of_another_plan_is_named_and_refused(client: Client, df: pd.DataFrame) -> None:
    journal = Path("job.journal")
    first = ReviewPanel(
        dm.plan_edits(df, _retitle(df, [df.index[20]], " a")), client, journal=journal
    )
    first.apply_button.click()
    first.wait()
    other = ReviewPanel(
        dm.plan_edits(df, _retitle(df, [df.index[21]], " b")), client, journal=journal
    )
    assert "belongs to another plan" in other.notices.value
    other.apply_button.click()
    other.wait()
    assert other.state == "failed" and other.error is not None
    assert other.status.value.count("Nothing more was sent") == 1
    assert other.progress.bar_style == "danger"


def test_unfinished_jobs_of_other_plans_are_listed(client: Client, df: pd.DataFrame) -> None:
    plan = dm.plan_edits(df, _retitle(df, [df.index[22]], " c"))
    stop = threading.Event()
    stop.set()
    plan.apply(client, journal=default_journal(plan), stop=stop, progress=False)
    panel = ReviewPanel(dm.plan_edits(df, _retitle(df, [df.index[23]], " d")), client)
    assert "Another job is unfinished" in panel.notices.value
    assert str(default_journal(plan)) in panel.notices.value


def test_review_panel_refuses_something_that_is_not_a_plan(client: Client) -> None:
    with pytest.raises(dm.InputError):
        review_panel("not a plan", client)
    with pytest.raises(dm.InputError):
        review_panel(42, client)  # type: ignore[arg-type]


def test_a_rerun_says_what_the_journal_knows_and_applies_again_only_when_asked(
    sb: Sandbox, client: Client, df: pd.DataFrame, tmp_path: Path
) -> None:
    ids = list(df.index[50:54])
    plan = dm.plan_edits(df, _retitle(df, ids, " [twice]"))
    journal = tmp_path / "runs" / "twice.journal"
    journal.parent.mkdir(exist_ok=True)
    plan.apply(client, journal=journal)
    dm.bulk.undo_plan(journal).apply(client, journal=tmp_path / "runs" / "twice.undo.journal")
    before = len(sb.commits())
    panel = ReviewPanel(plan, client, journal=journal, check=False)
    text = panel.notices.value
    assert "already applied on" in text and "undone on" in text and "(4 restored)" in text
    assert "Nothing was sent" in text and len(sb.commits()) == before
    assert panel.state == "finished" and not panel.apply_button.disabled
    assert panel.apply_button.description == "Apply again"
    panel.apply_button.click()  # what the user wants: the same changes once more
    result = panel.wait()
    assert result is not None and result.counts()["applied"] == 4 and panel.state == "done"
    assert panel.journal_path.name == "twice.run2.journal" and journal.exists()
    assert sorted(_commits(sb, ids)) == sorted(ids * 3)  # apply, undo, apply again
    titles = dm.load_videos(client).loc[ids, "title"]
    assert all(t.endswith(" [twice]") for t in titles)


def test_a_finished_delete_is_not_offered_again(
    sb: Sandbox, client: Client, df: pd.DataFrame, tmp_path: Path
) -> None:
    ids = list(df.index[60:62])
    plan = dm.plan_deletes(df.loc[ids], snapshot=df)
    journal = tmp_path / "del.journal"
    plan.apply(client, confirm=2, journal=journal, export_path=tmp_path / "gone.csv")
    panel = ReviewPanel(plan, client, journal=journal, check=False)
    assert "already deleted on" in panel.notices.value, panel.notices.value
    assert panel.state == "finished" and panel.apply_button.disabled
    assert "Apply again" not in panel.notices.value
