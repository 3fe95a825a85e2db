"""A week of a channel's history on a sandbox: daily snapshots around a bulk edit.

The sandbox's views do not move by themselves, so the week is simulated: before each daily
snapshot, the views of a sample of videos grow through the sandbox's admin API (out of band,
as the audience would), each at its own steady rate; after the edit, the edited videos grow
``lift`` times faster and the others (the control group) as before. Snapshots carry explicit
times, ``days_before`` days in the past to ``days_after`` days in the future of the edit, so
the week takes seconds. Nothing here is used outside demos, notebooks and tests.
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


@dataclass(frozen=True)
class Week:
    """What :func:`simulate_week` did."""

    snapshots: list[Snapshot]
    result: ApplyResult
    edited: list[str]
    control: list[str]
    journal: str


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
) -> Week:
    """Daily snapshots from ``days_before`` days before a bulk edit to ``days_after`` days
    after it; the edit adds " (HD)" to the titles of the ``edited`` least viewed videos.

    Args:
        sb: the sandbox ``client`` is logged in to (its admin API moves the views).
        history: where the snapshots go.
        journal: the bulk job's journal file.
        lift: how much faster the edited videos gain views after the edit.
        on_day: called after each snapshot with the day offset and the snapshot.
    """
    from dmtools.bulk import plan_edits
    from dmtools.load import load_videos

    start = datetime.now(UTC).replace(microsecond=0)
    df = load_videos(client, fields=FIELDS, progress=False)
    order = df.sort_values(["views_total", "created_time"]).index.tolist()
    chosen, control = order[:edited], order[edited : 2 * edited]
    rates = {v: 20 + (i * 7) % 40 for i, v in enumerate(chosen + control)}
    snapshots: list[Snapshot] = []
    result = None
    for day in range(-days_before, days_after + 1):
        frame = load_videos(client, fields=FIELDS, progress=False)
        snap = history.snapshot(frame, taken_at=start + timedelta(days=day))
        snapshots.append(snap)
        if on_day is not None:
            on_day(day, snap)
        if day == 0:
            changed = frame.copy()
            room = client.limits.title - len(" (HD)")
            changed.loc[chosen, "title"] = changed.loc[chosen, "title"].str.slice(0, room) + " (HD)"
            result = plan_edits(frame, changed).apply(client, journal=journal, progress=False)
        if day < days_after:
            _grow(sb, rates, set(chosen), lift, after=day >= 0)
    assert result is not None
    return Week(snapshots, result, chosen, control, os.fspath(journal))


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
