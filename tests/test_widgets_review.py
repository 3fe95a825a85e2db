"""The plan review panel: table, Apply with progress, Cancel, results, delete confirmation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import dmtools as dm
from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.widgets import ReviewPanel, review_panel


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=60, seed=11) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Client:
    key, user = sb.credentials.public_key, sb.credentials.user
    return dm.connect(
        "password",
        client_id=key.client_id,
        client_secret=key.client_secret,
        username=user.username,
        password=user.password,
        scope=["manage_videos"],
        endpoints=sb.endpoints,
    )


@pytest.fixture()
def df(client: Client) -> pd.DataFrame:
    return dm.load_videos(
        client, fields=["id", "title", "tags", "private", "views_total"], progress=False
    )


def _retitle(df: pd.DataFrame, ids: list[str], suffix: str) -> pd.DataFrame:
    edited = df.copy()
    edited.loc[ids, "title"] = edited.loc[ids, "title"] + suffix
    return edited


def test_edit_plan_is_listed_then_applied_with_progress(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    ids = list(df.index[:3])
    plan = dm.plan_edits(df, _retitle(df, ids, " [reviewed]"))
    panel = review_panel(plan, client)
    assert isinstance(panel, ReviewPanel)
    assert "3 video(s) to change (title 3;" in panel.table.value
    assert "Nothing is sent until you click Apply" in panel.summary.value
    for vid in ids:
        assert vid in panel.table.value
        assert (df.loc[vid, "title"] + " [reviewed]") in panel.table.value
    assert "→ new" in panel.table.value
    assert not panel.apply_button.disabled and panel.progress.layout.display == "none"

    steps: list[int] = []
    panel.progress.observe(lambda change: steps.append(change["new"]), names="value")
    done: list[object] = []
    panel._on_done = done.append
    panel.apply_button.click()
    assert panel.state == "done" and panel.result is not None and done == [panel.result]
    assert steps[:3] == [1, 2, 3] and panel.progress.max == 3
    assert panel.result.counts()["applied"] == 3
    assert "Done: applied 3." in panel.status.value
    assert panel.progress.bar_style == "success"
    assert panel.apply_button.disabled and panel.cancel_button.disabled
    for vid in ids:
        assert sb.get_video(vid)["title"].endswith(" [reviewed]")
    panel.apply_button.click()  # a second click sends nothing more
    assert sum(1 for c in sb.commits() if c["video_id"] in ids) == 3


def test_cancel_sends_nothing(sb: Sandbox, client: Client, df: pd.DataFrame) -> None:
    vid = df.index[5]
    panel = review_panel(dm.plan_edits(df, _retitle(df, [vid], " (never)")), client)
    commits = len(sb.commits())
    panel.cancel_button.click()
    assert panel.state == "cancelled" and "nothing was sent" in panel.status.value
    assert panel.apply_button.disabled
    panel.apply_button.click()
    assert len(sb.commits()) == commits and panel.result is None
    assert not sb.get_video(vid)["title"].endswith(" (never)")


def test_conflicts_and_failures_are_listed_in_the_result(
    sb: Sandbox, client: Client, df: pd.DataFrame
) -> None:
    ids = list(df.index[10:13])
    plan = dm.plan_edits(df, _retitle(df, ids, " v2"))
    sb.edit_video(ids[0], title="changed by someone else")  # -> conflict
    sb.delete_video(ids[1])  # -> failed (gone)
    panel = ReviewPanel(plan, client)
    panel.apply_button.click()
    assert panel.result is not None
    statuses = panel.result.to_frame()["op_status"].to_dict()
    assert statuses[ids[0]] == "conflict" and statuses[ids[2]] == "applied"
    assert statuses[ids[1]] != "applied"
    view = panel.result_view.value
    assert "Failures and conflicts (2)" in view
    assert ids[0] in view and ids[1] in view and "conflict" in view
    assert panel.progress.bar_style == "warning" and "applied 1" in panel.status.value
    assert sb.get_video(ids[0])["title"] == "changed by someone else"


def test_delete_needs_the_exact_count_typed(
    sb: Sandbox, client: Client, df: pd.DataFrame, tmp_path: Path
) -> None:
    ids = list(df.index[20:22])
    plan = dm.plan_deletes(df.loc[ids], snapshot=df)
    export = tmp_path / "deleted.csv"
    panel = review_panel(plan, client, export_path=export)
    assert panel.apply_button.description == "Delete"
    assert "2 video(s) to delete" in panel.table.value
    assert all(vid in panel.table.value for vid in ids)
    assert panel.apply_button.disabled
    for wrong in ("", "3", "1", "two", " 2x"):
        panel.confirm.value = wrong
        assert panel.apply_button.disabled
        panel.apply_button.click()  # even a programmatic click is refused
        assert "Type the exact number" in panel.status.value
    assert all(sb.get_video(vid) is not None for vid in ids)
    panel.confirm.value = " 2 "
    assert not panel.apply_button.disabled
    panel.apply_button.click()
    assert panel.result is not None, panel.status.value
    assert panel.result.counts()["deleted"] == 2
    assert all(sb.get_video(vid) is None for vid in ids)
    assert export.exists() and str(export) in panel.status.value
    assert panel.confirm.disabled


def test_delete_over_the_cap_needs_the_force_box(
    sb: Sandbox, client: Client, df: pd.DataFrame, tmp_path: Path
) -> None:
    ids = list(df.index[30:40])  # 10 of ~58 rows: over the 10 % cap
    plan = dm.plan_deletes(df.loc[ids], snapshot=df)
    assert len(plan) > plan.cap
    panel = ReviewPanel(plan, client, export_path=tmp_path / "deleted.json")
    assert panel.force in panel.children
    panel.confirm.value = str(len(plan))
    assert panel.apply_button.disabled
    panel.force.value = True
    assert not panel.apply_button.disabled
    panel.apply_button.click()
    assert panel.result is not None and panel.result.counts()["deleted"] == len(ids)


def test_an_empty_plan_cannot_be_applied(client: Client, df: pd.DataFrame) -> None:
    panel = ReviewPanel(dm.plan_edits(df, df.copy()), client)
    assert panel.apply_button.disabled and "plan is empty" in panel.status.value


def test_an_error_before_sending_is_shown_and_stops(
    client: Client, df: pd.DataFrame, tmp_path: Path
) -> None:
    journal = tmp_path / "job.journal"
    first = dm.plan_edits(df, _retitle(df, [df.index[45]], " a"))
    ReviewPanel(first, client, journal=journal).apply_button.click()
    other = ReviewPanel(
        dm.plan_edits(df, _retitle(df, [df.index[46]], " b")), client, journal=journal
    )  # a journal of another plan: refused
    other.apply_button.click()
    assert other.state == "failed" and other.error is not None
    assert other.status.value.count("Nothing more was sent") == 1
    assert other.progress.bar_style == "danger"


def test_review_panel_refuses_something_that_is_not_a_plan(client: Client) -> None:
    with pytest.raises(dm.InputError):
        review_panel("not a plan", client)  # type: ignore[arg-type]
