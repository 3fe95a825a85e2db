"""Tag and category helpers, and category labels wherever a category is read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import dmtools as dm
from dmtools.frames import to_frame
from dmtools.schema import CATEGORY_LABELS


def _df() -> pd.DataFrame:
    return to_frame(
        [
            {"id": "x1", "title": "A", "tags": [], "channel": "music"},
            {"id": "x2", "title": "B", "tags": ["a", "b"], "channel": "videogames"},
            {"id": "x3", "title": "C", "tags": ["b"], "channel": "auto"},
        ],
        fields=["id", "title", "tags", "channel"],
    )


def test_tag_helpers_return_edited_copies_that_plan_as_expected() -> None:
    df = _df()
    assert list(dm.without_tags(df).index) == ["x1"]
    added = dm.add_tags(df, ["b", "new"])
    assert added["tags"].tolist() == [["b", "new"], ["a", "b", "new"], ["b", "new"]]
    assert df["tags"].tolist() == [[], ["a", "b"], ["b"]]  # the input is untouched
    plan = dm.plan_edits(df, dm.add_tags(dm.without_tags(df), "new"))
    assert plan.videos == ("x1",) and plan.ops[0].changes["tags"] == ([], ["new"])
    removed = dm.remove_tags(df, ["B"], ignore_case=True)
    assert removed["tags"].tolist() == [[], ["a"], []]
    assert dm.remove_tags(df, ["B"])["tags"].tolist() == df["tags"].tolist()
    for bad in ([], [""], [" padded "], [3]):
        with pytest.raises(dm.InputError):
            dm.add_tags(df, bad)  # type: ignore[arg-type]
    with pytest.raises(dm.InputError, match="'tags' column"):
        dm.add_tags(df.drop(columns=["tags"]), ["x"])


def test_categories_by_label_and_a_clear_error_listing_them() -> None:
    df = _df()
    moved = dm.set_category(df.loc[["x1"]], "Video games")
    assert moved.loc["x1", "channel"] == "videogames"
    plan = dm.plan_edits(df, moved)
    assert plan.ops[0].changes["channel"] == ("music", "videogames")
    with pytest.raises(dm.InputError) as caught:
        dm.set_category(df, "Musik")
    message = str(caught.value)
    assert "'Musik' is not a category" in message and "auto (Cars)" in message
    assert "videogames (Video games)" in message
    labelled = dm.label_categories(df)
    assert labelled["channel"].tolist() == ["Music", "Video games", "Cars"]
    assert dm.plan_edits(df, labelled).ops == ()  # labels and values mean the same
    edited = df.copy()
    edited["channel"] = edited["channel"].astype(object)
    edited.loc["x3", "channel"] = "Musik"
    with pytest.raises(dm.InputError, match=r"use one of: animals \(Animals\)"):
        dm.plan_edits(df, edited)


def test_labels_typed_in_a_csv_are_read_as_categories(tmp_path: Path) -> None:
    df = _df()
    path = tmp_path / "videos.csv"
    dm.write_csv(df, path)
    text = path.read_text(encoding="utf-8")  # a spreadsheet user types labels
    path.write_text(text.replace(",videogames", ",Video games").replace(",auto", ",cars"))
    back = dm.read_csv(path)
    assert back["channel"].tolist() == ["music", "videogames", "auto"]
    assert set(back["channel"].cat.categories) == set(CATEGORY_LABELS)
    assert dm.plan_edits(df, path).ops == ()


def test_the_category_filter_takes_a_label() -> None:
    from dmtools._query import _check_filter

    assert _check_filter("channel", "category", "Video games") == "videogames"
    with pytest.raises(ValueError, match="tech \\(Tech\\)"):
        _check_filter("channel", "category", "Techno")
