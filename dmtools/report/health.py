"""Metadata health check: the videos whose title, description, tags or visibility need a look.

:func:`health_check` returns both the counts per problem and one row per (video, problem),
indexed by video id, so a finding can go straight into an edit::

    found = health_check(df)
    fix = df.loc[found.ids("no_tags")].copy()
    fix["tags"] = [["my channel"]] * len(fix)
    plan = dm.plan_edits(df.loc[fix.index], fix)

Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmtools.report import _data
from dmtools.schema import LIMITS_PUBLIC, FieldLimits

__all__ = ["PROBLEMS", "HealthReport", "health_check"]

#: Every problem the check looks for: name -> (field, what it means).
PROBLEMS: dict[str, tuple[str, str]] = {
    "missing_title": ("title", "no title"),
    "title_too_long": ("title", "title longer than the API allows"),
    "duplicate_title": ("title", "same title as another video (ignoring case and spaces)"),
    "missing_description": ("description", "no description"),
    "no_tags": ("tags", "no tags"),
    "private": ("private", "private video"),
    "unpublished": ("published", "not published"),
}


@dataclass(frozen=True)
class HealthReport:
    """What :func:`health_check` found.

    Attributes:
        counts: index ``problem`` (every known problem, in :data:`PROBLEMS` order); columns
            ``field``, ``description``, ``videos`` (Int64, NA when the column needed was
            absent so the check could not run) and ``share`` (part of all videos).
        issues: one row per finding; index ``id`` (a video may appear several times);
            columns ``problem``, ``field`` and ``detail``. ``issues.reset_index()`` gives the
            ``id``/``problem``/``field`` columns as a plain table.

    Example:
        >>> found = health_check(df)
        >>> found.issues.query("problem == 'no_tags'").index   # doctest: +SKIP
    """

    counts: pd.DataFrame
    issues: pd.DataFrame

    def ids(self, problem: str | None = None) -> pd.Index:
        """Distinct video ids with ``problem`` (or with any problem), in finding order.

        Example:
            >>> health_check(df).ids("missing_description")   # doctest: +SKIP
        """
        if problem is not None and problem not in PROBLEMS:
            raise ValueError(f"unknown problem {problem!r} (one of: {', '.join(PROBLEMS)})")
        rows = self.issues if problem is None else self.issues[self.issues["problem"] == problem]
        return pd.Index(rows.index.unique(), name="id")

    def _repr_html_(self) -> str:
        return str(self.counts.to_html(escape=True))


def _blank(s: pd.Series) -> pd.Series:
    return (s.isna() | (s.str.strip() == "")).astype(bool)


Found = dict[str, tuple[np.ndarray, pd.Series]]  # problem -> (mask, detail of the hits)


class _Findings:
    """The hits of each problem, collected check by check."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.found: Found = {}

    def add(
        self, problem: str, mask: pd.Series, detail: Callable[[np.ndarray], list[str]] | str
    ) -> None:
        hits = mask.to_numpy(dtype=bool)
        text = [detail] * int(hits.sum()) if isinstance(detail, str) else detail(hits)
        self.found[problem] = (hits, pd.Series(text, index=self.index[hits], dtype=object))


def _titles(df: pd.DataFrame, limits: FieldLimits, found: _Findings) -> None:
    title = _data.texts(df, "title")
    blank = _blank(title)
    found.add("missing_title", blank, "title is empty")
    length = title.str.len().fillna(0).astype(int).to_numpy()
    found.add(
        "title_too_long",
        pd.Series(length > limits.title),
        lambda hits: [f"{n} characters, at most {limits.title}" for n in length[hits]],
    )
    key = title.str.strip().str.casefold()
    dup_count = key.map(key[~blank].value_counts()).fillna(0).astype(int)
    found.add(
        "duplicate_title",
        (dup_count > 1) & ~blank,
        lambda hits: [
            f"same title as {n - 1} other video{'s' if n > 2 else ''}"
            for n in dup_count.to_numpy()[hits]
        ],
    )


def _others(df: pd.DataFrame, found: _Findings) -> None:
    if "description" in df.columns:
        found.add(
            "missing_description", _blank(_data.texts(df, "description")), "description is empty"
        )
    if "tags" in df.columns:
        tagged = np.zeros(len(df), dtype=bool)
        tagged[_data.tag_pairs(df)["pos"].to_numpy()] = True
        found.add("no_tags", pd.Series(~tagged), "no tags")
    partial = _data.view_note(df)  # private/unpublished videos unseen: not checked (NA)
    if "private" in df.columns and not partial:
        found.add("private", (_data.bools(df, "private") == True).fillna(False), "private")  # noqa: E712
    if "published" in df.columns and not partial:
        unpublished = (_data.bools(df, "published") == False).fillna(False)  # noqa: E712
        found.add("unpublished", unpublished, "not published")


def _report(df: pd.DataFrame, index: pd.Index, found: Found) -> HealthReport:
    """Counts per problem (NA for a check that could not run) and one row per finding."""
    count_rows: list[tuple[str, str, str, object]] = []
    parts = []
    for problem, (field, description) in PROBLEMS.items():
        if problem not in found:
            count_rows.append((problem, field, description, pd.NA))
            continue
        mask, detail = found[problem]
        count_rows.append((problem, field, description, int(mask.sum())))
        parts.append(
            pd.DataFrame(
                {"problem": problem, "field": field, "detail": detail.to_numpy(dtype=object)},
                index=detail.index,
            )
        )
    counts = pd.DataFrame(count_rows, columns=["problem", "field", "description", "videos"])
    counts = counts.set_index("problem").astype({"videos": "Int64"})
    counts["share"] = _data.share(counts["videos"], len(df))
    issues = (
        pd.concat(parts)
        if parts
        else pd.DataFrame({"problem": [], "field": [], "detail": []}, index=index[:0])
    )
    issues = issues.astype({"problem": "string", "field": "string", "detail": "string"})
    issues.index = pd.Index(issues.index.astype("string"), name="id")
    if _data.view_note(df):
        for frame in (counts, issues):
            frame.attrs.update({k: v for k, v in df.attrs.items() if k == _data.VIEW_ATTR})
    return HealthReport(counts=counts, issues=issues)


def health_check(df: pd.DataFrame, *, limits: FieldLimits = LIMITS_PUBLIC) -> HealthReport:
    """Find metadata problems: missing title/description/tags, titles too long or duplicated,
    private and unpublished videos.

    Checks whose column is absent from ``df`` are skipped (their count is NA), and so are
    the private and unpublished checks of a frame that could not see such videos.

    Args:
        df: a video frame (index = video id).
        limits: length limits to check titles against (``schema.LIMITS_PARTNER`` for a
            private key); a title is too long when it has more than ``limits.title`` characters.

    Example:
        >>> found = health_check(df)
        >>> found.counts["videos"]             # doctest: +SKIP
        >>> df.loc[found.ids("no_tags")]       # doctest: +SKIP
    """
    index = _data.ids(df)
    found = _Findings(index)
    if "title" in df.columns:
        _titles(df, limits, found)
    _others(df, found)
    return _report(df, index, found.found)
