"""The report summaries give exact numbers on a small hand-made channel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dmtools import report
from dmtools.errors import InputError
from dmtools.schema import CATEGORIES, LIMITS_PARTNER

UTC = "datetime64[ns, UTC]"


def channel() -> pd.DataFrame:
    """Six videos with the dtypes of a loaded frame, covering the edge cases each summary meets."""
    created = pd.to_datetime(
        [
            "2024-01-10T12:00:00Z",
            "2024-01-20T00:00:00Z",
            "2024-03-05T00:00:00Z",
            "2024-03-31T23:59:59Z",
            None,
            "2024-04-01T00:00:00Z",
        ],
        utc=True,
    ).astype(UTC)
    updated = created.to_series().fillna(pd.Timestamp("2024-04-10T00:00Z")).to_numpy()
    return pd.DataFrame(
        {
            "title": pd.array(
                ["Cats at home", "cats at home ", "X" * 101, "Live set", "Tutorial", "Quick tip"],
                dtype="string",
            ),
            "description": pd.array(
                ["About cats", "", None, "Concert", "How-to", "Tip"], dtype="string"
            ),
            "tags": [["cats", "pets"], ["cats"], [], ["music", " cats ", "music"], None, ["tips"]],
            "channel": pd.Categorical(
                ["animals", "animals", "music", "music", "tech", "tech"], categories=CATEGORIES
            ),
            "language": pd.array(["en", "fr", "en", None, "de", "en"], dtype="string"),
            "published": pd.array([True, True, False, True, None, False], dtype="boolean"),
            "private": pd.array([False, False, False, True, False, True], dtype="boolean"),
            "status": pd.Categorical(
                ["published", "published", "ready", "published", "processing", "published"]
            ),
            "created_time": created,
            "updated_time": pd.Series(updated, dtype=UTC).to_numpy(),
            "duration": pd.array([45, 300, 700, 4000, None, 60], dtype="Int64"),
            "views_total": pd.array([1000, 500, 0, 2000, None, 250], dtype="Int64"),
            "likes_total": pd.array([50, 10, 0, 100, 3, 5], dtype="Int64"),
            "comments_total": pd.array([5, 0, 0, 20, None, 1], dtype="Int64"),
        },
        index=pd.Index(["v1", "v2", "v3", "v4", "v5", "v6"], name="id", dtype="string"),
    )


def as_records(frame: pd.DataFrame) -> dict[str, list[object]]:
    return {
        c: [v if isinstance(v, list) or not pd.isna(v) else None for v in frame[c]]
        for c in frame.columns
    }


def test_uploads_per_month_counts_utc_months_and_fills_gaps() -> None:
    out = report.uploads_per_month(channel())
    assert list(out.index.strftime("%Y-%m")) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert out.index.name == "month"
    assert out["uploads"].tolist() == [2, 0, 2, 1]  # the 23:59:59 upload stays in March
    assert out["views"].tolist() == [1500, 0, 2000, 250]


def test_by_category_sums_views_and_engagement_sorted_by_views() -> None:
    out = report.by_category(channel())
    assert out.index.tolist() == ["music", "animals", "tech"]
    assert out["label"].tolist() == ["Music", "Animals", "Tech"]
    assert out["videos"].tolist() == [2, 2, 2]
    assert out["views"].tolist() == [2000, 1500, 250]
    assert out["likes"].tolist() == [100, 60, 8]
    assert out["comments"].tolist() == [20, 5, 1]
    assert out["views_per_video"].tolist() == [1000.0, 750.0, 250.0]  # tech: one video has no count
    assert out["likes_per_view"].tolist() == pytest.approx([0.05, 0.04, 0.032])
    assert out["comments_per_view"].tolist() == pytest.approx([0.01, 5 / 1500, 0.004])
    assert out["views_share"].tolist() == pytest.approx([2000 / 3750, 0.4, 250 / 3750])


def test_by_language_groups_missing_language_as_unknown_and_keeps_na_views_last() -> None:
    out = report.by_language(channel())
    assert out.index.tolist() == ["(unknown)", "en", "fr", "de"]
    assert out["videos"].tolist() == [1, 3, 1, 1]
    assert out["views"].iloc[:3].tolist() == [2000, 1250, 500]
    assert out.loc["de", "views"] is pd.NA
    assert out.loc["de", "likes"] == 3
    assert np.isnan(out.loc["de", "likes_per_view"])
    assert out.loc["en", "likes_per_view"] == pytest.approx(55 / 1250)


def test_views_per_day_uses_as_of_and_counts_at_least_one_day() -> None:
    df = channel()
    out = report.views_per_day(df, as_of="2024-04-11")
    assert out["v1"] == pytest.approx(1000 / 91.5)
    assert out["v2"] == pytest.approx(500 / 82)
    assert out["v3"] == 0
    assert out["v4"] == pytest.approx(2000 / (10 + 1 / 86400))
    assert out["v6"] == pytest.approx(25.0)
    assert np.isnan(out["v5"])
    early = report.views_per_day(df, as_of=pd.Timestamp("2024-04-01T06:00Z"))
    assert early["v6"] == 250.0 and early["v4"] == 2000.0


def test_views_per_day_defaults_to_the_latest_time_in_the_frame_not_the_clock() -> None:
    df = channel()
    assert report.views_per_day(df).equals(report.views_per_day(df, as_of="2024-04-10T00:00Z"))
    figures = report.key_figures(df)["value"]
    assert figures["as of"] == pd.Timestamp("2024-04-10T00:00Z")


def test_top_and_bottom_videos_rank_by_views_with_ties_broken_by_id() -> None:
    df = channel()
    assert report.top_videos(df, 3).index.tolist() == ["v4", "v1", "v2"]
    assert report.bottom_videos(df, 2).index.tolist() == ["v3", "v6"]
    assert report.top_videos(df, 2, by="likes_total").index.tolist() == ["v4", "v1"]
    assert report.bottom_videos(df, 2, by="comments_total").index.tolist() == ["v2", "v3"]
    top = report.top_videos(df, 10)
    assert "v5" not in top.index  # no view count: not ranked
    assert {"title", "views_total", "views_per_day"} <= set(top.columns)


def test_top_videos_by_views_per_day() -> None:
    out = report.top_videos(channel(), 5, by="views_per_day", as_of="2024-04-11")
    assert out.index.tolist() == ["v4", "v6", "v1", "v2", "v3"]
    assert out["views_per_day"].iloc[1] == pytest.approx(25.0)


def test_duration_distribution_uses_left_closed_bins_and_lists_unknown() -> None:
    out = report.duration_distribution(channel())
    assert out.index.tolist() == [
        "< 1 min",
        "1–5 min",
        "5–10 min",
        "10–20 min",
        "20 min–1 h",
        "≥ 1 h",
        "(unknown)",
    ]
    assert out["videos"].tolist() == [1, 1, 1, 1, 0, 1, 1]
    assert out["views"].tolist() == [1000, 250, 500, 0, 0, 2000, 0]
    assert out["share"].tolist() == pytest.approx([1 / 6] * 4 + [0] + [1 / 6] * 2)
    custom = report.duration_distribution(channel(), bins=[0, 100, float("inf")])
    assert custom.index.tolist() == ["< 100 s", "≥ 100 s", "(unknown)"]
    assert custom["videos"].tolist() == [2, 3, 1]
    with pytest.raises(InputError, match="increasing"):
        report.duration_distribution(channel(), bins=[60, 0])


def test_visibility_and_status_breakdowns() -> None:
    vis = report.visibility_breakdown(channel())
    assert vis.index.tolist() == [
        "public",
        "private",
        "unpublished",
        "private, unpublished",
        "(unknown)",
    ]
    assert vis["videos"].tolist() == [2, 1, 1, 1, 1]
    assert vis["views"].tolist() == [1500, 2000, 0, 250, 0]
    status = report.status_breakdown(channel())
    assert status.index.tolist() == ["processing", "ready", "published"]
    assert status["videos"].tolist() == [1, 1, 4]
    assert status["share"].sum() == pytest.approx(1.0)


def test_top_tags_strip_and_count_a_tag_once_per_video() -> None:
    out = report.top_tags(channel())
    assert out.index.tolist() == ["cats", "music", "pets", "tips"]
    assert out["videos"].tolist() == [3, 1, 1, 1]
    assert out["views"].tolist() == [3500, 2000, 1000, 250]
    assert out.loc["cats", "share"] == 0.5
    assert report.top_tags(channel(), 2).index.tolist() == ["cats", "music"]


def test_views_distribution_bins_by_order_of_magnitude() -> None:
    out = report.views_distribution(channel())
    assert out.index.tolist() == ["0", "1–9", "10–99", "100–999", "1k–10k"]
    assert out["videos"].tolist() == [1, 0, 0, 2, 2]
    assert out["low"].tolist() == [0, 1, 10, 100, 1000]


def test_key_figures() -> None:
    v = report.key_figures(channel())["value"]
    assert v["videos"] == 6 and v["views"] == 3750 and v["likes"] == 168 and v["comments"] == 26
    assert v["median views per video"] == 500.0
    assert v["hours of video"] == 1.4
    assert v["first upload"] == pd.Timestamp("2024-01-10T12:00Z")
    assert v["last upload"] == pd.Timestamp("2024-04-01T00:00Z")
    assert v["private videos"] == 2 and v["unpublished videos"] == 2


def test_health_check_counts_and_lists_each_finding_by_video_id() -> None:
    found = report.health_check(channel())
    assert found.counts["videos"].to_dict() == {
        "missing_title": 0,
        "title_too_long": 1,
        "duplicate_title": 2,
        "missing_description": 2,
        "no_tags": 2,
        "private": 2,
        "unpublished": 2,
    }
    assert found.counts.loc["no_tags", "field"] == "tags"
    assert found.issues.index.name == "id"
    rows = list(
        found.issues.reset_index()[["id", "problem", "field"]].itertuples(index=False, name=None)
    )
    assert rows == [
        ("v3", "title_too_long", "title"),
        ("v1", "duplicate_title", "title"),
        ("v2", "duplicate_title", "title"),
        ("v2", "missing_description", "description"),
        ("v3", "missing_description", "description"),
        ("v3", "no_tags", "tags"),
        ("v5", "no_tags", "tags"),
        ("v4", "private", "private"),
        ("v6", "private", "private"),
        ("v3", "unpublished", "published"),
        ("v6", "unpublished", "published"),
    ]
    assert (
        found.issues.loc["v3"].set_index("problem").loc["title_too_long", "detail"]
        == "101 characters, at most 100"
    )
    assert found.ids("no_tags").tolist() == ["v3", "v5"]
    assert found.ids().tolist() == ["v3", "v1", "v2", "v5", "v4", "v6"]
    with pytest.raises(ValueError, match="unknown problem"):
        found.ids("typo")


def test_health_check_ids_select_rows_of_the_frame_for_an_edit() -> None:
    df = channel()
    found = report.health_check(df)
    fix = df.loc[found.ids("missing_description")].copy()
    fix["description"] = "Written later"
    assert fix.index.tolist() == ["v2", "v3"]
    assert (
        report.health_check(pd.concat([df.drop(fix.index), fix])).counts.loc[
            "missing_description", "videos"
        ]
        == 0
    )


def test_health_check_uses_the_given_limits_and_skips_checks_without_columns() -> None:
    assert (
        report.health_check(channel(), limits=LIMITS_PARTNER).counts.loc["title_too_long", "videos"]
        == 0
    )
    partial = report.health_check(channel()[["title"]])
    assert partial.counts.loc["duplicate_title", "videos"] == 2
    assert partial.counts["videos"].isna().sum() == 4
    assert set(partial.issues["problem"]) == {"title_too_long", "duplicate_title"}


def test_compare_snapshots_reports_gains_new_and_removed_videos() -> None:
    before = channel()
    after = before.drop(index="v6")
    after.loc["v1", "views_total"] = 1100
    after.loc["v4", "views_total"] = 1900
    extra = before.loc[["v1"]].rename(index={"v1": "v7"})
    extra["views_total"] = pd.array([40], dtype="Int64")
    extra["title"] = pd.array(["Brand new"], dtype="string")
    after = pd.concat([after, extra])
    diff = report.compare_snapshots(before, after)
    assert diff.videos.index.tolist() == ["v1", "v7", "v2", "v3", "v4", "v5", "v6"]
    assert diff.videos["views_gained"].tolist()[:5] == [100, 40, 0, 0, -100]
    assert diff.videos["views_gained"].iloc[5:].isna().all()
    assert diff.videos["change"].tolist() == [
        "kept",
        "new",
        "kept",
        "kept",
        "kept",
        "kept",
        "removed",
    ]
    assert diff.videos.loc["v6", "title"] == "Quick tip"
    assert diff.new.index.tolist() == ["v7"] and diff.removed.index.tolist() == ["v6"]
    s = diff.summary["value"]
    assert (s["kept"], s["new"], s["removed"]) == (5, 1, 1)
    assert (s["views before"], s["views after"]) == (3750, 3540)
    assert (s["views gained (kept videos)"], s["views gained (new videos)"]) == (0, 40)


def test_compare_snapshots_refuses_duplicate_ids() -> None:
    df = channel()
    with pytest.raises(InputError, match="after has duplicate video ids") as info:
        report.compare_snapshots(df, pd.concat([df, df.iloc[:1]]))
    assert info.value.problems[0].row == "v1"


def test_summaries_accept_untyped_frames_as_read_from_a_plain_csv() -> None:
    typed = channel()
    raw = pd.DataFrame(as_records(typed), index=typed.index.astype(object)).astype(object)
    raw["views_total"] = [str(v) if v is not None else "" for v in raw["views_total"]]
    raw["published"] = [None if v is None else "yes" if v else "no" for v in raw["published"]]
    raw["created_time"] = [v.isoformat() if v is not None else None for v in raw["created_time"]]
    raw["tags"] = [",".join(t) if t is not None else None for t in raw["tags"]]
    for name in (
        "uploads_per_month",
        "by_category",
        "by_language",
        "visibility_breakdown",
        "duration_distribution",
        "top_tags",
    ):
        pd.testing.assert_frame_equal(
            getattr(report, name)(raw),
            getattr(report, name)(typed),
            check_index_type=False,
            check_dtype=False,
        )


def test_missing_column_raises_an_input_error_naming_it() -> None:
    with pytest.raises(InputError, match="'created_time'") as info:
        report.uploads_per_month(channel().drop(columns=["created_time"]))
    assert info.value.problems[0].column == "created_time"
    with pytest.raises(InputError, match="'published'"):
        report.visibility_breakdown(channel()[["private"]])


def test_empty_frame_gives_empty_or_zero_summaries() -> None:
    empty = channel().iloc[:0]
    assert report.uploads_per_month(empty).empty
    assert report.by_category(empty).empty
    assert report.top_videos(empty).empty
    assert report.top_tags(empty).empty
    assert report.duration_distribution(empty)["videos"].sum() == 0
    assert report.visibility_breakdown(empty)["videos"].sum() == 0
    assert report.health_check(empty).issues.empty
    assert report.health_check(empty).counts["videos"].sum() == 0
    assert report.key_figures(empty)["value"]["videos"] == 0
    assert report.compare_snapshots(empty, empty).videos.empty
