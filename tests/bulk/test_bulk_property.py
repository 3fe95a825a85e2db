"""Round-trip property: load, edit at random, plan, apply, reload == the edited frame."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import dmtools as dm
from dmtools.bulk import plan_edits
from dmtools.sandbox import Sandbox
from dmtools.schema import CATEGORIES, LANGUAGES
from dmtools.testing import connect_sandbox

EDITABLE = [
    "title",
    "description",
    "tags",
    "channel",
    "language",
    "published",
    "private",
    "is_created_for_kids",
]

# Awkward text: emoji, right-to-left, zero-width joiner, NFC and NFD forms, spaces, CRLF.
PIECES = [
    "é",
    "e\u0301",
    "🙂",
    "👩\u200d💻",
    "שלום",
    "مرحبا",
    " ",
    "  ",
    "\r\n",
    "NA",
    "null",
    "=1+1",
    "'",
    '"',
    "<b>",
    "&amp;",
    "\t",
]
chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn"))
fragment = st.one_of(st.sampled_from(PIECES), st.text(chars, min_size=1, max_size=6))


def text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    joined = st.lists(fragment, min_size=min_size, max_size=12).map("".join)
    return joined.map(lambda s: s[:max_size]).filter(lambda s: len(s) >= min_size)


title = st.one_of(text(1, 100).filter(lambda s: s.strip() != ""), st.just("T" * 100))
description = st.one_of(st.none(), text(0, 400), st.just("D" * 3000))
tag = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn", "Zs"), exclude_characters=","
    ),
    min_size=1,
    max_size=50,
)
VALUES = {
    "title": title,
    "description": description,
    "tags": st.lists(tag, max_size=5),
    "channel": st.sampled_from(CATEGORIES),
    "language": st.one_of(st.none(), st.sampled_from(sorted(LANGUAGES))),
    "published": st.booleans(),
    "private": st.booleans(),
    "is_created_for_kids": st.booleans(),
}


@pytest.fixture(scope="module")
def client() -> Iterator[dm.Client]:
    with Sandbox(videos=40, seed=17) as sb, connect_sandbox(sb) as c:
        yield c


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_applied_edits_read_back_as_edited_and_replanning_is_empty(client, data) -> None:
    df = dm.load_videos(client, progress=False)[EDITABLE]
    assert len(plan_edits(df, df.copy())) == 0
    edited = df.copy()
    rows = data.draw(st.lists(st.sampled_from(list(df.index)), unique=True, max_size=6))
    for vid in rows:
        for name in data.draw(
            st.lists(st.sampled_from(EDITABLE), unique=True, min_size=1, max_size=3)
        ):
            value = data.draw(VALUES[name])
            if name == "tags":
                edited.at[vid, name] = value
            else:
                edited.loc[vid, name] = value
    plan = plan_edits(df, edited)
    event(f"operations: {min(len(plan), 3)}")  # shown by --hypothesis-show-statistics
    result = plan.apply(client, workers=4, progress=False)
    assert result.counts()["applied"] == len(plan), result.to_frame()["message"].tolist()
    reloaded = dm.load_videos(client, progress=False)[EDITABLE]
    for op in plan.ops:
        for name, target in op.target.items():
            assert dm.frames.canonical(name, reloaded.at[op.video_id, name]) == target
    assert len(plan_edits(reloaded, edited)) == 0  # a second plan is empty
    again = plan.apply(client, progress=False)
    assert again.counts()["unchanged"] == len(plan)
