"""The audience part of the channel report: pure summaries checked on hand-built frames,
the charts and the HTML section, and the fallback that says ``views_*`` are deprecated."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

import dmtools as dm
from dmtools import report
from dmtools.report import audience as A
from dmtools.report import audience_plots as plots
from dmtools.report.audience import DEPRECATION_NOTE, Audience

PNG = b"\x89PNG\r\n\x1a\n"
START, END = dt.date(2026, 3, 8), dt.date(2026, 3, 21)  # 14 days; before: Feb 22 - Mar 7


def _daily(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": pd.to_datetime([r[0] for r in rows], utc=True).as_unit("ns"),
            "video_id": pd.array([r[1] for r in rows], dtype="string"),
            "views": pd.array([r[2] for r in rows], dtype="Int64"),
            "time_watched_seconds": pd.array([r[3] for r in rows], dtype="Int64"),
        }
    )


def _audience() -> Audience:
    daily = _daily(
        [
            ("2026-02-22", "xa", 10, 3600),  # previous period
            ("2026-03-01", "xb", 30, 1800),
            ("2026-03-08", "xa", 5, 600),  # this period
            ("2026-03-08", "xb", 20, 7200),
            ("2026-03-15", "xc", 35, 3600),
            ("2026-03-21", "xa", 4, 0),
        ]
    )
    places = pd.DataFrame(
        {
            "visitor_country": pd.array(["FR", "FR", "US", None, "DE"], dtype="string"),
            "visitor_device_type": pd.array(
                ["mobile", "desktop", "mobile", "tv", "mobile"], dtype="string"
            ),
            "views": pd.array([30, 10, 20, 2, 2], dtype="Int64"),
        }
    )
    return Audience(daily=daily, places=places, start=START, end=END)


def test_daily_views_fill_every_day_with_a_seven_day_average() -> None:
    table = A.daily_views(_audience())
    assert len(table) == 14 and table.index[0] == pd.Timestamp("2026-03-08", tz="UTC")
    assert table["views"].tolist() == [25, 0, 0, 0, 0, 0, 0, 35, 0, 0, 0, 0, 0, 4]
    assert table.loc["2026-03-08", "watch_hours"].item() == pytest.approx(7800 / 3600)
    # Mar 8 averages Mar 2-8 (its previous days come from the previous period): 25 / 7
    assert table["views_avg"].iloc[0] == pytest.approx(25 / 7)
    assert table["views_avg"].iloc[7] == pytest.approx(35 / 7)


def test_this_period_against_the_one_before() -> None:
    table = A.period_comparison(_audience())
    assert table.loc["views"].tolist()[:3] == [64, 40, 24]
    assert table.loc["views", "change_share"] == pytest.approx(0.6)
    assert table.loc["watch_hours", "this_period"] == pytest.approx(11400 / 3600)
    assert table.loc["minutes_per_view", "previous_period"] == pytest.approx(5400 / 60 / 40)
    days = A.period_days(_audience())
    assert list(days.index) == list(range(1, 15))
    assert days["previous_period"].sum() == 40 and days["this_period"].sum() == 64
    assert days.loc[1, "previous_period"] == 10 and days.loc[8, "previous_period"] == 30


def test_top_videos_of_the_period_with_titles_and_shares() -> None:
    videos = dm.to_frame([{"id": "xb", "title": "Bee"}, {"id": "xc", "title": "Sea"}])
    table = A.top_videos_in_period(_audience(), videos, n=2)
    assert list(table.index) == ["xc", "xb"] and table.index.name == "video_id"
    assert table["title"].tolist() == ["Sea", "Bee"]
    assert table["views"].tolist() == [35, 20]  # xb's views of Mar 1 are the previous period's
    assert table["views_share"].tolist() == pytest.approx([35 / 64, 20 / 64])
    assert "title" not in A.top_videos_in_period(_audience()).columns


def test_views_by_country_and_device_with_the_rest_as_one_row() -> None:
    countries = A.views_by(_audience(), "country", n=2)
    assert countries["views"].to_dict() == {"FR": 40, "US": 20, "(others)": 4}
    assert countries["views_share"].sum() == pytest.approx(1.0)
    devices = A.views_by(_audience(), "device")
    assert devices["views"].to_dict() == {"mobile": 52, "desktop": 10, "tv": 2}
    with pytest.raises(ValueError, match="country, device"):
        A.views_by(_audience(), "player")


def test_an_empty_audience_gives_zeros_and_no_data_charts() -> None:
    empty = Audience(daily=_daily([]), places=_audience().places.iloc[:0], start=START, end=END)
    assert A.daily_views(empty)["views"].sum() == 0
    assert A.period_comparison(empty)["change_share"].isna().all()
    for ax in (
        plots.plot_audience_over_time(empty),
        plots.plot_period_comparison(empty),
        plots.plot_top_videos_in_period(empty),
        plots.plot_views_by(empty, "device"),
    ):
        assert "No views" in " ".join(t.get_text() for t in ax.texts)


def test_the_charts_draw_the_summaries_numbers() -> None:
    aud = _audience()
    ax = plots.plot_audience_over_time(aud)
    assert [round(b.get_height()) for b in ax.patches][:8] == [25, 0, 0, 0, 0, 0, 0, 35]
    assert ax._repr_png_().startswith(PNG)
    lines = plots.plot_period_comparison(aud).get_lines()
    assert [int(sum(line.get_ydata())) for line in lines] == [40, 64]
    bars = plots.plot_views_by(aud, "country", n=2).patches
    assert [b.get_width() for b in bars] == [40, 20, 4]


def test_the_report_gains_an_audience_section_with_its_charts(tmp_path: Path) -> None:
    videos = dm.to_frame(
        [{"id": v, "title": f"Video {v}", "views_total": 100} for v in ("xa", "xb", "xc")]
    )
    result = report.channel_report(videos, tmp_path / "r.html", audience=_audience())
    document = result.html.read_text(encoding="utf-8")
    assert result.sections[:2] == ("summary", "audience")
    part = document[document.index('id="audience"') : document.index('id="uploads"')]
    assert "Audience, 2026-03-08 to 2026-03-21 (14 days)" in part
    assert len(re.findall(r'<img src="data:image/png;base64,', part)) == 6
    assert "+60.0%" not in part and "60.0%" in part  # the views' change share
    assert 'href="https://www.dailymotion.com/video/xc"' in part and "Video xc" in part
    assert {"audience-views", "audience-devices"} <= set(result.pngs)
    assert all(p.read_bytes().startswith(PNG) for p in result.pngs.values())
    assert DEPRECATION_NOTE not in document


@pytest.mark.parametrize("why", [None, "this login has no access to the Reporting API"])
def test_without_access_the_report_says_views_fields_are_deprecated(
    tmp_path: Path, why: str | None
) -> None:
    videos = dm.to_frame([{"id": "xa", "title": "A", "views_total": 3}])
    result = report.channel_report(videos, tmp_path / "r.html", audience=why)
    document = result.html.read_text(encoding="utf-8")
    part = document[document.index('id="audience"') : document.index('id="uploads"')]
    assert "deprecated on 2026-03-09" in part and "No Reporting API figures" in part
    assert (why or "No Reporting API figures.") in part
    assert not any(key.startswith("audience") for key in result.pngs)
