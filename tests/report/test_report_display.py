"""Charts and tables as a notebook shows them, and reports of a partial view of a channel.

Display is checked with IPython's own DisplayFormatter (what every Jupyter frontend of an
IPython kernel receives), in a process where pyplot was never imported: no magic, no
inline backend.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from _support.report import PNG, random_channel
from IPython.core.formatters import DisplayFormatter

import dmtools as dm
from dmtools import report
from dmtools.client import Client
from dmtools.sandbox import Sandbox
from dmtools.testing import connect_sandbox
from dmtools.visibility import VIEW_ATTR, mark_partial, view_note

PLOTS = [
    name for name in report.__all__ if name.startswith("plot_") and name != "plot_views_gained"
]


def _mimetypes(obj: object) -> dict[str, object]:
    data, _ = DisplayFormatter().format(obj)
    return data


@pytest.mark.parametrize("name", PLOTS)
def test_every_plot_helper_and_its_figure_display_as_png(name: str) -> None:
    ax = getattr(report, name)(random_channel(80))
    for shown in (ax, ax.figure):
        data = _mimetypes(shown)
        assert set(data) == {"text/plain", "image/png"}
        assert isinstance(data["image/png"], bytes) and data["image/png"].startswith(PNG)


def test_views_gained_overview_and_report_display_as_png(tmp_path: Path) -> None:
    df = random_channel(60)
    later = df.assign(views_total=df["views_total"] + 5)
    ax = report.plot_views_gained(report.compare_snapshots(df, later))
    assert "image/png" in _mimetypes(ax)
    assert "image/png" in _mimetypes(report.overview_figure(df))
    result = report.channel_report(df, tmp_path / "r.html")
    data = _mimetypes(result)
    assert set(data) == {"text/plain", "image/png"}  # no HTML to outrank the picture
    assert data["image/png"] == result.pngs["overview"].read_bytes()
    assert "r.html" in str(data["text/plain"])


def test_charts_display_without_pyplot_or_any_magic() -> None:
    code = (
        "import sys\n"
        "from IPython.core.formatters import DisplayFormatter\n"
        "from dmtools import report\n"
        "import pandas as pd\n"
        "df = pd.DataFrame({'views_total': pd.array([1, 20, 300], dtype='Int64'),"
        " 'title': ['a', 'b', 'c']}, index=pd.Index(['x1', 'x2', 'x3'], name='id'))\n"
        "data, _ = DisplayFormatter().format(report.plot_top_videos(df))\n"
        "print(sorted(data), 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['image/png',", "'text/plain']", "False"]


def test_styled_tables_read_like_the_report() -> None:
    df = random_channel(300)
    top = report.top_videos(df, 5, by="views_per_day")
    html = report.styled(top).to_html()
    raw = top["views_per_day"].iloc[0]
    assert f"{raw:,.1f}" in html and f"{raw:.6f}" not in html
    assert "views per day" in html  # headers without underscores
    cats = report.styled(report.by_category(df)).to_html()
    share = report.by_category(df)["views_share"].iloc[0]
    assert f"{share:.1%}" in cats
    months = report.styled(report.uploads_per_month(df)).to_html()
    assert "00:00:00" not in months
    assert pd.Timestamp(report.uploads_per_month(df).index[-1]).strftime("%b %Y") in months
    figures = report.key_figures(df)
    assert report.styled(figures).data is figures  # the numbers are not changed


def test_a_partial_frame_never_reports_zero_private_or_all_public(tmp_path: Path) -> None:
    df = random_channel(200)
    df = df[~df["private"].fillna(False) & df["published"].fillna(True)]  # what the API shows
    mark_partial(df, "public videos only: test")
    figures = report.key_figures(df)["value"]
    assert figures["private videos"] == figures["unpublished videos"] == "not visible to this login"
    assert figures["view"] == "public videos only: test"
    seen = report.visibility_breakdown(df)
    assert seen.loc["public", "videos"] == len(df)
    assert seen.loc[["private", "unpublished"], "videos"].isna().all()
    assert seen["share"].isna().all()  # no "public 100 %"
    counts = report.health_check(df).counts["videos"]
    assert pd.isna(counts["private"]) and pd.isna(counts["unpublished"])
    for summary in (report.by_category(df), report.top_videos(df), seen, figures.to_frame()):
        assert view_note(summary) == "public videos only: test"
        assert "public videos only: test" in report.styled(summary).to_html()
    for name in PLOTS:
        assert getattr(report, name)(df).get_title(loc="left").endswith("(public videos only)")
    document = report.channel_report(df, tmp_path / "r.html").html.read_text(encoding="utf-8")
    assert "Partial view:</b> public videos only: test" in document
    assert "not visible to this login" in document


def test_a_complete_frame_has_no_note() -> None:
    df = random_channel(50)
    assert view_note(df) is None and VIEW_ATTR not in report.by_category(df).attrs
    assert not report.plot_visibility(df).get_title(loc="left").endswith("(public videos only)")
    assert report.key_figures(df)["value"]["private videos"] == int(df["private"].sum())


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(videos=300, seed=3) as sandbox:
        yield sandbox


def _public(sb: Sandbox, scope: list[str]) -> Client:
    return connect_sandbox(sb, scope=scope)


def test_load_videos_marks_what_a_login_could_not_see(sb: Sandbox) -> None:
    full = dm.load_videos(_public(sb, ["manage_videos"]), progress=False)
    hidden = int((full["private"] | ~full["published"]).sum())
    assert hidden > 0 and view_note(full) is None
    reader = _public(sb, [])
    public = dm.load_videos(reader, progress=False)
    assert len(public) == len(full) - hidden
    assert "manage_videos" in (view_note(public) or "")
    assert view_note(public.head(10).copy()) == view_note(public)  # kept through selections
    assert report.key_figures(public)["value"]["private videos"] == "not visible to this login"
    other = dm.load_videos(reader, owner=None, progress=False, fields=["id", "title"])
    assert "global list" in (view_note(other) or "")
    partner = connect_sandbox(sb, grant="client_credentials", scope="read_videos")
    assert view_note(dm.load_videos(partner, progress=False)) is None


def test_load_videos_in_a_time_zone(sb: Sandbox) -> None:
    client = _public(sb, ["manage_videos"])
    utc = dm.load_videos(client, progress=False, fields=["id", "created_time", "views_total"])
    paris = dm.load_videos(
        client, progress=False, fields=["id", "created_time", "views_total"], tz="Europe/Paris"
    )
    assert str(paris["created_time"].dtype) == "datetime64[ns, Europe/Paris]"
    assert (paris["created_time"] == utc["created_time"]).all()  # same instants
    months = report.uploads_per_month(paris)
    local = paris["created_time"].dt.tz_localize(None).dt.to_period("M").value_counts()
    assert months["uploads"].sum() == len(paris)
    assert all(months.loc[p.to_timestamp(), "uploads"] == n for p, n in local.items())
    assert dm.plan_edits(utc, paris).ops == ()  # read-only dates in another zone are no change
    requests = len(sb.request_log())
    with pytest.raises(dm.InputError, match="Mars/Olympus"):
        dm.load_videos(client, tz="Mars/Olympus")
    assert len(sb.request_log()) == requests
