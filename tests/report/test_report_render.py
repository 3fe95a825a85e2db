"""Report charts and the HTML report render on Agg for tiny, empty, partial and huge channels."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from _support.report import AS_OF, PNG, random_channel
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dmtools import report
from dmtools.errors import InputError


def _agg_axes() -> Axes:
    fig = Figure(figsize=(8, 5), layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


PLOTS = {
    "uploads": lambda df, ax: report.plot_uploads_per_month(df, ax),
    "category": lambda df, ax: report.plot_by_category(df, ax),
    "category_likes": lambda df, ax: report.plot_by_category(df, ax, metric="likes_per_view"),
    "language": lambda df, ax: report.plot_by_language(df, ax, n=3),
    "engagement": lambda df, ax: report.plot_engagement(df, ax),
    "engagement_language": lambda df, ax: report.plot_engagement(df, ax, by="language"),
    "top": lambda df, ax: report.plot_top_videos(df, ax, n=5, as_of=AS_OF),
    "trending": lambda df, ax: report.plot_top_videos(df, ax, by="views_per_day", as_of=AS_OF),
    "bottom": lambda df, ax: report.plot_top_videos(df, ax, bottom=True),
    "duration": lambda df, ax: report.plot_duration_distribution(df, ax),
    "views": lambda df, ax: report.plot_views_distribution(df, ax),
    "visibility": lambda df, ax: report.plot_visibility(df, ax),
    "tags": lambda df, ax: report.plot_top_tags(df, ax, n=8),
    "health": lambda df, ax: report.plot_health(df, ax),
    "gained": lambda df, ax: report.plot_views_gained(
        report.compare_snapshots(df.iloc[1:], df), ax
    ),
}


def _texts(ax: Axes) -> list[str]:
    found = [t.get_text() for t in ax.texts]
    found += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    return found + [ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]


@pytest.mark.parametrize("size", [5, 3000])
@pytest.mark.parametrize("name", sorted(PLOTS))
def test_every_plot_draws_on_the_given_axes_and_renders(name: str, size: int) -> None:
    ax = _agg_axes()
    assert PLOTS[name](random_channel(size), ax) is ax
    ax.figure.canvas.draw()
    assert ax.get_title(loc="left")
    assert len(ax.patches) > 0
    assert "No data" not in " ".join(_texts(ax))


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_every_plot_says_no_data_for_an_empty_channel(name: str) -> None:
    ax = PLOTS[name](random_channel(0), _agg_axes())
    ax.figure.canvas.draw()
    assert len(ax.patches) == 0
    assert any(t.startswith("No ") for t in _texts(ax))


def test_plots_without_axes_use_a_fresh_figure_and_leave_global_state_alone() -> None:
    import matplotlib.pyplot as plt

    before = dict(matplotlib.rcParams)
    axes = [PLOTS[name](random_channel(40), None) for name in sorted(PLOTS)]
    assert len({id(ax.figure) for ax in axes}) == len(axes)
    assert all(isinstance(ax.figure, Figure) for ax in axes)
    assert plt.get_fignums() == []
    assert dict(matplotlib.rcParams) == before


def test_large_counts_get_thousands_separators_and_compact_ticks() -> None:
    df = random_channel(30)
    df["views_total"] = pd.array([1_234_567] + [10] * 29, dtype="Int64")
    ax = report.plot_top_videos(df, _agg_axes(), n=3)
    ax.figure.canvas.draw()
    assert "1,234,567" in [t.get_text() for t in ax.texts]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert any(t.endswith(("k", "M")) for t in ticks), ticks


def test_top_video_titles_are_shortened_and_dollar_signs_are_not_mathtext() -> None:
    df = random_channel(10)
    df["views_total"] = pd.array(range(10, 20), dtype="Int64")
    df.loc[df.index[-1], "title"] = "Earn $5 and $10 " + "very long title " * 20
    ax = report.plot_top_videos(df, _agg_axes(), n=3, title_width=30)
    ax.figure.canvas.draw()  # would raise on unbalanced mathtext
    label = ax.get_yticklabels()[0].get_text()
    assert label.startswith(r"Earn \$5 and \$10") and label.endswith("…")
    assert len(label.replace("\\", "")) == 30


def test_uploads_per_month_uses_a_date_axis() -> None:
    ax = report.plot_uploads_per_month(random_channel(500), _agg_axes())
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert any(label.isdigit() and len(label) == 4 for label in labels), labels  # years
    few = report.plot_uploads_per_month(random_channel(500).iloc[:0], _agg_axes())
    assert len(few.patches) == 0


def test_plots_stay_aggregated_for_a_hundred_thousand_videos() -> None:
    df = random_channel(100_000, seed=3)
    fig = report.overview_figure(df, as_of=AS_OF)
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    bars = sum(len(ax.patches) for ax in fig.axes)
    assert len(fig.axes) == 11
    assert bars < 400


def test_missing_columns_raise_a_clear_error_from_a_plot() -> None:
    with pytest.raises(InputError, match="'duration'"):
        report.plot_duration_distribution(random_channel(5).drop(columns=["duration"]))


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if tag == "section":
            self.sections.append(values["id"] or "")
        if tag == "img":
            self.images.append(values["src"] or "")
        if tag == "a":
            self.links.append(values["href"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_channel_report_writes_one_self_contained_html_and_pngs(tmp_path: Path) -> None:
    df = random_channel(200)
    df.loc[df.index[5], "title"] = "<script>alert('x')</script> & co"
    df.loc[df.index[5], "views_total"] = 10**7
    result = report.channel_report(
        df, tmp_path / "out" / "report.html", title="My <b>channel</b>", as_of="2025-01-01"
    )
    assert result.html == tmp_path / "out" / "report.html"
    document = result.html.read_text(encoding="utf-8")
    page = _page(result.html)
    assert page.sections == list(result.sections)
    assert set(result.sections) >= {
        "summary",
        "uploads",
        "categories",
        "languages",
        "top-videos",
        "trending",
        "bottom-videos",
        "durations",
        "views-distribution",
        "visibility",
        "tags",
        "health",
    }
    # every chart embedded exactly once (the overview is the PNG file and the notebook view)
    assert len(page.images) == len(result.pngs) - 1 == len(set(page.images))
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert not {"script", "link", "iframe", "b"} & page.tags
    # nothing is loaded from elsewhere: the only URLs are links to the videos' pages
    assert set(page.links) and all(
        link.startswith("https://www.dailymotion.com/video/") for link in page.links
    )
    assert "http://" not in document
    assert document.count("https://") == len(page.links)
    assert f'href="https://www.dailymotion.com/video/{df.index[5]}"' in document
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in document
    assert "My &lt;b&gt;channel&lt;/b&gt;" in document
    assert "2025-01-01 00:00 UTC" in document
    assert "10,000,000" in document
    assert set(result.pngs) == {
        "overview",
        "uploads",
        "categories",
        "engagement",
        "languages",
        "top-videos",
        "trending",
        "durations",
        "views-distribution",
        "visibility",
        "tags",
        "health",
    }
    for png in result.pngs.values():
        assert png.parent == tmp_path / "out" / "report_png"
        assert png.read_bytes().startswith(PNG)
    assert result.overview_png == result.pngs["overview"]
    assert isinstance(result.figure, Figure)
    assert result._repr_png_() == result.pngs["overview"].read_bytes()
    assert "report.html" in repr(result)


def test_videos_to_fix_list_titles_and_months_read_as_months(tmp_path: Path) -> None:
    df = random_channel(120)
    df.loc[df.index[3], "tags"] = []
    df.loc[df.index[3], "title"] = "A title to find <again>"
    result = report.channel_report(df, tmp_path / "r.html", as_of="2025-01-01")
    document = result.html.read_text(encoding="utf-8")
    fix = document[document.index("Videos to fix") :]
    row = fix[fix.index(f">{df.index[3]}</a>") :][:400]
    assert "A title to find &lt;again&gt;" in row and "no tags" in row
    uploads = document[document.index('id="uploads"') : document.index('id="categories"')]
    months = re.findall(r"<tr><th>([^<]+)</th><td", uploads)
    assert months and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", m) for m in months), months[:3]
    assert "00:00 UTC</th>" not in uploads


def test_channel_report_of_an_empty_channel(tmp_path: Path) -> None:
    result = report.channel_report(random_channel(0), tmp_path / "r.html", png_dir=tmp_path / "png")
    page = _page(result.html)
    assert page.sections == list(result.sections)
    text = " ".join(page.text)
    assert "0 videos" in text and "No data." in text
    assert all(
        p.parent == tmp_path / "png" and p.read_bytes().startswith(PNG)
        for p in result.pngs.values()
    )


def test_channel_report_with_missing_columns_and_nas_says_what_is_missing(tmp_path: Path) -> None:
    df = random_channel(50)[["title", "views_total", "tags"]]
    df.loc[df.index[:10], "views_total"] = pd.NA
    df.loc[df.index[10:20], "title"] = pd.NA
    result = report.channel_report(df, tmp_path / "r.html")
    text = " ".join(_page(result.html).text)
    assert "Not available: missing column 'created_time'" in text
    assert "Not available: missing columns 'published', 'private'" in text
    assert "missing_title" in text  # the health check still ran on what is there
    assert result.pngs["overview"].read_bytes().startswith(PNG)


def test_importing_the_report_module_loads_neither_pandas_nor_matplotlib() -> None:
    code = (
        "import sys, dmtools.report as r; print('matplotlib' in sys.modules, 'pandas' in sys.modules);"
        " r.health_check; print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_public_names_are_pinned() -> None:
    assert sorted(report.__all__) == [
        "DURATION_BINS",
        "HealthReport",
        "PROBLEMS",
        "ReportResult",
        "SnapshotDiff",
        "bottom_videos",
        "by_category",
        "by_language",
        "channel_report",
        "compare_snapshots",
        "duration_distribution",
        "engagement_by",
        "health_check",
        "key_figures",
        "overview_figure",
        "plot_by_category",
        "plot_by_language",
        "plot_duration_distribution",
        "plot_engagement",
        "plot_health",
        "plot_top_tags",
        "plot_top_videos",
        "plot_uploads_per_month",
        "plot_views_distribution",
        "plot_views_gained",
        "plot_visibility",
        "status_breakdown",
        "styled",
        "top_tags",
        "top_videos",
        "uploads_per_month",
        "view_note",
        "views_distribution",
        "views_per_day",
        "visibility_breakdown",
    ]
    for name in report.__all__:
        assert getattr(report, name) is not None
    with pytest.raises(AttributeError):
        report.no_such_name  # noqa: B018
