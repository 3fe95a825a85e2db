"""Applying edit plans against the sandbox: minimal writes, conflicts, results, undo, guards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from _support.dialects import (
    EDIT_METHOD,
    load_channel,
    login,
    read_only,
    wire_fields,
)

import dmtools as dm
from dmtools.bulk import EditPlan, JournalError, plan_edits, resume, undo_plan
from dmtools.errors import InputError
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox

EDIT_COLUMNS = [
    "title",
    "description",
    "tags",
    "channel",
    "language",
    "published",
    "private",
    "is_created_for_kids",
]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=240, seed=11) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox, dialect: str) -> Iterator[dm.Client]:
    """The tests below run on both API dialects."""
    with login(sb, dialect) as logged_in:
        yield logged_in


def load(client: dm.Client) -> pd.DataFrame:
    return load_channel(client, progress=False)


def writes(sb: Sandbox, since: int) -> list[dict[str, Any]]:
    return [r for r in sb.request_log(since) if r["method"] != "GET"]


def last_seq(sb: Sandbox) -> int:
    log = sb.request_log()
    return log[-1]["seq"] if log else 0


def retitle(df: pd.DataFrame, ids: list[str], suffix: str) -> pd.DataFrame:
    edited = df.copy()
    edited.loc[ids, "title"] = [f"{t[:80]} {suffix}" for t in df.loc[ids, "title"]]
    return edited


def test_apply_writes_exactly_the_plan_and_nothing_for_unchanged_rows(sb, client, dialect) -> None:
    df = load(client)
    described = df.index[df["description"].fillna("") != ""]
    ids = list(df.index[:9]) + [v for v in described if v not in df.index[:9]][:1]
    ids.append(next(v for v in df.index[9:] if v not in ids))
    edited = retitle(df, ids[:6], "v2")
    edited.loc[ids[6:9], "private"] = ~df.loc[ids[6:9], "private"].astype(bool)
    edited.loc[ids[9], "description"] = None
    edited.at[ids[10], "tags"] = ["alpha", "beta"]
    plan = plan_edits(df, edited)
    assert len(plan) == 11 and plan.summary()["clears"] == 1
    commits_before = len(sb.commits())
    seq = last_seq(sb)
    result = plan.apply(client, progress=False, batch=False)  # one request per read/write
    assert result.counts()["applied"] == 11 and result.ok
    commits = sb.commits()[commits_before:]
    assert {(c["video_id"], tuple(sorted(c["fields"]))) for c in commits} == {
        (op.video_id, wire_fields(dialect, op.fields)) for op in plan.ops
    }
    rows = [r for r in sb.request_log(seq) if "/video" in r["path"]]  # not the account's
    touched = {r["path"].rsplit("/", 1)[-1] for r in rows}
    assert touched == {op.video_id for op in plan.ops}  # unchanged rows: no request at all
    methods = Counter(r["method"] for r in rows)
    assert methods == {"GET": 11, EDIT_METHOD[dialect]: 11}
    reloaded = load(client)
    assert len(plan_edits(reloaded[EDIT_COLUMNS], edited[EDIT_COLUMNS])) == 0


def test_result_has_one_row_per_operation_joinable_on_the_frame(sb, client) -> None:
    df = load(client)
    ids = list(df.index[20:25])
    plan = plan_edits(df, retitle(df, ids, "joined"))
    seen: list[tuple[int, int]] = []
    result = plan.apply(
        client, progress=lambda done, total: seen.append((done, total)), batch=False
    )
    table = result.to_frame()
    assert table.index.name == "id" and sorted(table.index) == sorted(ids)
    assert list(table.columns) == [
        "op_id",
        "op_status",
        "http_status",
        "error_type",
        "message",
        "attempts",
    ]
    assert set(table["op_status"]) == {"applied"} and set(table["http_status"]) == {200}
    assert set(table["attempts"]) == {1}
    joined = df.join(table, how="inner")
    assert len(joined) == 5 and set(joined["op_status"]) == {"applied"}
    assert seen[-1] == (5, 5) and len(seen) == 5
    assert "applied 5" in repr(result) and "applied" in result._repr_html_()


def test_a_second_apply_finds_nothing_to_do(sb, client, tmp_path) -> None:
    df = load(client)
    ids = list(df.index[30:40])
    edited = retitle(df, ids, "twice")
    plan = plan_edits(df, edited)
    journal = tmp_path / "twice.journal"
    assert plan.apply(client, journal=journal, progress=False).counts()["applied"] == 10
    seq = last_seq(sb)
    again = plan.apply(client, journal=journal, progress=False)
    assert again.counts()["applied"] == 10 and sb.request_log(seq) == []  # finished: 0 requests
    no_journal = plan.apply(client, progress=False)
    assert no_journal.counts()["unchanged"] == 10 and writes(sb, seq) == []
    assert len(plan_edits(load(client)[EDIT_COLUMNS], edited[EDIT_COLUMNS])) == 0


def test_rows_changed_behind_our_back_are_conflicts_not_overwritten(sb, client) -> None:
    df = load(client)
    ids = list(df.index[:200])
    plan = plan_edits(df, retitle(df, ids, "mine"))
    theirs = ids[::2]  # 100 rows edited out of band
    for vid in theirs:
        sb.edit_video(vid, title="changed by someone else")
    result = plan.apply(client, workers=8, progress=False)
    table = result.to_frame()
    assert (table.loc[theirs, "op_status"] == "conflict").all()
    mine = len(ids) - len(theirs)
    assert result.counts() | {} == {**result.counts(), "conflict": len(theirs), "applied": mine}
    for vid in theirs:
        assert sb.get_video(vid)["title"] == "changed by someone else"
    assert "someone else" in table.loc[theirs[0], "message"]
    forced = plan.apply(client, override_conflicts=True, progress=False)
    assert forced.counts()["applied"] == len(theirs) and forced.counts()["unchanged"] == mine
    assert sb.get_video(theirs[0])["title"].endswith(" mine")


def test_undo_restores_the_values_we_overwrote_except_changed_again(sb, client, tmp_path) -> None:
    df = load(client)
    ids = list(df.index[40:60])
    edited = retitle(df, ids, "undo-me")
    edited.loc[ids[0], "private"] = not bool(df.loc[ids[0], "private"])
    result = plan_edits(df, edited).apply(client, journal=tmp_path / "j", progress=False)
    assert result.counts()["applied"] == 20
    sb.edit_video(ids[1], title="third party")
    undo = result.undo_plan()
    assert undo_plan(tmp_path / "j").fingerprint == undo.fingerprint
    assert len(undo) == 20 and undo.ops[0].changes  # expected old = what we wrote
    back = undo.apply(client, progress=False)
    assert back.counts()["applied"] == 19 and back.counts()["conflict"] == 1
    now = load(client)
    assert now.loc[ids[1], "title"] == "third party"
    others = [v for v in ids if v != ids[1]]
    assert len(plan_edits(now.loc[others, EDIT_COLUMNS], df.loc[others, EDIT_COLUMNS])) == 0


def test_one_failed_row_does_not_stop_the_others(sb, client) -> None:
    df = load(client)
    ids = list(df.index[60:66])
    plan = plan_edits(df, retitle(df, ids, "partial"))
    sb.delete_video(ids[2])
    result = plan.apply(client, workers=2, progress=False)
    row = result.to_frame().loc[ids[2]]
    assert (row["op_status"], row["error_type"], row["http_status"]) == ("failed", "NotFound", 404)
    assert result.counts()["applied"] == 5


def test_a_missing_scope_stops_the_job_cleanly(sb, dialect, tmp_path) -> None:
    with login(sb, dialect, scope=read_only(dialect)) as weak:
        df = load(weak)
        ids = list(df.index[70:90])
        plan = plan_edits(df, retitle(df, ids, "nope"))
        commits = len(sb.commits())
        result = plan.apply(
            weak, workers=2, journal=tmp_path / "scope.journal", progress=False, batch=False
        )
    counts = result.counts()
    assert counts["failed"] <= 2 and counts["failed"] + counts["not_attempted"] == 20
    assert counts["not_attempted"] >= 18
    assert result.stopped and "PermissionDenied" in result.stopped
    assert len(sb.commits()) == commits
    failed = result.to_frame().query("op_status == 'failed'")
    assert set(failed["http_status"]) == {403}


def test_a_session_revoked_during_the_job_stops_it(sb) -> None:
    import requests

    with connect_sandbox(sb) as gone:
        df = load(gone)
        ids = list(df.index[90:95])
        plan = plan_edits(df, retitle(df, ids, "revoked"))
        token = gone.transport.auth.access_token()
        # the session is revoked elsewhere (another tab, the account settings...)
        requests.get(sb.url + "/logout", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        commits = len(sb.commits())
        result = plan.apply(gone, workers=1, progress=False)
    counts = result.counts()
    assert counts["failed"] == 1 and counts["not_attempted"] == 4
    assert result.stopped is not None and "LoginRequired" in result.stopped
    assert len(sb.commits()) == commits


def test_a_session_already_gone_is_refused_before_anything(sb) -> None:
    with connect_sandbox(sb) as gone:
        df = load(gone)
        plan = plan_edits(df, retitle(df, list(df.index[95:97]), "gone"))
        gone.logout()
        with pytest.raises(dm.LoginRequired):
            plan.apply(gone, progress=False)


def test_values_over_the_key_limits_are_refused_before_any_request(sb, client, tmp_path) -> None:
    df = load(client)
    vid = df.index[100]
    too_long = "t" * (client.limits.title + 1)
    plan = EditPlan({vid: {"title": (df.loc[vid, "title"], too_long)}})
    seq = last_seq(sb)
    with pytest.raises(InputError, match="not accepted"):
        plan.apply(client, progress=False)
    assert sb.request_log(seq) == []


def test_resume_refuses_another_plan_account_or_host_with_zero_requests(sb, client, tmp_path):
    df = load(client)
    journal = tmp_path / "owned.journal"
    plan = plan_edits(df, retitle(df, list(df.index[110:112]), "owned"))
    plan.apply(client, journal=journal, progress=False)
    other = plan_edits(df, retitle(df, list(df.index[112:114]), "other"))
    seq = last_seq(sb)
    with pytest.raises(JournalError, match="plan"):
        other.apply(client, journal=journal, progress=False)
    with Sandbox(videos=5, seed=3) as elsewhere, connect_sandbox(elsewhere) as foreign:
        logged_in = last_seq(elsewhere)
        with pytest.raises(JournalError) as exc:
            resume(journal, foreign, progress=False)
        assert {p.column for p in exc.value.problems} == {"api_base"}
        assert elsewhere.request_log(logged_in) == []
    assert sb.request_log(seq) == []


def test_an_in_doubt_write_found_holding_a_third_value_is_a_conflict(sb, client, tmp_path):
    from dmtools.bulk.journal import Journal

    df = load(client)
    vid = df.index[120]
    plan = plan_edits(df, retitle(df, [vid], "doubt"))
    journal = tmp_path / "doubt.journal"
    # a run that was killed right after marking the write "sending"
    plan.apply(client, journal=journal, progress=False)
    with Journal.open(journal) as store:
        store.mark(
            1,
            "sending",
            before={"title": df.loc[vid, "title"]},
            sent={"title": plan.ops[0].target["title"]},
            attempt=True,
        )
    sb.edit_video(vid, title="a third value")
    seq = last_seq(sb)
    result = resume(journal, client, progress=False)
    assert result.to_frame().loc[vid, "op_status"] == "conflict"
    assert writes(sb, seq) == [] and sb.get_video(vid)["title"] == "a third value"


def _bad(kind: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str | None, str]]:
    edited = df.copy()
    edited.loc[df.index[0], "title"] = "a valid change next to the bad one"
    vid = str(df.index[3])
    if kind == "unknown column":
        edited["my_notes"] = "x"
        return edited, (None, "my_notes")
    if kind == "read-only column":
        edited.loc[vid, "views_total"] = 10**9
        return edited, (vid, "views_total")
    if kind == "duplicate id":
        return pd.concat([edited, edited.loc[[vid]]]), (vid, "id")
    if kind == "no id":
        return edited.reset_index(drop=True), (None, "id")
    if kind == "id not in snapshot":
        extra = edited.loc[[vid]].rename(index={vid: "xnotyours"})
        return pd.concat([edited, extra]), ("xnotyours", "id")
    if kind == "bad boolean":
        edited["private"] = edited["private"].astype(object)
        edited.loc[vid, "private"] = "sometimes"
        return edited, (vid, "private")
    if kind == "bad category":
        edited["channel"] = edited["channel"].astype(object)
        edited.loc[vid, "channel"] = "cooking"
        return edited, (vid, "channel")
    if kind == "bad language":
        edited.loc[vid, "language"] = "xx"
        return edited, (vid, "language")
    if kind == "title too long":
        edited.loc[vid, "title"] = "t" * 101
        return edited, (vid, "title")
    if kind == "description too long":
        edited.loc[vid, "description"] = "d" * 3001
        return edited, (vid, "description")
    if kind == "too many tags":
        edited.at[vid, "tags"] = [f"t{i}" for i in range(151)]
        return edited, (vid, "tags")
    assert kind == "required missing"
    edited.loc[vid, "title"] = None
    return edited, (vid, "title")


@pytest.mark.parametrize(
    "kind",
    [
        "unknown column",
        "read-only column",
        "duplicate id",
        "no id",
        "id not in snapshot",
        "bad boolean",
        "bad category",
        "bad language",
        "title too long",
        "description too long",
        "too many tags",
        "required missing",
    ],
)
def test_bad_input_is_refused_naming_row_and_column_with_zero_requests(sb, client, kind) -> None:
    df = load(client)
    edited, where = _bad(kind, df)
    seq = last_seq(sb)
    with pytest.raises(InputError) as exc:
        plan_edits(df, edited).apply(client, progress=False)
    assert where in {(p.row, p.column) for p in exc.value.problems}
    assert sb.request_log(seq) == []


def test_progress_bar_is_shown_or_silent_as_asked(sb, client, capsys) -> None:
    df = load(client)
    plan = plan_edits(df, retitle(df, list(df.index[130:133]), "quiet"))
    result = plan.apply(client, progress=False)
    assert capsys.readouterr().err == ""
    result.undo_plan().apply(client, progress=True)
    assert "3/3" in capsys.readouterr().err
