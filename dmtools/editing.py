"""Everyday edits of a video frame: tags and categories (each returns an edited copy).

The functions never change the frame they are given and never send anything: plan the
result with :func:`dmtools.plan_edits` against the loaded frame, review, apply.

Example:
    >>> untagged = dm.without_tags(df)                               # doctest: +SKIP
    >>> plan = dm.plan_edits(df, dm.add_tags(untagged, ["music"]))   # doctest: +SKIP
    >>> plan = dm.plan_edits(df, dm.remove_tags(df, ["old tag"]))    # doctest: +SKIP
    >>> plan = dm.plan_edits(df, dm.set_category(df.loc[ids], "Video games"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dmtools import schema
from dmtools.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "add_tags",
    "category_labels",
    "label_categories",
    "remove_tags",
    "set_category",
    "without_tags",
]


def _tag_list(tags: str | Iterable[str], what: str) -> list[str]:
    items = [tags] if isinstance(tags, str) else list(tags)
    bad = [t for t in items if not isinstance(t, str) or not t.strip() or t != t.strip()]
    if bad or not items:
        reason = "give at least one tag" if not items else f"not a usable tag: {bad[0]!r}"
        raise InputError(f"{what}: {reason}", [Problem(None, "tags", reason)])
    return list(dict.fromkeys(items))


def _need(df: pd.DataFrame, column: str, what: str) -> None:
    if column not in df.columns:
        raise InputError(
            f"{what} needs the {column!r} column; load it with fields=[..., {column!r}]",
            [Problem(None, column, "column missing")],
        )


def _tags_of(value: object) -> list[str]:
    from dmtools.frames import canonical

    return list(canonical("tags", value))


def without_tags(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``df`` whose video has no tag.

    Example:
        >>> dm.without_tags(df).shape                 # doctest: +SKIP
    """
    _need(df, "tags", "without_tags")
    return df[[not _tags_of(v) for v in df["tags"]]]


def add_tags(df: pd.DataFrame, tags: str | Iterable[str]) -> pd.DataFrame:
    """A copy of ``df`` where every video also carries ``tags`` (appended, in order, when
    not already there; tags are exact, case-sensitive text).

    Raises:
        InputError: no tag, an empty tag or one with surrounding spaces, or no ``tags`` column.
    """
    _need(df, "tags", "add_tags")
    wanted = _tag_list(tags, "add_tags")
    edited = df.copy()
    edited["tags"] = [
        (lambda have: have + [t for t in wanted if t not in have])(_tags_of(v)) for v in df["tags"]
    ]
    return edited


def remove_tags(
    df: pd.DataFrame, tags: str | Iterable[str], *, ignore_case: bool = False
) -> pd.DataFrame:
    """A copy of ``df`` without ``tags`` on any video (``ignore_case``: ``Music`` removes
    ``music`` too).

    Raises:
        InputError: no tag given, or no ``tags`` column.
    """
    _need(df, "tags", "remove_tags")
    unwanted = _tag_list(tags, "remove_tags")

    def key(tag: str) -> str:
        return tag.casefold() if ignore_case else tag

    drop = {key(t) for t in unwanted}
    edited = df.copy()
    edited["tags"] = [[t for t in _tags_of(v) if key(t) not in drop] for v in df["tags"]]
    return edited


def _category(value: str) -> str:
    slug = schema.category_value(value) if isinstance(value, str) else value
    if slug not in schema.CATEGORIES:
        reason = f"{value!r} is not a category; use one of: {schema.category_choices()}"
        raise InputError(reason, [Problem(None, "channel", reason)])
    return str(slug)


def set_category(df: pd.DataFrame, category: str) -> pd.DataFrame:
    """A copy of ``df`` where every video is in ``category``, given as its API value
    (``videogames``) or its label (``Video games``).

    Raises:
        InputError: not a category (the message lists every value with its label).
    """
    _need(df, "channel", "set_category")
    import pandas as pd

    slug = _category(category)
    dtype = df["channel"].dtype
    keep = isinstance(dtype, pd.CategoricalDtype) and slug in dtype.categories
    edited = df.copy()
    edited["channel"] = pd.Series([slug] * len(df), index=df.index, dtype=dtype if keep else object)
    return edited


def category_labels(df: pd.DataFrame) -> pd.Series:
    """The label of each video's category (``Video games`` for ``videogames``), as a
    categorical Series named ``category`` over the 17 labels (NA where unknown)."""
    import pandas as pd

    _need(df, "channel", "category_labels")
    labels = [schema.CATEGORY_LABELS[c] for c in schema.CATEGORIES]
    values = [schema.CATEGORY_LABELS.get(str(v)) if v == v else None for v in df["channel"]]
    return pd.Series(pd.Categorical(values, categories=labels), index=df.index, name="category")


def label_categories(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose ``channel`` column holds category labels instead of API
    values: nicer to read, export and edit by hand. :func:`dmtools.plan_edits` and the file
    readers take either form, so ``plan_edits(df, label_categories(df))`` is empty.

    Example:
        >>> dm.write_csv(dm.label_categories(df), "videos.csv")     # doctest: +SKIP
    """
    edited = df.copy()
    edited["channel"] = category_labels(df)
    return edited
