"""A week of a channel's history on a sandbox: daily snapshots around a bulk edit.

The sandbox's views do not move by themselves, so the week is simulated: before each daily
snapshot, the views of a sample of videos grow through the sandbox's admin API (out of band,
as the audience would), each at its own steady rate; after the edit, the edited videos grow
``lift`` times faster and the others (the control group) as before. Snapshots carry explicit
times, ``days_before`` days in the past to ``days_after`` days in the future of the edit, so
the week takes seconds. Nothing here is used outside demos, notebooks and tests.

**On API v2** (no view counts) the views come from the sandbox's Reporting API, whose daily
views of a video are in proportion to its ``views_total``: the edit multiplies the edited
videos' total by ``lift``, so their daily views after it are ``lift`` times what they would
have been. The days before the edit are read (and stored) before it, the days after it once
the sandbox clock has moved past them (it follows the simulated days); waits for reports move
the sandbox clock too instead of sleeping. The videos are the ``2 × edited`` most viewed of
the last 180 days (counted without viral spikes, none in the last 14 days), alternately
edited and control so both groups start alike, each first given about 20 to 60 views a day
(the sandbox's old videos get a few a month); the snapshots are of one profile
(``profile=``, default the key's profile with the most videos).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.bulk import ApplyResult
    from dmtools.client import Client
    from dmtools.history.store import History, Snapshot
    from dmtools.sandbox import Sandbox

__all__ = ["Week", "demo_client", "edited_vs_control", "simulate_week"]

FIELDS = ["id", "title", "tags", "owner", "created_time", "updated_time", "views_total"]
_DAY = 86400


@dataclass(frozen=True)
class Week:
    """What :func:`simulate_week` did."""

    snapshots: list[Snapshot]
    result: ApplyResult
    edited: list[str]
    control: list[str]
    journal: str
    profile: str | None = None


def demo_client(sb: Sandbox, **options: Any) -> Client:
    """The sandbox's demo user logged in (password grant, ``manage_videos``)."""
    from dmtools.testing import connect_sandbox

    return connect_sandbox(sb, grant="password", scope=["manage_videos"], **options)


def _grow(sb: Sandbox, rates: dict[str, int], edited: set[str], lift: float, after: bool) -> None:
    for video_id, rate in rates.items():
        video = sb.get_video(video_id)
        if video is None:
            continue
        gained = round(rate * lift) if after and video_id in edited else rate
        sb.edit_video(
            video_id, views_total=video["views_total"] + gained, updated_time=video["updated_time"]
        )


@dataclass
class _Run:
    """One simulated week in progress: what :func:`simulate_week` was given, and its days."""

    sb: Sandbox
    client: Client
    history: History
    profile: str | None
    start: datetime
    on_day: Callable[[int, Snapshot], None] | None
    snapshots: list[Snapshot]

    def frame(self, fields: list[str]) -> pd.DataFrame:
        """The videos with ``fields``; a field the API lacks is a column of missing values
        (as in its default frames), so snapshots have one shape on every API."""
        import pandas as pd

        from dmtools.frames import frame_dtypes
        from dmtools.load import load_videos

        lacking = self.client.dialect.missing_fields(fields)
        asked = [f for f in fields if f not in lacking]
        if self.profile is None:
            frame = load_videos(self.client, fields=asked, progress=False)
        else:
            frame = load_videos(self.client, profile=self.profile, fields=asked, progress=False)
        dtypes = frame_dtypes(fields)
        for name in lacking:
            frame[name] = pd.Series(pd.NA, index=frame.index, dtype=dtypes[name])
        return frame[list(dtypes)]

    def snap(self, day: int, frame: pd.DataFrame) -> None:
        when = self.start + timedelta(days=day)
        snap = self.history.snapshot(frame, taken_at=when, profile=self.profile)
        self.snapshots.append(snap)
        if self.on_day is not None:
            self.on_day(day, snap)


def _edit(client: Client, frame: pd.DataFrame, chosen: list[str], journal: Any) -> ApplyResult:
    """The bulk edit of day 0: " (HD)" at the end of the chosen videos' titles."""
    from dmtools.bulk import plan_edits

    changed = frame.copy()
    room = client.limits.title - len(" (HD)")
    changed.loc[chosen, "title"] = changed.loc[chosen, "title"].str.slice(0, room) + " (HD)"
    plan = plan_edits(frame, changed, limits=client.limits)
    return plan.apply(client, journal=journal, progress=False)


def simulate_week(
    sb: Sandbox,
    client: Client,
    history: History,
    *,
    journal: str | os.PathLike[str],
    edited: int = 20,
    days_before: int = 3,
    days_after: int = 3,
    lift: float = 1.5,
    on_day: Callable[[int, Snapshot], None] | None = None,
    reports: Client | None = None,
    profile: str | None = None,
) -> Week:
    """Daily snapshots from ``days_before`` days before a bulk edit to ``days_after`` days
    after it; the edit adds " (HD)" to the titles of the ``edited`` least viewed videos
    (on API v2, see the module notes).

    Args:
        sb: the sandbox ``client`` is logged in to (its admin API moves the views).
        history: where the snapshots go.
        journal: the bulk job's journal file.
        lift: how much faster the edited videos gain views after the edit.
        on_day: called after each snapshot with the day offset and the snapshot.
        reports: on API v2, a login to the sandbox's Reporting API (the views come from it).
        profile: on API v2, the profile to snapshot (default: the key's first).

    Raises:
        InputError: ``client`` has no view counts (API v2) and ``reports`` is None.
    """
    if client.dialect.missing_fields(["views_total"]):
        return _reported_week(
            sb, client, history, journal, edited, days_before, days_after, lift, on_day,
            reports, profile,
        )  # fmt: skip
    run = _Run(sb, client, history, None, datetime.now(UTC).replace(microsecond=0), on_day, [])
    df = run.frame(FIELDS)
    order = df.sort_values(["views_total", "created_time"]).index.tolist()
    chosen, control = order[:edited], order[edited : 2 * edited]
    rates = {v: 20 + (i * 7) % 40 for i, v in enumerate(chosen + control)}
    result = None
    for day in range(-days_before, days_after + 1):
        frame = run.frame(FIELDS)
        run.snap(day, frame)
        if day == 0:
            result = _edit(client, frame, chosen, journal)
        if day < days_after:
            _grow(sb, rates, set(chosen), lift, after=day >= 0)
    assert result is not None
    return Week(run.snapshots, result, chosen, control, os.fspath(journal))


def _daily_views(run: _Run, reports: Client, first: Any, last: Any) -> pd.DataFrame:
    """The Reporting API's views per day and video of ``[first, last]`` (waits move the
    sandbox clock), of the profile's videos."""
    from dmtools.analytics.load import load_analytics

    frame = load_analytics(
        reports, "views", ["day", "video_id"], start=first, end=last,
        progress=False, state=False, sleep=run.sb.advance_clock,
    )  # fmt: skip
    ids = set(run.frame(["id"]).index)
    return frame[frame["video_id"].isin(ids)].reset_index(drop=True)


def _reported_week(
    sb: Sandbox,
    client: Client,
    history: History,
    journal: str | os.PathLike[str],
    edited: int,
    days_before: int,
    days_after: int,
    lift: float,
    on_day: Callable[[int, Snapshot], None] | None,
    reports: Client | None,
    profile: str | None,
) -> Week:
    """:func:`simulate_week` on an API without view counts (see the module notes)."""
    from dmtools.errors import InputError
    from dmtools.load import load_videos

    if reports is None:
        raise InputError(
            "this API has no view counts: pass reports= (a login to the sandbox's Reporting "
            "API, e.g. dmtools.notebook.reports_login(client))"
        )
    if profile is None:  # the key's profile with the most videos
        profile = str(load_videos(client, fields=["id", "owner"], progress=False).owner.mode()[0])
    start = datetime.now(UTC).replace(microsecond=0)  # the journal's clock
    run = _Run(sb, client, history, profile, start, on_day, [])
    today = start.date()
    chosen, control = _audience(run, reports, today, edited)
    before = _daily_views(run, reports, today - timedelta(days=days_before), today - timedelta(1))
    result = None
    for day in range(-days_before, days_after + 1):
        if (late := start.timestamp() + day * _DAY - sb.clock()) > 0:
            sb.advance_clock(late)  # the sandbox's day follows the simulated one
        frame = run.frame(FIELDS)
        run.snap(day, frame)
        if day == 0:
            history.add_analytics(before, profile=profile)
            result = _edit(client, frame, chosen, journal)
            _scale(sb, chosen, lift)
    after = _daily_views(run, reports, today, today + timedelta(days=days_after - 1))
    history.add_analytics(after, profile=profile)
    assert result is not None
    return Week(run.snapshots, result, chosen, control, os.fspath(journal), profile)


def _steady(daily: pd.DataFrame, today: Any) -> pd.Series:
    """Views per day of each video over the last 180 days, robust to a viral spike (the
    median of its six 30-day sums); videos with a spike in the last 14 days left out."""
    import pandas as pd

    age = (pd.Timestamp(today, tz="UTC") - daily["day"]).dt.days  # 1 to 180
    block = daily.assign(block=(age - 1) // 30).pivot_table(
        index="video_id", columns="block", values="views", aggfunc="sum", fill_value=0
    )
    rate = block.reindex(columns=range(6), fill_value=0).median(axis=1) / 30
    recent = daily[age <= 14].groupby("video_id")["views"].max().reindex(rate.index, fill_value=0)
    return rate[(rate > 0) & (recent <= (5 * rate).clip(lower=3))]


def _audience(run: _Run, reports: Client, today: Any, edited: int) -> tuple[list[str], list[str]]:
    """Pick the ``2 × edited`` videos with the steadiest most views of the last 180 days
    (alternately edited and control) and give each about 20 to 60 views a day from now on
    (their views_total scaled to it; the sandbox's daily views are in proportion to it)."""
    rates = _steady(_daily_views(run, reports, today - timedelta(180), today - timedelta(1)), today)
    top = rates.sort_values(ascending=False, kind="stable").head(2 * edited)
    for i, (video_id, rate) in enumerate(top.items()):
        video = run.sb.get_video(str(video_id))
        if video is not None:
            per_day = 20 + (i * 7) % 40
            total = max(1, round(video["views_total"] * per_day / rate))
            run.sb.edit_video(str(video_id), views_total=total, updated_time=video["updated_time"])
    picked = [str(v) for v in top.index]
    return picked[0::2], picked[1::2]


def _scale(sb: Sandbox, ids: list[str], lift: float) -> None:
    """Multiply the views_total of ``ids`` by ``lift`` (their audience from now on)."""
    for video_id in ids:
        video = sb.get_video(video_id)
        if video is not None:
            total = round(video["views_total"] * lift)
            sb.edit_video(video_id, views_total=total, updated_time=video["updated_time"])


def edited_vs_control(history: History, week: Week, days: float = 3) -> pd.DataFrame:
    """Mean views per day per video before and after the edit, edited videos against the
    control group (rows ``edited`` and ``control``)."""
    import pandas as pd

    effect = history.edit_effect([week.journal], days=days)
    edited_at = effect.edited_at.max()
    window = pd.Timedelta(days=days)
    intervals = history.views(ids=week.control, start=edited_at - window, end=edited_at + window)
    before = intervals[intervals.end <= edited_at]
    after = intervals[intervals.start >= edited_at]
    rows = {
        "edited": (effect.views_per_day_before.mean(), effect.views_per_day_after.mean()),
        "control": (
            before.groupby("video_id").views_per_day.mean().mean(),
            after.groupby("video_id").views_per_day.mean().mean(),
        ),
    }
    out = pd.DataFrame.from_dict(
        rows, orient="index", columns=["views_per_day_before", "views_per_day_after"]
    )
    out["change"] = out.views_per_day_after / out.views_per_day_before - 1
    out.index.name = "videos"
    return out
