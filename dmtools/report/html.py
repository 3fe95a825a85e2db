"""The channel report: one self-contained HTML file plus PNG charts.

Example:
    >>> from dmtools import report
    >>> result = report.channel_report(df, "report.html", title="My channel")
    >>> result.html, result.pngs["overview"]   # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pandas as pd

from dmtools.errors import InputError
from dmtools.report import _data, _panels, distributions, summaries
from dmtools.report import _format as F
from dmtools.report import audience as A
from dmtools.report.health import health_check
from dmtools.report.summaries import AsOf

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ReportResult", "channel_report", "overview_figure"]

log = logging.getLogger(__name__)

#: Most rows shown by a table of the HTML report (the full data is one function call away).
MAX_ROWS = 200
#: Where a video id in a table links to (the video's page on Dailymotion).
VIDEO_URL = "https://www.dailymotion.com/video/"


@dataclass(frozen=True)
class ReportResult:
    """What :func:`channel_report` wrote.

    Attributes:
        html: the HTML file.
        pngs: chart name -> PNG file; ``"overview"`` is the multi-panel figure.
        figure: the overview figure (it displays as a picture in Jupyter).
        sections: the ids of the HTML sections, in order.

    In Jupyter, a result shows as the overview picture (``image/png``); its text form says
    where the files are.

    Example:
        >>> result = channel_report(df, "report.html")
        >>> result.pngs["top-videos"]   # doctest: +SKIP
    """

    html: Path
    pngs: dict[str, Path]
    figure: Figure
    sections: tuple[str, ...] = field(default=())

    @property
    def overview_png(self) -> Path:
        """The overview PNG (same as ``pngs["overview"]``)."""
        return self.pngs["overview"]

    def __repr__(self) -> str:
        return (
            f"<dmtools channel report: {self.html} and {len(self.pngs)} PNG charts in "
            f"{self.overview_png.parent}>"
        )

    def _repr_png_(self) -> bytes:
        if self.overview_png.exists():
            return self.overview_png.read_bytes()
        from dmtools.report._figure import png_bytes

        return png_bytes(self.figure)


def _default_title(df: pd.DataFrame) -> str:
    if "owner_screenname" in df.columns:
        names = _data.texts(df, "owner_screenname").dropna()
        if len(names):
            return f"Channel report: {names.mode().iloc[0]}"
    return "Channel report"


def overview_figure(df: pd.DataFrame, *, title: str | None = None, as_of: AsOf = None) -> Figure:
    """Every chart of the channel report on one constrained-layout figure (not saved).

    Example:
        >>> overview_figure(df, title="My channel")   # shows in Jupyter   # doctest: +SKIP
    """
    return _panels.overview(
        df, title=title or _default_title(df), as_of=_data.resolve_as_of(df, as_of)
    )


def _key(key: object, name: str) -> str:
    """A row header; a video id links to the video's page."""
    text = html.escape(F.cell_text(key, name))
    if name in ("id", "video_id") and isinstance(key, str) and key:
        return f'<a href="{VIDEO_URL}{quote(key, safe="")}">{text}</a>'
    return text


def _table(frame: pd.DataFrame, limit: int = MAX_ROWS) -> str:
    shown = frame.head(limit)
    name = str(shown.index.name or "")
    head = "".join(f"<th>{html.escape(F.header(str(c)))}</th>" for c in [name, *shown.columns])
    rows = []
    for key, row in zip(shown.index, shown.itertuples(index=False), strict=True):
        cells = "".join(
            f'<td class="{"num" if F.is_number(v) else "txt"}">'
            f"{html.escape(F.cell_text(v, str(c)))}</td>"
            for c, v in zip(shown.columns, row, strict=True)
        )
        rows.append(f"<tr><th>{_key(key, name)}</th>{cells}</tr>")
    more = (
        f'<p class="more">{len(frame) - limit:,} more rows not shown.</p>'
        if len(frame) > limit
        else ""
    )
    if not rows:
        return '<p class="na">No data.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1200px;color:#1a202c;padding:0 1rem}
h1{margin-bottom:.2rem}.meta{color:#4a5568;margin-top:0}
section{margin:2.5rem 0;border-top:1px solid #e2e8f0;padding-top:1rem}
img{max-width:100%;height:auto;display:block;margin:1rem 0}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border-bottom:1px solid #e2e8f0;padding:.25rem .6rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.txt{max-width:38rem;overflow-wrap:anywhere}
thead th{background:#f7fafc}.na,.more{color:#718096;font-style:italic}
.partial{background:#fffbea;border-left:4px solid #d69e2e;padding:.5rem .8rem}
a{color:#2b6cb0}
"""


def _health_tables(df: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    found = health_check(df)
    issues = found.issues.drop(columns=["field"])
    if "title" in df.columns:
        titles = _data.texts(df, "title")
        titles.index = _data.ids(df)
        titles = titles[~titles.index.duplicated()]
        issues.insert(0, "title", titles.reindex(issues.index).to_numpy())
    issues["problem"] = issues["problem"].str.replace("_", " ")
    return [("Problems", found.counts), ("Videos to fix", issues)]


# Section id -> (heading, chart keys, tables).
_Tables = Callable[[pd.DataFrame, pd.Timestamp | None], list[tuple[str, pd.DataFrame]]]
_SECTIONS: list[tuple[str, str, tuple[str, ...], _Tables]] = [
    (
        "uploads",
        "Uploads per month",
        ("uploads",),
        lambda df, _t: [("Last 24 months", summaries.uploads_per_month(df).iloc[::-1].head(24))],
    ),
    (
        "categories",
        "Categories",
        ("categories", "engagement"),
        lambda df, _t: [("", summaries.by_category(df))],
    ),
    ("languages", "Languages", ("languages",), lambda df, _t: [("", summaries.by_language(df))]),
    (
        "top-videos",
        "Top videos by views",
        ("top-videos",),
        lambda df, t: [("", summaries.top_videos(df, 25, as_of=t))],
    ),
    (
        "trending",
        "Top videos by views per day since upload",
        ("trending",),
        lambda df, t: [("", summaries.top_videos(df, 25, by="views_per_day", as_of=t))],
    ),
    (
        "bottom-videos",
        "Least viewed videos",
        (),
        lambda df, t: [("", summaries.bottom_videos(df, 25, as_of=t))],
    ),
    (
        "durations",
        "Durations",
        ("durations",),
        lambda df, _t: [("", distributions.duration_distribution(df))],
    ),
    (
        "views-distribution",
        "Views distribution",
        ("views-distribution",),
        lambda df, _t: [("", distributions.views_distribution(df).drop(columns=["low", "high"]))],
    ),
    (
        "visibility",
        "Visibility and status",
        ("visibility",),
        lambda df, _t: [
            ("Visibility", summaries.visibility_breakdown(df)),
            ("Status", summaries.status_breakdown(df)),
        ],
    ),
    ("tags", "Tags", ("tags",), lambda df, _t: [("", summaries.top_tags(df, 50))]),
    ("health", "Metadata health", ("health",), lambda df, _t: _health_tables(df)),
]


def _section_tables(tables: _Tables, df: pd.DataFrame, as_of: pd.Timestamp | None) -> str:
    try:
        parts = tables(df, as_of)
    except InputError as exc:
        return f'<p class="na">{html.escape(_panels.missing_note(exc))}</p>'
    return "".join(
        (f"<h3>{html.escape(caption)}</h3>" if caption else "") + _table(t) for caption, t in parts
    )


def channel_report(
    df: pd.DataFrame,
    path: str | Path = "report.html",
    *,
    title: str | None = None,
    as_of: AsOf = None,
    png_dir: str | Path | None = None,
    audience: A.Audience | str | None = None,
) -> ReportResult:
    """Write a channel report: one self-contained HTML file (tables and charts embedded as
    PNG, no external resource) and a PNG per chart plus the overview.

    With an ``audience`` (Reporting API figures, see
    :func:`dmtools.analytics.channel_audience`), an "Audience" section shows views and watch
    time per day with their 7-day average, this period against the one before, the top
    videos of the period, views by country and by device. Without one (or with the text
    saying why there is none), that section says that the views come from the deprecated
    ``views_*`` fields.

    Args:
        df: a video frame (index = video id); missing columns and NAs are tolerated, the
            sections that need them say so.
        path: the HTML file to write (parent folders are created).
        title: report title (default: "Channel report: <owner screen name>").
        as_of: the "now" used for views per day (default: latest created/updated time in
            ``df``, see :func:`dmtools.report.views_per_day`).
        png_dir: folder for the PNGs (default: ``<path without .html>_png`` next to the file).
        audience: an :class:`~dmtools.report.audience.Audience`, or why there is none.

    Example:
        >>> result = channel_report(df, "report.html", as_of="2025-06-01")
        >>> result.pngs["overview"]   # doctest: +SKIP
    """
    from dmtools.report._figure import png_bytes

    html_path = Path(path)
    out_dir = Path(png_dir) if png_dir is not None else html_path.with_name(html_path.stem + "_png")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    when = _data.resolve_as_of(df, as_of)
    heading = title or _default_title(df)

    figure = _panels.overview(df, title=heading, as_of=when)
    images = {"overview": png_bytes(figure, dpi=100)}
    for panel in _panels.PANELS:
        images[panel.key] = png_bytes(_panels.single(panel, df, when), dpi=100)
    if isinstance(audience, A.Audience):
        from dmtools.report.audience_plots import audience_figures

        for key, chart in audience_figures(audience, df).items():
            images[key] = png_bytes(chart, dpi=100)
    pngs: dict[str, Path] = {}
    for key, png in images.items():
        pngs[key] = out_dir / f"{key}.png"
        pngs[key].write_bytes(png)
    html_path.write_text(_document(df, heading, when, images, audience), encoding="utf-8")
    log.info("channel report written to %s (%d charts in %s)", html_path, len(pngs), out_dir)
    sections = ("summary", "audience", *(s[0] for s in _SECTIONS))
    return ReportResult(html=html_path, pngs=pngs, figure=figure, sections=sections)


def _audience(audience: A.Audience | str | None, df: pd.DataFrame, images: dict[str, bytes]) -> str:
    """The "Audience" section: Reporting API charts and tables, or why there are none."""
    if not isinstance(audience, A.Audience):
        why = f" ({audience})" if isinstance(audience, str) and audience else ""
        return (
            '<section id="audience"><h2>Audience</h2><p class="partial"><strong>No Reporting '
            f"API figures{html.escape(why)}.</strong> {html.escape(A.DEPRECATION_NOTE)}</p>"
            "</section>"
        )
    from dmtools.report.audience_plots import AUDIENCE_PANELS

    pictures = "".join(_image(images[key], title) for key, title, _s, _d in AUDIENCE_PANELS)
    tables = [
        ("This period against the one before", A.period_comparison(audience)),
        ("Top videos in the period", A.top_videos_in_period(audience, df, 25)),
        ("Views by country", A.views_by(audience, "country", 25)),
        ("Views by device", A.views_by(audience, "device")),
    ]
    parts = "".join(f"<h3>{html.escape(c)}</h3>{_table(t)}" for c, t in tables)
    return (
        f'<section id="audience"><h2>Audience, {html.escape(audience.label)}</h2>'
        '<p class="meta">From the Reporting API (UTC days).</p>'
        f"{pictures}{parts}</section>"
    )


def _document(
    df: pd.DataFrame,
    heading: str,
    when: pd.Timestamp | None,
    images: dict[str, bytes],
    audience: A.Audience | str | None = None,
) -> str:
    """The HTML page: key figures, then one section per subject with its charts (each chart
    once; the overview picture is the PNG file and the notebook view) and tables."""
    titles = {p.key: p.title for p in _panels.PANELS}
    note = _data.view_note(df)
    body = [
        f"<h1>{html.escape(heading)}</h1>",
        f'<p class="meta">{len(df):,} videos · as of '
        f"{html.escape(F.cell_text(when, '') if when is not None else 'unknown')}</p>",
        f'<p class="partial"><b>Partial view:</b> {html.escape(note)}.</p>' if note else "",
        '<section id="summary"><h2>Key figures</h2>'
        + _table(summaries.key_figures(df, when))
        + "</section>",
        _audience(audience, df, images),
    ]
    for key, heading_text, charts, tables in _SECTIONS:
        pictures = "".join(_image(images[c], titles[c]) for c in charts)
        body.append(
            f'<section id="{key}"><h2>{html.escape(heading_text)}</h2>{pictures}'
            f"{_section_tables(tables, df, when)}</section>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(heading)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
