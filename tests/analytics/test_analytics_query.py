"""A report request is checked before any request: names, limits, matrix, dates, filters;
long ranges are split into reports that cover every day once."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dmtools as dm
from dmtools import reporting_schema as rs
from dmtools.analytics.query import ReportQuery, build_query, enum_name


def problems(**kwargs: object) -> list[str]:
    kwargs.setdefault("start", "2026-01-01")
    kwargs.setdefault("end", "2026-01-31")
    kwargs.setdefault("dimensions", ["day"])
    with pytest.raises(dm.InputError) as caught:
        build_query(**kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "given_name,enum",
    [
        ("views", "VIEWS"),
        ("VIEWS", "VIEWS"),
        ("time_watched_seconds", "TIME_WATCHED_SECONDS"),
        ("timeWatchedSeconds", "TIME_WATCHED_SECONDS"),
        (" Time watched-seconds ", "TIME_WATCHED_SECONDS"),
        ("videoOwnerChannelSlug", "VIDEO_OWNER_CHANNEL_SLUG"),
    ],
)
def test_names_are_case_insensitive_in_python_api_or_camel_spelling(
    given_name: str, enum: str
) -> None:
    assert enum_name(given_name) == enum


def test_the_query_holds_the_apis_enum_names_and_the_frame_columns() -> None:
    q = build_query(
        "views, averageWatchTimeSec",
        "Day visitor_country",
        start=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2))),
        end=dt.date(2026, 3, 31),
        filters={"video_owner_channel_slug": "demo", "mediaType": "video", "channelSlug": None},
        product="Content",
    )
    assert q.metrics == ("VIEWS", "AVERAGE_WATCH_TIME_SEC")
    assert q.dimensions == ("DAY", "VISITOR_COUNTRY")
    assert q.start == dt.date(2026, 3, 2)  # an aware datetime counts by its UTC date
    assert q.columns == ["day", "visitor_country", "views", "average_watch_time_sec"]
    assert q.variables() == {
        "metrics": ["VIEWS", "AVERAGE_WATCH_TIME_SEC"],
        "dimensions": ["DAY", "VISITOR_COUNTRY"],
        "startDate": "2026-03-02",
        "endDate": "2026-03-31",
        "filters": {"mediaType": "VIDEO", "videoOwnerChannelSlug": "demo"},
        "product": "CONTENT",
    }
    assert ReportQuery.from_variables(q.variables()) == q


def test_every_problem_is_named_at_once_with_the_closest_names() -> None:
    found = problems(
        metrics=["viewz", "views", "views"],
        dimensions=["day", "vistor_country", "hour"],
        filters={"owner": "me", "media_type": "podcast"},
        product="everything",
        start="2026-02-30",
    )
    text = "\n".join(found)
    assert "unknown metric 'viewz'; did you mean views" in text
    assert "views is asked twice" in text
    assert "unknown dimension 'vistor_country'; did you mean visitor_country" in text
    assert "unknown filter 'owner'" in text and "'podcast': use one of live, video" in text
    assert "'everything': use one of all, claim, content, embed" in text
    assert "'2026-02-30' is not a date" in text
    assert len(found) == 7


def test_more_than_eight_dimensions_are_refused() -> None:
    nine = "day video_id visitor_country visitor_device_type player_id playlist_id "
    nine += "visitor_domain_group action content_tag"
    assert problems(metrics="views", dimensions=nine) == [
        "column 'dimension': 9 dimensions asked; a report has at most 8"
    ]
    assert build_query("views", nine.rsplit(" ", 1)[0], start="2026-01-01", end="2026-01-02")


@pytest.mark.parametrize(
    "metric,dimension",
    [
        ("estimated_earnings_eur", "hour"),
        ("uploads", "visitor_country"),
        ("live_viewers", "playlist_id"),
        ("views", "visibility"),
    ],
)
def test_pairs_outside_the_compatibility_matrix_are_refused(metric: str, dimension: str) -> None:
    [found] = problems(metrics=metric, dimensions=["day", dimension])
    assert f"{metric} cannot be broken down by {dimension}" in found


def test_every_documented_pair_of_the_matrix_is_accepted() -> None:
    for metric in rs.DOCUMENTED_METRICS:
        dims = sorted(rs.COMPATIBLE[metric])
        for i in range(0, len(dims), 8):
            build_query(metric, dims[i : i + 8], start="2026-01-01", end="2026-01-01")


def test_an_end_before_the_start_is_refused() -> None:
    assert problems(metrics="views", start="2026-02-01", end="2026-01-31") == [
        "column 'end': 2026-01-31 is before the start 2026-02-01"
    ]


def test_rates_over_several_reports_without_a_time_dimension_are_refused_with_the_fix() -> None:
    [found] = problems(
        metrics=["views", "view_through_rate", "estimated_earnings_eur"],
        dimensions=["video_id"],
        start="2025-01-01",
        end="2026-01-31",
    )
    assert "view_through_rate over several reports cannot be added up" in found
    assert "add the dimension day or month" in found
    # counts and earnings add up; rates are fine with a time dimension or within 180 days
    build_query(
        ["views", "estimated_earnings_eur"], "video_id", start="2025-01-01", end="2026-01-31"
    )
    build_query("view_through_rate", "day video_id", start="2025-01-01", end="2026-01-31")
    build_query("view_through_rate", "video_id", start="2025-01-01", end="2025-06-29")


@given(
    start=st.dates(dt.date(2020, 1, 1), dt.date(2027, 1, 1)),
    days=st.integers(1, 1200),
    month=st.booleans(),
)
def test_chunks_cover_every_day_once_within_the_limit(
    start: dt.date, days: int, month: bool
) -> None:
    end = start + dt.timedelta(days=days - 1)
    q = build_query("views", ["month" if month else "day"], start=start, end=end)
    chunks = q.chunks()
    assert chunks[0].start == start and chunks[-1].end == end
    for left, right in zip(chunks, chunks[1:], strict=False):
        assert right.start == left.end + dt.timedelta(days=1)
        if month:  # no month in two reports
            assert right.start.day == 1
    assert all(1 <= c.days <= rs.MAX_DAYS for c in chunks)
    assert len(chunks) <= -(-days // 150)  # whole months waste at most 30 days a report
    assert {c.metrics for c in chunks} == {q.metrics}
    assert len({c.key() for c in chunks}) == len(chunks)


@pytest.mark.parametrize(
    "kwargs,needed",
    [
        ({"metrics": 123}, "give names as text or a list"),
        ({"metrics": {"views": 1}}, "give names as text or a list"),
        ({"metrics": [None, 7]}, "unknown metric None"),
        ({"metrics": "views", "dimensions": b"day"}, "give names as text or a list"),
        ({"metrics": "views", "filters": "channelSlug=x"}, "give a mapping"),
        ({"metrics": "views", "filters": {"channel_slug": 5}}, "5 is not text"),
        ({"metrics": "views", "filters": {"channel_slug": " "}}, "empty"),
        ({"metrics": "views", "product": 3}, "3: use one of"),
        ({"metrics": "views", "start": None}, "None is not a date"),
        ({"metrics": "views", "start": 20260101}, "20260101 is not a date"),
        ({"metrics": "views", "end": "2026-13-01"}, "'2026-13-01' is not a date"),
    ],
)
def test_hostile_values_are_input_errors_naming_them(
    kwargs: dict[str, object], needed: str
) -> None:
    assert any(needed in p for p in problems(**kwargs)), problems(**kwargs)


def test_the_request_is_checked_against_the_shared_graphql_schema_before_it_is_sent() -> None:
    from dmtools.analytics._wire import ASK, POLL, check_variables

    q = build_query("views", "day", start="2026-01-01", end="2026-01-02", product="embed")
    check_variables(ASK, {"input": q.variables()})
    check_variables(POLL, {"reportToken": "t", "first": 100, "page": 2})
    for bad in (
        {"input": {**q.variables(), "metrics": ["VIEWZ"]}},
        {"input": {**q.variables(), "product": "TV"}},
        {"input": {k: v for k, v in q.variables().items() if k != "startDate"}},
    ):
        with pytest.raises(dm.InputError, match="does not fit the Reporting API's schema"):
            check_variables(ASK, bad)
    with pytest.raises(dm.InputError):
        check_variables(POLL, {"reportToken": 5, "first": "many"})


@pytest.mark.parametrize(
    "options",
    [
        {"interval": 0},
        {"interval": 10, "max": 5},
        {"timeout": -1},
        {"max_in_flight": 3},
        {"max_in_flight": 0},
        {"interval": "2"},
    ],
)
def test_bad_polling_options_are_refused(options: dict[str, object]) -> None:
    from dmtools.analytics import Poll

    with pytest.raises(dm.InputError):
        Poll(**options)  # type: ignore[arg-type]
