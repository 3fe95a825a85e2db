"""``dmtools demo``: the whole toolkit in one command, on a local sandbox.

Starts a sandbox, logs in, loads the demo channel into a DataFrame, summarises it, reads its
audience from the Reporting API, writes the channel report, plans a metadata clean-up from
the health check, applies it with a journal, checks the result, undoes it from the journal
and checks the channel is back as it was.

With ``--api v2`` the same tour speaks API v2: the private key logs in with client
credentials (no browser), every profile of the organisation is loaded into one frame (with
an ``owner`` column; no view counts, which v2 leaves to the Reporting API), and the
clean-up is applied and undone with ``PATCH`` requests.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dmtools.cli._common import EXIT_INTERNAL, JobWorkersOption, ProgressOption, guarded, out
from dmtools.cli._jobs import finish, show_plan

if TYPE_CHECKING:
    import pandas as pd

    from dmtools.bulk import EditPlan
    from dmtools.client import Client

DEMO_EXAMPLES = """\b
Examples:
  dmtools demo
  dmtools demo --out /tmp/demo --videos 5000 --no-report
  dmtools demo --api v2       # the same tour through API v2, with the private key
"""

#: Titles longer than this are cut in search results and lists: the clean-up shortens them.
TITLE_TARGET = 70
STEPS = 9
#: What the clean-up fixes: health-check problem -> words for people.
FIXED = {
    "missing_description": "without a description",
    "no_tags": "without tags",
    "long_title": f"with a title over {TITLE_TARGET} characters",
}


class _Steps:
    def __init__(self) -> None:
        self.number = 0
        self.started = time.perf_counter()

    def __call__(self, title: str) -> None:
        self.number += 1
        out(f"\n[{self.number}/{STEPS}] {title}")

    def took(self) -> str:
        return f"{time.perf_counter() - self.started:.1f} s"


def shorten(title: str, limit: int = TITLE_TARGET) -> str:
    """``title`` cut at the last word boundary within ``limit`` characters.

    Example:
        >>> shorten("Quick lecture (part 2) match highlights", 25)
        'Quick lecture (part 2)'
    """
    if len(title) <= limit:
        return title
    cut = title[: limit + 1].rsplit(" ", 1)[0] if " " in title[: limit + 1] else title[:limit]
    return cut.rstrip(" -–—,;:(#")[:limit]


def findings(df: pd.DataFrame) -> dict[str, pd.Index]:
    """Ids of the videos the clean-up fixes, per problem."""
    import pandas as pd

    from dmtools.report import health_check

    found = health_check(df)
    long = df.index[df["title"].str.len().fillna(0).astype(int) > TITLE_TARGET]
    return {
        "missing_description": found.ids("missing_description"),
        "no_tags": found.ids("no_tags"),
        "long_title": pd.Index(long, name="id"),
    }


def cleanup(df: pd.DataFrame, found: dict[str, pd.Index]) -> pd.DataFrame:
    """The channel with its findings fixed: a description, a tag, a shorter title."""
    from dmtools.schema import CATEGORY_LABELS

    edited = df.copy()
    owner = str(df["owner_screenname"].dropna().iloc[0]) if "owner_screenname" in df else "us"
    for vid in found["missing_description"]:
        label = CATEGORY_LABELS.get(str(df.at[vid, "channel"]), "")
        title = str(df.at[vid, "title"])
        edited.at[vid, "description"] = f"{title}: a {label.lower() or 'new'} video from {owner}."
    untagged = set(found["no_tags"])
    edited["tags"] = [
        [str(cat)] if vid in untagged and isinstance(cat, str) else tags
        for vid, tags, cat in zip(df.index, df["tags"], df["channel"], strict=True)
    ]
    for vid in found["long_title"]:
        edited.at[vid, "title"] = shorten(str(df.at[vid, "title"]))
    return edited


def _summary(df: pd.DataFrame) -> None:
    from dmtools import report
    from dmtools.schema import CATEGORY_LABELS

    figures = report.key_figures(df)["value"]
    views = bool(df["views_total"].notna().any()) if "views_total" in df else False
    counts = f" · {figures['views']:,} views · {figures['likes']:,} likes" if views else ""
    out(
        f"   {figures['videos']:,} videos{counts} · {figures['hours of video']:,} hours of "
        f"video · {figures['private videos']:,} private · "
        f"{figures['unpublished videos']:,} unpublished"
    )
    out(f"   uploads from {figures['first upload']:%Y-%m-%d} to {figures['last upload']:%Y-%m-%d}")
    if "owner" in df and df["owner"].nunique() > 1:
        per = df.groupby("owner_screenname" if "owner_screenname" in df else "owner").size()
        out("   profiles: " + ", ".join(f"{name} {n:,}" for name, n in per.items()))
    if not views:
        out("   (no view counts through API v2: they come from the Reporting API, below)")
        return
    out("   Top videos by views:")
    for vid, row in report.top_videos(df, 5).iterrows():
        label = CATEGORY_LABELS.get(str(row["channel"]), str(row["channel"]))
        out(
            f"     {vid}  {str(row['title'])[:40]:<40} {int(row['views_total']):>8,} views  {label}"
        )
    categories = report.by_category(df)
    out(f"   Categories ({len(categories)}), top 5 by views:")
    for _, row in categories.head(5).iterrows():
        out(
            f"     {row['label']:<24} {int(row['videos']):>5,} videos "
            f"{int(row['views']):>9,} views "
            f"({row['views_share']:.0%})"
        )


def _audience(client: Client, progress: bool) -> Any:
    """The channel's audience from the Reporting API, with a summary of it."""
    from dmtools.analytics import Poll, channel_audience
    from dmtools.report import audience as A

    started = time.perf_counter()
    found = channel_audience(client, progress=progress, state=False, poll=Poll(interval=1.0))
    periods = A.period_comparison(found).to_dict("index")
    views = float(periods["views"]["this_period"])
    hours = float(periods["watch_hours"]["this_period"])
    change = float(periods["views"]["change_share"])
    trend = "" if change != change else f" ({change:+.0%} on the {found.days} days before)"
    out(
        f"   2 reports ({len(found.daily):,} rows by day and video, {len(found.places):,} by "
        f"country and device) in {time.perf_counter() - started:.1f} s"
    )
    out(f"   {found.label}: {views:,.0f} views{trend}, {hours:,.0f} hours watched")
    for by in ("country", "device"):
        top = A.views_by(found, by, 3)
        shown = ", ".join(f"{name} {share:.0%}" for name, share in top["views_share"].items())
        out(f"   views by {by}: {shown}")
    return found


def _load(client: Client, progress: bool) -> pd.DataFrame:
    """The demo's channel: the demo user's (legacy API), every profile of the key (v2)."""
    from dmtools.load import load_videos

    if client.dialect.name == "legacy":
        return load_videos(client, progress=progress)
    return load_videos(client, profile="all", progress=progress)


def _same(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """Columns (other than updated_time) whose values differ between two loads."""
    columns = [c for c in before.columns if c != "updated_time"]
    if set(before.index) != set(after.index):
        return ["id"]
    a, b = before.sort_index(), after.sort_index()
    return [c for c in columns if not a[c].equals(b[c])]


def _clean(folder: Path) -> None:
    """Remove the files of an earlier demo run (their journals belong to another sandbox)."""
    for path in folder.glob("cleanup.plan.*"):
        path.unlink()


def _load_step(steps: _Steps, client: Client, progress: bool) -> pd.DataFrame:
    steps("Loading the channel into a DataFrame: dm.load_videos(client)")
    started = time.perf_counter()
    df = _load(client, progress)
    out(
        f"   {len(df):,} rows x {len(df.columns)} columns in "
        f"{time.perf_counter() - started:.1f} s ({client.stats.get('sent', '?')} requests)"
    )
    return df


def _report_step(
    steps: _Steps, df: pd.DataFrame, out_dir: Path, report: bool, audience: Any
) -> None:
    from dmtools.report import channel_report

    steps("Channel report: dm.report.channel_report(df, audience=...)")
    if not report:
        out("   skipped (--no-report)")
        return
    started = time.perf_counter()
    written = channel_report(
        df, out_dir / "report.html", png_dir=out_dir / "report_png", audience=audience
    )
    out(
        f"   {written.html} and {len(written.pngs)} PNG charts in "
        f"{out_dir / 'report_png'} ({time.perf_counter() - started:.1f} s)"
    )


def _plan_step(
    steps: _Steps, client: Client, df: pd.DataFrame, out_dir: Path
) -> tuple[EditPlan, dict[str, pd.Index]]:
    from dmtools.bulk import plan_edits

    steps("Planning a metadata clean-up from the health check: dm.plan_edits(df, edited)")
    found = findings(df)
    for problem, ids in found.items():
        out(f"   {len(ids):>5,} videos {FIXED[problem]}")
    plan = plan_edits(df, cleanup(df, found), limits=client.limits)
    show_plan(plan, rows=6, indent="   ")
    out(f"   plan saved to {plan.save(out_dir / 'cleanup.plan.json')}")
    return plan, found


def _run(plan: EditPlan, client: Client, name: str, out_dir: Path, **options: Any) -> None:
    """Apply ``plan`` with the journal ``<name>.journal`` and write its results."""
    started = time.perf_counter()
    result = plan.apply(client, journal=out_dir / f"{name}.journal", **options)
    finish(result, out_dir / f"{name}.result.csv", time.perf_counter() - started, indent="   ")


def _apply_step(
    steps: _Steps,
    client: Client,
    plan: EditPlan,
    found: dict[str, pd.Index],
    out_dir: Path,
    **options: Any,
) -> None:
    steps("Applying the plan with a journal: plan.apply(client, journal=...)")
    _run(plan, client, "cleanup.plan", out_dir, **options)
    fixed = findings(_load(client, False))
    changes = (f"{len(found[p]):,} -> {len(fixed[p]):,} videos {FIXED[p]}" for p in found)
    out("   reloaded: " + ", ".join(changes))


def _undo_step(
    steps: _Steps, client: Client, df: pd.DataFrame, out_dir: Path, **options: Any
) -> None:
    from dmtools.bulk import undo_plan

    steps("Undoing it from the journal: dm.bulk.undo_plan(journal).apply(client)")
    restore = undo_plan(out_dir / "cleanup.plan.journal")
    out(f"   undo plan: {len(restore):,} videos to restore")
    _run(restore, client, "cleanup.plan.undo", out_dir, **options)
    differ = _same(df, _load(client, False))
    if differ:
        out(f"   the channel differs from the first load in: {', '.join(differ)}")
        raise typer.Exit(EXIT_INTERNAL)
    out(
        f"   reloaded: every video is back as loaded in step 3 "
        f"({len(df.columns) - 1} fields compared, updated_time aside)"
    )


def _login(steps: _Steps, sb: Any, api: str) -> Client:
    """The demo's login: the demo user (legacy API) or the private key (API v2)."""
    from dmtools.analytics import SCOPES
    from dmtools.auth import scopes_for
    from dmtools.testing import connect_sandbox

    if api == "legacy":
        steps("Logging in: password grant with the demo credentials")
        return connect_sandbox(sb, scope=["manage_videos", *SCOPES])
    steps("Logging in to API v2: client credentials with the private key (no browser)")
    return connect_sandbox(sb, api=api, scope=scopes_for("edit", "private", api))


def _audience_of(sb: Any, client: Client, progress: bool) -> Any:
    """The Reporting API's figures: with the client itself (legacy API), or with a partner
    token of the same private key (API v2 logins: the Reporting API takes partner tokens)."""
    from dmtools.analytics import SCOPES
    from dmtools.testing import connect_sandbox

    if client.dialect.name == "legacy":
        return _audience(client, progress)
    with connect_sandbox(sb, grant="client_credentials", scope=list(SCOPES)) as reporting:
        return _audience(reporting, progress)


def run_demo(
    out_dir: Path,
    *,
    videos: int,
    seed: int,
    report: bool,
    progress: bool,
    workers: int | None,
    api: str = "legacy",
) -> None:
    """The tour (see the module notes), printed step by step."""
    import dmtools as dm  # dm.Sandbox: the sandbox class as the package exports it
    from dmtools.dialects import get_dialect
    from dmtools.notebook import login_summary

    api = get_dialect(api).name  # an unknown API is refused before anything starts
    steps = _Steps()
    out(
        "dmtools demo: a tour of dmtools on a local sandbox of the Dailymotion API "
        "(nothing leaves this machine)"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    _clean(out_dir)
    steps("Starting a sandbox of the API (in this process)")
    with dm.Sandbox(videos=videos, seed=seed, mode="thread") as sb:
        sb.settings(report_delay=1)  # a report takes 1 s here (minutes on the real API)
        who = (
            f"demo user with a channel of {videos:,} videos"
            if api == "legacy"
            else f"a private key with {len(sb.credentials.private_key.profiles)} profiles"
        )
        out(f"   {sb.url}: {who} ({steps.took()})")
        with _login(steps, sb, api) as client:
            out(f"   {login_summary(client)}")
            df = _load_step(steps, client, progress)
            steps("What the channel looks like")
            _summary(df)
            steps("Audience from the Reporting API: dm.analytics.channel_audience(client)")
            audience = _audience_of(sb, client, progress)
            _report_step(steps, df, out_dir, report, audience)
            plan, found = _plan_step(steps, client, df, out_dir)
            _apply_step(steps, client, plan, found, out_dir, workers=workers, progress=progress)
            _undo_step(steps, client, df, out_dir, workers=workers, progress=progress)
    out(f"\nDone in {steps.took()}. Files in {out_dir}/. Next:")
    out("   dmtools lab                # the example notebooks, on a sandbox like this one")
    login = "dmtools login --sandbox-url URL" + (f" --api {api}" if api != "legacy" else "")
    out(f"   dmtools sandbox            # a sandbox of your own; then: {login}")
    out(
        "   dmtools export videos.csv  # edit it, then: dmtools plan videos.csv; dmtools apply "
        "videos.plan.json"
    )


@guarded
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the report, plan, journals and results.")
    ] = Path("dmtools-demo"),
    videos: Annotated[int, typer.Option(help="Videos in the demo channel.")] = 1500,
    seed: Annotated[int, typer.Option(help="Seed of the demo data.")] = 7,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write the channel report.")
    ] = True,
    progress: ProgressOption = True,
    workers: JobWorkersOption = None,
    api: Annotated[
        str,
        typer.Option(
            "--api",
            metavar="API",
            help="legacy (the Platform API, the demo user) or v2 (API v2, the private key).",
        ),
    ] = "legacy",
) -> None:
    """Run the whole toolkit on a local sandbox in under a minute: load, summarise, read the
    audience (Reporting API), report, plan a clean-up, apply it, undo it."""
    run_demo(
        out_dir,
        videos=videos,
        seed=seed,
        report=report,
        progress=progress,
        workers=workers,
        api=api,
    )


def register(app: typer.Typer) -> None:
    app.command(epilog=DEMO_EXAMPLES)(demo)
