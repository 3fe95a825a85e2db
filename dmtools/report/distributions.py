"""Distributions of a channel's videos: by duration and by order of magnitude of views.

Pure, like :mod:`dmtools.report.summaries`.

Example:
    >>> from dmtools import report
    >>> report.duration_distribution(df)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dmtools.errors import InputError
from dmtools.report import _data

__all__ = ["DURATION_BINS", "duration_distribution", "views_distribution"]

#: Default duration bin edges, in seconds.
DURATION_BINS: tuple[float, ...] = (0, 60, 300, 600, 1200, 3600, float("inf"))


def _bin_label(lo: float, hi: float) -> str:
    def fmt(seconds: float) -> str:
        if seconds >= 3600 and seconds % 3600 == 0:
            return f"{seconds / 3600:g} h"
        if seconds >= 60 and seconds % 60 == 0:
            return f"{seconds / 60:g} min"
        return f"{seconds:g} s"

    if lo <= 0:
        return f"< {fmt(hi)}"
    if np.isinf(hi):
        return f"≥ {fmt(lo)}"
    a, b = fmt(lo), fmt(hi)
    if a.split()[1] == b.split()[1]:
        a = a.split()[0]
    return f"{a}–{b}"


@_data.keeps_view
def duration_distribution(df: pd.DataFrame, bins: Sequence[float] = DURATION_BINS) -> pd.DataFrame:
    """Videos and views per duration bin (``[lo, hi)`` seconds); default bins in minutes:
    <1, 1–5, 5–10, 10–20, 20–60, ≥60.

    Every bin is listed (0 when empty); an ``(unknown)`` row counts videos without duration
    and appears only when there are some. ``share`` is the part of all videos.

    Example:
        >>> duration_distribution(df, bins=[0, 30, 60, float("inf")])   # doctest: +SKIP
    """
    _data.require(df, ["duration"], "duration_distribution")
    edges = [float(b) for b in bins]
    if len(edges) < 2 or any(b >= a for a, b in zip(edges[1:], edges[:-1], strict=True)):
        raise InputError(f"bins must be at least two increasing edges, not {list(bins)}")
    seconds = _data.ints(df, "duration").astype("Float64").astype(float)
    names = [_bin_label(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    cut = pd.cut(seconds, edges, right=False, labels=names)
    views = _data.ints(df, "views_total")
    frame = pd.DataFrame({"bin": cut, "views": views})
    grouped = frame.groupby("bin", observed=False)
    out = pd.DataFrame({"videos": grouped.size().astype("int64"), "views": grouped["views"].sum()})
    out.index = pd.Index([str(i) for i in out.index], name="duration")
    missing = int(seconds.isna().sum())
    if missing:
        out.loc[_data.UNKNOWN] = [missing, views[seconds.isna()].sum()]
    out = out.astype({"videos": "int64", "views": "Int64"})
    out["share"] = _data.share(out["videos"], len(df))
    return out


def _magnitude_label(lo: int, hi: int) -> str:
    def short(v: int) -> str:
        for size, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "k")):
            if v >= size:
                return f"{v // size:,}{suffix}"
        return f"{v:,}"

    if hi - lo == 1:
        return short(lo)
    return f"{lo:,}–{hi - 1:,}" if hi <= 1000 else f"{short(lo)}–{short(hi)}"


@_data.keeps_view
def views_distribution(df: pd.DataFrame) -> pd.DataFrame:
    """How many videos have 0, 1–9, 10–99, 100–999... views (bins by order of magnitude).

    Bins run from 0 up to the decade holding the most viewed video; empty bins in between
    are kept (0) so the long tail shows. Videos without ``views_total`` are left out.

    Returns:
        Index ``views`` (bin labels such as ``"0"``, ``"1–9"``, ``"1k–10k"``); columns
        ``low`` and ``high`` (bin is ``[low, high)``), ``videos``, ``share`` (of videos with
        a view count).

    Example:
        >>> views_distribution(df)   # doctest: +SKIP
    """
    _data.require(df, ["views_total"], "views_distribution")
    views = _data.ints(df, "views_total").dropna().astype("int64").clip(lower=0)
    if views.empty:
        edges = [0, 1]
    else:
        top = int(views.max())
        edges = [0, 1]
        while edges[-1] <= top:
            edges.append(edges[-1] * 10)
    lows, highs = edges[:-1], edges[1:]
    position = np.searchsorted(np.asarray(highs), views.to_numpy(), side="right")
    counts = np.bincount(position, minlength=len(lows))[: len(lows)]
    out = pd.DataFrame(
        {"low": lows, "high": highs, "videos": counts.astype("int64")},
        index=pd.Index(
            [_magnitude_label(lo, hi) for lo, hi in zip(lows, highs, strict=True)], name="views"
        ),
    )
    out["share"] = _data.share(out["videos"], len(views))
    return out
